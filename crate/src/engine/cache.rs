//! The KV cache on the GPU: per layer, a ring of `context` key and value rows. New rows
//! go to the slots after the window's survivors, overwriting only rows that slid out, so
//! attention sees exactly what the candle cache keeps (ALiBi is relative: nothing moves).

use crate::model::Occupancy;

/// Keys and values of one layer, and the bind groups that write and read them.
pub(crate) struct CacheLayer {
    /// Held for the bind groups, which only borrow them on the web backend.
    pub _keys_and_values: [wgpu::Buffer; 2],
    pub store: wgpu::BindGroup,
    pub attend: wgpu::BindGroup,
}

/// What attention may see in one call.
#[derive(Clone, Copy)]
pub(crate) struct Window {
    /// Cached rows that stay visible.
    pub past: usize,
    /// The ring slot of the oldest of them.
    pub ring_start: usize,
}

pub struct GpuCache {
    /// The model this cache was made for: its bind groups point into that model's scratch.
    pub(crate) model: u64,
    pub(crate) layers: Vec<CacheLayer>,
    /// Where results are copied to be read back (each cache has its own, so two caches
    /// of one model can be read back in turn in the browser).
    pub(crate) staging: wgpu::Buffer,
    window: usize,
    occupancy: Occupancy,
    /// The ring slot the next row goes to.
    next_slot: usize,
}

impl GpuCache {
    pub(crate) fn new(model: u64, layers: Vec<CacheLayer>, staging: wgpu::Buffer, window: usize) -> Self {
        GpuCache { model, layers, staging, window, occupancy: Occupancy::new(window), next_slot: 0 }
    }

    /// The oldest entries drop out so that `n` new ones fit in the window, as in the candle cache.
    pub(crate) fn window_for(&self, n: usize) -> Window {
        let past = self.occupancy.survivors(n);
        Window { past, ring_start: (self.next_slot + self.window - past) % self.window }
    }

    /// Records that `n` rows were written after `window`'s survivors.
    pub(crate) fn advance(&mut self, window: Window, n: usize) {
        self.occupancy.advance(window.past, n);
        self.next_slot = (self.next_slot + n) % self.window;
    }

    /// Bytes of GPU memory the keys, values and readback buffer hold.
    pub fn memory_bytes(&self) -> u64 {
        let rings: u64 = self.layers.iter().flat_map(|l| &l._keys_and_values).map(wgpu::Buffer::size).sum();
        rings + self.staging.size()
    }

    pub fn occupancy(&self) -> Occupancy {
        self.occupancy
    }

    /// Forgets everything (a new episode). The GPU rows stay; nothing reads them any more.
    pub fn clear(&mut self) {
        self.occupancy.clear();
        self.next_slot = 0;
    }
}
