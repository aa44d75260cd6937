//! Parity with the candle model, natively on Vulkan (lavapipe where there is no GPU).
//! Without any Vulkan adapter these tests fail, saying so: `./build.sh test` installs
//! lavapipe (Debian's mesa-vulkan-drivers), so a silent skip would hide a broken set-up.

use super::weights::{self, shipped_shape};
use super::*;
use crate::agent::Agent;
use crate::envs::ActionSpec;
use crate::model::generate::{Sampling, probabilities};
use crate::model::golden::Golden;
use crate::model::{Config, Gatito, ModelFiles};
use crate::tokens::image::PositionMode;
use crate::tokens::{Action, Element, Modality, Observation, Sequence, SequenceBuilder, TextTokenizer, Vocabulary};
use candle_core::Device;
use image::RgbImage;
use pollster::block_on;
use std::path::Path;
use std::sync::OnceLock;

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny");

/// One device for all tests.
fn gpu() -> Gpu {
    static GPU: OnceLock<Gpu> = OnceLock::new();
    GPU.get_or_init(|| match block_on(Gpu::open()) {
        Ok(gpu) => {
            eprintln!("GPU tests run on {}", gpu.adapter());
            gpu
        }
        Err(e) => panic!("{e}: these tests need a Vulkan adapter (lavapipe: apt-get install mesa-vulkan-drivers)"),
    })
    .clone()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(TINY).join(name)).unwrap()
}

/// The tiny trained model on both backends.
fn tiny(gpu: &Gpu) -> (Gatito, GpuModel, Vocabulary) {
    let files = ModelFiles {
        config: read("config.json"),
        weights: read("model.safetensors"),
        tokenizer: read("tokenizer.json"),
    };
    let (cpu, vocabulary) = files.load(&Device::Cpu).unwrap();
    let on_gpu = block_on(GpuModel::load(gpu, cpu.config.clone(), &read("model.safetensors"))).unwrap();
    (cpu, on_gpu, vocabulary)
}

fn tiny_vocabulary() -> Vocabulary {
    Vocabulary::new(TextTokenizer::from_bytes(&read("tokenizer.json")).unwrap())
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Game-like frames with a little state and an action each, different every step.
fn episode(vocabulary: &Vocabulary, steps: u32) -> Sequence {
    let mut b = SequenceBuilder::new(vocabulary, PositionMode::Eval);
    for t in 0..steps {
        let image = RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([(x * 4 + t * 9) as u8, (y * 4) as u8, ((x ^ y) * 8 + t * 40) as u8])
        });
        let obs = Observation { image: Some(image), continuous: vec![t as f32 * 0.1], ..Default::default() };
        b.timestep(&obs, &Action::Discrete(vec![t % 3])).unwrap();
    }
    b.finish()
}

#[test]
fn the_gpu_reproduces_the_golden_logits() {
    let gpu = gpu();
    let (cpu, model, _) = tiny(&gpu);
    let golden = Golden::from_bytes(&read("golden.safetensors"), cpu.config.text_vocab).unwrap();
    let logits = block_on(model.forward(&golden.sequence, &mut block_on(model.new_cache()).unwrap())).unwrap();
    let worst = golden.max_abs_diff_of(&logits).unwrap();
    eprintln!("golden: {} rows, max abs diff {worst:e}", logits.len());
    assert!(worst <= TOLERANCE, "max abs diff {worst}");
}

/// A patch block without GroupNorm (`--no-patch-norm` in the recipe) runs GELU alone on the
/// GPU: the same logits as candle, from weights that lack the norms' tensors.
#[test]
fn a_patch_block_without_group_norm_matches_candle() {
    let gpu = gpu();
    let vocabulary = tiny_vocabulary();
    let config = Config { patch_norm: false, ..Config::tiny(vocabulary.text.size() as usize) };
    let bytes = weights::random(&config, 11).unwrap();
    let cpu = Gatito::load(config.clone(), bytes.clone(), &Device::Cpu).unwrap();
    let model = block_on(GpuModel::load(&gpu, config.clone(), &bytes)).unwrap();
    let seq = episode(&vocabulary, 3);
    let expected = crate::model::rows(&cpu.forward(&seq, &mut cpu.new_cache()).unwrap()).unwrap();
    let got = block_on(model.forward(&seq, &mut block_on(model.new_cache()).unwrap())).unwrap();
    let worst = expected.iter().zip(&got).map(|(a, b)| max_diff(a, b)).fold(0.0, f32::max);
    assert!(worst <= TOLERANCE, "max abs diff {worst}");

    // The GroupNorm path reads other tensors, so the same weights cannot pass for a normed model.
    let normed = Config { patch_norm: true, ..config };
    let error = block_on(GpuModel::load(&gpu, normed, &bytes)).err().expect("norm tensors are missing");
    assert!(error.to_string().contains("embed.patch.norm1.weight"), "{error}");
}

/// The shipped shape with random weights: one prefill, then chunks and single elements
/// until the episode is well past the sliding window, every step against candle.
#[test]
fn an_s_sized_model_matches_candle_from_prefill_through_the_sliding_window() {
    let gpu = gpu();
    let tokenizer = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/gatito-s/tokenizer.json")).unwrap();
    let vocabulary = Vocabulary::new(TextTokenizer::from_bytes(&tokenizer).unwrap());
    let config = shipped_shape(vocabulary.text.size() as usize);
    let bytes = weights::random(&config, 7).unwrap();
    let cpu = Gatito::load(config.clone(), bytes.clone(), &Device::Cpu).unwrap();
    let model = block_on(GpuModel::load(&gpu, config, &bytes)).unwrap();
    let seq = episode(&vocabulary, 19);
    let window = cpu.config.context;
    assert!(seq.len() > window + 60, "the episode must outgrow the window");

    let (mut cpu_cache, mut gpu_cache) = (cpu.new_cache(), block_on(model.new_cache()).unwrap());
    let prefill = 100;
    let expected = crate::model::rows(&cpu.forward(&seq.slice_elements(0, prefill), &mut cpu_cache).unwrap()).unwrap();
    let got = block_on(model.forward(&seq.slice_elements(0, prefill), &mut gpu_cache)).unwrap();
    let mut worst = expected.iter().zip(&got).map(|(a, b)| max_diff(a, b)).fold(0.0, f32::max);
    eprintln!("s-sized prefill of {prefill}: max abs diff {worst:e}");

    // Chunks of 17 (a frame and its separator) alternate with runs of single elements.
    let mut at = prefill;
    let mut step = 0;
    while at < seq.len() {
        let len = if step % 3 == 0 { 17.min(seq.len() - at) } else { 1 };
        let chunk = seq.slice_elements(at, at + len);
        let expected = cpu.forward_last(&chunk, &mut cpu_cache).unwrap();
        let got = block_on(model.forward_last(&chunk, &mut gpu_cache)).unwrap();
        let diff = max_diff(&expected, &got);
        assert!(diff <= TOLERANCE, "at element {at} (+{len}): max abs diff {diff}");
        worst = worst.max(diff);
        at += len;
        step += 1;
    }
    assert_eq!(gpu_cache.occupancy(), cpu_cache.occupancy());
    assert_eq!(gpu_cache.occupancy().len(), window);
    eprintln!("s-sized, {} elements through a window of {window}: max abs diff {worst:e}", seq.len());
    assert!(worst <= TOLERANCE);
}

/// The same agent twice over the tiny model: on the CPU, and on `gpu`.
fn agents(gpu: &Gpu) -> (Agent, Agent) {
    let (cpu, on_gpu, vocabulary) = tiny(gpu);
    let cpu = std::sync::Arc::new(cpu);
    let on_cpu = Agent::new(cpu.clone(), vocabulary.clone(), Sampling::Greedy, 0);
    let mut on_gpu_agent = Agent::new(cpu, vocabulary, Sampling::Greedy, 0);
    block_on(on_gpu_agent.use_gpu(Some(std::rc::Rc::new(on_gpu)))).unwrap();
    (on_cpu, on_gpu_agent)
}

/// Step `t` of a test episode: a changing frame and a state value, four discrete actions
/// for six steps, then two continuous ones.
fn step(t: u32) -> (Observation, ActionSpec) {
    let image = RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 3 + t * 20) as u8, (y * 4) as u8, 90]));
    let observation =
        Observation { image: Some(image), continuous: vec![(t as f32 * 0.3).sin()], ..Default::default() };
    let spec = if (t / 6).is_multiple_of(2) {
        ActionSpec::Discrete { labels: vec!["a", "b", "c", "d"] }
    } else {
        ActionSpec::Continuous { dims: 2 }
    };
    (observation, spec)
}

#[test]
fn greedy_decisions_match_the_cpu_agent_over_an_episode() {
    let gpu = gpu();
    let (mut cpu, mut on_gpu) = agents(&gpu);
    let mut worst = 0f32;
    // 12 steps of 16 patches, a value, the separator and one or two actions: past the window.
    for t in 0..12u32 {
        let (observation, spec) = step(t);
        let expected = block_on(cpu.act(&observation, &spec)).unwrap();
        let got = block_on(on_gpu.act(&observation, &spec)).unwrap();
        assert_eq!((got.backend, got.fell_back.as_deref()), (crate::agent::Backend::Gpu, None));
        assert_eq!(got.tokens, expected.tokens, "step {t}");
        for (a, b) in got.distributions.iter().zip(&expected.distributions) {
            worst = worst.max(max_diff(a, b));
        }
    }
    eprintln!("12 greedy steps agree; probabilities within {worst:e}");
    assert!(worst <= TOLERANCE);
    assert!(on_gpu.seen() > on_gpu.model().config.context, "the episode ran past the window");
}

#[test]
fn a_greedy_caption_matches_the_cpu_agent() {
    let gpu = gpu();
    let (mut cpu, mut on_gpu) = agents(&gpu);
    let image =
        RgbImage::from_fn(64, 64, |x, y| image::Rgb([if (x / 16 + y / 16) % 2 == 0 { 230 } else { 20 }, 60, 140]));
    let expected = block_on(cpu.describe(&image, None, |_| {})).unwrap();
    let said = block_on(on_gpu.describe(&image, Some("what is it?"), |_| {})).unwrap();
    let asked = block_on(cpu.describe(&image, Some("what is it?"), |_| {})).unwrap();
    assert_eq!(said, asked);
    assert_eq!(block_on(on_gpu.describe(&image, None, |_| {})).unwrap(), expected);
    eprintln!("caption on both: {expected:?}");
}

/// A device lost mid-episode: the agent moves to the CPU with what it saw, and decides
/// exactly as an agent that ran on the CPU all along.
#[test]
fn a_lost_device_mid_episode_moves_the_agent_to_the_cpu_and_loses_nothing() {
    // A device of its own: losing it must not disturb the other tests.
    let gpu = block_on(Gpu::open()).unwrap();
    let (mut cpu, mut on_gpu) = agents(&gpu);
    for t in 0..20u32 {
        if t == 9 {
            gpu.destroy();
        }
        let (observation, spec) = step(t);
        let expected = block_on(cpu.act(&observation, &spec)).unwrap();
        let got = block_on(on_gpu.act(&observation, &spec)).unwrap();
        assert_eq!(got.tokens, expected.tokens, "step {t}");
        match t {
            ..9 => assert_eq!(got.backend, crate::agent::Backend::Gpu),
            9 => assert!(got.fell_back.as_deref().is_some_and(|why| why.contains("lost")), "{:?}", got.fell_back),
            _ => assert_eq!((got.backend, got.fell_back.as_deref()), (crate::agent::Backend::Cpu, None)),
        }
    }
    assert!(on_gpu.gpu().is_none());
}

/// A vector of logits on the GPU: one text element whose logits are known, via a model
/// whose head is replaced by hand is overkill; instead, sample the tiny model's real logits.
#[test]
fn sampling_stays_in_the_top_k_spreads_with_temperature_and_never_picks_the_excluded_id() {
    let gpu = gpu();
    let (cpu, model, vocabulary) = tiny(&gpu);
    let seq = episode(&vocabulary, 1).slice_elements(0, 17);
    let logits = cpu.forward_last(&seq, &mut cpu.new_cache()).unwrap();
    let allowed = 3..400;
    let mut order: Vec<usize> = allowed.clone().collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    let best = order[0];
    let decide = |sampling, excluded, draw| {
        let constraint = Constraint { allowed: allowed.clone(), excluded, sampling, draw };
        block_on(model.decide(&seq, &mut block_on(model.new_cache()).unwrap(), &constraint)).unwrap()
    };

    let greedy = decide(Sampling::Greedy, None, 0.0);
    assert_eq!(greedy.token as usize, best);
    let expected = probabilities(&logits, allowed.clone(), 1.0);
    assert!(max_diff(&greedy.probabilities, &expected) <= TOLERANCE);
    assert!((greedy.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);

    let excluded = decide(Sampling::Greedy, Some(best), 0.0);
    assert_eq!(excluded.token as usize, order[1], "the runner-up, once the best is excluded");
    assert_eq!(excluded.probabilities[best - allowed.start], 0.0);

    let top3: Vec<usize> = (0..40)
        .map(|i| decide(Sampling::TopK { k: 3, temperature: 1.0 }, None, i as f32 / 40.0).token as usize)
        .collect();
    assert!(top3.iter().all(|t| order[..3].contains(t)), "{top3:?} leave the top 3 {:?}", &order[..3]);
    assert!(top3.windows(2).all(|w| w[0] <= w[1]), "draws walk the kept ids in id order");
    let mut kept = order[..3].to_vec();
    kept.sort();
    assert_eq!((top3[0], top3[39]), (kept[0], kept[2]), "the first and last draws reach both ends");

    let hot: std::collections::BTreeSet<u32> =
        (0..20).map(|i| decide(Sampling::Temperature(100.0), None, i as f32 / 20.0).token).collect();
    assert!(hot.len() > 10, "a high temperature reaches many ids: {hot:?}");
    assert!(hot.iter().all(|&t| allowed.contains(&(t as usize))));
    let cold = decide(Sampling::Temperature(1e-3), None, 0.999);
    assert_eq!(cold.token as usize, best, "a cold draw is greedy");
    let not_best = decide(Sampling::TopK { k: 1, temperature: 1.0 }, Some(best), 0.5);
    assert_eq!(not_best.token as usize, order[1]);
}

#[test]
fn bad_inputs_are_errors_and_leave_the_cache_alone() {
    let gpu = gpu();
    let (_, model, vocabulary) = tiny(&gpu);
    let mut cache = block_on(model.new_cache()).unwrap();
    let is_input = |r: Result<Vec<f32>>| matches!(r, Err(EngineError::Model(crate::model::ModelError::Input(_))));
    assert!(is_input(block_on(model.forward_last(&Sequence::default(), &mut cache))));
    assert!(is_input(block_on(model.forward_last(&episode(&vocabulary, 5), &mut cache))));
    let bad = Sequence::from_parts(
        vec![Element { modality: Modality::Text, id: 99_999, local_position: 0, target: None }],
        vec![],
    );
    assert!(is_input(block_on(model.forward_last(&bad, &mut cache))));
    let mut wrong_patch = episode(&vocabulary, 1);
    wrong_patch.patches[0].row = 500;
    assert!(is_input(block_on(model.forward_last(&wrong_patch, &mut cache))));
    assert!(cache.occupancy().is_empty());

    let ok = episode(&vocabulary, 1);
    let vocab = model.config.vocab();
    for (allowed, excluded) in [(5..5, None), (0..vocab + 1, None), (7..8, Some(7))] {
        let constraint = Constraint { allowed, excluded, sampling: Sampling::Greedy, draw: 0.0 };
        assert!(block_on(model.decide(&ok, &mut cache, &constraint)).is_err());
    }
    let (_, other, _) = tiny(&gpu);
    let message = block_on(other.forward_last(&ok, &mut cache)).unwrap_err().to_string();
    assert!(message.contains("another model"), "{message}");
    assert!(cache.occupancy().is_empty(), "failed calls leave the cache untouched");
    assert!(block_on(model.forward_last(&ok, &mut cache)).is_ok());
    assert_eq!(cache.occupancy().len(), ok.len());
}

#[test]
fn broken_weights_and_shapes_are_errors_that_name_the_problem() {
    let gpu = gpu();
    let config: Config = serde_json::from_slice(&read("config.json")).unwrap();
    let weights = read("model.safetensors");
    let load = |config: Config, bytes: &[u8]| block_on(GpuModel::load(&gpu, config, bytes)).err().unwrap().to_string();
    assert!(load(config.clone(), &weights[..weights.len() / 2]).starts_with("model.safetensors:"));
    let wider = Config { d_ff: 96, ..config.clone() };
    assert!(load(wider, &weights).contains("blocks.0.mlp.up.weight"));
    let deeper = Config { layers: 3, ..config.clone() };
    assert!(load(deeper, &weights).contains("lacks blocks.2"));
    let long = Config { context: 4096, ..config };
    assert!(load(long, &weights).contains("context"));
}

#[test]
fn a_lost_device_is_an_error_the_caller_can_fall_back_from() {
    // A device of its own: losing it must not disturb the other tests.
    let gpu = block_on(Gpu::open()).unwrap();
    let model = block_on(GpuModel::load(
        &gpu,
        serde_json::from_slice(&read("config.json")).unwrap(),
        &read("model.safetensors"),
    ))
    .unwrap();
    let mut cache = block_on(model.new_cache()).unwrap();
    let seq = episode(&tiny_vocabulary(), 1);
    assert!(block_on(model.forward_last(&seq, &mut cache)).is_ok());
    gpu.device.destroy();
    let error = block_on(model.forward_last(&seq, &mut cache)).unwrap_err();
    assert!(matches!(error, EngineError::DeviceLost(_)), "{error}");
    assert!(matches!(block_on(model.new_cache()), Err(EngineError::DeviceLost(_))));
}
