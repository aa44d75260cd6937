//! Tests that run inside headless Chromium: `wasm-pack test --headless --chrome crate`.
#![cfg(target_arch = "wasm32")]

use gatito::tokens::{ValueKind, image, values};
use gatito::web::{Session, Tokens, example_missions, reference_scores, sample_scene, summarize, worlds};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TOKENIZER: &[u8] = include_bytes!("../../models/gatito-s/tokenizer.json");

fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).expect(name)
}

#[wasm_bindgen_test]
fn values_bin_exactly_as_natively() {
    assert_eq!(values::bins(ValueKind::Observation, &[0.0, 1.0, -1.0]).unwrap(), vec![512, 744, 279]);
    assert_eq!(values::bins(ValueKind::Action, &[0.5]).unwrap(), vec![768]);
}

#[wasm_bindgen_test]
fn the_page_api_tokenizes_text_values_and_images() {
    let tokens = Tokens::new(TOKENIZER).unwrap();
    let text = tokens.text("go to the red ball").unwrap();
    assert!(js_sys::Array::from(&field(&text, "ids")).length() > 0);

    let report = tokens.continuous(&[0.0, 1.0], false).unwrap();
    let ids: Vec<u32> = serde_wasm_bindgen::from_value(field(&report, "ids")).unwrap();
    assert_eq!(ids, vec![tokens.vocabulary_size() - 1024 + 512, tokens.vocabulary_size() - 1024 + 744]);

    let mut png = std::io::Cursor::new(Vec::new());
    ::image::DynamicImage::new_rgb8(100, 50).write_to(&mut png, ::image::ImageFormat::Png).unwrap();
    let report = tokens.image(png.get_ref()).unwrap();
    assert_eq!(js_sys::Array::from(&field(&report, "patches")).length(), image::PATCHES as u32);
    assert_eq!(js_sys::Uint8Array::from(field(&report, "rgb")).length(), 64 * 64 * 3);

    // Bad input is an exception with a readable message, not a panic.
    assert!(tokens.image(b"not an image").is_err());
    assert!(Tokens::new(b"{").is_err());
}

/// Removes a field (pixels attached as a typed array) and returns it, so the rest reads as JSON.
fn take(object: &JsValue, name: &str) -> JsValue {
    let value = field(object, name);
    js_sys::Reflect::delete_property(object.unchecked_ref::<js_sys::Object>(), &name.into()).expect(name);
    value
}

/// A result as JSON, to read its fields.
fn json(value: JsValue) -> Value {
    serde_wasm_bindgen::from_value(value).expect("a plain object")
}

/// The message of an error that crossed to JS.
fn message(error: wasm_bindgen::JsError) -> String {
    js_sys::Error::from(JsValue::from(error)).message().into()
}

fn actor(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("json")
}

#[wasm_bindgen_test]
fn a_session_steps_with_each_actor_and_shows_the_timestep_as_tokens() {
    let tokens = Tokens::new(TOKENIZER).unwrap();
    let text_ids = tokens.vocabulary_size() - 1024;
    let mut session = Session::new("pendulum_swingup", 0).unwrap();
    let before = json(session.tokens(&tokens).unwrap());
    let elements = before["elements"].as_array().unwrap();
    assert_eq!(elements.len(), 4, "three state values and the separator, no action yet");
    assert_eq!(elements[3]["modality"], "separator");

    let expert = json(session.step(actor(r#"{"actor": "expert"}"#)).unwrap());
    assert_eq!((expert["step"].as_u64(), expert["action"]["choice"].as_str()), (Some(1), Some("one_hot")));
    let random = json(session.step(actor(r#"{"actor": "random"}"#)).unwrap());
    assert_eq!(random["action"]["choice"], "uniform");
    let chosen = json(session.step(actor(r#"{"actor": "chosen", "action": {"continuous": [0.5]}}"#)).unwrap());
    assert_eq!(chosen["action"]["values"][0]["bin"], 768, "actions are binned without mu-law");
    assert_eq!(chosen["score"].as_f64().unwrap() as f32, session.score());

    // The last timestep: three observation values, the separator, the action 0.5.
    let step = json(session.tokens(&tokens).unwrap()); // state only: no image attached
    let kinds: Vec<&str> =
        step["elements"].as_array().unwrap().iter().map(|e| e["modality"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["value", "value", "value", "separator", "action"]);
    let action = &step["elements"][4];
    assert_eq!((action["id"].as_u64(), action["position"].as_u64()), (Some(u64::from(text_ids) + 768), Some(255)));
    assert_eq!(action["value"]["decoded"].as_f64().unwrap() as f32, values::unbin(ValueKind::Action, 768).unwrap());
    assert_eq!(step["elements"][0]["value"]["source"], "observation");

    let frame = session.frame().unwrap();
    assert_eq!(js_sys::Uint8ClampedArray::from(field(&frame, "rgba")).length(), 128 * 128 * 4);

    // Actions that do not fit, and actors that do not exist, are errors with reasons.
    let wrong = session.step(actor(r#"{"actor": "chosen", "action": {"discrete": [1]}}"#)).unwrap_err();
    assert!(message(wrong).contains("it takes 1 values in [-1, 1]"));
    assert!(message(session.step(actor(r#"{"actor": "model"}"#)).unwrap_err()).contains("expert, random or chosen"));
    assert!(message(Session::new("pong2000", 0).err().unwrap()).contains("the worlds are: "));
}

#[wasm_bindgen_test]
fn a_push_changes_what_a_control_world_observes_next() {
    let tokens = Tokens::new(TOKENIZER).unwrap();
    let observed_after = |push: bool| {
        let mut session = Session::new("pendulum_swingup", 4).unwrap();
        session.step(actor(r#"{"actor": "expert"}"#)).unwrap();
        if push {
            session.push(1.0, 0.0);
        }
        session.step(actor(r#"{"actor": "expert"}"#)).unwrap();
        json(session.tokens(&tokens).unwrap())["elements"][2]["value"]["value"].as_f64().unwrap()
    };
    let (still, pushed) = (observed_after(false), observed_after(true));
    assert!((still - pushed).abs() > 1.0, "angular velocity {still} vs {pushed} after a full push");
}

#[wasm_bindgen_test]
fn a_typed_mission_is_carried_out_and_a_bad_one_is_explained() {
    let mut session = Session::with_mission("  Pick up the RED ball. ", 1).unwrap();
    let info = json(session.info().unwrap());
    assert_eq!(info["mission"]["text"], "pick up the red ball");
    assert_eq!(info["mission"]["held_out"], true, "training never asks to pick up the red ball");
    assert_eq!(info["spec"]["name"], "grid_heldout");
    while !session.done() {
        session.step(actor(r#"{"actor": "expert"}"#)).unwrap();
    }
    assert!(session.score() > 0.0);
    assert!(message(session.step(actor(r#"{"actor": "expert"}"#)).unwrap_err()).contains("episode is over"));

    let error = message(Session::with_mission("fly to the moon", 0).err().unwrap());
    assert!(error.contains("\"fly to the moon\" is not a mission"), "{error}");
    assert!(error.contains("\"pick up the green key\"") && error.contains("Colours: red, green"), "{error}");
}

#[wasm_bindgen_test]
fn the_catalog_offers_worlds_reference_scores_missions_and_scenes() {
    let names: Vec<String> =
        json(worlds().unwrap()).as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap().to_string()).collect();
    assert!(names.iter().any(|n| n == "grid") && names.iter().any(|n| n == "pendulum_swingup"), "{names:?}");

    let scores = json(reference_scores("point_mass", 2, 0).unwrap());
    assert!(scores["expert"]["mean"].as_f64() > scores["random"]["mean"].as_f64(), "{scores}");
    assert!(reference_scores("nowhere", 1, 0).is_err());
    let summary = json(summarize(vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap());
    assert_eq!((summary["mean"].as_f64(), summary["std"].as_f64()), (Some(5.0), Some(2.0)));

    let missions = json(example_missions(9, 0).unwrap());
    let texts: Vec<&str> = missions.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    let mut distinct = texts.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!((texts.len(), distinct.len()), (9, 9), "{texts:?}");
    assert_eq!(missions.as_array().unwrap().iter().filter(|m| m["held_out"] == true).count(), 3);

    let scene = sample_scene(7).unwrap();
    let png = js_sys::Uint8Array::from(take(&scene, "png")).to_vec();
    let report = Tokens::new(TOKENIZER).unwrap().image(&png).unwrap();
    assert_eq!(js_sys::Array::from(&field(&report, "source")).get(0).as_f64(), Some(64.0));
    assert!(json(scene)["caption"].as_str().unwrap().ends_with('.'));
}

#[wasm_bindgen_test]
fn a_sentence_is_the_image_then_the_question() {
    let tokens = Tokens::new(TOKENIZER).unwrap();
    let rgb = vec![255u8; 64 * 64 * 3];
    let sentence = tokens.sentence(&rgb, "what colour is the circle?").unwrap();
    assert_eq!(js_sys::Uint8Array::from(take(&sentence, "rgb")).length(), 64 * 64 * 3);
    let elements = json(sentence)["elements"].as_array().unwrap().clone();
    assert!(elements[..16].iter().enumerate().all(|(i, e)| e["modality"] == "patch" && e["patch"]["index"] == i));
    assert_eq!((elements[5]["patch"]["row"].as_u64(), elements[5]["patch"]["col"].as_u64()), (Some(48), Some(48)));
    assert!(elements[16..].iter().all(|e| e["modality"] == "text" && e["loss"] == false), "a question is context");
    assert_eq!(elements[16]["label"], "what");
    let blank = tokens.sentence(&rgb, "  ").unwrap();
    take(&blank, "rgb");
    assert_eq!(json(blank)["elements"].as_array().unwrap().len(), 16, "an empty question is no question");
    assert!(message(tokens.sentence(&rgb[..10], "").unwrap_err()).contains("must be 64x64 RGB"));
}

/// Opens a WebGPU adapter and device (SwiftShader in CI) and runs a compute shader.
/// Fails when the browser offers no adapter.
#[wasm_bindgen_test]
async fn webgpu_runs_a_compute_shader() {
    use wgpu::util::DeviceExt;

    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
    descriptor.backends = wgpu::Backends::BROWSER_WEBGPU;
    let instance = wgpu::Instance::new(descriptor);
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions::default())
        .await
        .expect("a WebGPU adapter (Chromium needs --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader here)");
    let (device, queue) = adapter.request_device(&wgpu::DeviceDescriptor::default()).await.expect("a WebGPU device");

    let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("square"),
        source: wgpu::ShaderSource::Wgsl(
            "@group(0) @binding(0) var<storage, read_write> data: array<f32>;
             @compute @workgroup_size(64)
             fn main(@builtin(global_invocation_id) id: vec3<u32>) {
                 if (id.x < arrayLength(&data)) { data[id.x] = data[id.x] * data[id.x] + 1.0; }
             }"
            .into(),
        ),
    });
    let input: Vec<f32> = (0..256).map(|i| i as f32 / 8.0).collect();
    let storage = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("data"),
        contents: &input.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>(),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    });
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: storage.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("square"),
        layout: None,
        module: &shader,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry { binding: 0, resource: storage.as_entire_binding() }],
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(4, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&storage, 0, &readback, 0, storage.size());
    queue.submit([encoder.finish()]);

    let (sender, receiver) = futures_channel::oneshot::channel();
    readback.slice(..).map_async(wgpu::MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    receiver.await.unwrap().expect("mapping the readback buffer");
    let output: Vec<f32> = readback
        .slice(..)
        .get_mapped_range()
        .expect("the mapped range")
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    for (x, y) in input.iter().zip(&output) {
        assert_eq!(*y, x * x + 1.0);
    }
}

/// Every world runs in the browser: the expert plays, the world renders and observes, and
/// the same seed replays the same episode.
#[wasm_bindgen_test]
fn every_world_steps_in_the_browser() {
    use gatito::envs::{self, World};
    let play = |world: &mut dyn World| {
        world.reset(7);
        for _ in 0..60 {
            if world.done() {
                break;
            }
            let action = world.expert();
            world.step(&action);
        }
        (world.score(), world.render())
    };
    let worlds = envs::all();
    assert!(worlds.len() >= 12, "six games, four control tasks and two grid worlds");
    for mut world in worlds {
        let name = world.spec().name;
        let (score, frame) = play(world.as_mut());
        assert!(score.is_finite(), "{name}");
        let first = frame.get_pixel(0, 0);
        assert!(frame.pixels().any(|p| p != first), "{name} renders a blank frame");
        let observation = world.observe();
        assert!(observation.image.is_some() || !observation.continuous.is_empty(), "{name} observes nothing");
        assert_eq!(play(world.as_mut()).0, score, "{name} must replay exactly from its seed");
    }
}

/// candle in wasm reproduces the tiny model's golden logits. build.sh also runs these tests in
/// the relaxed-SIMD build, where this holds its own matrix kernel to PyTorch.
#[wasm_bindgen_test]
fn candle_reproduces_the_golden_logits_in_wasm() {
    use gatito::model::ModelFiles;
    use gatito::model::golden::{Golden, TOLERANCE};

    let files = ModelFiles {
        config: include_bytes!("fixtures/tiny/config.json").to_vec(),
        weights: include_bytes!("fixtures/tiny/model.safetensors").to_vec(),
        tokenizer: include_bytes!("fixtures/tiny/tokenizer.json").to_vec(),
    };
    let (model, vocabulary) = files.load(&candle_core::Device::Cpu).unwrap();
    let golden =
        Golden::from_bytes(include_bytes!("fixtures/tiny/golden.safetensors"), vocabulary.text.size() as usize);
    let worst = golden.unwrap().max_abs_diff(&model).unwrap();
    assert!(worst <= TOLERANCE, "max abs diff {worst}");
}

/// The GPU engine on WebGPU (SwiftShader in CI) reproduces the tiny model's golden
/// logits, as it does natively on Vulkan.
#[wasm_bindgen_test]
async fn the_gpu_engine_reproduces_the_golden_logits_on_webgpu() {
    use gatito::engine::{Gpu, GpuModel};
    use gatito::model::Config;
    use gatito::model::golden::Golden;

    const CONFIG: &[u8] = include_bytes!("fixtures/tiny/config.json");
    const WEIGHTS: &[u8] = include_bytes!("fixtures/tiny/model.safetensors");
    const GOLDEN: &[u8] = include_bytes!("fixtures/tiny/golden.safetensors");
    let config: Config = serde_json::from_slice(CONFIG).unwrap();
    let golden = Golden::from_bytes(GOLDEN, config.text_vocab).unwrap();
    let gpu = Gpu::open().await.expect("a WebGPU adapter (Chromium needs --enable-unsafe-webgpu here)");
    let model = GpuModel::load(&gpu, config, WEIGHTS).await.unwrap();
    let mut cache = model.new_cache().await.unwrap();
    let logits = model.forward(&golden.sequence, &mut cache).await.unwrap();
    assert_eq!(logits.len(), golden.logits.len());
    let worst = logits
        .iter()
        .zip(&golden.logits)
        .flat_map(|(ours, theirs)| ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()))
        .fold(0f32, f32::max);
    assert!(worst <= 1e-3, "max abs diff {worst} on {}", gpu.adapter());
}
