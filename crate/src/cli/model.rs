//! The verbs that run the model: `caption`, `ask`, and `verify`, which checks that candle
//! runs the exported model exactly as PyTorch trained it.

use super::{Backend, Result, print};
use crate::agent::Agent;
use crate::engine::{self, Gpu, GpuModel};
use crate::envs::rollout::{Actor, Expert, Policy, Random};
use crate::model::ModelFiles;
use crate::model::generate::Sampling;
use crate::model::golden::{Golden, TOLERANCE};
use crate::tokens::image;
use candle_core::Device;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How the next token is chosen.
#[derive(clap::Args, Default)]
pub struct SamplingArgs {
    /// Sample at this temperature instead of taking the most likely token.
    #[arg(long)]
    temperature: Option<f32>,
    /// Sample among the k most likely tokens only.
    #[arg(long)]
    top_k: Option<usize>,
    /// The seed of the sampler (not of the world).
    #[arg(long, default_value_t = 0)]
    sampling_seed: u64,
}

impl SamplingArgs {
    fn sampling(&self) -> Sampling {
        match (self.temperature, self.top_k) {
            (None, None) => Sampling::Greedy,
            (t, None) => Sampling::Temperature(t.unwrap_or(1.0)),
            (t, Some(k)) => Sampling::TopK { k, temperature: t.unwrap_or(1.0) },
        }
    }
}

/// The actor a `--policy` names; the model needs its folder and sampling settings.
pub fn actor(policy: Policy, dir: &Path, sampling: &SamplingArgs) -> Result<Box<dyn Actor>> {
    Ok(match policy {
        Policy::Expert => Box::new(Expert),
        Policy::Random => Box::new(Random::new()),
        Policy::Model => Box::new(agent(dir, sampling)?),
    })
}

/// The agent for the shipped (or `--model`) weights.
pub fn agent(dir: &Path, sampling: &SamplingArgs) -> Result<Agent> {
    if !dir.join("model.safetensors").exists() {
        return Err(format!("{} has no trained weights (model.safetensors); see models/recipe", dir.display()).into());
    }
    let (model, vocabulary) = ModelFiles::read(dir)?.load(&Device::Cpu)?;
    Ok(Agent::new(std::sync::Arc::new(model), vocabulary, sampling.sampling(), sampling.sampling_seed))
}

#[derive(clap::Args)]
pub struct DescribeArgs {
    /// A PNG, JPEG, WebP or GIF image.
    file: PathBuf,
    #[command(flatten)]
    sampling: SamplingArgs,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct AskArgs {
    #[command(flatten)]
    describe: DescribeArgs,
    /// The question about the image.
    question: String,
}

#[derive(serde::Serialize)]
struct Answer {
    text: String,
}

pub fn caption(args: DescribeArgs, dir: &Path) -> Result<()> {
    describe(args, None, dir)
}

pub fn ask(args: AskArgs, dir: &Path) -> Result<()> {
    describe(args.describe, Some(&args.question), dir)
}

/// Captions an image, or answers a question about it, streaming the text as it comes.
fn describe(args: DescribeArgs, question: Option<&str>, dir: &Path) -> Result<()> {
    if question.is_some_and(|q| q.trim().is_empty()) {
        return Err("the question is empty".into());
    }
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    let picture = image::to_model_input(&image::decode(&bytes)?);
    let mut agent = agent(dir, &args.sampling)?;
    let mut shown = String::new();
    let text = pollster::block_on(agent.describe(&picture, question, |so_far| {
        if let Some(new) = so_far.strip_prefix(shown.as_str()).filter(|_| !args.json) {
            print!("{new}");
            let _ = std::io::stdout().flush();
            shown = so_far.to_string();
        }
    }))?;
    if args.json {
        return print(&Answer { text }, true, |_| {});
    }
    println!("{}", text.strip_prefix(shown.as_str()).unwrap_or_default());
    Ok(())
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[arg(long, value_enum, default_value_t = Backend::Cpu)]
    backend: Backend,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Verdict {
    backend: String,
    max_abs_diff: f32,
    tolerance: f32,
    positions: usize,
}

pub fn verify(args: VerifyArgs, dir: &Path) -> Result<()> {
    let files = ModelFiles::read(dir)?;
    let weights = files.weights.clone();
    let (model, _) = files.load(&Device::Cpu)?;
    let path = dir.join("golden.safetensors");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let golden = Golden::from_bytes(&bytes, model.config.text_vocab)?;
    let (backend, max_abs_diff, tolerance) = match args.backend {
        Backend::Cpu => ("candle".to_string(), golden.max_abs_diff(&model)?, TOLERANCE),
        Backend::Gpu => {
            // The GPU sums in another order than PyTorch: it is held to the engine's tolerance.
            let gpu = pollster::block_on(Gpu::open())?;
            let on_gpu = pollster::block_on(GpuModel::load(&gpu, model.config.clone(), &weights))?;
            let mut cache = pollster::block_on(on_gpu.new_cache())?;
            let logits = pollster::block_on(on_gpu.forward(&golden.sequence, &mut cache))?;
            (format!("gpu on {}", gpu.adapter()), golden.max_abs_diff_of(&logits)?, engine::TOLERANCE)
        }
    };
    let verdict = Verdict { backend, max_abs_diff, tolerance, positions: golden.logits.len() };
    print(&verdict, args.json, |v| {
        println!(
            "{} ({}): max |ours - pytorch| = {:.2e} over {} positions",
            dir.display(),
            v.backend,
            v.max_abs_diff,
            v.positions
        )
    })?;
    if verdict.max_abs_diff > tolerance {
        return Err(
            format!("the logits differ by {:.2e}; at most {tolerance:.0e} is allowed", verdict.max_abs_diff).into()
        );
    }
    Ok(())
}
