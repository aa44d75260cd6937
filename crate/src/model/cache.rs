//! The KV cache with a sliding window: episodes can run forever, attention never sees
//! more than the training context.

use candle_core::{Result, Tensor};

/// Keys and values of one layer in buffers of twice the window, [heads, 2 * window,
/// head_dim] each: new rows are written in place after the kept ones, and only when the
/// buffer's end is reached are the kept rows moved back to its start (once per window's
/// worth of rows), so a step copies its own rows rather than the whole cache.
pub(super) struct LayerCache {
    buffers: Option<(Tensor, Tensor)>,
    capacity: usize,
    /// The first kept row and how many there are.
    start: usize,
    len: usize,
}

impl LayerCache {
    fn new(window: usize) -> Self {
        LayerCache { buffers: None, capacity: 2 * window.max(1), start: 0, len: 0 }
    }

    /// Appends the new keys and values and returns everything attention may look at.
    pub(super) fn append(&mut self, keys: &Tensor, values: &Tensor) -> Result<(Tensor, Tensor)> {
        let n = keys.dim(1)?;
        let (k, v) = match &self.buffers {
            Some(buffers) => buffers.clone(),
            None => {
                let (heads, _, head_dim) = keys.dims3()?;
                let empty = || Tensor::zeros((heads, self.capacity, head_dim), keys.dtype(), keys.device());
                self.buffers.insert((empty()?, empty()?)).clone()
            }
        };
        if self.start + self.len + n > self.capacity {
            for buffer in [&k, &v] {
                let kept = buffer.narrow(1, self.start, self.len)?.contiguous()?;
                buffer.slice_set(&kept, 1, 0)?;
            }
            self.start = 0;
        }
        k.slice_set(keys, 1, self.start + self.len)?;
        v.slice_set(values, 1, self.start + self.len)?;
        self.len += n;
        Ok((k.narrow(1, self.start, self.len)?, v.narrow(1, self.start, self.len)?))
    }

    fn keep_last(&mut self, n: usize) {
        let n = n.min(self.len);
        self.start += self.len - n;
        self.len = n;
    }
}

/// How full a sliding window is: what attention can still see, and all that was fed.
/// Both KV caches (candle's here, the GPU's ring) keep their books with it, so they drop
/// exactly the same elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occupancy {
    window: usize,
    kept: usize,
    seen: usize,
}

impl Occupancy {
    pub(crate) fn new(window: usize) -> Self {
        Occupancy { window, kept: 0, seen: 0 }
    }

    /// How many kept elements stay when `n` new ones come: the oldest drop out of the window.
    pub(crate) fn survivors(&self, n: usize) -> usize {
        self.kept.min(self.window.saturating_sub(n))
    }

    /// Records that `n` new elements follow `past` survivors.
    pub(crate) fn advance(&mut self, past: usize, n: usize) {
        self.kept = past + n;
        self.seen += n;
    }

    pub(crate) fn clear(&mut self) {
        *self = Occupancy::new(self.window);
    }

    /// Elements attention can still see.
    pub fn len(&self) -> usize {
        self.kept
    }

    pub fn is_empty(&self) -> bool {
        self.kept == 0
    }

    /// Elements fed since the cache was made, including those that slid out of the window.
    pub fn seen(&self) -> usize {
        self.seen
    }
}

pub struct Cache {
    pub(super) layers: Vec<LayerCache>,
    occupancy: Occupancy,
}

impl Cache {
    pub(super) fn new(layers: usize, window: usize) -> Self {
        Cache { layers: (0..layers).map(|_| LayerCache::new(window)).collect(), occupancy: Occupancy::new(window) }
    }

    /// Drops the oldest entries so that `n` new ones fit in the window; returns how many stay.
    pub(super) fn make_room(&mut self, n: usize) -> usize {
        let keep = self.occupancy.survivors(n);
        for layer in &mut self.layers {
            layer.keep_last(keep);
        }
        keep
    }

    /// Records that `n` new elements follow the `past` that stayed.
    pub(super) fn advance(&mut self, past: usize, n: usize) {
        self.occupancy.advance(past, n);
    }

    pub fn occupancy(&self) -> Occupancy {
        self.occupancy
    }

    /// Forgets everything (a new episode).
    pub fn clear(&mut self) {
        for layer in &mut self.layers {
            layer.start = 0;
            layer.len = 0;
        }
        self.occupancy.clear();
    }
}
