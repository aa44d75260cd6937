//! The WGSL kernels and their pipelines, created once per model.
//!
//! Each kernel is one `.wgsl` file that names its bindings at the top; `common.wgsl`
//! (the per-call and per-model uniforms, GELU) and, where a kernel reduces across a
//! workgroup, `reduce.wgsl` (and for the norms `moments.wgsl`) are prepended. Bind group layouts are explicit, so one
//! layout serves every variant of a kernel (the linear layer's three epilogues).

use wgpu::{BindGroupLayout, ComputePipeline, Device};

/// How a kernel uses each of its bindings, in binding order.
#[derive(Clone, Copy)]
enum Use {
    Uniform,
    Read,
    Write,
}

use Use::{Read, Uniform, Write};

macro_rules! wgsl {
    ($($file:literal),+) => {
        concat!(include_str!("common.wgsl"), $(include_str!($file)),+)
    };
}

/// One kernel: its bindings' layout and its pipeline.
pub(crate) struct Kernel {
    pub layout: BindGroupLayout,
    pub pipeline: ComputePipeline,
}

/// The linear layer's epilogues, in the order of `EPILOGUE` in linear.wgsl.
#[derive(Clone, Copy)]
pub(crate) enum Epilogue {
    Store = 0,
    Gelu = 1,
    Accumulate = 2,
}

/// Rows a linear layer reads, as `Shape.rows` in linear.wgsl says.
#[derive(Clone, Copy)]
pub(crate) enum Rows {
    All = 0,
    Logits = 1,
    Patches = 2,
}

pub(crate) struct Linear {
    pub layout: BindGroupLayout,
    /// Indexed by [`Epilogue`].
    pub pipelines: [ComputePipeline; 3],
}

pub(crate) struct Kernels {
    pub embed: Kernel,
    pub patch_stem: Kernel,
    pub group_norm: Kernel,
    /// GELU alone, where the patch block has no GroupNorm.
    pub gelu: Kernel,
    /// The conv3x3 kernel without and with the residual add; one layout for both.
    pub conv: Kernel,
    pub conv_residual: ComputePipeline,
    pub patch_scatter: Kernel,
    pub layer_norm: Kernel,
    pub linear: Linear,
    pub kv_store: Kernel,
    pub attention: Kernel,
    pub choose: Kernel,
}

impl Kernels {
    pub fn new(device: &Device) -> Self {
        let kernel = |label: &str, source: &str, uses: &[Use]| {
            let layout = layout(device, label, uses);
            let pipeline = pipeline(device, label, &layout, &module(device, label, source), "main", &[]);
            Kernel { layout, pipeline }
        };
        let io = [Uniform, Uniform, Read, Read, Read, Write];

        let conv_layout = layout(device, "conv3x3", &[Uniform, Uniform, Read, Read, Read, Read, Write]);
        let conv_module = module(device, "conv3x3", wgsl!("conv3x3.wgsl"));
        let residual = |on: bool| {
            let constants = [("RESIDUAL", if on { 1.0 } else { 0.0 })];
            pipeline(device, "conv3x3", &conv_layout, &conv_module, "main", &constants)
        };
        let (conv_plain, conv_residual) = (residual(false), residual(true));

        let linear_layout = layout(device, "linear", &io);
        let linear_module = module(device, "linear", wgsl!("linear.wgsl"));
        let linear_pipelines = [Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate].map(|e| {
            let constants = [("EPILOGUE", e as u32 as f64)];
            pipeline(device, "linear", &linear_layout, &linear_module, "main", &constants)
        });

        Kernels {
            embed: kernel("embed", wgsl!("embed.wgsl"), &io),
            patch_stem: kernel("patch_stem", wgsl!("patch_stem.wgsl"), &io),
            group_norm: kernel("group_norm", wgsl!("reduce.wgsl", "moments.wgsl", "group_norm.wgsl"), &io),
            gelu: kernel("gelu", wgsl!("gelu.wgsl"), &[Uniform, Uniform, Read, Write]),
            conv: Kernel { layout: conv_layout, pipeline: conv_plain },
            conv_residual,
            patch_scatter: kernel(
                "patch_scatter",
                wgsl!("patch_scatter.wgsl"),
                &[Uniform, Uniform, Read, Read, Read, Read, Write],
            ),
            layer_norm: kernel("layer_norm", wgsl!("reduce.wgsl", "moments.wgsl", "layer_norm.wgsl"), &io),
            linear: Linear { layout: linear_layout, pipelines: linear_pipelines },
            kv_store: kernel("kv_store", wgsl!("kv_store.wgsl"), &[Uniform, Uniform, Read, Write, Write]),
            attention: kernel(
                "attention",
                wgsl!("reduce.wgsl", "attention.wgsl"),
                &[Uniform, Uniform, Read, Read, Read, Read, Write],
            ),
            choose: kernel("choose", wgsl!("reduce.wgsl", "choose.wgsl"), &[Uniform, Uniform, Read, Write]),
        }
    }
}

fn layout(device: &Device, label: &str, uses: &[Use]) -> BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = uses
        .iter()
        .enumerate()
        .map(|(binding, use_)| wgpu::BindGroupLayoutEntry {
            binding: binding as u32,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match use_ {
                    Uniform => wgpu::BufferBindingType::Uniform,
                    Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Write => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some(label), entries: &entries })
}

fn module(device: &Device, label: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    })
}

fn pipeline(
    device: &Device,
    label: &str,
    layout: &BindGroupLayout,
    module: &wgpu::ShaderModule,
    entry: &str,
    constants: &[(&str, f64)],
) -> ComputePipeline {
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout: Some(&pipeline_layout),
        module,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions { constants, ..Default::default() },
        cache: None,
    })
}

/// A bind group for `layout` with `buffers` at bindings 0, 1, 2, ...
pub(crate) fn bind(device: &Device, layout: &BindGroupLayout, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = buffers
        .iter()
        .enumerate()
        .map(|(binding, buffer)| wgpu::BindGroupEntry { binding: binding as u32, resource: buffer.as_entire_binding() })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout, entries: &entries })
}
