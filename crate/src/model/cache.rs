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

pub struct Cache {
    pub(super) layers: Vec<LayerCache>,
    window: usize,
    kept: usize,
    seen: usize,
}

impl Cache {
    pub(super) fn new(layers: usize, window: usize) -> Self {
        Cache { layers: (0..layers).map(|_| LayerCache::new(window)).collect(), window, kept: 0, seen: 0 }
    }

    /// Drops the oldest entries so that `n` new ones fit in the window; returns how many stay.
    pub(super) fn make_room(&mut self, n: usize) -> usize {
        let keep = self.kept.min(self.window.saturating_sub(n));
        if keep < self.kept {
            for layer in &mut self.layers {
                layer.keep_last(keep);
            }
            self.kept = keep;
        }
        keep
    }

    pub(super) fn advance(&mut self, n: usize) {
        self.kept += n;
        self.seen += n;
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

    /// Forgets everything (a new episode).
    pub fn clear(&mut self) {
        for layer in &mut self.layers {
            layer.start = 0;
            layer.len = 0;
        }
        self.kept = 0;
        self.seen = 0;
    }
}
