//! Tests that run inside headless Chromium: `wasm-pack test --headless --chrome crate`.
#![cfg(target_arch = "wasm32")]

use gatito::tokens::{ValueKind, image, values};
use gatito::web::Tokens;
use wasm_bindgen::JsValue;
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
