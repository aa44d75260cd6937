//! The trained model in the page. The worker hands in the files it fetched and checked; the
//! model captions images and answers questions, streaming the text, and lends each live world
//! an agent of its own over the shared weights.

use super::to_js;
use crate::agent::Agent;
use crate::model::generate::Sampling;
use crate::model::{Gatito, ModelFiles};
use crate::tokens::Vocabulary;
use crate::tokens::image::IMAGE_SIZE;
use candle_core::Device;
use image::RgbImage;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Model {
    weights: Arc<Gatito>,
    vocabulary: Vocabulary,
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
        let (model, vocabulary) = ModelFiles { config, weights, tokenizer }.load(&Device::Cpu)?;
        Ok(Model { weights: Arc::new(model), vocabulary })
    }

    /// `{parameters, config}`.
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&ModelInfo { parameters: self.weights.parameters(), config: &self.weights.config })
    }

    /// Captions the 64x64 RGB picture (`rgb`, as `Tokens.image` reports it), or answers
    /// `question` about it. `on_text(text)` is called with the text so far after each token.
    pub fn describe(
        &self,
        rgb: Vec<u8>,
        question: Option<String>,
        on_text: &js_sys::Function,
    ) -> Result<String, JsError> {
        let side = IMAGE_SIZE;
        let picture = RgbImage::from_raw(side, side, rgb)
            .ok_or_else(|| JsError::new(&format!("the picture must be {side}x{side} RGB bytes")))?;
        let question = question.filter(|q| !q.trim().is_empty());
        let mut agent = self.agent(0);
        let mut failed = None;
        let text = agent.describe(&picture, question.as_deref(), |so_far| {
            if let Err(e) = on_text.call1(&JsValue::NULL, &JsValue::from_str(so_far)) {
                failed.get_or_insert(e);
            }
        })?;
        match failed {
            Some(e) => Err(JsError::new(&format!("the text callback failed: {e:?}"))),
            None => Ok(text),
        }
    }
}

impl Model {
    /// A fresh agent over these weights, choosing greedily (the page shows the distributions).
    pub(super) fn agent(&self, seed: u64) -> Agent {
        Agent::new(Arc::clone(&self.weights), self.vocabulary.clone(), Sampling::Greedy, seed)
    }

    /// Whether `agent` runs these weights (a reloaded model starts its worlds' agents afresh).
    pub(super) fn runs(&self, agent: &Agent) -> bool {
        Arc::ptr_eq(&self.weights, agent.model())
    }
}
