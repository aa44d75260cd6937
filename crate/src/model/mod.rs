//! The gatito network in candle: one decoder-only transformer over Gato sequences.
//!
//! Tensor names mirror `models/recipe/model.py` and `model.safetensors` exactly.
//! Position information comes from three places: local observation positions and patch
//! row/column encodings (added to the embeddings, as in Gato), and ALiBi biases in
//! attention. ALiBi is relative, so the sliding-window KV cache lets episodes run forever
//! without re-encoding anything.

mod activations;
mod cache;
mod config;
mod conv;
mod files;
pub mod generate;
pub mod golden;
mod linear;

pub use cache::{Cache, Occupancy};
pub use config::Config;
pub use files::ModelFiles;

use crate::tokens::image::{PATCH_LEN, PATCH_SIZE};
use crate::tokens::{Modality, Sequence};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, GroupNorm, LayerNorm, VarBuilder};
use linear::Linear;
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

fn linear(inputs: usize, outputs: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    Linear::new(vb.get((outputs, inputs), "weight")?, Some(vb.get(outputs, "bias")?))
}

fn linear_no_bias(inputs: usize, outputs: usize, vb: VarBuilder) -> candle_core::Result<Linear> {
    Linear::new(vb.get((outputs, inputs), "weight")?, None)
}

/// The ResNet-v2 patch embedding: stem, one pre-activation residual block, projection.
/// The block's GroupNorms are there only if the config says so (`patch_norm`).
struct PatchEmbedding {
    stem: conv::Conv,
    norm1: Option<GroupNorm>,
    conv1: conv::Conv,
    norm2: Option<GroupNorm>,
    conv2: conv::Conv,
    proj: Linear,
}

impl PatchEmbedding {
    fn load(vb: VarBuilder, cfg: &Config) -> candle_core::Result<Self> {
        let c = cfg.patch_channels;
        let cells = (PATCH_SIZE as usize / 4).pow(2);
        let norm = |name: &str| {
            cfg.patch_norm.then(|| candle_nn::group_norm(cfg.patch_groups, c, cfg.norm_eps, vb.pp(name))).transpose()
        };
        Ok(PatchEmbedding {
            stem: conv::Conv::load(3, c, 4, 4, 0, vb.pp("stem"))?,
            norm1: norm("norm1")?,
            conv1: conv::Conv::load(c, c, 3, 1, 1, vb.pp("conv1"))?,
            norm2: norm("norm2")?,
            conv2: conv::Conv::load(c, c, 3, 1, 1, vb.pp("conv2"))?,
            proj: linear(c * cells, cfg.d_model, vb.pp("proj"))?,
        })
    }

    /// `pixels`: [P, 768] channel-first patches.
    fn forward(&self, pixels: &Tensor) -> candle_core::Result<Tensor> {
        let p = pixels.dim(0)?;
        let side = PATCH_SIZE as usize;
        let x = self.stem.forward(&pixels.reshape((p, 3, side, side))?)?;
        let activate = |x: &Tensor, norm: &Option<GroupNorm>| match norm {
            Some(norm) => activations::gelu(&norm.forward(x)?),
            None => activations::gelu(x),
        };
        let h = self.conv1.forward(&activate(&x, &self.norm1)?)?;
        let x = (x + self.conv2.forward(&activate(&h, &self.norm2)?)?)?;
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
        let ids: Vec<u32> = seq.elements.iter().map(|e| if e.modality == Modality::Patch { 0 } else { e.id }).collect();
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
            qkv: linear(cfg.d_model, 3 * cfg.d_model, vb.pp("qkv"))?,
            out: linear(cfg.d_model, cfg.d_model, vb.pp("out"))?,
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
        let weights = activations::softmax_last_dim(&scores.broadcast_add(bias)?)?;
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
            up: linear(cfg.d_model, cfg.d_ff, vb.pp("mlp").pp("up"))?,
            down: linear(cfg.d_ff, cfg.d_model, vb.pp("mlp").pp("down"))?,
        })
    }

    fn forward(&self, x: &Tensor, bias: &Tensor, cache: &mut cache::LayerCache) -> candle_core::Result<Tensor> {
        let x = (x + self.attn.forward(&self.norm1.forward(x)?, bias, cache)?)?;
        let h = self.down.forward(&activations::gelu(&self.up.forward(&self.norm2.forward(&x)?)?)?)?;
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
    parameter_count: usize,
    device: Device,
}

impl Gatito {
    /// Loads the weights from the bytes of `model.safetensors` (any float dtype; computed in f32).
    pub fn load(config: Config, safetensors: Vec<u8>, device: &Device) -> Result<Self> {
        config.validate().map_err(ModelError::Config)?;
        let parameter_count = safetensors::SafeTensors::deserialize(&safetensors)
            .map_err(|e| ModelError::Weights(e.to_string()))?
            .tensors()
            .iter()
            .map(|(_, view)| view.shape().iter().product::<usize>())
            .sum();
        let vb = VarBuilder::from_buffered_safetensors(safetensors, DType::F32, device)
            .map_err(|e| ModelError::Weights(e.to_string()))?;
        Self::build(config, vb, parameter_count).map_err(|e| ModelError::Weights(e.to_string()))
    }

    fn build(config: Config, vb: VarBuilder, parameter_count: usize) -> candle_core::Result<Self> {
        let blocks = (0..config.layers)
            .map(|i| Block::load(vb.pp("blocks").pp(i), &config))
            .collect::<candle_core::Result<_>>()?;
        let slopes = (0..config.heads).map(|h| 2f32.powf(-8.0 * (h + 1) as f32 / config.heads as f32)).collect();
        Ok(Gatito {
            embed: Embed::load(vb.pp("embed"), &config)?,
            blocks,
            norm: candle_nn::layer_norm(config.d_model, config.norm_eps, vb.pp("norm"))?,
            head: linear_no_bias(config.d_model, config.vocab(), vb.pp("head"))?,
            slopes,
            parameter_count,
            device: vb.device().clone(),
            config,
        })
    }

    /// The number of weights.
    pub fn parameters(&self) -> usize {
        self.parameter_count
    }

    pub fn new_cache(&self) -> Cache {
        Cache::new(self.config.layers, self.config.context)
    }

    /// Feeds `seq` after what `cache` holds and returns the logits of every new element: [n, vocab].
    pub fn forward(&self, seq: &Sequence, cache: &mut Cache) -> Result<Tensor> {
        let hidden = self.hidden(seq, cache)?;
        Ok(self.head.forward(&self.norm.forward(&hidden)?)?)
    }

    /// The logits of the last new element only: [vocab]. (The head is the widest layer;
    /// a prefill skips it for every other element.)
    pub fn forward_last(&self, seq: &Sequence, cache: &mut Cache) -> Result<Vec<f32>> {
        let hidden = self.hidden(seq, cache)?;
        let last = hidden.narrow(0, hidden.dim(0)? - 1, 1)?;
        Ok(self.head.forward(&self.norm.forward(&last)?)?.squeeze(0)?.to_vec1()?)
    }

    /// Feeds `seq` after what `cache` holds; the last block's output for every new element: [n, d].
    fn hidden(&self, seq: &Sequence, cache: &mut Cache) -> Result<Tensor> {
        check_sequence(&self.config, seq)?;
        let n = seq.len();
        let mut x = self.embed.forward(seq, &self.device)?;
        let past = cache.make_room(n);
        let bias = self.attention_bias(past, n)?;
        for (block, layer) in self.blocks.iter().zip(cache.layers.iter_mut()) {
            x = block.forward(&x, &bias, layer)?;
        }
        cache.advance(past, n);
        Ok(x)
    }

    /// ALiBi: [H, n, past + n] with -slope * distance to the past and -inf to the future.
    fn attention_bias(&self, past: usize, n: usize) -> candle_core::Result<Tensor> {
        let total = past + n;
        let mut bias = Vec::with_capacity(self.slopes.len() * n * total);
        for slope in &self.slopes {
            for i in 0..n {
                let query = past + i;
                bias.extend(
                    (0..total).map(|key| if key > query { f32::NEG_INFINITY } else { -slope * (query - key) as f32 }),
                );
            }
        }
        Tensor::from_vec(bias, (self.slopes.len(), n, total), &self.device)
    }
}

/// The checks every backend makes before feeding `seq`: not empty, within the context,
/// every token id in the vocabulary and every patch index in the sequence's patches.
pub fn check_sequence(config: &Config, seq: &Sequence) -> Result<()> {
    if seq.is_empty() {
        return Err(ModelError::Input("the sequence is empty".into()));
    }
    if seq.len() > config.context {
        return Err(ModelError::Input(format!("{} elements exceed the context of {}", seq.len(), config.context)));
    }
    let vocab = config.vocab() as u32;
    if let Some(e) = seq
        .elements
        .iter()
        .find(|e| if e.modality == Modality::Patch { e.id as usize >= seq.patches.len() } else { e.id >= vocab })
    {
        return Err(ModelError::Input(format!("element {e:?} is out of range")));
    }
    Ok(())
}

/// The logits as a plain vector per row, for tests and the golden check.
pub fn rows(logits: &Tensor) -> Result<Vec<Vec<f32>>> {
    Ok(logits.to_dtype(DType::F32)?.to_vec2()?)
}

/// The index of the largest value.
pub fn argmax(values: &[f32]) -> usize {
    values.iter().enumerate().fold(0, |best, (i, &v)| if v > values[best] { i } else { best })
}

// These read the tiny model from disk, which the browser cannot.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::golden::{Golden, TOLERANCE};
    use super::*;
    use crate::tokens::image::PositionMode;
    use crate::tokens::{Action, Element, Observation, SequenceBuilder, Vocabulary};
    use std::path::Path;

    const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny");

    fn tiny() -> (Gatito, Vocabulary) {
        ModelFiles::read(Path::new(TINY)).unwrap().load(&Device::Cpu).unwrap()
    }

    fn frames(vocabulary: &Vocabulary, steps: u32) -> Sequence {
        let mut b = SequenceBuilder::new(vocabulary, PositionMode::Eval);
        for t in 0..steps {
            let image =
                image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([(x * 4) as u8, (y * 4) as u8, (t * 40) as u8]));
            let obs = Observation { image: Some(image), continuous: vec![t as f32 * 0.1], ..Default::default() };
            b.timestep(&obs, &Action::Discrete(vec![t % 3])).unwrap();
        }
        b.finish()
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn candle_reproduces_the_pytorch_golden_logits() {
        let (model, _) = tiny();
        let golden =
            Golden::from_bytes(&std::fs::read(Path::new(TINY).join("golden.safetensors")).unwrap(), 470).unwrap();
        let diff = golden.max_abs_diff(&model).unwrap();
        assert!(diff <= TOLERANCE, "max abs diff {diff}");
    }

    #[test]
    fn the_shipped_model_reproduces_its_golden_logits() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/gatito-s"));
        let (model, vocabulary) = ModelFiles::read(dir).unwrap().load(&Device::Cpu).unwrap();
        assert_eq!(model.config.text_vocab, vocabulary.text.size() as usize);
        let golden = std::fs::read(dir.join("golden.safetensors")).unwrap();
        let diff = Golden::from_bytes(&golden, model.config.text_vocab).unwrap().max_abs_diff(&model).unwrap();
        assert!(diff <= TOLERANCE, "max abs diff {diff}");
    }

    #[test]
    fn feeding_one_element_at_a_time_matches_one_pass() {
        let (model, vocabulary) = tiny();
        let seq = frames(&vocabulary, 2);
        let whole = rows(&model.forward(&seq, &mut model.new_cache()).unwrap()).unwrap();
        let mut cache = model.new_cache();
        for (i, expected) in whole.iter().enumerate() {
            let logits = model.forward_last(&seq.slice_elements(i, i + 1), &mut cache).unwrap();
            assert!(max_diff(&logits, expected) < 1e-4, "element {i}");
        }
        assert_eq!(cache.occupancy().len(), seq.len());
    }

    #[test]
    fn the_sliding_window_sees_exactly_the_last_context_elements() {
        let (model, vocabulary) = tiny();
        let window = model.config.context;
        let seq = frames(&vocabulary, 5);
        assert!(seq.len() > window + 10, "the episode must outgrow the window");
        let mut cache = model.new_cache();
        let mut last = vec![];
        for i in 0..seq.len() {
            last = model.forward_last(&seq.slice_elements(i, i + 1), &mut cache).unwrap();
        }
        assert_eq!(cache.occupancy().len(), window);
        assert_eq!(cache.occupancy().seen(), seq.len());
        let recent = seq.slice_elements(seq.len() - window, seq.len());
        let direct = model.forward_last(&recent, &mut model.new_cache()).unwrap();
        assert!(max_diff(&last, &direct) < 1e-4);
    }

    #[test]
    fn broken_files_give_errors_that_name_the_problem() {
        let read = |name: &str| std::fs::read(Path::new(TINY).join(name)).unwrap();
        let files = || ModelFiles {
            config: read("config.json"),
            weights: read("model.safetensors"),
            tokenizer: read("tokenizer.json"),
        };
        let error = |f: ModelFiles| f.load(&Device::Cpu).err().expect("an error").to_string();

        let mut truncated = files();
        truncated.weights.truncate(truncated.weights.len() / 2);
        assert!(error(truncated).starts_with("model.safetensors:"));

        let mut garbage = files();
        garbage.weights = b"not safetensors at all".to_vec();
        assert!(error(garbage).starts_with("model.safetensors:"));

        let mut bigger = files();
        bigger.config = String::from_utf8(bigger.config).unwrap().replace("\"d_ff\": 64", "\"d_ff\": 96").into_bytes();
        let message = error(bigger);
        assert!(message.contains("blocks.0.mlp.up.weight") || message.contains("shape"), "{message}");

        let mut missing = files();
        missing.config =
            String::from_utf8(missing.config).unwrap().replace("\"layers\": 2", "\"layers\": 3").into_bytes();
        assert!(error(missing).contains("blocks.2"));

        let mut field = files();
        field.config = String::from_utf8(field.config).unwrap().replace("\"heads\": 4", "\"heads\": 5").into_bytes();
        assert!(error(field).contains("heads"));

        let mut mismatched = files();
        mismatched.config = String::from_utf8(mismatched.config)
            .unwrap()
            .replace("\"text_vocab\": 470", "\"text_vocab\": 471")
            .into_bytes();
        assert!(error(mismatched).contains("text_vocab"));

        let mut json = files();
        json.config = b"{".to_vec();
        assert!(error(json).starts_with("config.json:"));
    }

    #[test]
    fn bad_sequences_are_errors() {
        let (model, vocabulary) = tiny();
        let mut cache = model.new_cache();
        assert!(matches!(model.forward(&Sequence::default(), &mut cache), Err(ModelError::Input(_))));
        let long = frames(&vocabulary, 5);
        assert!(matches!(model.forward(&long, &mut cache), Err(ModelError::Input(_))));
        let bad = Sequence::from_parts(
            vec![Element { modality: Modality::Text, id: 99_999, local_position: 0, target: None }],
            vec![],
        );
        assert!(matches!(model.forward(&bad, &mut cache), Err(ModelError::Input(_))));
        assert!(cache.occupancy().is_empty(), "failed calls leave the cache untouched");
    }
}
