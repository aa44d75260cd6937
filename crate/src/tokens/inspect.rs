//! What the page and the command line show of a tokenization: plain, serializable reports.

use super::image::{self as img, IMAGE_SIZE, Interval, PATCH_SIZE, PATCHES_PER_SIDE};
use super::values::{self, ValueKind};
use super::{TokenError, Vocabulary};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ValuesReport {
    pub kind: ValueKind,
    pub bins: Vec<u32>,
    pub ids: Vec<u32>,
    /// What each bin decodes back to (its centre).
    pub decoded: Vec<f32>,
}

pub fn values(vocabulary: &Vocabulary, kind: ValueKind, xs: &[f32]) -> Result<ValuesReport, TokenError> {
    let bins = values::bins(kind, xs)?;
    let ids = bins.iter().map(|&b| vocabulary.value(b)).collect();
    let decoded = bins.iter().map(|&b| values::unbin(kind, b)).collect::<Result<_, _>>()?;
    Ok(ValuesReport { kind, bins, ids, decoded })
}

#[derive(Debug, Serialize)]
pub struct TextReport {
    pub ids: Vec<u32>,
    /// The text of each id, for display.
    pub pieces: Vec<String>,
}

pub fn text(vocabulary: &Vocabulary, s: &str) -> Result<TextReport, TokenError> {
    let ids = vocabulary.text.encode(s)?;
    let pieces = ids.iter().map(|&id| vocabulary.text.piece(id)).collect();
    Ok(TextReport { ids, pieces })
}

#[derive(Debug, Serialize)]
pub struct PatchReport {
    pub index: usize,
    pub row: Interval,
    pub col: Interval,
    /// The bins used at evaluation: the rounded means of the intervals.
    pub row_bin: u32,
    pub col_bin: u32,
    /// The first normalized values of the red plane, as the embedding receives them.
    pub first_values: Vec<f32>,
}

#[derive(Debug, Serialize)]
pub struct ImageReport {
    /// The uploaded image's width and height.
    pub source: [u32; 2],
    /// The model's input side, the patch side, and patches per side (rows, columns).
    pub input: u32,
    pub patch_size: u32,
    pub grid: [u32; 2],
    pub patches: Vec<PatchReport>,
    /// The 64x64 RGB input the patches were cut from, row-major.
    #[serde(skip)]
    pub rgb: Vec<u8>,
}

pub fn image(bytes: &[u8], first_values: usize) -> Result<ImageReport, TokenError> {
    let decoded = img::decode(bytes)?;
    let input = img::to_model_input(&decoded);
    let patches = img::patches(&input)
        .into_iter()
        .enumerate()
        .map(|(index, p)| PatchReport {
            index,
            row: p.row,
            col: p.col,
            row_bin: p.row.mean(),
            col_bin: p.col.mean(),
            first_values: p.pixels[..first_values.min(p.pixels.len())].to_vec(),
        })
        .collect();
    Ok(ImageReport {
        source: [decoded.width(), decoded.height()],
        input: IMAGE_SIZE,
        patch_size: PATCH_SIZE,
        grid: [PATCHES_PER_SIDE, PATCHES_PER_SIDE],
        patches,
        rgb: input.into_raw(),
    })
}
