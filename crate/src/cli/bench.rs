//! `gatito bench`: how fast the model runs natively, on the CPU (candle) or on the GPU
//! (the WGSL engine on Vulkan), as [`crate::bench`] measures it; the browser bench page
//! runs the same measurements on CPU-wasm and WebGPU.

use super::{Backend, Result, print, progress};
use crate::agent::Networks;
use crate::bench::{self, Report};
use crate::engine::{self, Gpu, GpuModel};
use crate::model::{Config, Gatito};
use crate::tokens::{TextTokenizer, Vocabulary};
use candle_core::Device;
use pollster::block_on;
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
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

/// Linux's high-water mark of resident memory, in MB.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
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

    let clock = Instant::now();
    let now = || clock.elapsed().as_secs_f64();
    let bar = progress::bar(bench::PARTS.len() as u64, "parts", args.json);
    let part = |i: usize| {
        bar.set_position(i as u64);
        bar.set_message(bench::PARTS[i]);
    };
    let cpu = Arc::new(Gatito::load(config.clone(), weights.clone(), &Device::Cpu)?);
    let report = match args.backend {
        Backend::Cpu => Report {
            backend: "cpu (candle, native)",
            adapter: "cpu".into(),
            timings: block_on(bench::run(Networks { cpu, gpu: None }, &vocabulary, args.steps, now, part))?,
            memory_mb: peak_memory_mb(),
            gpu_memory_mb: None,
            model_download_mb: Some(download),
        },
        Backend::Gpu => {
            let gpu = block_on(Gpu::open())?;
            let model = Rc::new(block_on(GpuModel::load(&gpu, config, &weights))?);
            let networks = Networks { cpu, gpu: Some(model.clone()) };
            Report {
                backend: "gpu (wgsl engine, native)",
                adapter: model.adapter().to_string(),
                timings: block_on(bench::run(networks, &vocabulary, args.steps, now, part))?,
                memory_mb: peak_memory_mb(),
                gpu_memory_mb: Some(model.memory_bytes() as f64 / 1e6),
                model_download_mb: Some(download),
            }
        }
    };
    bar.finish_and_clear();
    print(&report, args.json, |r| {
        let t = &r.timings;
        println!("{} on {} | {} parameters, context {}", r.backend, r.adapter, t.parameters, t.context);
        println!("prefill        {:>9.0} tokens/s", t.prefill_tokens_per_s);
        println!("decode         {:>9.0} tokens/s", t.decode_tokens_per_s);
        println!(
            "agent step     {:>9.2} ms p50, {:.2} ms p95 (a 64x64 frame in, one action out)",
            t.step_ms_p50, t.step_ms_p95
        );
        println!("caption        {:>9.1} ms", t.caption_ms);
        if let Some(mb) = r.memory_mb {
            println!("peak memory    {mb:>9.0} MB");
        }
        if let Some(mb) = r.gpu_memory_mb {
            println!("GPU buffers    {mb:>9.1} MB");
        }
        if let Some(mb) = r.model_download_mb {
            println!("model download {mb:>9.1} MB");
        }
    })
}
