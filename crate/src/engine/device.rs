//! The GPU itself: opening an adapter and device (Vulkan natively, WebGPU in the
//! browser), noticing when it is lost, catching its errors, and reading results back.

use super::{EngineError, Result};
use std::sync::{Arc, Mutex};

/// A device and its queue, shared by a model and its caches.
#[derive(Clone)]
pub struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    adapter: String,
    /// Why the device can no longer be trusted (lost, or an error outside any scope).
    failure: Arc<Mutex<Option<String>>>,
}

impl Gpu {
    /// Opens the best adapter: Vulkan natively (lavapipe where no GPU exists), the
    /// browser's WebGPU in wasm.
    pub async fn open() -> Result<Gpu> {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle();
        descriptor.backends =
            if cfg!(target_arch = "wasm32") { wgpu::Backends::BROWSER_WEBGPU } else { wgpu::Backends::VULKAN };
        let instance = wgpu::Instance::new(descriptor);
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            ..Default::default()
        };
        let adapter = instance.request_adapter(&options).await.map_err(|e| EngineError::NoAdapter(e.to_string()))?;
        // WebGPU's default limits, but as large a buffer as the adapter allows (the logits scratch grows with the vocabulary).
        let offered = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: offered.max_storage_buffer_binding_size,
            max_buffer_size: offered.max_buffer_size,
            ..Default::default()
        };
        let descriptor = wgpu::DeviceDescriptor { label: Some("gatito"), required_limits, ..Default::default() };
        let (device, queue) =
            adapter.request_device(&descriptor).await.map_err(|e| EngineError::Device(e.to_string()))?;
        Ok(Gpu::from_parts(&adapter, device, queue))
    }

    /// Wraps a device the caller opened (the page may share one).
    pub fn from_parts(adapter: &wgpu::Adapter, device: wgpu::Device, queue: wgpu::Queue) -> Gpu {
        let info = adapter.get_info();
        let failure = Arc::new(Mutex::new(None));
        let lost = failure.clone();
        device.set_device_lost_callback(move |reason, message| {
            record(&lost, format!("{reason:?}: {message}"));
        });
        let uncaptured = failure.clone();
        // wgpu's default handler panics; an error outside our scopes marks the device unusable instead.
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            record(&uncaptured, format!("an error outside any scope: {error}"));
        }));
        Gpu { device, queue, adapter: format!("{} ({:?})", info.name, info.backend), failure }
    }

    /// Destroys the device, as a driver crash would: everything on it fails from now on.
    pub fn destroy(&self) {
        self.device.destroy();
    }

    /// The adapter's name and backend, e.g. "llvmpipe (LLVM 19.1.7, 256 bits) (Vulkan)".
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// An error if the device was lost: the caller falls back to the CPU.
    pub(crate) fn check_alive(&self) -> Result<()> {
        match self.failure.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(reason) => Err(EngineError::DeviceLost(reason.clone())),
            None => Ok(()),
        }
    }

    /// Runs `work` (which creates resources or submits commands) inside error scopes and
    /// reports what the GPU rejected. The scopes are popped before anything is awaited,
    /// so interleaved calls in the browser cannot pop each other's scopes.
    pub(crate) async fn scoped<T>(&self, work: impl FnOnce() -> T) -> Result<T> {
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let value = work();
        let (validation, memory) = (validation.pop(), memory.pop());
        if let Some(error) = memory.await {
            return Err(EngineError::OutOfMemory(error.to_string()));
        }
        if let Some(error) = validation.await {
            return Err(EngineError::Gpu(error.to_string()));
        }
        self.check_alive()?;
        Ok(value)
    }

    /// Maps the first `bytes` of `staging` (filled by a submitted copy) and returns them as f32s.
    pub(crate) async fn read_back(&self, staging: &wgpu::Buffer, bytes: u64) -> Result<Vec<f32>> {
        let slice = staging.slice(..bytes);
        let (sender, receiver) = futures_channel::oneshot::channel();
        slice.map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        // Natively nothing runs the callback until the device is polled; the browser runs it itself.
        #[cfg(not(target_arch = "wasm32"))]
        self.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| EngineError::DeviceLost(e.to_string()))?;
        let lost = |why: String| {
            self.check_alive().err().unwrap_or(EngineError::DeviceLost(format!("reading results back failed: {why}")))
        };
        receiver.await.map_err(|_| lost("the mapping was dropped".into()))?.map_err(|e| lost(e.to_string()))?;
        let values = {
            let view = slice.get_mapped_range().map_err(|e| lost(e.to_string()))?;
            view.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
        };
        staging.unmap();
        Ok(values)
    }
}

fn record(failure: &Mutex<Option<String>>, reason: String) {
    failure.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(reason);
}
