//! [`GpuModel`]: the gatito network with its weights on the GPU and its whole forward
//! pass in WGSL, the same computation as [`crate::model::Gatito`].
//!
//! A call writes its inputs (elements, patch pixels, one small uniform), records ONE
//! command buffer for the pass (embedding, patch embedding, the blocks with the KV
//! cache, final norm, logits and, when asked, the constrained choice), and reads back
//! only what the caller needs: the chosen token and its probabilities, or logits.
//! Every buffer and bind group is made at load (or with the cache): a call allocates
//! nothing on the GPU.

use super::cache::{CacheLayer, GpuCache, Window};
use super::device::Gpu;
use super::gpu::{self, Epilogue, Kernels, Rows};
use super::weights::Checkpoint;
use super::{EngineError, Result};
use crate::model::generate::Sampling;
use crate::model::{Config, ModelError, check_sequence};
use crate::tokens::image::PATCH_LEN;
use crate::tokens::{Modality, Sequence};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use wgpu::util::DeviceExt;
use wgpu::{BindGroup, Buffer, BufferUsages};

/// attention.wgsl keeps a window's scores and a head's query in shared memory.
const MAX_CONTEXT: usize = 1024;
const MAX_HEAD_DIM: usize = 256;
/// `Call.excluded` when no id is excluded.
const NONE: u32 = u32::MAX;

/// What a decision may choose and how.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// The token ids allowed, e.g. the values an action may take.
    pub allowed: Range<usize>,
    /// An id inside `allowed` that is never chosen (captions never emit the separator).
    pub excluded: Option<usize>,
    pub sampling: Sampling,
    /// A uniform draw in [0, 1) from the caller's generator, used unless greedy (so the
    /// caller draws it only then, and its random stream matches the CPU path's).
    pub draw: f32,
}

/// A decision: the token and the probabilities (temperature 1) over `allowed`.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub token: u32,
    pub probabilities: Vec<f32>,
}

/// A linear layer's bind group and how it is dispatched.
struct LinearStep {
    group: BindGroup,
    outputs: u32,
    epilogue: Epilogue,
}

struct BlockSteps {
    norm1: BindGroup,
    qkv: LinearStep,
    out: LinearStep,
    norm2: BindGroup,
    up: LinearStep,
    down: LinearStep,
}

/// The patch block's activation: GroupNorm then GELU, or GELU alone (`patch_norm` off).
enum Activation {
    Normalized(BindGroup),
    Plain(BindGroup),
}

/// Every dispatch's bind group, in the order of the pass.
struct Steps {
    embed: BindGroup,
    stem: BindGroup,
    norm1: Activation,
    conv1: BindGroup,
    norm2: Activation,
    conv2: BindGroup,
    proj: LinearStep,
    scatter: BindGroup,
    blocks: Vec<BlockSteps>,
    norm: BindGroup,
    head: LinearStep,
    choose: BindGroup,
}

/// What a call writes before its pass.
struct Inputs {
    call: Buffer,
    elements: Buffer,
    slots: Buffer,
    pixels: Buffer,
}

/// The buffers the cache's bind groups need besides its own.
struct Shared {
    dims: Buffer,
    slopes: Buffer,
    qkv: Buffer,
    attended: Buffer,
    logits: Buffer,
    choice: Buffer,
}

pub struct GpuModel {
    pub config: Config,
    gpu: Gpu,
    kernels: Kernels,
    /// Tells this model's caches from another's.
    id: u64,
    parameters: usize,
    /// Bytes of GPU memory held: weights and scratch.
    memory: u64,
    inputs: Inputs,
    shared: Shared,
    steps: Steps,
    /// Held for the bind groups, which only borrow them on the web backend.
    _buffers: Vec<Buffer>,
}

/// Which result a pass ends with.
enum Output<'a> {
    AllLogits,
    LastLogits,
    Choice(&'a Constraint),
}

static MODELS: AtomicU64 = AtomicU64::new(0);

/// Makes the buffers and bind groups at load, counting the bytes.
struct Builder<'a> {
    device: &'a wgpu::Device,
    kernels: &'a Kernels,
    checkpoint: &'a Checkpoint,
    call: Buffer,
    dims: Buffer,
    /// The zero bias of the head, which has none.
    zeros: Option<Buffer>,
    held: Vec<Buffer>,
    bytes: u64,
}

impl Builder<'_> {
    fn keep(&mut self, buffer: Buffer) -> Buffer {
        self.bytes += buffer.size();
        self.held.push(buffer.clone());
        buffer
    }

    fn init(&mut self, label: &str, contents: &[u8], usage: BufferUsages) -> Buffer {
        let descriptor = wgpu::util::BufferInitDescriptor { label: Some(label), contents, usage };
        let buffer = self.device.create_buffer_init(&descriptor);
        self.keep(buffer)
    }

    /// A zeroed buffer of `floats` 4-byte values.
    fn scratch(&mut self, label: &str, floats: usize, usage: BufferUsages) -> Buffer {
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (floats.max(1) * 4) as u64,
            usage,
            mapped_at_creation: false,
        });
        self.keep(buffer)
    }

    fn tensor(&mut self, name: &str) -> Result<Buffer> {
        let values = self.checkpoint.get(name)?;
        Ok(self.init(name, &f32_bytes(&values), BufferUsages::STORAGE))
    }

    fn bind(&self, layout: &wgpu::BindGroupLayout, buffers: &[&Buffer]) -> BindGroup {
        gpu::bind(self.device, layout, buffers)
    }

    /// A LayerNorm or GroupNorm (`{prefix}.weight`, `{prefix}.bias`) from `input` to `output`.
    fn norm(&mut self, kernel: &gpu::Kernel, prefix: &str, input: &Buffer, output: &Buffer) -> Result<BindGroup> {
        let (gamma, beta) = (self.tensor(&format!("{prefix}.weight"))?, self.tensor(&format!("{prefix}.bias"))?);
        Ok(self.bind(&kernel.layout, &[&self.call, &self.dims, input, &gamma, &beta, output]))
    }

    /// The linear layer `{prefix}.weight` [outputs, inputs] (and `{prefix}.bias` if it has one).
    fn linear(&mut self, prefix: &str, io: (&Buffer, &Buffer), rows: Rows, epilogue: Epilogue) -> Result<LinearStep> {
        let name = format!("{prefix}.weight");
        let (outputs, inputs) = match self.checkpoint.dims(&name)? {
            [outputs, inputs] => (*outputs, *inputs),
            other => return Err(ModelError::Weights(format!("{name} has shape {other:?}, not a matrix")).into()),
        };
        // Transposed to [inputs, outputs] (see linear.wgsl).
        let matrix = self.checkpoint.get(&name)?;
        let transposed: Vec<f32> =
            (0..inputs * outputs).map(|i| matrix[(i % outputs) * inputs + i / outputs]).collect();
        let weight = self.init(&name, &f32_bytes(&transposed), BufferUsages::STORAGE);
        let bias = match self.checkpoint.dims(&format!("{prefix}.bias")) {
            Ok(_) => self.tensor(&format!("{prefix}.bias"))?,
            Err(_) => match self.zeros.clone() {
                Some(zeros) => zeros,
                None => {
                    let zeros = self.scratch("no bias", outputs, BufferUsages::STORAGE);
                    self.zeros.insert(zeros).clone()
                }
            },
        };
        let shape =
            self.init(prefix, &u32_bytes(&[inputs as u32, outputs as u32, rows as u32, 0]), BufferUsages::UNIFORM);
        let group = self.bind(&self.kernels.linear.layout, &[&self.call, &shape, io.0, &weight, &bias, io.1]);
        Ok(LinearStep { group, outputs: outputs as u32, epilogue })
    }
}

impl GpuModel {
    /// Uploads the weights from the bytes of `model.safetensors` (any float dtype; f32 on
    /// the GPU) and builds every pipeline, buffer and bind group.
    pub async fn load(gpu: &Gpu, config: Config, safetensors: &[u8]) -> Result<GpuModel> {
        gpu.check_alive()?;
        config.validate().map_err(ModelError::Config)?;
        if config.context > MAX_CONTEXT || config.head_dim() > MAX_HEAD_DIM {
            return Err(ModelError::Config(format!(
                "config.json: the GPU engine takes a context up to {MAX_CONTEXT} and heads up to {MAX_HEAD_DIM} wide"
            ))
            .into());
        }
        let largest = (config.context * config.vocab().max(PATCH_LEN)).max(config.vocab() * config.d_model) * 4;
        let limit = gpu.device.limits().max_storage_buffer_binding_size;
        if largest as u64 > limit {
            return Err(EngineError::OutOfMemory(format!(
                "a {largest}-byte buffer exceeds this GPU's storage binding limit of {limit} bytes"
            )));
        }
        let checkpoint = Checkpoint::read(&config, safetensors)?;
        gpu.scoped(|| Self::build(gpu, config, &checkpoint)).await?
    }

    fn build(gpu: &Gpu, config: Config, checkpoint: &Checkpoint) -> Result<GpuModel> {
        let device = &gpu.device;
        let kernels = Kernels::new(device);
        let (d, ctx, vocab) = (config.d_model, config.context, config.vocab());
        let cells = config.patch_channels * 16;
        let (storage, uniform) = (BufferUsages::STORAGE, BufferUsages::UNIFORM | BufferUsages::COPY_DST);
        let written = BufferUsages::STORAGE | BufferUsages::COPY_DST;
        let read_back = BufferUsages::STORAGE | BufferUsages::COPY_SRC;

        let dims = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("dims"),
            contents: &dims_bytes(&config),
            usage: BufferUsages::UNIFORM,
        });
        let call = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("call"),
            size: CALL_WORDS as u64 * 4,
            usage: uniform,
            mapped_at_creation: false,
        });
        let mut b = Builder { device, kernels: &kernels, checkpoint, call, dims, zeros: None, held: vec![], bytes: 0 };
        let (call, dims) = (b.keep(b.call.clone()), b.keep(b.dims.clone()));
        let inputs = Inputs {
            elements: b.scratch("elements", ctx * 4, written),
            slots: b.scratch("patch slots", ctx * 4, written),
            pixels: b.scratch("pixels", ctx * PATCH_LEN, written),
            call,
        };
        let slopes: Vec<f32> =
            (0..config.heads).map(|h| 2f32.powf(-8.0 * (h + 1) as f32 / config.heads as f32)).collect();
        let shared = Shared {
            slopes: b.init("slopes", &f32_bytes(&slopes), storage),
            dims,
            qkv: b.scratch("qkv", ctx * 3 * d, storage),
            attended: b.scratch("attended", ctx * d, storage),
            logits: b.scratch("logits", ctx * vocab, read_back),
            choice: b.scratch("choice", 1 + vocab, read_back),
        };
        let x = b.scratch("x", ctx * d, storage);
        let normed = b.scratch("normed", ctx * d, storage);
        let hidden = b.scratch("hidden", ctx * config.d_ff, storage);
        let stemmed = b.scratch("stemmed", ctx * cells, storage);
        let activated = b.scratch("activated", ctx * cells, storage);
        let convolved = b.scratch("convolved", ctx * cells, storage);
        let projected = b.scratch("projected", ctx * d, storage);

        let (call, dims) = (&inputs.call, &shared.dims);
        let (tokens, local) = (b.tensor("embed.tokens.weight")?, b.tensor("embed.local.weight")?);
        let embed = b.bind(&kernels.embed.layout, &[call, dims, &inputs.elements, &tokens, &local, &x]);
        let (stem_w, stem_b) = (b.tensor("embed.patch.stem.weight")?, b.tensor("embed.patch.stem.bias")?);
        let stem = b.bind(&kernels.patch_stem.layout, &[call, dims, &inputs.pixels, &stem_w, &stem_b, &stemmed]);
        let activation = |b: &mut Builder, name: &str, input: &Buffer| -> Result<Activation> {
            Ok(if config.patch_norm {
                Activation::Normalized(b.norm(&kernels.group_norm, name, input, &activated)?)
            } else {
                Activation::Plain(b.bind(&kernels.gelu.layout, &[call, dims, input, &activated]))
            })
        };
        let norm1 = activation(&mut b, "embed.patch.norm1", &stemmed)?;
        let conv = |b: &mut Builder, name: &str| -> Result<BindGroup> {
            let (weight, bias) = (b.tensor(&format!("{name}.weight"))?, b.tensor(&format!("{name}.bias"))?);
            Ok(b.bind(&kernels.conv.layout, &[call, dims, &activated, &weight, &bias, &stemmed, &convolved]))
        };
        let conv1 = conv(&mut b, "embed.patch.conv1")?;
        let norm2 = activation(&mut b, "embed.patch.norm2", &convolved)?;
        let conv2 = conv(&mut b, "embed.patch.conv2")?;
        let proj = b.linear("embed.patch.proj", (&convolved, &projected), Rows::Patches, Epilogue::Store)?;
        let (row_table, col_table) = (b.tensor("embed.patch_row.weight")?, b.tensor("embed.patch_col.weight")?);
        let scatter =
            b.bind(&kernels.patch_scatter.layout, &[call, dims, &projected, &row_table, &col_table, &inputs.slots, &x]);
        let blocks = (0..config.layers)
            .map(|i| {
                let name = |part: &str| format!("blocks.{i}.{part}");
                Ok(BlockSteps {
                    norm1: b.norm(&kernels.layer_norm, &name("norm1"), &x, &normed)?,
                    qkv: b.linear(&name("attn.qkv"), (&normed, &shared.qkv), Rows::All, Epilogue::Store)?,
                    out: b.linear(&name("attn.out"), (&shared.attended, &x), Rows::All, Epilogue::Accumulate)?,
                    norm2: b.norm(&kernels.layer_norm, &name("norm2"), &x, &normed)?,
                    up: b.linear(&name("mlp.up"), (&normed, &hidden), Rows::All, Epilogue::Gelu)?,
                    down: b.linear(&name("mlp.down"), (&hidden, &x), Rows::All, Epilogue::Accumulate)?,
                })
            })
            .collect::<Result<_>>()?;
        let norm = b.norm(&kernels.layer_norm, "norm", &x, &normed)?;
        let head = b.linear("head", (&normed, &shared.logits), Rows::Logits, Epilogue::Store)?;
        let choose = b.bind(&kernels.choose.layout, &[call, dims, &shared.logits, &shared.choice]);

        let steps = Steps { embed, stem, norm1, conv1, norm2, conv2, proj, scatter, blocks, norm, head, choose };
        let (memory, buffers) = (b.bytes, b.held);
        Ok(GpuModel {
            gpu: gpu.clone(),
            kernels,
            id: MODELS.fetch_add(1, Ordering::Relaxed),
            parameters: checkpoint.parameters,
            memory,
            inputs,
            shared,
            steps,
            _buffers: buffers,
            config,
        })
    }

    /// The number of weights.
    pub fn parameters(&self) -> usize {
        self.parameters
    }

    /// The adapter the model runs on.
    pub fn adapter(&self) -> &str {
        self.gpu.adapter()
    }

    /// GPU memory held by the weights and the scratch buffers (caches hold their own).
    pub fn memory_bytes(&self) -> u64 {
        self.memory
    }

    /// A KV cache on the GPU for this model, with its readback buffer.
    pub async fn new_cache(&self) -> Result<GpuCache> {
        self.gpu.check_alive()?;
        let (device, c) = (&self.gpu.device, &self.config);
        let kernels = &self.kernels;
        let s = &self.shared;
        let call = &self.inputs.call;
        let make = || {
            let ring = |label| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: (c.context * c.d_model * 4) as u64,
                    usage: BufferUsages::STORAGE,
                    mapped_at_creation: false,
                })
            };
            let layers = (0..c.layers)
                .map(|_| {
                    let (keys, values) = (ring("keys"), ring("values"));
                    CacheLayer {
                        store: gpu::bind(device, &kernels.kv_store.layout, &[call, &s.dims, &s.qkv, &keys, &values]),
                        attend: gpu::bind(
                            device,
                            &kernels.attention.layout,
                            &[call, &s.dims, &s.slopes, &s.qkv, &keys, &values, &s.attended],
                        ),
                        _keys_and_values: [keys, values],
                    }
                })
                .collect();
            let staging = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("staging"),
                size: s.logits.size().max(s.choice.size()),
                usage: BufferUsages::MAP_READ | BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            GpuCache::new(self.id, layers, staging, c.context)
        };
        self.gpu.scoped(make).await
    }

    /// Feeds `seq` after what `cache` holds and returns the logits of every new element:
    /// [n][vocab]. For tests and the golden check; the agent reads less.
    pub async fn forward(&self, seq: &Sequence, cache: &mut GpuCache) -> Result<Vec<Vec<f32>>> {
        let logits = self.run(seq, cache, Output::AllLogits).await?;
        Ok(logits.chunks_exact(self.config.vocab()).map(<[f32]>::to_vec).collect())
    }

    /// The logits of the last new element only: [vocab].
    pub async fn forward_last(&self, seq: &Sequence, cache: &mut GpuCache) -> Result<Vec<f32>> {
        self.run(seq, cache, Output::LastLogits).await
    }

    /// Feeds `seq` and chooses the next token under `constraint`, all on the GPU; reads
    /// back only the token and the probabilities over the allowed ids.
    pub async fn decide(&self, seq: &Sequence, cache: &mut GpuCache, constraint: &Constraint) -> Result<Choice> {
        let vocab = self.config.vocab();
        let Constraint { allowed, excluded, .. } = constraint;
        if allowed.is_empty() || allowed.end > vocab {
            return Err(input(format!("the allowed ids {allowed:?} are not a non-empty part of 0..{vocab}")));
        }
        if allowed.len() == 1 && *excluded == Some(allowed.start) {
            return Err(input(format!("the allowed ids {allowed:?} leave nothing once {} is excluded", allowed.start)));
        }
        let read = self.run(seq, cache, Output::Choice(constraint)).await?;
        let token = read[0].to_bits();
        if !allowed.contains(&(token as usize)) {
            return Err(EngineError::Gpu(format!("the GPU chose {token}, outside {allowed:?}")));
        }
        Ok(Choice { token, probabilities: read[1..].to_vec() })
    }

    async fn run(&self, seq: &Sequence, cache: &mut GpuCache, output: Output<'_>) -> Result<Vec<f32>> {
        self.gpu.check_alive()?;
        if cache.model != self.id {
            return Err(input("the cache belongs to another model".into()));
        }
        check_sequence(&self.config, seq)?;
        let patches: Vec<usize> = (0..seq.len()).filter(|&i| seq.elements[i].modality == Modality::Patch).collect();
        let bins = self.config.position_bins as u32;
        for &i in &patches {
            let patch = &seq.patches[seq.elements[i].id as usize];
            if patch.pixels.len() != PATCH_LEN || patch.row >= bins || patch.col >= bins {
                return Err(input(format!(
                    "patch {} has {} pixels at row {}, column {}: it needs {PATCH_LEN} pixels and bins below {bins}",
                    seq.elements[i].id,
                    patch.pixels.len(),
                    patch.row,
                    patch.col
                )));
            }
        }
        let n = seq.len();
        let window = cache.window_for(n);
        let first_out = match output {
            Output::AllLogits => 0,
            _ => n - 1,
        };
        self.write_inputs(seq, &patches, window, first_out, &output);
        let (source, bytes) = match output {
            Output::AllLogits => (&self.shared.logits, n * self.config.vocab()),
            Output::LastLogits => (&self.shared.logits, self.config.vocab()),
            Output::Choice(c) => (&self.shared.choice, 1 + c.allowed.len()),
        };
        let bytes = (bytes * 4) as u64;
        let submitted = self
            .gpu
            .scoped(|| {
                let mut encoder =
                    self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("forward") });
                let shape = PassShape {
                    rows: n as u32,
                    patches: patches.len() as u32,
                    first_out: first_out as u32,
                    choose: matches!(output, Output::Choice(_)),
                };
                self.record(&mut encoder, cache, shape);
                encoder.copy_buffer_to_buffer(source, 0, &cache.staging, 0, bytes);
                self.gpu.queue.submit([encoder.finish()]);
            })
            .await;
        let read = match submitted {
            Ok(()) => self.gpu.read_back(&cache.staging, bytes).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(values) => {
                cache.advance(window, n);
                Ok(values)
            }
            Err(e) => {
                // The ring may hold half-written rows: nothing in it can be trusted.
                cache.clear();
                Err(e)
            }
        }
    }

    fn write_inputs(&self, seq: &Sequence, patches: &[usize], window: Window, first_out: usize, output: &Output) {
        let queue = &self.gpu.queue;
        let elements: Vec<u32> = seq
            .elements
            .iter()
            .flat_map(|e| {
                let patch = e.modality == Modality::Patch;
                [if patch { 0 } else { e.id }, e.local_position, patch as u32, 0]
            })
            .collect();
        queue.write_buffer(&self.inputs.elements, 0, &u32_bytes(&elements));
        if !patches.is_empty() {
            let of = |&i: &usize| &seq.patches[seq.elements[i].id as usize];
            let slots: Vec<u32> = patches.iter().flat_map(|i| [*i as u32, of(i).row, of(i).col, 0]).collect();
            let pixels: Vec<f32> = patches.iter().flat_map(|i| of(i).pixels.iter().copied()).collect();
            queue.write_buffer(&self.inputs.slots, 0, &u32_bytes(&slots));
            queue.write_buffer(&self.inputs.pixels, 0, &f32_bytes(&pixels));
        }
        let mut call = [0u32; CALL_WORDS];
        call[..5]
            .copy_from_slice(&[seq.len(), window.past, window.ring_start, first_out, patches.len()].map(|v| v as u32));
        if let Output::Choice(c) = output {
            let (greedy, top_k, temperature) = match c.sampling {
                Sampling::Greedy => (1, 1, 1.0),
                Sampling::Temperature(t) => (0, c.allowed.len(), t),
                Sampling::TopK { k, temperature } => (0, k, temperature),
            };
            let draw = if c.draw.is_finite() { c.draw.clamp(0.0, 1.0 - f32::EPSILON) } else { 0.0 };
            call[5..].copy_from_slice(&[
                c.allowed.start as u32,
                c.allowed.end as u32,
                c.excluded.map_or(NONE, |e| e as u32),
                greedy,
                top_k.min(u32::MAX as usize) as u32,
                temperature.max(1e-6).to_bits(),
                draw.to_bits(),
            ]);
        }
        queue.write_buffer(&self.inputs.call, 0, &u32_bytes(&call));
    }

    /// The whole forward pass as one compute pass.
    fn record(&self, encoder: &mut wgpu::CommandEncoder, cache: &GpuCache, shape: PassShape) {
        let (k, s, c) = (&self.kernels, &self.steps, &self.config);
        let PassShape { rows: n, patches, first_out, choose } = shape;
        let features = (c.d_model as u32).div_ceil(64);
        let descriptor = wgpu::ComputePassDescriptor { label: Some("forward"), timestamp_writes: None };
        let mut r = Recorder { pass: encoder.begin_compute_pass(&descriptor), kernels: k };
        r.run(&k.embed.pipeline, &s.embed, features, n);
        if patches > 0 {
            let cells = (patches * c.patch_channels as u32 * 16).div_ceil(64);
            let groups = c.patch_groups as u32;
            let activate = |r: &mut Recorder, activation: &Activation| match activation {
                Activation::Normalized(group) => r.run(&k.group_norm.pipeline, group, groups, patches),
                Activation::Plain(group) => r.run(&k.gelu.pipeline, group, cells, 1),
            };
            r.run(&k.patch_stem.pipeline, &s.stem, cells, 1);
            activate(&mut r, &s.norm1);
            r.run(&k.conv.pipeline, &s.conv1, cells, 1);
            activate(&mut r, &s.norm2);
            r.run(&k.conv_residual, &s.conv2, cells, 1);
            r.linear(&s.proj, patches);
            r.run(&k.patch_scatter.pipeline, &s.scatter, features, patches);
        }
        for (block, layer) in s.blocks.iter().zip(&cache.layers) {
            r.run(&k.layer_norm.pipeline, &block.norm1, n, 1);
            r.linear(&block.qkv, n);
            r.run(&k.kv_store.pipeline, &layer.store, features, n);
            r.run(&k.attention.pipeline, &layer.attend, n, c.heads as u32);
            r.linear(&block.out, n);
            r.run(&k.layer_norm.pipeline, &block.norm2, n, 1);
            r.linear(&block.up, n);
            r.linear(&block.down, n);
        }
        r.run(&k.layer_norm.pipeline, &s.norm, n, 1);
        r.linear(&s.head, n - first_out);
        if choose {
            r.run(&k.choose.pipeline, &s.choose, 1, 1);
        }
    }
}

/// The sizes one pass is recorded for.
#[derive(Clone, Copy)]
struct PassShape {
    rows: u32,
    patches: u32,
    first_out: u32,
    choose: bool,
}

/// Records dispatches into one compute pass.
struct Recorder<'a> {
    pass: wgpu::ComputePass<'a>,
    kernels: &'a Kernels,
}

impl Recorder<'_> {
    fn run(&mut self, pipeline: &wgpu::ComputePipeline, group: &BindGroup, x: u32, y: u32) {
        self.pass.set_pipeline(pipeline);
        self.pass.set_bind_group(0, group, &[]);
        self.pass.dispatch_workgroups(x, y, 1);
    }

    /// A linear layer over `rows` rows.
    fn linear(&mut self, step: &LinearStep, rows: u32) {
        let pipeline = &self.kernels.linear.pipelines[step.epilogue as usize];
        self.run(pipeline, &step.group, step.outputs.div_ceil(64), rows);
    }
}

fn input(message: String) -> EngineError {
    ModelError::Input(message).into()
}

/// Words in `Call` (common.wgsl).
const CALL_WORDS: usize = 12;

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn u32_bytes(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `Dims` in common.wgsl.
fn dims_bytes(config: &Config) -> Vec<u8> {
    let c = config;
    let sizes = [c.d_model, c.heads, c.head_dim(), c.d_ff, c.vocab(), c.context, c.patch_channels, c.patch_groups];
    let mut words: Vec<u32> = sizes.iter().map(|&s| s as u32).collect();
    let scale = (1.0 / (c.head_dim() as f64).sqrt()) as f32;
    words.extend([(c.norm_eps as f32).to_bits(), scale.to_bits(), 0, 0]);
    u32_bytes(&words)
}
