//! The KV cache with a sliding window: episodes can run forever, attention never sees
//! more than the training context.

use candle_core::{Result, Tensor};

/// Keys and values of one layer: [heads, kept, head_dim] each.
#[derive(Default)]
pub(super) struct LayerCache {
    keys: Option<Tensor>,
    values: Option<Tensor>,
}

impl LayerCache {
    /// Appends the new keys and values and returns everything attention may look at.
    pub(super) fn append(&mut self, keys: &Tensor, values: &Tensor) -> Result<(Tensor, Tensor)> {
        let join = |old: &Option<Tensor>, new: &Tensor| match old {
            Some(old) => Tensor::cat(&[old, new], 1),
            None => Ok(new.clone()),
        };
        let (k, v) = (join(&self.keys, keys)?, join(&self.values, values)?);
        self.keys = Some(k.clone());
        self.values = Some(v.clone());
        Ok((k, v))
    }

    fn keep_last(&mut self, n: usize) -> Result<()> {
        for t in [&mut self.keys, &mut self.values] {
            if let Some(old) = t {
                let len = old.dim(1)?;
                *t = if n == 0 { None } else { Some(old.narrow(1, len - n.min(len), n.min(len))?) };
            }
        }
        Ok(())
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
        Cache { layers: (0..layers).map(|_| LayerCache::default()).collect(), window, kept: 0, seen: 0 }
    }

    /// Drops the oldest entries so that `n` new ones fit in the window; returns how many stay.
    pub(super) fn make_room(&mut self, n: usize) -> Result<usize> {
        let keep = self.kept.min(self.window.saturating_sub(n));
        if keep < self.kept {
            for layer in &mut self.layers {
                layer.keep_last(keep)?;
            }
            self.kept = keep;
        }
        Ok(keep)
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
            *layer = LayerCache::default();
        }
        self.kept = 0;
        self.seen = 0;
    }
}
