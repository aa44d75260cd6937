//! A decoding context: what the network has been fed in one episode or one description,
//! on the CPU or the GPU, with the elements it was fed (up to two windows) so that it can
//! move to the other backend and lose nothing. Where the GPU fails, the context carries on
//! on the CPU and says why.

use super::{Backend, Result};
use crate::engine::{Constraint, EngineError, GpuCache, GpuModel};
use crate::model::generate::{Sampling, probabilities, sample};
use crate::model::{Cache, Gatito, ModelError};
use crate::tokens::Sequence;
use rand::Rng;
use rand_pcg::Pcg64Mcg;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

/// A token and the probabilities (at temperature 1) over the ids it was chosen among.
pub(crate) struct Choice {
    pub token: u32,
    pub probabilities: Vec<f32>,
}

/// The networks an agent may use: the CPU's always (the reference, and the fallback), the
/// GPU's while it works.
#[derive(Clone)]
pub struct Networks {
    pub cpu: Arc<Gatito>,
    pub gpu: Option<Rc<GpuModel>>,
}

/// A context being decoded in (an episode, or a description) on one backend, with the
/// latest elements it was fed, so that it can move to the other backend.
pub(crate) struct Context {
    cache: BackendCache,
    fed: Sequence,
}

enum BackendCache {
    Cpu(Cache),
    Gpu(GpuCache),
}

/// What a call on the GPU came to: its result, or the CPU's turn (with why the GPU was
/// given up, if it was tried and failed).
enum OnGpu<T> {
    Done(T),
    CpuNext(Option<String>),
}

impl Context {
    /// A new context on the GPU if there is one, else on the CPU; where the GPU cannot
    /// make the cache, the agent gives it up and `fell_back` says why.
    pub async fn new(networks: &mut Networks, fell_back: &mut Option<String>) -> Result<Context> {
        let cache = match &networks.gpu {
            Some(gpu) => match gpu.new_cache().await {
                Ok(cache) => BackendCache::Gpu(cache),
                Err(EngineError::Model(e)) => return Err(e.into()),
                Err(e) => {
                    networks.gpu = None;
                    fell_back.get_or_insert(format!("{e}; the CPU took over"));
                    BackendCache::Cpu(networks.cpu.new_cache())
                }
            },
            None => BackendCache::Cpu(networks.cpu.new_cache()),
        };
        Ok(Context { cache, fed: Sequence::default() })
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub fn seen(&self) -> usize {
        match &self.cache {
            BackendCache::Cpu(cache) => cache.occupancy().seen(),
            BackendCache::Gpu(cache) => cache.occupancy().seen(),
        }
    }

    /// Forgets what was fed, keeping the cache's memory (a new episode or description).
    pub fn clear(&mut self) {
        match &mut self.cache {
            BackendCache::Cpu(cache) => cache.clear(),
            BackendCache::Gpu(cache) => cache.clear(),
        }
        self.fed = Sequence::default();
    }

    pub fn backend(&self) -> Backend {
        match self.cache {
            BackendCache::Cpu(_) => Backend::Cpu,
            BackendCache::Gpu(_) => Backend::Gpu,
        }
    }

    /// Remembers `chunk` as fed, keeping at most two windows' worth.
    fn record(&mut self, chunk: &Sequence, window: usize) {
        self.fed.append(chunk);
        if self.fed.len() > 2 * window {
            self.fed = self.fed.slice_elements(self.fed.len() - window, self.fed.len());
        }
    }

    /// The last `window` elements fed (fewer at the start): what attention can still see.
    pub fn recent(&self, window: usize) -> Sequence {
        let len = self.fed.len();
        self.fed.slice_elements(len - window.min(len), len)
    }

    /// The same context on the CPU: what attention could see, fed again.
    fn move_to_cpu(&mut self, cpu: &Gatito) -> Result<()> {
        let mut cache = cpu.new_cache();
        let recent = self.recent(cpu.config.context);
        if !recent.is_empty() {
            cpu.forward_last(&recent, &mut cache)?;
        }
        self.cache = BackendCache::Cpu(cache);
        Ok(())
    }

    /// Feeds `chunk` without choosing anything (a prompt, a prefill); returns why the GPU
    /// was given up, if it was.
    pub async fn feed(&mut self, networks: &mut Networks, chunk: &Sequence) -> Result<Option<String>> {
        let attempt = match (&mut self.cache, &networks.gpu) {
            (BackendCache::Gpu(cache), Some(gpu)) => Some(gpu.forward_last(chunk, cache).await),
            _ => None,
        };
        let fell_back = match self.settle(networks, chunk, attempt)? {
            OnGpu::Done(_) => return Ok(None),
            OnGpu::CpuNext(why) => why,
        };
        self.on_cpu(&networks.cpu)?.forward_last(chunk, self.cpu_cache()?)?;
        self.record(chunk, networks.cpu.config.context);
        Ok(fell_back)
    }

    /// Feeds `chunk` and chooses the next token within `allowed`, never `excluded`; also
    /// returns why the GPU was given up, if it was.
    pub async fn choose(
        &mut self,
        networks: &mut Networks,
        chunk: &Sequence,
        allowed: Range<usize>,
        excluded: Option<usize>,
        sampling: Sampling,
        rng: &mut Pcg64Mcg,
    ) -> Result<(Choice, Option<String>)> {
        let attempt = match (&mut self.cache, &networks.gpu) {
            (BackendCache::Gpu(cache), Some(gpu)) => {
                // Drawn only when sampling, so the random stream is the CPU path's.
                let draw = if sampling == Sampling::Greedy { 0.0 } else { rng.random::<f32>() };
                let constraint = Constraint { allowed: allowed.clone(), excluded, sampling, draw };
                Some(gpu.decide(chunk, cache, &constraint).await)
            }
            _ => None,
        };
        let fell_back = match self.settle(networks, chunk, attempt)? {
            OnGpu::Done(choice) => {
                return Ok((Choice { token: choice.token, probabilities: choice.probabilities }, None));
            }
            OnGpu::CpuNext(why) => why,
        };
        let cpu = self.on_cpu(&networks.cpu)?;
        let mut logits = cpu.forward_last(chunk, self.cpu_cache()?)?;
        if let Some(e) = excluded.filter(|&e| e < logits.len()) {
            logits[e] = f32::NEG_INFINITY;
        }
        let probabilities = probabilities(&logits, allowed.clone(), 1.0);
        let token = sample(&logits, allowed, sampling, rng) as u32;
        self.record(chunk, networks.cpu.config.context);
        Ok((Choice { token, probabilities }, fell_back))
    }

    /// Records `chunk` where the GPU took it (`attempt`, if there was one); where the GPU
    /// failed, the agent stops using it and this context moves to the CPU with what it was
    /// fed. A bad input is an error on either backend.
    fn settle<T>(
        &mut self,
        networks: &mut Networks,
        chunk: &Sequence,
        attempt: Option<crate::engine::Result<T>>,
    ) -> Result<OnGpu<T>> {
        match attempt {
            Some(Ok(value)) => {
                self.record(chunk, networks.cpu.config.context);
                Ok(OnGpu::Done(value))
            }
            Some(Err(EngineError::Model(e))) => Err(e.into()),
            Some(Err(error)) => {
                networks.gpu = None;
                self.move_to_cpu(&networks.cpu)?;
                Ok(OnGpu::CpuNext(Some(format!("{error}; the CPU took over"))))
            }
            None => Ok(OnGpu::CpuNext(None)),
        }
    }

    fn on_cpu<'a>(&mut self, cpu: &'a Gatito) -> Result<&'a Gatito> {
        if matches!(self.cache, BackendCache::Gpu(_)) {
            self.move_to_cpu(cpu)?;
        }
        Ok(cpu)
    }

    fn cpu_cache(&mut self) -> Result<&mut Cache> {
        match &mut self.cache {
            BackendCache::Cpu(cache) => Ok(cache),
            BackendCache::Gpu(_) => Err(ModelError::Input("the context is not on the CPU".into()).into()),
        }
    }
}
