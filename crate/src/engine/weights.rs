//! The model's tensors as the GPU needs them: every name and shape the config implies,
//! read from `model.safetensors` (any float dtype, converted to f32 at upload), or made
//! up at random for tests and benchmarks of a shape no trained model has yet.

use crate::model::{Config, ModelError};
use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// Every tensor of the network, with the shape `config` gives it, in checkpoint order.
pub fn shapes(config: &Config) -> Vec<(String, Vec<usize>)> {
    let (d, c, ff, bins) = (config.d_model, config.patch_channels, config.d_ff, config.position_bins);
    let mut all = vec![
        ("embed.tokens.weight".to_string(), vec![config.vocab(), d]),
        ("embed.local.weight".into(), vec![config.local_positions, d]),
        ("embed.patch.stem.weight".into(), vec![c, 3, 4, 4]),
        ("embed.patch.stem.bias".into(), vec![c]),
    ];
    for i in 1..=2 {
        if config.patch_norm {
            all.extend([
                (format!("embed.patch.norm{i}.weight"), vec![c]),
                (format!("embed.patch.norm{i}.bias"), vec![c]),
            ]);
        }
        all.extend([
            (format!("embed.patch.conv{i}.weight"), vec![c, c, 3, 3]),
            (format!("embed.patch.conv{i}.bias"), vec![c]),
        ]);
    }
    all.extend([
        ("embed.patch.proj.weight".into(), vec![d, c * 16]),
        ("embed.patch.proj.bias".into(), vec![d]),
        ("embed.patch_row.weight".into(), vec![bins, d]),
        ("embed.patch_col.weight".into(), vec![bins, d]),
    ]);
    for i in 0..config.layers {
        let block = |name: &str, shape: Vec<usize>| (format!("blocks.{i}.{name}"), shape);
        all.extend([
            block("norm1.weight", vec![d]),
            block("norm1.bias", vec![d]),
            block("attn.qkv.weight", vec![3 * d, d]),
            block("attn.qkv.bias", vec![3 * d]),
            block("attn.out.weight", vec![d, d]),
            block("attn.out.bias", vec![d]),
            block("norm2.weight", vec![d]),
            block("norm2.bias", vec![d]),
            block("mlp.up.weight", vec![ff, d]),
            block("mlp.up.bias", vec![ff]),
            block("mlp.down.weight", vec![d, ff]),
            block("mlp.down.bias", vec![d]),
        ]);
    }
    all.extend([
        ("norm.weight".into(), vec![d]),
        ("norm.bias".into(), vec![d]),
        ("head.weight".into(), vec![config.vocab(), d]),
    ]);
    all
}

/// The checkpoint's tensors as f32, checked against the config's shapes.
pub(crate) struct Checkpoint {
    tensors: HashMap<String, Tensor>,
    pub parameters: usize,
}

impl Checkpoint {
    pub fn read(config: &Config, safetensors: &[u8]) -> Result<Self, ModelError> {
        let tensors = candle_core::safetensors::load_buffer(safetensors, &Device::Cpu)
            .map_err(|e| ModelError::Weights(e.to_string()))?;
        for (name, shape) in shapes(config) {
            let tensor = tensors.get(&name).ok_or_else(|| ModelError::Weights(format!("lacks {name}")))?;
            if tensor.dims() != shape.as_slice() {
                return Err(ModelError::Weights(format!(
                    "{name} has shape {:?}, the config wants {shape:?}",
                    tensor.dims()
                )));
            }
        }
        let parameters = tensors.values().map(|t| t.elem_count()).sum();
        Ok(Checkpoint { tensors, parameters })
    }

    /// A tensor's shape.
    pub fn dims(&self, name: &str) -> Result<&[usize], ModelError> {
        self.tensors.get(name).map(Tensor::dims).ok_or_else(|| ModelError::Weights(format!("lacks {name}")))
    }

    /// One tensor, flattened to f32 (its name and shape were checked in `read`).
    pub fn get(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let bad = |e: candle_core::Error| ModelError::Weights(format!("{name}: {e}"));
        let tensor = self.tensors.get(name).ok_or_else(|| ModelError::Weights(format!("lacks {name}")))?;
        tensor.flatten_all().and_then(|t| t.to_dtype(DType::F32)).and_then(|t| t.to_vec1()).map_err(bad)
    }
}

/// The shape of the shipped model (`models/gatito-s`), for benchmarks and tests before
/// its weights exist.
pub fn shipped_shape(text_vocab: usize) -> Config {
    Config {
        d_model: 192,
        layers: 4,
        heads: 6,
        d_ff: 768,
        context: 256,
        patch_channels: 32,
        patch_groups: 8,
        ..Config::tiny(text_vocab)
    }
}

/// A `model.safetensors` of random f16 weights for `config`: scaled like an initialised
/// network (norms near one, weights ~ 1/sqrt(fan-in)), so activations stay in range.
pub fn random(config: &Config, seed: u64) -> Result<Vec<u8>, ModelError> {
    let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed);
    let mut made = Vec::new();
    for (name, shape) in shapes(config) {
        let count: usize = shape.iter().product();
        let (centre, spread) = match shape.len() {
            1 if name.ends_with(".weight") => (1.0, 0.1),
            1 => (0.0, 0.1),
            _ if name.starts_with("embed.") && !name.starts_with("embed.patch.") => (0.0, 1.0),
            _ => (0.0, 1.0 / (shape[1..].iter().product::<usize>() as f32).sqrt()),
        };
        let values: Vec<f32> = (0..count).map(|_| centre + spread * rng.random_range(-1.0f32..1.0)).collect();
        let tensor = Tensor::from_vec(values, shape, &Device::Cpu).and_then(|t| t.to_dtype(DType::F16));
        made.push((name, tensor.map_err(|e| ModelError::Weights(e.to_string()))?));
    }
    safetensors::serialize(made.iter().map(|(n, t)| (n.as_str(), t)), None)
        .map_err(|e| ModelError::Weights(e.to_string()))
}
