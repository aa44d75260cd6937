//! gatito: a small Gato-style generalist agent that runs in a browser tab.
//!
//! The modules follow the data: `tokens` turns observations into a token sequence,
//! `envs` are the worlds that produce observations, `data` turns the experts' play into
//! training sequences, `model` is the transformer that reads the sequence and writes
//! actions and text, `engine` runs that transformer on the GPU, and `web` exposes it
//! all to the page.

pub mod agent;
pub mod bench;
pub mod data;
pub mod engine;
pub mod envs;
#[cfg(not(target_arch = "wasm32"))]
pub mod eval;
pub mod model;
#[cfg(not(target_arch = "wasm32"))]
pub mod probe;
pub mod requests;
pub mod tokens;

#[cfg(not(target_arch = "wasm32"))]
pub mod cli;
#[cfg(target_arch = "wasm32")]
pub mod web;
