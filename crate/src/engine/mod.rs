//! The GPU engine: the gatito network running in WGSL compute kernels through wgpu,
//! on Vulkan natively and on WebGPU in the browser.
//!
//! It computes what [`crate::model::Gatito`] computes (the parity tests hold it to
//! 1e-3 in the logits and to the same greedy tokens), but keeps the weights and the KV
//! cache on the GPU, records one command buffer per call and reads back only the chosen
//! token and the probabilities the page shows. The entry points are `async` because
//! reading GPU memory is asynchronous in the browser; natively, drive them with
//! `pollster::block_on`.
//!
//! - [`device`]: opening the GPU, noticing its loss, error scopes, readback.
//! - [`weights`]: every tensor's name and shape; f16 checkpoints to f32; random weights.
//! - [`gpu`]: the WGSL kernels and their pipelines.
//! - [`model`]: [`GpuModel`], one forward pass as one command buffer.
//! - [`cache`]: [`GpuCache`], the sliding-window KV cache as a ring on the GPU.

mod cache;
mod device;
mod gpu;
mod model;
pub mod weights;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;

pub use cache::GpuCache;
pub use device::Gpu;
pub use model::{Choice, Constraint, GpuModel};

use crate::model::ModelError;
use thiserror::Error;

/// The largest absolute logit difference allowed between the GPU and PyTorch or candle:
/// f32 both, summed in other orders.
pub const TOLERANCE: f32 = 1e-3;

/// Everything but `Model` means the GPU cannot be used: fall back to the CPU.
#[derive(Debug, Error)]
pub enum EngineError {
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    #[error("the GPU device could not be opened: {0}")]
    Device(String),
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("the GPU is out of memory: {0}")]
    OutOfMemory(String),
    #[error("the GPU rejected the work: {0}")]
    Gpu(String),
    /// A bad config, checkpoint or input: the CPU would refuse it too.
    #[error(transparent)]
    Model(#[from] ModelError),
}

pub type Result<T> = std::result::Result<T, EngineError>;
