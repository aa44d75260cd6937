//! Gato tokenization: how every observation and action becomes tokens.
//!
//! The vocabulary is laid out as
//!
//! | ids             | what                                            |
//! |-----------------|-------------------------------------------------|
//! | `0..T`          | text subwords, including `<|eot|>` and `<|sep|>` |
//! | `T..T+1024`     | value bins: observations, actions, discrete    |
//!
//! Image patches are not tokens: they are embedded from pixels and take their place
//! in the sequence beside the tokens. See ARCHITECTURE.md for the whole picture.

pub mod image;
pub mod inspect;
pub mod sequence;
pub mod text;
pub mod values;

pub use sequence::{Action, Element, Modality, Observation, Part, Sequence, SequenceBuilder};
pub use text::TextTokenizer;
pub use values::{VALUE_BINS, ValueKind};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum TokenError {
    #[error(transparent)]
    Text(#[from] text::TextError),
    #[error(transparent)]
    Value(#[from] values::ValueError),
    #[error(transparent)]
    Image(#[from] image::ImageError),
    #[error("the action taken has {taken} values, the expert's {expert}: they must match")]
    ActionMismatch { taken: usize, expert: usize },
}

/// The whole vocabulary: text from the tokenizer, then the value bins.
#[derive(Clone)]
pub struct Vocabulary {
    pub text: TextTokenizer,
}

impl Vocabulary {
    pub fn new(text: TextTokenizer) -> Self {
        Vocabulary { text }
    }

    /// All ids: T text tokens and 1024 value bins.
    pub fn size(&self) -> u32 {
        self.text.size() + VALUE_BINS
    }

    /// The token id of a value bin.
    pub fn value(&self, bin: u32) -> u32 {
        debug_assert!(bin < VALUE_BINS);
        self.text.size() + bin
    }

    /// The value bin of a token id, if it is one.
    pub fn bin_of(&self, id: u32) -> Option<u32> {
        id.checked_sub(self.text.size()).filter(|&bin| bin < VALUE_BINS)
    }
}
