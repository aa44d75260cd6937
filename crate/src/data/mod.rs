//! Training data: the sequences the model learns from, made by the worlds and their experts.
//!
//! Rust is the single source of observations, expert actions, tokens, loss masks and
//! positions; the PyTorch recipe only reads what `gatito data` streams to it through a pipe
//! (no multi-gigabyte dumps). The pieces, in the order data flows through them:
//!
//! - [`seeds`]: every training episode and scene is seeded with the top bit set, so
//!   training never plays an episode that evaluation (seeds 0, 1, 2, ...) plays.
//! - [`episodes`]: a window of one expert episode, with DART noise in what the world
//!   executes, or of one a student drove (DAgger), and Gato's prompts (a demonstration of
//!   the same task first).
//! - [`captions`]: multimodal sentences packed until the context is full.
//! - [`mix`]: which tasks are drawn, how often, and the stream of sequences (native: it
//!   reads MNIST and Fashion-MNIST from disk).
//! - [`format`]: the byte format of the stream, mirrored by `models/recipe/stream.py`.
//! - [`corpus`]: every text the worlds produce, for training the text tokenizer.

pub mod captions;
#[cfg(not(target_arch = "wasm32"))]
pub mod corpus;
pub mod episodes;
pub mod format;
#[cfg(not(target_arch = "wasm32"))]
pub mod mix;
pub mod seeds;

use crate::tokens::TokenError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DataError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("{world}, seed {seed}: {source}")]
    World { world: &'static str, seed: u64, source: TokenError },
    #[error("{world}: the episode of seed {seed} ended before its first step")]
    EmptyEpisode { world: &'static str, seed: u64 },
    #[error("{world}, seed {seed}: the policy driving the episode failed: {message}")]
    Driver { world: &'static str, seed: u64, message: String },
    #[error("{task}: one timestep or sentence takes {needs} tokens, more than the {budget} the context leaves")]
    ContextTooSmall { task: String, needs: usize, budget: usize },
}
