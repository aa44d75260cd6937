//! What the page's worker hands the wasm surface as plain values (`serde-wasm-bindgen`
//! objects): who acts in a step, an action space another page declares, an observation from
//! that page, a 64x64 picture. They are read and checked here rather than in `web`, so the
//! same code runs natively, where `crate/fuzz` feeds it arbitrary values.

use crate::envs::ActionSpec;
use crate::tokens::image::IMAGE_SIZE;
use crate::tokens::{Action, Observation};
use image::RgbImage;
use serde::Deserialize;
use thiserror::Error;

/// The most actions of a discrete space: one value bin each.
pub const MOST_DISCRETE: u32 = 1024;
/// The most values of a continuous action: each is a token the model decodes in turn.
pub const MOST_CONTINUOUS: usize = 32;

#[derive(Debug, Error, PartialEq)]
pub enum RequestError {
    #[error("a discrete space has 1 to {MOST_DISCRETE} actions, not {0}")]
    DiscreteSpace(u32),
    #[error("a continuous action has 1 to {MOST_CONTINUOUS} values, not {0}")]
    ContinuousSpace(usize),
    #[error("the picture must be {IMAGE_SIZE}x{IMAGE_SIZE} RGB ({bytes} bytes), not {0} bytes", bytes = IMAGE_SIZE * IMAGE_SIZE * 3)]
    Picture(usize),
    #[error("an observation needs text, a picture, values or discrete values")]
    EmptyObservation,
}

/// Who acts in a step, as the page asks: `{actor: "expert"}`, `{actor: "random"}`, or
/// `{actor: "chosen", action: {discrete: [2]}}` for an action chosen outside (a person's key).
#[derive(Debug, Deserialize)]
#[serde(tag = "actor", rename_all = "snake_case")]
pub enum Actor {
    Expert,
    Random,
    Chosen { action: Action },
}

/// An action space as another page declares it: `{discrete: n}` (one of `0..n`) or
/// `{continuous: d}` (`d` values in [-1, 1]).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Space {
    Discrete(u32),
    Continuous(usize),
}

impl Space {
    /// The spec the model decodes for, within the sizes it can decode.
    pub fn spec(self) -> Result<ActionSpec, RequestError> {
        match self {
            // The model decodes a number; an outside body's actions have no names here.
            Space::Discrete(n @ 1..=MOST_DISCRETE) => Ok(ActionSpec::Discrete { labels: vec![""; n as usize] }),
            Space::Continuous(dims @ 1..=MOST_CONTINUOUS) => Ok(ActionSpec::Continuous { dims }),
            Space::Discrete(n) => Err(RequestError::DiscreteSpace(n)),
            Space::Continuous(d) => Err(RequestError::ContinuousSpace(d)),
        }
    }
}

/// The parts of an observation that cross as plain values: `{text?, values?, discrete?}`;
/// the picture comes beside them.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlainParts {
    pub text: Option<String>,
    #[serde(default)]
    pub values: Vec<f32>,
    #[serde(default)]
    pub discrete: Vec<i64>,
}

impl PlainParts {
    /// The observation these parts and `rgb` (a 64x64 RGB picture, as `Tokens.image`
    /// reports it) make; it must hold something.
    pub fn observation(self, rgb: Option<Vec<u8>>) -> Result<Observation, RequestError> {
        let PlainParts { text, values, discrete } = self;
        let image = rgb.map(picture).transpose()?;
        if text.is_none() && image.is_none() && values.is_empty() && discrete.is_empty() {
            return Err(RequestError::EmptyObservation);
        }
        Ok(Observation { text, image, continuous: values, discrete })
    }
}

/// A 64x64 RGB picture from its bytes, as `Tokens.image` reports them.
pub fn picture(rgb: Vec<u8>) -> Result<RgbImage, RequestError> {
    let length = rgb.len();
    RgbImage::from_raw(IMAGE_SIZE, IMAGE_SIZE, rgb).ok_or(RequestError::Picture(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_outside_what_the_model_decodes_are_refused() {
        let spec = |json: &str| serde_json::from_str::<Space>(json).unwrap().spec();
        assert_eq!(spec(r#"{"discrete": 3}"#), Ok(ActionSpec::Discrete { labels: vec![""; 3] }));
        assert_eq!(spec(r#"{"discrete": 0}"#), Err(RequestError::DiscreteSpace(0)));
        assert_eq!(spec(r#"{"continuous": 33}"#), Err(RequestError::ContinuousSpace(33)));
        assert!(serde_json::from_str::<Space>(r#"{"discrete": 2, "continuous": 1}"#).is_err());
    }

    #[test]
    fn an_observation_needs_something_and_a_whole_picture() {
        assert_eq!(PlainParts::default().observation(None).unwrap_err(), RequestError::EmptyObservation);
        assert_eq!(PlainParts::default().observation(Some(vec![0; 5])).unwrap_err(), RequestError::Picture(5));
        let parts = PlainParts { discrete: vec![3], ..PlainParts::default() };
        assert_eq!(parts.observation(None).unwrap().discrete, vec![3]);
    }
}
