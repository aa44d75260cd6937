//! The browser side of the benchmark (`www/bench.html`): [`crate::bench`] on CPU-wasm or
//! on WebGPU, timed with the worker's `performance.now()`.

use super::to_js;
use crate::agent::Networks;
use crate::bench::{self, Report};
use crate::engine::{Gpu, GpuModel};
use crate::model::ModelFiles;
use candle_core::Device;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Times the model from the bytes of its files on `backend` ("cpu" or "webgpu") over
/// `steps` agent steps: a [`Report`] (the wasm heap as its memory).
#[wasm_bindgen]
pub async fn bench(
    config: Vec<u8>,
    weights: Vec<u8>,
    tokenizer: Vec<u8>,
    backend: String,
    steps: usize,
) -> Result<JsValue, JsError> {
    let files = ModelFiles { config, weights, tokenizer };
    let weights = (backend == "webgpu").then(|| files.weights.clone());
    // Loading on the CPU checks every file, for either backend; it is the fallback too.
    let (model, vocabulary) = files.load(&Device::Cpu)?;
    let cpu = Arc::new(model);
    let now = clock()?;
    let report = match (backend.as_str(), weights) {
        ("cpu", _) => Report {
            backend: "cpu (candle, wasm)",
            adapter: "cpu".into(),
            timings: bench::run(Networks { cpu, gpu: None }, &vocabulary, steps, now).await?,
            memory_mb: Some(heap_mb()),
            gpu_memory_mb: None,
            model_download_mb: None,
        },
        ("webgpu", Some(weights)) => {
            let gpu = Gpu::open().await?;
            let model = Rc::new(GpuModel::load(&gpu, cpu.config.clone(), &weights).await?);
            let networks = Networks { cpu, gpu: Some(model.clone()) };
            Report {
                backend: "webgpu (wgsl engine, wasm)",
                adapter: model.adapter().to_string(),
                timings: bench::run(networks, &vocabulary, steps, now).await?,
                memory_mb: Some(heap_mb()),
                gpu_memory_mb: Some(model.memory_bytes() as f64 / 1e6),
                model_download_mb: None,
            }
        }
        (other, _) => return Err(JsError::new(&format!("the backend must be cpu or webgpu, not {other}"))),
    };
    to_js(&report)
}

/// The worker's `performance.now()`, in seconds.
fn clock() -> Result<impl Fn() -> f64, JsError> {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .map_err(|_| JsError::new("this worker has no performance clock"))?;
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| JsError::new("performance.now is missing"))?;
    Ok(move || now.call0(&performance).ok().and_then(|t| t.as_f64()).unwrap_or(0.0) / 1000.0)
}

fn heap_mb() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64 / 1e6
}
