//! `gatito bench`: how fast the model runs natively, on the CPU (candle) or on the GPU
//! (the WGSL engine on Vulkan). Both backends do the same work through [`Runner`], so
//! their numbers compare. Benchmarks, not tests: targets live in the README beside the
//! numbers this prints.

use super::{Backend, Result, print};
use crate::agent::MAX_TEXT_TOKENS;
use crate::engine::{self, Constraint, Gpu, GpuCache, GpuModel};
use crate::model::generate::{Sampling, probabilities};
use crate::model::{Cache, Config, Gatito, argmax};
use crate::tokens::image::PositionMode;
use crate::tokens::sequence::{ACTION_POSITION, Part};
use crate::tokens::{Action, Element, Modality, Observation, Sequence, SequenceBuilder, TextTokenizer, Vocabulary};
use candle_core::Device;
use image::RgbImage;
use pollster::block_on;
use std::ops::Range;
use std::path::Path;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Agent steps to time.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    /// Time random weights of the shipped shape (d192, 4 layers, context 256) instead of
    /// the folder's model.safetensors; the folder's tokenizer is still used.
    #[arg(long)]
    random: bool,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    backend: &'static str,
    adapter: String,
    parameters: usize,
    context: usize,
    prefill_tokens_per_s: f64,
    decode_tokens_per_s: f64,
    step_ms_p50: f64,
    step_ms_p95: f64,
    caption_ms: f64,
    /// The process's resident high-water mark.
    peak_memory_mb: Option<f64>,
    /// Buffers the GPU engine holds (weights, scratch, one cache); none on the CPU.
    gpu_memory_mb: Option<f64>,
    model_download_mb: f64,
}

/// One backend behind the calls the agent makes.
trait Runner {
    fn context(&self) -> usize;
    /// Starts over with an empty cache.
    fn reset(&mut self) -> Result<()>;
    /// Feeds `seq` and computes the last element's logits.
    fn feed(&mut self, seq: &Sequence) -> Result<()>;
    /// Feeds `seq` and greedily picks a token in `allowed` but not `excluded`, with the
    /// probabilities over `allowed` that the page shows.
    fn choose(&mut self, seq: &Sequence, allowed: Range<usize>, excluded: Option<usize>) -> Result<u32>;
}

struct Cpu {
    model: Gatito,
    cache: Cache,
}

impl Runner for Cpu {
    fn context(&self) -> usize {
        self.model.config.context
    }

    fn reset(&mut self) -> Result<()> {
        self.cache = self.model.new_cache();
        Ok(())
    }

    fn feed(&mut self, seq: &Sequence) -> Result<()> {
        self.model.forward_last(seq, &mut self.cache)?;
        Ok(())
    }

    fn choose(&mut self, seq: &Sequence, allowed: Range<usize>, excluded: Option<usize>) -> Result<u32> {
        let mut logits = self.model.forward_last(seq, &mut self.cache)?;
        if let Some(e) = excluded {
            logits[e] = f32::NEG_INFINITY;
        }
        std::hint::black_box(probabilities(&logits, allowed.clone(), 1.0));
        Ok((allowed.start + argmax(&logits[allowed])) as u32)
    }
}

struct OnGpu {
    model: GpuModel,
    cache: GpuCache,
}

impl Runner for OnGpu {
    fn context(&self) -> usize {
        self.model.config.context
    }

    fn reset(&mut self) -> Result<()> {
        self.cache.clear();
        Ok(())
    }

    fn feed(&mut self, seq: &Sequence) -> Result<()> {
        block_on(self.model.forward_last(seq, &mut self.cache))?;
        Ok(())
    }

    fn choose(&mut self, seq: &Sequence, allowed: Range<usize>, excluded: Option<usize>) -> Result<u32> {
        let constraint = Constraint { allowed, excluded, sampling: Sampling::Greedy, draw: 0.0 };
        Ok(block_on(self.model.decide(seq, &mut self.cache, &constraint))?.token)
    }
}

/// An Atari-like frame that changes every step, so nothing can be cached by accident.
fn frame(t: usize) -> Observation {
    let image = RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, (t * 7) as u8]));
    Observation { image: Some(image), ..Default::default() }
}

/// A context-long episode of game frames and actions.
fn episode(vocabulary: &Vocabulary, context: usize) -> Sequence {
    let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
    for t in 0..context / 18 + 1 {
        builder.timestep(&frame(t), &Action::Discrete(vec![(t % 3) as u32])).expect("valid frames");
    }
    builder.finish().tail(context)
}

fn seconds<T>(f: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let start = Instant::now();
    let value = f()?;
    Ok((value, start.elapsed().as_secs_f64()))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Linux's high-water mark of resident memory, in MB.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

fn prefill_and_decode(runner: &mut dyn Runner, seq: &Sequence) -> Result<(f64, f64)> {
    let repeats = 5;
    let (_, prefill) = seconds(|| {
        for _ in 0..repeats {
            runner.reset()?;
            runner.feed(seq)?;
        }
        Ok(())
    })?;
    // Decode the second half one element at a time, on top of the first half.
    let half = seq.len() / 2;
    runner.reset()?;
    runner.feed(&seq.slice_elements(0, half))?;
    let (_, decode) = seconds(|| {
        for i in half..seq.len() {
            runner.feed(&seq.slice_elements(i, i + 1))?;
        }
        Ok(())
    })?;
    Ok(((repeats * seq.len()) as f64 / prefill, (seq.len() - half) as f64 / decode))
}

/// Agent steps as the agent takes them: the last action token and a 64x64 frame in
/// (16 patches and the separator), one of three actions out; milliseconds, sorted.
fn agent_steps(runner: &mut dyn Runner, vocabulary: &Vocabulary, steps: usize) -> Result<Vec<f64>> {
    runner.reset()?;
    let first = vocabulary.value(0) as usize;
    let mut pending: Option<Element> = None;
    let mut times = (0..steps.max(1))
        .map(|t| {
            let (_, s) = seconds(|| {
                let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
                builder.observation(&frame(t))?;
                let mut chunk = Sequence::from_parts(pending.take().into_iter().collect(), vec![]);
                chunk.append(&builder.finish());
                let id = runner.choose(&chunk, first..first + 3, None)?;
                pending =
                    Some(Element { modality: Modality::Action, id, local_position: ACTION_POSITION, target: None });
                Ok(())
            })?;
            Ok(s * 1e3)
        })
        .collect::<Result<Vec<f64>>>()?;
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// A greedy caption of one frame, as the agent describes an image.
fn caption(runner: &mut dyn Runner, vocabulary: &Vocabulary) -> Result<f64> {
    let picture = frame(0).image.expect("a frame");
    let text = &vocabulary.text;
    let (_, s) = seconds(|| {
        let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
        builder.sentence(&[Part::Image(&picture)])?;
        let prompt = builder.finish();
        runner.reset()?;
        let mut chunk = prompt.clone();
        for position in prompt.len()..prompt.len() + MAX_TEXT_TOKENS {
            let id = runner.choose(&chunk, 0..text.size() as usize, Some(text.separator() as usize))?;
            if id == text.end_of_text() {
                break;
            }
            let local_position = (position as u32).min(ACTION_POSITION - 1);
            chunk = Sequence::from_parts(
                vec![Element { modality: Modality::Text, id, local_position, target: None }],
                vec![],
            );
        }
        Ok(())
    })?;
    Ok(s * 1e3)
}

pub fn bench(args: BenchArgs, dir: &Path) -> Result<()> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()));
    let tokenizer = read("tokenizer.json")?;
    let vocabulary = Vocabulary::new(TextTokenizer::from_bytes(&tokenizer)?);
    let (config, weights) = if args.random {
        let config = engine::weights::shipped_shape(vocabulary.text.size() as usize);
        let weights = engine::weights::random(&config, 0)?;
        (config, weights)
    } else {
        let config: Config = serde_json::from_slice(&read("config.json")?)?;
        (config, read("model.safetensors")?)
    };
    let download = (tokenizer.len() + weights.len()) as f64 / 1e6;

    let (mut runner, backend, adapter, parameters, gpu_memory): (Box<dyn Runner>, _, _, _, _) = match args.backend {
        Backend::Cpu => {
            let model = Gatito::load(config, weights, &Device::Cpu)?;
            let parameters = model.parameters();
            let cache = model.new_cache();
            (Box::new(Cpu { model, cache }), "cpu (candle, native)", "cpu".to_string(), parameters, None)
        }
        Backend::Gpu => {
            let gpu = block_on(Gpu::open())?;
            let model = block_on(GpuModel::load(&gpu, config, &weights))?;
            let cache = block_on(model.new_cache())?;
            let memory = (model.memory_bytes() + cache.memory_bytes()) as f64 / 1e6;
            let (adapter, parameters) = (model.adapter().to_string(), model.parameters());
            (Box::new(OnGpu { model, cache }), "gpu (wgsl engine, native)", adapter, parameters, Some(memory))
        }
    };
    let context = runner.context();
    let seq = episode(&vocabulary, context);
    let (prefill, decode) = prefill_and_decode(runner.as_mut(), &seq)?;
    let steps = agent_steps(runner.as_mut(), &vocabulary, args.steps)?;
    let caption = caption(runner.as_mut(), &vocabulary)?;

    let report = Report {
        backend,
        adapter,
        parameters,
        context,
        prefill_tokens_per_s: prefill,
        decode_tokens_per_s: decode,
        step_ms_p50: percentile(&steps, 0.5),
        step_ms_p95: percentile(&steps, 0.95),
        caption_ms: caption,
        peak_memory_mb: peak_memory_mb(),
        gpu_memory_mb: gpu_memory,
        model_download_mb: download,
    };
    print(&report, args.json, |r| {
        println!("{} on {} | {} parameters, context {}", r.backend, r.adapter, r.parameters, r.context);
        println!("prefill        {:>9.0} tokens/s", r.prefill_tokens_per_s);
        println!("decode         {:>9.0} tokens/s", r.decode_tokens_per_s);
        println!(
            "agent step     {:>9.2} ms p50, {:.2} ms p95 (a 64x64 frame in, one action out)",
            r.step_ms_p50, r.step_ms_p95
        );
        println!("caption        {:>9.1} ms", r.caption_ms);
        if let Some(mb) = r.peak_memory_mb {
            println!("peak memory    {mb:>9.0} MB");
        }
        if let Some(mb) = r.gpu_memory_mb {
            println!("GPU buffers    {mb:>9.1} MB");
        }
        println!("model download {:>9.1} MB", r.model_download_mb);
    })
}
