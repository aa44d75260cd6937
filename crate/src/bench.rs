//! The benchmark both `gatito bench` (native) and the browser bench page run: prefill and
//! decode speed, agent step latency from frame in to action out, caption latency. Both
//! backends do the same work through [`Runner`], so their numbers compare. Benchmarks,
//! not tests: targets live in the README beside the numbers this prints.
//!
//! It is `async` because the GPU engine reads back asynchronously in the browser; the CPU
//! runner's futures are ready at once. The clock is passed in: `Instant` natively,
//! `performance.now()` in the browser.

use crate::agent::MAX_TEXT_TOKENS;
use crate::engine::{Constraint, EngineError, GpuCache, GpuModel};
use crate::model::generate::{Sampling, probabilities};
use crate::model::{Cache, Gatito, ModelError, argmax};
use crate::tokens::image::PositionMode;
use crate::tokens::sequence::{ACTION_POSITION, Part};
use crate::tokens::{Action, Element, Modality, Observation, Sequence, SequenceBuilder, TokenError, Vocabulary};
use image::RgbImage;
use std::ops::Range;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BenchError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
}

pub type Result<T> = std::result::Result<T, BenchError>;

/// A run's report, as `gatito bench --json` and the bench page give it.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub backend: &'static str,
    pub adapter: String,
    #[serde(flatten)]
    pub timings: Timings,
    /// The process's peak resident memory natively; the wasm heap (which only grows, so
    /// its high-water mark) in the browser.
    pub memory_mb: Option<f64>,
    /// Buffers the GPU engine holds (weights, scratch, one cache); none on the CPU.
    pub gpu_memory_mb: Option<f64>,
    /// The model's files (natively; the bench page adds the wasm module's size itself).
    pub model_download_mb: Option<f64>,
}

/// What one run measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Timings {
    pub parameters: usize,
    pub context: usize,
    pub prefill_tokens_per_s: f64,
    pub decode_tokens_per_s: f64,
    pub step_ms_p50: f64,
    pub step_ms_p95: f64,
    pub caption_ms: f64,
}

/// One backend behind the calls the agent makes.
// Runners are driven on one thread (`block_on` natively, the worker's event loop in the
// browser), so their futures need not be `Send`.
#[allow(async_fn_in_trait)]
pub trait Runner {
    fn parameters(&self) -> usize;
    fn context(&self) -> usize;
    /// Starts over with an empty cache.
    fn reset(&mut self);
    /// Feeds `seq` and computes the last element's logits.
    async fn feed(&mut self, seq: &Sequence) -> Result<()>;
    /// Feeds `seq` and greedily picks a token in `allowed` but not `excluded`, with the
    /// probabilities over `allowed` that the page shows.
    async fn choose(&mut self, seq: &Sequence, allowed: Range<usize>, excluded: Option<usize>) -> Result<u32>;
}

/// candle on the CPU.
pub struct CpuRunner {
    model: Gatito,
    cache: Cache,
}

impl CpuRunner {
    pub fn new(model: Gatito) -> CpuRunner {
        let cache = model.new_cache();
        CpuRunner { model, cache }
    }
}

impl Runner for CpuRunner {
    fn parameters(&self) -> usize {
        self.model.parameters()
    }

    fn context(&self) -> usize {
        self.model.config.context
    }

    fn reset(&mut self) {
        self.cache.clear();
    }

    async fn feed(&mut self, seq: &Sequence) -> Result<()> {
        self.model.forward_last(seq, &mut self.cache)?;
        Ok(())
    }

    async fn choose(&mut self, seq: &Sequence, allowed: Range<usize>, excluded: Option<usize>) -> Result<u32> {
        let mut logits = self.model.forward_last(seq, &mut self.cache)?;
        if let Some(e) = excluded {
            logits[e] = f32::NEG_INFINITY;
        }
        std::hint::black_box(probabilities(&logits, allowed.clone(), 1.0));
        Ok((allowed.start + argmax(&logits[allowed])) as u32)
    }
}

/// The WGSL engine on Vulkan or WebGPU.
pub struct GpuRunner {
    model: GpuModel,
    cache: GpuCache,
}

impl GpuRunner {
    pub async fn new(model: GpuModel) -> Result<GpuRunner> {
        let cache = model.new_cache().await?;
        Ok(GpuRunner { model, cache })
    }

    /// The adapter's name.
    pub fn adapter(&self) -> &str {
        self.model.adapter()
    }

    /// Buffers the engine holds: weights, scratch, one cache.
    pub fn memory_bytes(&self) -> u64 {
        self.model.memory_bytes() + self.cache.memory_bytes()
    }
}

impl Runner for GpuRunner {
    fn parameters(&self) -> usize {
        self.model.parameters()
    }

    fn context(&self) -> usize {
        self.model.config.context
    }

    fn reset(&mut self) {
        self.cache.clear();
    }

    async fn feed(&mut self, seq: &Sequence) -> Result<()> {
        self.model.forward_last(seq, &mut self.cache).await?;
        Ok(())
    }

    async fn choose(&mut self, seq: &Sequence, allowed: Range<usize>, excluded: Option<usize>) -> Result<u32> {
        let constraint = Constraint { allowed, excluded, sampling: Sampling::Greedy, draw: 0.0 };
        Ok(self.model.decide(seq, &mut self.cache, &constraint).await?.token)
    }
}

/// An Atari-like frame that changes every step, so nothing can be cached by accident.
fn frame(t: usize) -> Observation {
    let image = RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, (t * 7) as u8]));
    Observation { image: Some(image), ..Default::default() }
}

/// A context-long episode of game frames and actions.
fn episode(vocabulary: &Vocabulary, context: usize) -> Result<Sequence> {
    let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
    for t in 0..context / 18 + 1 {
        builder.timestep(&frame(t), &Action::Discrete(vec![(t % 3) as u32]))?;
    }
    Ok(builder.finish().tail(context))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(f64::NAN)
}

/// Runs the whole benchmark; `now()` is a clock in seconds.
pub async fn run(
    runner: &mut impl Runner,
    vocabulary: &Vocabulary,
    steps: usize,
    now: impl Fn() -> f64,
) -> Result<Timings> {
    let seq = episode(vocabulary, runner.context())?;
    let (prefill_tokens_per_s, decode_tokens_per_s) = prefill_and_decode(runner, &seq, &now).await?;
    let steps = agent_steps(runner, vocabulary, steps, &now).await?;
    let caption_ms = caption(runner, vocabulary, &now).await?;
    Ok(Timings {
        parameters: runner.parameters(),
        context: runner.context(),
        prefill_tokens_per_s,
        decode_tokens_per_s,
        step_ms_p50: percentile(&steps, 0.5),
        step_ms_p95: percentile(&steps, 0.95),
        caption_ms,
    })
}

async fn prefill_and_decode(runner: &mut impl Runner, seq: &Sequence, now: &impl Fn() -> f64) -> Result<(f64, f64)> {
    let repeats = 5;
    let start = now();
    for _ in 0..repeats {
        runner.reset();
        runner.feed(seq).await?;
    }
    let prefill = now() - start;
    // Decode the second half one element at a time, on top of the first half.
    let half = seq.len() / 2;
    runner.reset();
    runner.feed(&seq.slice_elements(0, half)).await?;
    let start = now();
    for i in half..seq.len() {
        runner.feed(&seq.slice_elements(i, i + 1)).await?;
    }
    let decode = now() - start;
    Ok(((repeats * seq.len()) as f64 / prefill, (seq.len() - half) as f64 / decode))
}

/// Agent steps as the agent takes them: the last action token and a 64x64 frame in
/// (16 patches and the separator), one of three actions out; milliseconds, sorted.
async fn agent_steps(
    runner: &mut impl Runner,
    vocabulary: &Vocabulary,
    steps: usize,
    now: &impl Fn() -> f64,
) -> Result<Vec<f64>> {
    runner.reset();
    let first = vocabulary.value(0) as usize;
    let mut pending: Option<Element> = None;
    let mut times = Vec::with_capacity(steps.max(1));
    for t in 0..steps.max(1) {
        let start = now();
        let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
        builder.observation(&frame(t))?;
        let mut chunk = Sequence::from_parts(pending.take().into_iter().collect(), vec![]);
        chunk.append(&builder.finish());
        let id = runner.choose(&chunk, first..first + 3, None).await?;
        pending = Some(Element { modality: Modality::Action, id, local_position: ACTION_POSITION, target: None });
        times.push((now() - start) * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// A greedy caption of one frame, as the agent describes an image; milliseconds.
async fn caption(runner: &mut impl Runner, vocabulary: &Vocabulary, now: &impl Fn() -> f64) -> Result<f64> {
    let picture = frame(0).image.unwrap_or_default();
    let text = &vocabulary.text;
    let start = now();
    let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
    builder.sentence(&[Part::Image(&picture)])?;
    let prompt = builder.finish();
    runner.reset();
    let mut chunk = prompt.clone();
    for position in prompt.len()..prompt.len() + MAX_TEXT_TOKENS {
        let id = runner.choose(&chunk, 0..text.size() as usize, Some(text.separator() as usize)).await?;
        if id == text.end_of_text() {
            break;
        }
        let local_position = (position as u32).min(ACTION_POSITION - 1);
        chunk =
            Sequence::from_parts(vec![Element { modality: Modality::Text, id, local_position, target: None }], vec![]);
    }
    Ok((now() - start) * 1e3)
}
