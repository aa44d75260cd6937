//! The model's shape, read from `models/<name>/config.json` (written by the training recipe).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// T: the text vocabulary, which must match tokenizer.json.
    pub text_vocab: usize,
    pub value_bins: usize,
    pub d_model: usize,
    pub layers: usize,
    pub heads: usize,
    pub d_ff: usize,
    /// The training context, and the sliding window of the KV cache at inference.
    pub context: usize,
    pub local_positions: usize,
    pub position_bins: usize,
    pub patch_channels: usize,
    pub patch_groups: usize,
    /// GroupNorm in the patch block (`patch_groups` groups). Off, the model names colours best
    /// (the recipe's `--no-patch-norm`); configs written before the field lack it and have it.
    #[serde(default = "on")]
    pub patch_norm: bool,
    pub norm_eps: f64,
}

fn on() -> bool {
    true
}

impl Config {
    pub fn vocab(&self) -> usize {
        self.text_vocab + self.value_bins
    }

    pub fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }

    /// A small model for tests.
    pub fn tiny(text_vocab: usize) -> Self {
        Config {
            text_vocab,
            value_bins: 1024,
            d_model: 32,
            layers: 2,
            heads: 4,
            d_ff: 64,
            context: 64,
            local_positions: 256,
            position_bins: 128,
            patch_channels: 8,
            patch_groups: 4,
            patch_norm: true,
            norm_eps: 1e-5,
        }
    }

    /// Rejects shapes that cannot work, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("text_vocab", self.text_vocab),
            ("d_model", self.d_model),
            ("layers", self.layers),
            ("heads", self.heads),
            ("d_ff", self.d_ff),
            ("context", self.context),
            ("patch_channels", self.patch_channels),
            ("patch_groups", self.patch_groups),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("config.json: {name} must be positive"));
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(format!("config.json: d_model {} is not divisible by heads {}", self.d_model, self.heads));
        }
        if !self.patch_channels.is_multiple_of(self.patch_groups) {
            return Err(format!(
                "config.json: patch_channels {} is not divisible by patch_groups {}",
                self.patch_channels, self.patch_groups
            ));
        }
        if self.value_bins != crate::tokens::VALUE_BINS as usize {
            return Err(format!("config.json: value_bins is {}, the tokenizer uses 1024", self.value_bins));
        }
        if self.local_positions != crate::tokens::sequence::LOCAL_POSITIONS as usize {
            return Err(format!("config.json: local_positions is {}, the tokenizer uses 256", self.local_positions));
        }
        if self.position_bins != crate::tokens::image::POSITION_BINS as usize {
            return Err(format!("config.json: position_bins is {}, the tokenizer uses 128", self.position_bins));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_written_before_patch_norm_keep_their_group_norm() {
        let mut json = serde_json::to_value(Config::tiny(100)).unwrap();
        json.as_object_mut().unwrap().remove("patch_norm");
        assert!(serde_json::from_value::<Config>(json.clone()).unwrap().patch_norm);
        json["patch_norm"] = false.into();
        assert!(!serde_json::from_value::<Config>(json).unwrap().patch_norm);
    }
}
