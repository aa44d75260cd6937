//! The benchmark both `gatito bench` (native) and the browser bench page run: prefill and
//! decode speed, agent step latency from frame in to action out, caption latency. It runs
//! the agent's own decoding contexts on whichever backend the networks name, so the
//! numbers are the page's. Benchmarks, not tests: targets live in the README beside the
//! numbers this prints.
//!
//! It is `async` because the GPU engine reads back asynchronously in the browser; on the
//! CPU every future is ready at once. The clock is passed in: `Instant` natively,
//! `performance.now()` in the browser.

use crate::agent::{Agent, AgentError, Backend, Context, Networks};
use crate::envs::ActionSpec;
use crate::model::generate::Sampling;
use crate::tokens::image::PositionMode;
use crate::tokens::{Action, Element, Modality, Observation, Sequence, SequenceBuilder, TokenError, Vocabulary};
use image::RgbImage;
use rand_pcg::Pcg64Mcg;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BenchError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
    #[error("the GPU failed during the bench ({0}); its numbers would be the CPU's")]
    FellBack(String),
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
    /// What the GPU engine holds for the weights and its scratch; none on the CPU.
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

/// The parts [`run`] times, in order, as it announces them.
pub const PARTS: [&str; 3] = ["prefill and decode", "agent steps", "caption"];

/// Runs the whole benchmark on `networks` (the GPU's where it names one); `now()` is a
/// clock in seconds. `part(i)` is called before each of [`PARTS`] is timed (a progress bar's
/// tick, kept out of the timings).
pub async fn run(
    networks: Networks,
    vocabulary: &Vocabulary,
    steps: usize,
    now: impl Fn() -> f64,
    part: impl Fn(usize),
) -> Result<Timings> {
    let on_gpu = networks.gpu.is_some();
    let (parameters, context) = (networks.cpu.parameters(), networks.cpu.config.context);
    let seq = episode(vocabulary, context)?;
    let mut agent = Agent::new(networks.cpu.clone(), vocabulary.clone(), Sampling::Greedy, 0);
    agent.use_gpu(networks.gpu.clone()).await?;
    part(0);
    let (prefill_tokens_per_s, decode_tokens_per_s) = prefill_and_decode(networks, vocabulary, &seq, &now).await?;
    part(1);
    let steps = agent_steps(&mut agent, steps, &now).await?;
    part(2);
    let caption_ms = caption(&mut agent, &now).await?;
    if on_gpu && agent.backend() != Backend::Gpu {
        return Err(BenchError::FellBack("the agent moved to the CPU".into()));
    }
    Ok(Timings {
        parameters,
        context,
        prefill_tokens_per_s,
        decode_tokens_per_s,
        step_ms_p50: percentile(&steps, 0.5),
        step_ms_p95: percentile(&steps, 0.95),
        caption_ms,
    })
}

/// A step that gave up the GPU is an error here: the numbers would be the CPU's.
fn on_backend(fell_back: Option<String>) -> Result<()> {
    fell_back.map_or(Ok(()), |why| Err(BenchError::FellBack(why)))
}

async fn prefill_and_decode(
    mut networks: Networks,
    vocabulary: &Vocabulary,
    seq: &Sequence,
    now: &impl Fn() -> f64,
) -> Result<(f64, f64)> {
    let mut fell_back = None;
    let mut context = Context::new(&mut networks, &mut fell_back).await?;
    on_backend(fell_back)?;
    let repeats = 5;
    let start = now();
    for _ in 0..repeats {
        context.clear();
        on_backend(context.feed(&mut networks, seq).await?)?;
    }
    let prefill = now() - start;
    // Decoding is generation: each token chosen is the next one fed, as in a caption or a
    // continuous action, on top of half a window of game frames. (Patches are never
    // decoded: a frame is always fed whole, which the step latency times.)
    let half = seq.len() / 2;
    context.clear();
    on_backend(context.feed(&mut networks, &seq.slice_elements(0, half)).await?)?;
    let text = 0..vocabulary.text.size() as usize;
    let mut rng = Pcg64Mcg::new(0);
    let generated = seq.len() - half;
    let mut token = 0;
    let start = now();
    for _ in 0..generated {
        let element = Element { modality: Modality::Text, id: token, local_position: 0, target: None };
        let chunk = Sequence::from_parts(vec![element], vec![]);
        let (choice, fell_back) =
            context.choose(&mut networks, &chunk, text.clone(), None, Sampling::Greedy, &mut rng).await?;
        on_backend(fell_back)?;
        token = choice.token;
    }
    let decode = now() - start;
    Ok(((repeats * seq.len()) as f64 / prefill, generated as f64 / decode))
}

/// Agent steps as the page takes them: a 64x64 frame in (16 patches and the separator,
/// after the last action token), one of three actions out; milliseconds, sorted.
async fn agent_steps(agent: &mut Agent, steps: usize, now: &impl Fn() -> f64) -> Result<Vec<f64>> {
    agent.begin_episode(None).await?;
    let spec = ActionSpec::Discrete { labels: vec!["noop", "left", "right"] };
    let mut times = Vec::with_capacity(steps.max(1));
    for t in 0..steps.max(1) {
        let observation = frame(t);
        let start = now();
        let decision = agent.act(&observation, &spec).await?;
        times.push((now() - start) * 1e3);
        on_backend(decision.fell_back)?;
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// A greedy caption of one frame, as the page describes an image; milliseconds.
async fn caption(agent: &mut Agent, now: &impl Fn() -> f64) -> Result<f64> {
    let picture = frame(0).image.unwrap_or_default();
    let start = now();
    agent.describe(&picture, None, |_| {}).await?;
    Ok((now() - start) * 1e3)
}
