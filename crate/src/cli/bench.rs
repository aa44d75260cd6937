//! `gatito bench`: how fast the model runs natively on the CPU. Benchmarks, not tests:
//! targets live in the README beside the numbers this prints.

use super::model::{SamplingArgs, agent};
use super::{Result, print};
use crate::envs::ActionSpec;
use crate::model::{Gatito, ModelFiles};
use crate::tokens::image::PositionMode;
use crate::tokens::{Action, Observation, Sequence, SequenceBuilder, Vocabulary};
use candle_core::Device;
use image::RgbImage;
use std::path::Path;
use std::time::Instant;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Agent steps to time.
    #[arg(long, default_value_t = 200)]
    steps: usize,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    backend: &'static str,
    parameters: usize,
    context: usize,
    prefill_tokens_per_s: f64,
    decode_tokens_per_s: f64,
    step_ms_p50: f64,
    step_ms_p95: f64,
    caption_ms: f64,
    peak_memory_mb: Option<f64>,
    model_download_mb: f64,
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

fn prefill_and_decode(model: &Gatito, seq: &Sequence) -> Result<(f64, f64)> {
    let repeats = 5;
    let (_, prefill) = seconds(|| {
        for _ in 0..repeats {
            model.forward(seq, &mut model.new_cache())?;
        }
        Ok(())
    })?;
    // Decode the second half one element at a time, on top of the first half.
    let half = seq.len() / 2;
    let mut cache = model.new_cache();
    model.forward(&seq.slice_elements(0, half), &mut cache)?;
    let (_, decode) = seconds(|| {
        for i in half..seq.len() {
            model.forward_last(&seq.slice_elements(i, i + 1), &mut cache)?;
        }
        Ok(())
    })?;
    Ok(((repeats * seq.len()) as f64 / prefill, (seq.len() - half) as f64 / decode))
}

pub fn bench(args: BenchArgs, dir: &Path) -> Result<()> {
    let download: u64 = ["config.json", "model.safetensors", "tokenizer.json"]
        .iter()
        .filter_map(|name| std::fs::metadata(dir.join(name)).ok())
        .map(|m| m.len())
        .sum();
    let (model, vocabulary) = ModelFiles::read(dir)?.load(&Device::Cpu)?;
    let seq = episode(&vocabulary, model.config.context);
    let (prefill, decode) = prefill_and_decode(&model, &seq)?;
    let parameters = model.parameters();
    let context = model.config.context;

    let mut agent = agent(dir, &SamplingArgs::default())?;
    let spec = ActionSpec::Discrete { labels: vec!["noop", "up", "down"] };
    let mut steps = (0..args.steps.max(1))
        .map(|t| Ok(seconds(|| Ok(agent.act(&frame(t), &spec)?))?.1 * 1e3))
        .collect::<Result<Vec<f64>>>()?;
    steps.sort_by(f64::total_cmp);
    let picture = frame(0).image.expect("a frame");
    let (_, caption) = seconds(|| Ok(agent.describe(&picture, None, |_| {})?))?;

    let report = Report {
        backend: "cpu (candle, native)",
        parameters,
        context,
        prefill_tokens_per_s: prefill,
        decode_tokens_per_s: decode,
        step_ms_p50: percentile(&steps, 0.5),
        step_ms_p95: percentile(&steps, 0.95),
        caption_ms: caption * 1e3,
        peak_memory_mb: peak_memory_mb(),
        model_download_mb: download as f64 / 1e6,
    };
    print(&report, args.json, |r| {
        println!("{} | {} parameters, context {}", r.backend, r.parameters, r.context);
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
        println!("model download {:>9.1} MB", r.model_download_mb);
    })
}
