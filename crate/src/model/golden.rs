//! Golden files: fixed inputs and the logits the PyTorch recipe computed for them.
//! A model whose candle logits match within [`TOLERANCE`] is the model that was trained.

use super::{Gatito, ModelError, Result};
use crate::tokens::sequence::PatchInput;
use crate::tokens::{Element, Modality, Sequence};
use candle_core::{DType, Device, Tensor};

/// The largest absolute logit difference allowed between PyTorch and candle (f32).
pub const TOLERANCE: f32 = 1e-4;

pub struct Golden {
    pub sequence: Sequence,
    pub logits: Vec<Vec<f32>>,
}

impl Golden {
    pub fn from_bytes(bytes: &[u8], text_vocab: usize) -> Result<Self> {
        let bad = |e: String| ModelError::Weights(format!("golden.safetensors: {e}"));
        let tensors = candle_core::safetensors::load_buffer(bytes, &Device::Cpu).map_err(|e| bad(e.to_string()))?;
        let get = |name: &str| -> Result<&Tensor> { tensors.get(name).ok_or_else(|| bad(format!("lacks '{name}'"))) };
        let ints = |name: &str| -> Result<Vec<u32>> { Ok(get(name)?.to_dtype(DType::U32)?.to_vec1()?) };
        let (ids, local, is_patch, rows, cols) =
            (ints("ids")?, ints("local")?, ints("is_patch")?, ints("rows")?, ints("cols")?);
        let pixels: Vec<Vec<f32>> = get("patches")?.to_dtype(DType::F32)?.to_vec2()?;
        let logits: Vec<Vec<f32>> = get("logits")?.to_dtype(DType::F32)?.to_vec2()?;
        let lengths = [local.len(), is_patch.len(), logits.len()];
        if lengths.iter().any(|&l| l != ids.len()) || rows.len() != pixels.len() || cols.len() != pixels.len() {
            return Err(bad("tensor lengths disagree".into()));
        }
        let elements = ids
            .iter()
            .zip(&local)
            .zip(&is_patch)
            .map(|((&id, &local_position), &patch)| Element {
                modality: match (patch != 0, (id as usize) < text_vocab) {
                    (true, _) => Modality::Patch,
                    (false, true) => Modality::Text,
                    (false, false) => Modality::Value,
                },
                id,
                local_position,
                target: None,
            })
            .collect();
        let patches =
            pixels.into_iter().zip(rows).zip(cols).map(|((pixels, row), col)| PatchInput { pixels, row, col });
        Ok(Golden { sequence: Sequence::from_parts(elements, patches.collect()), logits })
    }

    /// The largest absolute difference between the model's logits and the golden ones.
    pub fn max_abs_diff(&self, model: &Gatito) -> Result<f32> {
        self.max_abs_diff_of(&super::rows(&model.forward(&self.sequence, &mut model.new_cache())?)?)
    }

    /// The largest absolute difference between `logits` (one row per element, from any
    /// backend) and the golden ones.
    pub fn max_abs_diff_of(&self, logits: &[Vec<f32>]) -> Result<f32> {
        if logits.len() != self.logits.len() {
            return Err(ModelError::Input(format!(
                "{} rows of logits for {} golden ones",
                logits.len(),
                self.logits.len()
            )));
        }
        let mut worst = 0f32;
        for (ours, theirs) in logits.iter().zip(&self.logits) {
            if ours.len() != theirs.len() {
                return Err(ModelError::Input(format!(
                    "golden logits have {} ids, the model {}",
                    theirs.len(),
                    ours.len()
                )));
            }
            worst = ours.iter().zip(theirs).fold(worst, |w, (a, b)| w.max((a - b).abs()));
        }
        Ok(worst)
    }
}
