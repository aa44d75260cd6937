//! The gatito network in candle: one decoder-only transformer over Gato sequences.
//!
//! Tensor names mirror `models/recipe/model.py` and `model.safetensors` exactly.
//! Position information comes from three places: local observation positions and patch
//! row/column encodings (added to the embeddings, as in Gato), and ALiBi biases in
//! attention. ALiBi is relative, so the sliding-window KV cache lets episodes run forever
//! without re-encoding anything.

mod cache;
mod config;
pub mod generate;

pub use cache::Cache;
pub use config::Config;

use crate::tokens::image::{PATCH_LEN, PATCH_SIZE};
use crate::tokens::{Modality, Sequence};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Embedding, GroupNorm, LayerNorm, Linear, VarBuilder};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("{0}")]
    Config(String),
    #[error("model.safetensors: {0}")]
    Weights(String),
    #[error("the input is invalid: {0}")]
    Input(String),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

pub type Result<T> = std::result::Result<T, ModelError>;

/// The ResNet-v2 patch embedding: stem, one pre-activation residual block, projection.
struct PatchEmbedding {
    stem: Conv2d,
    norm1: GroupNorm,
    conv1: Conv2d,
    norm2: GroupNorm,
    conv2: Conv2d,
    proj: Linear,
}

impl PatchEmbedding {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
        let c = cfg.patch_channels;
        let stem = Conv2dConfig { stride: 4, ..Default::default() };
        let same = Conv2dConfig { padding: 1, ..Default::default() };
        let cells = (PATCH_SIZE as usize / 4).pow(2);
        Ok(PatchEmbedding {
            stem: candle_nn::conv2d(3, c, 4, stem, vb.pp("stem"))?,
            norm1: candle_nn::group_norm(cfg.patch_groups, c, cfg.norm_eps, vb.pp("norm1"))?,
            conv1: candle_nn::conv2d(c, c, 3, same, vb.pp("conv1"))?,
            norm2: candle_nn::group_norm(cfg.patch_groups, c, cfg.norm_eps, vb.pp("norm2"))?,
            conv2: candle_nn::conv2d(c, c, 3, same, vb.pp("conv2"))?,
            proj: candle_nn::linear(c * cells, cfg.d_model, vb.pp("proj"))?,
        })
    }

    /// `pixels`: [P, 768] channel-first patches.
    fn forward(&self, pixels: &Tensor) -> candle_core::Result<Tensor> {
        let p = pixels.dim(0)?;
        let side = PATCH_SIZE as usize;
        let x = self.stem.forward(&pixels.reshape((p, 3, side, side))?)?;
        let h = self.conv1.forward(&self.norm1.forward(&x)?.gelu_erf()?)?;
        let x = (x + self.conv2.forward(&self.norm2.forward(&h)?.gelu_erf()?)?)?;
        self.proj.forward(&x.flatten_from(1)?)
    }
}

struct Embed {
    tokens: Embedding,
    local: Embedding,
    patch: PatchEmbedding,
    patch_row: Embedding,
    patch_col: Embedding,
}

impl Embed {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
        Ok(Embed {
            tokens: candle_nn::embedding(cfg.vocab(), cfg.d_model, vb.pp("tokens"))?,
            local: candle_nn::embedding(cfg.local_positions, cfg.d_model, vb.pp("local"))?,
            patch: PatchEmbedding::load(vb.pp("patch"), cfg)?,
            patch_row: candle_nn::embedding(cfg.position_bins, cfg.d_model, vb.pp("patch_row"))?,
            patch_col: candle_nn::embedding(cfg.position_bins, cfg.d_model, vb.pp("patch_col"))?,
        })
    }

    /// [N, d]: token or patch embedding, plus the local position, for every element.
    fn forward(&self, seq: &Sequence, device: &Device) -> candle_core::Result<Tensor> {
        let n = seq.elements.len();
        let ids: Vec<u32> =
            seq.elements.iter().map(|e| if e.modality == Modality::Patch { 0 } else { e.id }).collect();
        let local: Vec<u32> = seq.elements.iter().map(|e| e.local_position).collect();
        let mut x = self.tokens.forward(&Tensor::new(ids, device)?)?;
        let slots: Vec<u32> = (0..n as u32).filter(|&i| seq.elements[i as usize].modality == Modality::Patch).collect();
        if !slots.is_empty() {
            let patch_of = |i: &u32| &seq.patches[seq.elements[*i as usize].id as usize];
            let pixels: Vec<f32> = slots.iter().flat_map(|i| patch_of(i).pixels.iter().copied()).collect();
            let rows: Vec<u32> = slots.iter().map(|i| patch_of(i).row).collect();
            let cols: Vec<u32> = slots.iter().map(|i| patch_of(i).col).collect();
            let pixels = Tensor::from_vec(pixels, (slots.len(), PATCH_LEN), device)?;
            let patches = (self.patch.forward(&pixels)?
                + self.patch_row.forward(&Tensor::new(rows, device)?)?
                + self.patch_col.forward(&Tensor::new(cols, device)?)?)?;
            // Patch slots looked up id 0; zero them, then add the patch embeddings in.
            let keep: Vec<f32> =
                seq.elements.iter().map(|e| if e.modality == Modality::Patch { 0.0 } else { 1.0 }).collect();
            x = x.broadcast_mul(&Tensor::from_vec(keep, (n, 1), device)?)?;
            x = x.index_add(&Tensor::new(slots, device)?, &patches, 0)?;
        }
        x + self.local.forward(&Tensor::new(local, device)?)?
    }
}

struct Attention {
    qkv: Linear,
    out: Linear,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
        Ok(Attention {
            qkv: candle_nn::linear(cfg.d_model, 3 * cfg.d_model, vb.pp("qkv"))?,
            out: candle_nn::linear(cfg.d_model, cfg.d_model, vb.pp("out"))?,
            heads: cfg.heads,
            head_dim: cfg.head_dim(),
        })
    }

    /// `x`: [n, d]; `bias`: [H, n, past + n]; the layer's cache grows by n.
    fn forward(&self, x: &Tensor, bias: &Tensor, cache: &mut cache::LayerCache) -> candle_core::Result<Tensor> {
        let (n, d) = x.dims2()?;
        let qkv = self.qkv.forward(x)?.reshape((n, 3, self.heads, self.head_dim))?.permute((1, 2, 0, 3))?;
        let q = qkv.get(0)?.contiguous()?;
        let (k, v) = cache.append(&qkv.get(1)?.contiguous()?, &qkv.get(2)?.contiguous()?)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let weights = candle_nn::ops::softmax_last_dim(&scores.broadcast_add(bias)?)?;
        let y = weights.matmul(&v)?.permute((1, 0, 2))?.reshape((n, d))?;
        self.out.forward(&y)
    }
}

struct Block {
    norm1: LayerNorm,
    attn: Attention,
    norm2: LayerNorm,
    up: Linear,
    down: Linear,
}

impl Block {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
        Ok(Block {
            norm1: candle_nn::layer_norm(cfg.d_model, cfg.norm_eps, vb.pp("norm1"))?,
            attn: Attention::load(vb.pp("attn"), cfg)?,
            norm2: candle_nn::layer_norm(cfg.d_model, cfg.norm_eps, vb.pp("norm2"))?,
            up: candle_nn::linear(cfg.d_model, cfg.d_ff, vb.pp("mlp").pp("up"))?,
            down: candle_nn::linear(cfg.d_ff, cfg.d_model, vb.pp("mlp").pp("down"))?,
        })
    }

    fn forward(&self, x: &Tensor, bias: &Tensor, cache: &mut cache::LayerCache) -> candle_core::Result<Tensor> {
        let x = (x + self.attn.forward(&self.norm1.forward(x)?, bias, cache)?)?;
        let h = self.down.forward(&self.up.forward(&self.norm2.forward(&x)?)?.gelu_erf()?)?;
        x + h
    }
}

/// The whole network.
pub struct Gatito {
    pub config: Config,
    embed: Embed,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head: Linear,
    slopes: Vec<f32>,
    device: Device,
}

impl Gatito {
    /// Loads the weights from the bytes of `model.safetensors` (any float dtype; computed in f32).
    pub fn load(config: Config, safetensors: Vec<u8>, device: &Device) -> Result<Self> {
        config.validate().map_err(ModelError::Config)?;
        let vb = VarBuilder::from_buffered_safetensors(safetensors, DType::F32, device)
            .map_err(|e| ModelError::Weights(e.to_string()))?;
        Self::build(config, vb).map_err(|e| ModelError::Weights(e.to_string()))
    }

    /// Loads `config.json` and `model.safetensors` from their bytes.
    pub fn from_bytes(config_json: &[u8], safetensors: Vec<u8>, device: &Device) -> Result<Self> {
        let config: Config =
            serde_json::from_slice(config_json).map_err(|e| ModelError::Config(format!("config.json: {e}")))?;
        Self::load(config, safetensors, device)
    }

    fn build(config: Config, vb: VarBuilder) -> candle_core::Result<Self> {
        let blocks =
            (0..config.layers).map(|i| Block::load(vb.pp("blocks").pp(i), &config)).collect::<candle_core::Result<_>>()?;
        let slopes = (0..config.heads).map(|h| 2f32.powf(-8.0 * (h + 1) as f32 / config.heads as f32)).collect();
        Ok(Gatito {
            embed: Embed::load(vb.pp("embed"), &config)?,
            blocks,
            norm: candle_nn::layer_norm(config.d_model, config.norm_eps, vb.pp("norm"))?,
            head: candle_nn::linear_no_bias(config.d_model, config.vocab(), vb.pp("head"))?,
            slopes,
            device: vb.device().clone(),
            config,
        })
    }

    pub fn new_cache(&self) -> Cache {
        Cache::new(self.config.layers, self.config.context)
    }

    /// Feeds `seq` after what `cache` holds and returns the logits of every new element: [n, vocab].
    pub fn forward(&self, seq: &Sequence, cache: &mut Cache) -> Result<Tensor> {
        self.check(seq)?;
        let n = seq.len();
        let mut x = self.embed.forward(seq, &self.device)?;
        let past = cache.make_room(n)?;
        let bias = self.attention_bias(past, n)?;
        for (block, layer) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = block.forward(&x, &bias, layer)?;
        }
        cache.advance(n);
        Ok(self.head.forward(&self.norm.forward(&x)?)?)
    }

    /// The logits of the last new element only: [vocab].
    pub fn forward_last(&self, seq: &Sequence, cache: &mut Cache) -> Result<Vec<f32>> {
        let logits = self.forward(seq, cache)?;
        Ok(logits.get(logits.dim(0)? - 1)?.to_vec1()?)
    }

    fn check(&self, seq: &Sequence) -> Result<()> {
        if seq.is_empty() {
            return Err(ModelError::Input("the sequence is empty".into()));
        }
        if seq.len() > self.config.context {
            return Err(ModelError::Input(format!("{} elements exceed the context of {}", seq.len(), self.config.context)));
        }
        let vocab = self.config.vocab() as u32;
        if let Some(e) = seq.elements.iter().find(|e| {
            if e.modality == Modality::Patch { e.id as usize >= seq.patches.len() } else { e.id >= vocab }
        }) {
            return Err(ModelError::Input(format!("element {e:?} is out of range")));
        }
        Ok(())
    }

    /// ALiBi: [H, n, past + n] with -slope * distance to the past and -inf to the future.
    fn attention_bias(&self, past: usize, n: usize) -> candle_core::Result<Tensor> {
        let total = past + n;
        let mut bias = Vec::with_capacity(self.slopes.len() * n * total);
        for slope in &self.slopes {
            for i in 0..n {
                let query = past + i;
                bias.extend((0..total).map(|key| {
                    if key > query { f32::NEG_INFINITY } else { -slope * (query - key) as f32 }
                }));
            }
        }
        Tensor::from_vec(bias, (self.slopes.len(), n, total), &self.device)
    }
}

/// The logits as a plain vector per row, for tests and the golden check.
pub fn rows(logits: &Tensor) -> Result<Vec<Vec<f32>>> {
    Ok(logits.to_dtype(DType::F32)?.to_vec2()?)
}

/// The index of the largest value.
pub fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}
