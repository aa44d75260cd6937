//! The trained model in the page. The worker hands in the files it fetched and checked; the
//! model captions images and answers questions, streaming the text, and lends each live world
//! an agent of its own over the shared weights. It runs on the CPU (candle) or, once
//! [`Model::use_webgpu`] succeeds, on WebGPU (the WGSL engine), with the CPU as fallback.

use super::to_js;
use crate::agent::{Agent, Decision};
use crate::engine::{Gpu, GpuModel};
use crate::envs::ActionSpec;
use crate::model::generate::Sampling;
use crate::model::{Gatito, ModelFiles};
use crate::requests::picture;
use crate::tokens::{Observation, Vocabulary};
use candle_core::Device;
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
        let picture = picture(rgb)?;
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
    /// The agent in `slot` if it runs these weights, else a fresh one put there (a reloaded
    /// model starts every episode's agent afresh). Agents choose greedily, since the page
    /// shows the distributions. Refused while the agent there is still deciding.
    pub(super) fn agent_in(
        &self,
        slot: &mut Option<Rc<RefCell<Agent>>>,
        seed: u64,
    ) -> Result<Rc<RefCell<Agent>>, JsError> {
        if let Some(agent) = slot {
            let held = agent.try_borrow().map_err(|_| still_deciding())?;
            if Arc::ptr_eq(&self.weights, held.model()) {
                return Ok(agent.clone());
            }
        }
        Ok(slot.insert(Rc::new(RefCell::new(self.agent(seed)))).clone())
    }

    /// A fresh agent over these weights on the CPU; [`Model::gpu`] says where it should run.
    fn agent(&self, seed: u64) -> Agent {
        Agent::new(Arc::clone(&self.weights), self.vocabulary.clone(), Sampling::Greedy, seed)
    }

    /// The GPU model agents should run on now, if any.
    pub(super) fn gpu(&self) -> Option<Rc<GpuModel>> {
        self.gpu.borrow().clone()
    }
}

fn still_deciding() -> JsError {
    JsError::new("the model is still deciding")
}

/// `agent` observes and decodes one action for `spec`, on `gpu` if given and on the CPU
/// otherwise, moving there first if the page switched backends since its last decision.
// The agent stays borrowed while the GPU works: a second decision meanwhile is refused
// (`try_borrow_mut`) with a message rather than interleaved.
#[allow(clippy::await_holding_refcell_ref)]
pub(super) async fn decide(
    agent: Rc<RefCell<Agent>>,
    gpu: Option<Rc<GpuModel>>,
    observation: &Observation,
    spec: &ActionSpec,
) -> Result<Decision, JsValue> {
    let error = |e: crate::agent::AgentError| JsValue::from(JsError::new(&e.to_string()));
    let mut agent = agent.try_borrow_mut().map_err(|_| still_deciding())?;
    let switch = match (&gpu, agent.gpu()) {
        (Some(wanted), Some(held)) => !Rc::ptr_eq(wanted, held),
        (wanted, held) => wanted.is_some() != held.is_some(),
    };
    if switch {
        agent.use_gpu(gpu).await.map_err(error)?;
    }
    agent.act(observation, spec).await.map_err(error)
}
