//! A model folder: `config.json`, `model.safetensors`, `tokenizer.json` and, for checking,
//! `golden.safetensors`. Natively they are read from disk; the page fetches the same files.

use super::{Config, Gatito, ModelError, Result};
use crate::tokens::{TextTokenizer, Vocabulary};
use candle_core::Device;

pub struct ModelFiles {
    pub config: Vec<u8>,
    pub weights: Vec<u8>,
    pub tokenizer: Vec<u8>,
}

impl ModelFiles {
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(dir: &std::path::Path) -> Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|e| ModelError::Config(format!("{}: {e}", path.display())))
        };
        Ok(ModelFiles {
            config: read("config.json")?,
            weights: read("model.safetensors")?,
            tokenizer: read("tokenizer.json")?,
        })
    }

    /// The network and its vocabulary, checked against each other.
    pub fn load(self, device: &Device) -> Result<(Gatito, Vocabulary)> {
        let config: Config =
            serde_json::from_slice(&self.config).map_err(|e| ModelError::Config(format!("config.json: {e}")))?;
        let text = TextTokenizer::from_bytes(&self.tokenizer).map_err(|e| ModelError::Config(e.to_string()))?;
        if text.size() as usize != config.text_vocab {
            return Err(ModelError::Config(format!(
                "config.json says text_vocab {}, but tokenizer.json has {} tokens",
                config.text_vocab,
                text.size()
            )));
        }
        Ok((Gatito::load(config, self.weights, device)?, Vocabulary::new(text)))
    }
}
