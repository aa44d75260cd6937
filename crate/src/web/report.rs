//! How the page shows a sequence: every element with what it stands for, so the page never
//! re-derives a bin, a piece of text or a patch position (Rust is the single source of
//! tokenization).

use crate::tokens::image::{IMAGE_SIZE, PositionMode, to_model_input};
use crate::tokens::values::{self, ValueKind};
use crate::tokens::{Action, Modality, Observation, Part, Sequence, SequenceBuilder, TokenError, Vocabulary};
use image::{DynamicImage, RgbImage};
use serde::Serialize;

/// Where a value came from, which decides how its bin decodes.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A continuous observation: mu-law companded.
    Observation,
    /// A discrete observation or action: the integer is its own bin.
    Discrete,
    /// A continuous action: binned as is.
    Action,
}

/// A value token: the number, its bin, and what the bin decodes back to.
#[derive(Debug, Serialize)]
pub struct ValueToken {
    pub source: Source,
    pub value: f32,
    pub bin: u32,
    pub decoded: f32,
}

impl ValueToken {
    /// The token of `value` from `source`; NaN is an error, as it is for the sequence builder.
    pub fn of(source: Source, value: f32, index: usize) -> Result<ValueToken, TokenError> {
        let (bin, decoded) = match source {
            Source::Discrete => {
                let bin = values::discrete_bins(&[value as i64])?[0];
                (bin, bin as f32)
            }
            Source::Observation | Source::Action => {
                let kind = if source == Source::Action { ValueKind::Action } else { ValueKind::Observation };
                let bin = values::bin(kind, value, index)?;
                (bin, values::unbin(kind, bin)?)
            }
        };
        Ok(ValueToken { source, value, bin, decoded })
    }
}

/// Which patch an element is, and the row and column bins its position encodings use.
#[derive(Debug, Serialize)]
pub struct PatchPlace {
    pub index: u32,
    pub row: u32,
    pub col: u32,
}

/// One element of a sequence.
#[derive(Debug, Serialize)]
pub struct ElementReport {
    pub modality: Modality,
    /// The token id, or for a patch its index among the sequence's patches.
    pub id: u32,
    /// The local position (0, 1, 2, ... within the timestep; 255 for the separator and actions).
    pub position: u32,
    pub loss: bool,
    /// The element in a few characters, for its chip: the text piece, `#5`, the value.
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<ValueToken>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchPlace>,
}

/// A whole timestep or sentence as the page lays it out.
#[derive(Debug, Serialize)]
pub struct SequenceReport {
    pub elements: Vec<ElementReport>,
    /// The 64x64 RGB image the patches were cut from, if any; it travels beside the report.
    #[serde(skip)]
    pub rgb: Option<Vec<u8>>,
}

/// One timestep: the observation and the separator, and the action if given.
pub fn timestep(
    vocabulary: &Vocabulary,
    observation: &Observation,
    action: Option<&Action>,
) -> Result<SequenceReport, TokenError> {
    let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
    builder.observation(observation)?;
    if let Some(action) = action {
        builder.action(action)?;
    }
    // The values in the order the builder lays them out: continuous, discrete, then the action.
    let mut tokens = Vec::new();
    for (i, &x) in observation.continuous.iter().enumerate() {
        tokens.push(ValueToken::of(Source::Observation, x, i)?);
    }
    for &x in &observation.discrete {
        tokens.push(ValueToken::of(Source::Discrete, x as f32, 0)?);
    }
    match action {
        Some(Action::Discrete(xs)) => {
            for &x in xs {
                tokens.push(ValueToken::of(Source::Discrete, x as f32, 0)?);
            }
        }
        Some(Action::Continuous(xs)) => {
            for (i, &x) in xs.iter().enumerate() {
                tokens.push(ValueToken::of(Source::Action, x, i)?);
            }
        }
        None => {}
    }
    let image = observation.image.as_ref().map(model_input);
    Ok(describe(vocabulary, &builder.finish(), tokens, image))
}

/// One multimodal sentence as the model will be prompted: the image, then the question if any.
pub fn sentence(
    vocabulary: &Vocabulary,
    image: &RgbImage,
    question: Option<&str>,
) -> Result<SequenceReport, TokenError> {
    let image = model_input(image);
    let mut parts = vec![Part::Image(&image)];
    parts.extend(question.map(Part::Context));
    let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Eval);
    builder.sentence(&parts)?;
    Ok(describe(vocabulary, &builder.finish(), Vec::new(), Some(image.clone())))
}

/// The image the patches are cut from, as the sequence builder makes it.
fn model_input(image: &RgbImage) -> RgbImage {
    if image.dimensions() == (IMAGE_SIZE, IMAGE_SIZE) {
        image.clone()
    } else {
        to_model_input(&DynamicImage::from(image.clone()))
    }
}

/// Pairs every element with what it stands for; `tokens` are the value tokens in sequence order.
fn describe(
    vocabulary: &Vocabulary,
    sequence: &Sequence,
    tokens: Vec<ValueToken>,
    image: Option<RgbImage>,
) -> SequenceReport {
    let mut tokens = tokens.into_iter();
    let elements = sequence
        .elements
        .iter()
        .map(|e| {
            let (label, value, patch) = match e.modality {
                Modality::Text | Modality::Separator => (vocabulary.text.piece(e.id), None, None),
                Modality::Patch => {
                    let place =
                        sequence.patches.get(e.id as usize).map(|p| PatchPlace { index: e.id, row: p.row, col: p.col });
                    (format!("#{}", e.id), None, place)
                }
                Modality::Value | Modality::Action => {
                    let value = tokens.next();
                    (value.as_ref().map_or_else(|| "?".into(), |v| short(v.value, v.source)), value, None)
                }
            };
            ElementReport {
                modality: e.modality,
                id: e.id,
                position: e.local_position,
                loss: e.target.is_some(),
                label,
                value,
                patch,
            }
        })
        .collect();
    SequenceReport { elements, rgb: image.map(RgbImage::into_raw) }
}

/// A value in at most a handful of characters.
fn short(value: f32, source: Source) -> String {
    match source {
        Source::Discrete => format!("{value}"),
        _ if value.abs() >= 100.0 => format!("{value:.0}"),
        _ => format!("{value:.2}"),
    }
}
