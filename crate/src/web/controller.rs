//! The model acting on observations from outside its worlds: another page's own game or
//! body. The page hands in each observation (text, a 64x64 picture, values, discrete
//! values), the model decodes one action for the action space the page declared, and the
//! observations so far stay in its context, as in one of its own episodes.

use super::model::{self, Model};
use super::to_js;
use crate::agent::{Agent, Backend};
use crate::envs::ActionSpec;
use crate::requests::{PlainParts, Space};
use crate::tokens::values::{self, ValueKind};
use crate::tokens::{Action, Observation};
use serde::Serialize;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Acted {
    action: Action,
    /// For a discrete action, the probability of each one; for a continuous action, the
    /// probability the model gave each value's chosen bin.
    probabilities: Vec<f32>,
    backend: Backend,
    #[serde(skip_serializing_if = "Option::is_none")]
    fell_back: Option<String>,
}

/// One outside episode: its action space and the model's context so far.
#[wasm_bindgen]
pub struct Controller {
    spec: ActionSpec,
    seed: u32,
    /// Made at the first decision; shared with the decision in flight.
    agent: Option<Rc<RefCell<Agent>>>,
}

#[wasm_bindgen]
impl Controller {
    /// An episode acting in `space` (see [`Space`]); `seed` breaks ties as in the worlds.
    #[wasm_bindgen(constructor)]
    pub fn new(space: JsValue, seed: u32) -> Result<Controller, JsError> {
        let space: Space = serde_wasm_bindgen::from_value(space)
            .map_err(|e| JsError::new(&format!("the actions are {{discrete: n}} or {{continuous: d}}: {e}")))?;
        Ok(Controller { spec: space.spec()?, seed, agent: None })
    }

    /// Observes `values` (`{text?, values?, discrete?}`) and `rgb` (a 64x64 RGB picture, as
    /// `Tokens.image` reports it), then decodes one action. Resolves with
    /// `{action, probabilities, backend, fellBack?}`.
    pub fn act(&mut self, model: &Model, values: JsValue, rgb: Option<Vec<u8>>) -> Result<js_sys::Promise, JsError> {
        let observation = observation(values, rgb)?;
        let agent = model.agent_in(&mut self.agent, u64::from(self.seed))?;
        let (spec, gpu) = (self.spec.clone(), model.gpu());
        Ok(future_to_promise(async move {
            let decision = model::decide(agent, gpu, &observation, &spec).await?;
            let probabilities = match &decision.action {
                Action::Discrete(_) => decision.distributions.first().cloned().unwrap_or_default(),
                // The values are their bins' centres, so binning them again finds the bins.
                Action::Continuous(xs) => values::bins(ValueKind::Action, xs)
                    .map_err(|e| JsError::new(&e.to_string()))?
                    .iter()
                    .zip(&decision.distributions)
                    .map(|(&bin, p)| p.get(bin as usize).copied().unwrap_or(0.0))
                    .collect(),
            };
            let acted = Acted {
                action: decision.action,
                probabilities,
                backend: decision.backend,
                fell_back: decision.fell_back,
            };
            Ok(to_js(&acted)?)
        }))
    }

    /// Forgets the context: the next observation begins a new episode.
    pub fn reset(&mut self) {
        self.agent = None;
    }
}

/// An observation from another page: its plain parts (`{text?, values?, discrete?}`) and a
/// 64x64 RGB picture, as `Tokens.image` reports it.
pub(super) fn observation(values: JsValue, rgb: Option<Vec<u8>>) -> Result<Observation, JsError> {
    let parts = if values.is_undefined() || values.is_null() {
        PlainParts::default()
    } else {
        serde_wasm_bindgen::from_value(values)
            .map_err(|e| JsError::new(&format!("an observation is {{text?, values?, discrete?}} and a picture: {e}")))?
    };
    Ok(parts.observation(rgb)?)
}
