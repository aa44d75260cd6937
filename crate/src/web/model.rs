//! The trained model in the page. The worker hands in the files it fetched and checked; the
//! model captions images and answers questions, streaming the text, and lends each live world
//! an agent of its own over the shared weights. It runs on the CPU (candle) or, once
//! [`Model::use_webgpu`] succeeds, on WebGPU (the WGSL engine), with the CPU as fallback.

use super::to_js;
use crate::agent::Agent;
use crate::engine::{Gpu, GpuModel};
use crate::model::generate::Sampling;
use crate::model::{Gatito, ModelFiles};
use crate::tokens::Vocabulary;
use crate::tokens::image::IMAGE_SIZE;
use candle_core::Device;
use image::RgbImage;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[wasm_bindgen]
pub struct Model {
    weights: Arc<Gatito>,
    vocabulary: Vocabulary,
    /// `model.safetensors`, kept for loading the weights onto a GPU.
    safetensors: Rc<Vec<u8>>,
    /// The weights on the GPU, while the page uses WebGPU.
    gpu: Rc<RefCell<Option<Rc<GpuModel>>>>,
    /// The device under them, so the diagnostics can lose it on purpose.
    device: Rc<RefCell<Option<Gpu>>>,
}

#[derive(serde::Serialize)]
struct ModelInfo<'a> {
    parameters: usize,
    config: &'a crate::model::Config,
}

#[wasm_bindgen]
impl Model {
    /// The model from the bytes of `config.json`, `model.safetensors` and `tokenizer.json`.
    /// A malformed or mismatched file is an exception that names the file and the problem.
    #[wasm_bindgen(constructor)]
    pub fn new(config: Vec<u8>, weights: Vec<u8>, tokenizer: Vec<u8>) -> Result<Model, JsError> {
        let safetensors = Rc::new(weights.clone());
        let (model, vocabulary) = ModelFiles { config, weights, tokenizer }.load(&Device::Cpu)?;
        Ok(Model { weights: Arc::new(model), vocabulary, safetensors, gpu: Rc::default(), device: Rc::default() })
    }

    /// `{parameters, config}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&ModelInfo { parameters: self.weights.parameters(), config: &self.weights.config })
    }

    /// Loads the weights onto this worker's WebGPU device; resolves with the adapter's
    /// name, or rejects with why not (no adapter, no device, out of memory).
    #[wasm_bindgen(js_name = useWebGpu)]
    pub fn use_webgpu(&self) -> js_sys::Promise {
        let (config, safetensors) = (self.weights.config.clone(), self.safetensors.clone());
        let (slot, device) = (self.gpu.clone(), self.device.clone());
        future_to_promise(async move {
            let error = |e: crate::engine::EngineError| JsValue::from(JsError::new(&e.to_string()));
            let gpu = Gpu::open().await.map_err(error)?;
            let model = GpuModel::load(&gpu, config, &safetensors).await.map_err(error)?;
            let adapter = model.adapter().to_string();
            *slot.borrow_mut() = Some(Rc::new(model));
            *device.borrow_mut() = Some(gpu);
            Ok(adapter.into())
        })
    }

    /// Back to the CPU; the GPU's buffers go once no agent holds them.
    #[wasm_bindgen(js_name = useCpu)]
    pub fn use_cpu(&self) {
        self.gpu.borrow_mut().take();
        self.device.borrow_mut().take();
    }

    /// Destroys the GPU device, as a driver crash would (for the diagnostics panel).
    #[wasm_bindgen(js_name = loseDevice)]
    pub fn lose_device(&self) -> Result<(), JsError> {
        let device = self.device.borrow();
        let gpu = device.as_ref().ok_or_else(|| JsError::new("no WebGPU device is in use to lose"))?;
        gpu.destroy();
        Ok(())
    }

    /// Times the model on `backend` ("cpu" or "webgpu") over `steps` agent steps, for the
    /// bench page; resolves with the report (see `web/bench.rs`).
    pub fn bench(&self, backend: String, steps: usize) -> js_sys::Promise {
        let (cpu, vocabulary, safetensors) = (self.weights.clone(), self.vocabulary.clone(), self.safetensors.clone());
        future_to_promise(async move { Ok(super::bench::run(cpu, vocabulary, safetensors, backend, steps).await?) })
    }

    /// Captions the 64x64 RGB picture (`rgb`, as `Tokens.image` reports it), or answers
    /// `question` about it. `on_text(text)` is called with the text so far after each
    /// token; the promise resolves with the whole text.
    pub fn describe(
        &self,
        rgb: Vec<u8>,
        question: Option<String>,
        on_text: js_sys::Function,
    ) -> Result<js_sys::Promise, JsError> {
        let side = IMAGE_SIZE;
        let picture = RgbImage::from_raw(side, side, rgb)
            .ok_or_else(|| JsError::new(&format!("the picture must be {side}x{side} RGB bytes")))?;
        let question = question.filter(|q| !q.trim().is_empty());
        let mut agent = self.agent(0);
        let gpu = self.gpu.borrow().clone();
        Ok(future_to_promise(async move {
            agent.use_gpu(gpu).await.map_err(|e| JsError::new(&e.to_string()))?;
            let mut failed = None;
            let text = agent
                .describe(&picture, question.as_deref(), |so_far| {
                    if let Err(e) = on_text.call1(&JsValue::NULL, &JsValue::from_str(so_far)) {
                        failed.get_or_insert(e);
                    }
                })
                .await
                .map_err(|e| JsError::new(&e.to_string()))?;
            match failed {
                Some(e) => Err(e),
                None => Ok(text.into()),
            }
        }))
    }
}

impl Model {
    /// A fresh agent over these weights on the CPU, choosing greedily (the page shows the
    /// distributions); [`Model::gpu`] says where it should run.
    pub(super) fn agent(&self, seed: u64) -> Agent {
        Agent::new(Arc::clone(&self.weights), self.vocabulary.clone(), Sampling::Greedy, seed)
    }

    /// The GPU model agents should run on now, if any.
    pub(super) fn gpu(&self) -> Option<Rc<GpuModel>> {
        self.gpu.borrow().clone()
    }

    /// Whether `agent` runs these weights (a reloaded model starts its worlds' agents afresh).
    pub(super) fn runs(&self, agent: &Agent) -> bool {
        Arc::ptr_eq(&self.weights, agent.model())
    }
}
