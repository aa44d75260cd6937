//! The browser side of the benchmark (`www/bench.html`): [`crate::bench`] on CPU-wasm or
//! on WebGPU, timed with the worker's `performance.now()`.

use super::to_js;
use crate::agent::Networks;
use crate::bench::{self, Report};
use crate::engine::{Gpu, GpuModel};
use crate::model::Gatito;
use crate::tokens::Vocabulary;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Times `cpu` (and, for "webgpu", the same weights from `safetensors` on the GPU) over
/// `steps` agent steps: a [`Report`] with the wasm heap as its memory.
pub(super) async fn run(
    cpu: Arc<Gatito>,
    vocabulary: Vocabulary,
    safetensors: Rc<Vec<u8>>,
    backend: String,
    steps: usize,
) -> Result<JsValue, JsError> {
    let now = clock()?;
    let report = match backend.as_str() {
        "cpu" => Report {
            backend: "cpu (candle, wasm)",
            adapter: "cpu".into(),
            timings: bench::run(Networks { cpu, gpu: None }, &vocabulary, steps, now, |_| {}).await?,
            memory_mb: Some(heap_mb()),
            gpu_memory_mb: None,
            model_download_mb: None,
        },
        "webgpu" => {
            let gpu = Gpu::open().await?;
            let model = Rc::new(GpuModel::load(&gpu, cpu.config.clone(), &safetensors).await?);
            let networks = Networks { cpu, gpu: Some(model.clone()) };
            Report {
                backend: "webgpu (wgsl engine, wasm)",
                adapter: model.adapter().to_string(),
                timings: bench::run(networks, &vocabulary, steps, now, |_| {}).await?,
                memory_mb: Some(heap_mb()),
                gpu_memory_mb: Some(model.memory_bytes() as f64 / 1e6),
                model_download_mb: None,
            }
        }
        other => return Err(JsError::new(&format!("the backend must be cpu or webgpu, not {other}"))),
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
