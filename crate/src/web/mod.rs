//! The wasm-bindgen surface the package's worker calls (`pkg/worker.js` documents the protocol).
//! Results cross as plain JS objects (serde-wasm-bindgen), with pixels attached as typed
//! arrays rather than serialized number by number; errors cross as JS exceptions carrying a
//! readable message, never as panics.
//!
//! - [`tokens`]: the tokenizer as the page uses it: text, values, images and sentences.
//! - [`model`]: the trained model: captions and answers, and the agents that play the live worlds.
//! - [`session`]: a world played live: stepped by the model, its expert, random play or a person, pushed, drawn.
//! - [`controller`]: the model acting on another page's observations, in an action space that page declares.
//! - [`bench`]: the benchmark on CPU-wasm or WebGPU, for the bench page.
//! - [`catalog`]: what the page offers: the worlds and their reference scores, missions, sample scenes.
//! - [`report`]: how a sequence is shown: every element with what it stands for.

mod bench;
pub mod catalog;
pub mod controller;
pub mod model;
pub mod report;
pub mod session;
pub mod tokens;

pub use catalog::{example_missions, reference_scores, sample_scene, summarize, worlds};
pub use controller::Controller;
pub use model::Model;
pub use session::Session;
pub use tokens::Tokens;

use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// A Rust value as a plain JS object (maps become objects, as JSON would have them).
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    Ok(value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}

/// Sets `object[name] = array`: how pixels travel beside a report.
fn attach(object: &JsValue, name: &str, array: &JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(object, &name.into(), array)
        .map(|_| ())
        .map_err(|_| JsError::new(&format!("could not attach {name} to the result")))
}
