//! The agent: the model acting in a world and describing images, on the CPU (candle) or
//! the GPU (the WGSL engine).
//!
//! Acting: each step feeds the new observation and the separator, then decodes the
//! action token by token, each one constrained to the values the world's action spec
//! allows, until the action is complete. The last action token is fed at the start of
//! the next step together with the next observation, so a step costs one prefill and
//! one single-token pass per further action token.
//!
//! Describing: an image (and a question, if any) form a multimodal sentence; text is
//! decoded until end-of-text or a length cap, in a cache of its own so that captioning
//! never disturbs an episode in progress.
//!
//! Backends: the CPU model is always at hand. An agent given a GPU model runs there until
//! the GPU fails (a lost device, say); then it rebuilds the episode's context on the CPU
//! from the elements it fed, which it keeps for this, and goes on: the episode loses
//! nothing. The methods are `async` because GPU results arrive asynchronously in the
//! browser; natively, `pollster::block_on` drives them.

mod context;

pub(crate) use context::Context;
pub use context::Networks;

use crate::engine::GpuModel;
use crate::envs::ActionSpec;
use crate::model::generate::Sampling;
use crate::model::{Gatito, ModelError};
use crate::tokens::image::PositionMode;
use crate::tokens::sequence::{ACTION_POSITION, Part};
use crate::tokens::values::{self, ValueKind};
use crate::tokens::{Action, Element, Modality, Observation, Sequence, SequenceBuilder, TokenError, Vocabulary};
use image::RgbImage;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;
use thiserror::Error;

/// The longest caption or answer, in tokens.
pub const MAX_TEXT_TOKENS: usize = 48;

#[derive(Debug, Error)]
pub enum AgentError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Tokens(#[from] TokenError),
}

pub type Result<T> = std::result::Result<T, AgentError>;

/// Where the network runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    Cpu,
    Gpu,
}

/// One chosen action, with what the page shows of how it was chosen.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Decision {
    pub action: Action,
    /// The token ids decoded, one per action dimension.
    pub tokens: Vec<u32>,
    /// For each action token, the probabilities over the allowed values.
    pub distributions: Vec<Vec<f32>>,
    /// Where it was decided.
    pub backend: Backend,
    /// Why the GPU was given up during this decision, if it was.
    pub fell_back: Option<String>,
}

/// One agent per episode being played; agents share the model's weights.
pub struct Agent {
    networks: Networks,
    vocabulary: Vocabulary,
    episode: Option<Context>,
    /// The last action token, fed with the next observation.
    pending: Option<Element>,
    /// Why the GPU was given up since the last decision reported it.
    fell_back: Option<String>,
    sampling: Sampling,
    rng: Pcg64Mcg,
}

impl Agent {
    /// An agent on the CPU.
    pub fn new(model: Arc<Gatito>, vocabulary: Vocabulary, sampling: Sampling, seed: u64) -> Self {
        Agent {
            networks: Networks { cpu: model, gpu: None },
            vocabulary,
            episode: None,
            pending: None,
            fell_back: None,
            sampling,
            rng: Pcg64Mcg::seed_from_u64(seed),
        }
    }

    pub fn model(&self) -> &Arc<Gatito> {
        &self.networks.cpu
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// The GPU model it runs on, while it does.
    pub fn gpu(&self) -> Option<&Rc<GpuModel>> {
        self.networks.gpu.as_ref()
    }

    /// Where the episode runs now.
    pub fn backend(&self) -> Backend {
        self.episode.as_ref().map(Context::backend).unwrap_or(if self.networks.gpu.is_some() {
            Backend::Gpu
        } else {
            Backend::Cpu
        })
    }

    /// Elements the episode has fed, including those that slid out of the window.
    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(crate) fn seen(&self) -> usize {
        self.episode.as_ref().map_or(0, Context::seen)
    }

    /// Moves to `gpu` (a model of the same weights), or back to the CPU with `None`. An
    /// episode in progress moves along: what it saw is fed again on the new backend.
    pub async fn use_gpu(&mut self, gpu: Option<Rc<GpuModel>>) -> Result<()> {
        self.networks.gpu = gpu;
        let Some(old) = self.episode.take() else { return Ok(()) };
        let mut moved = Context::new(&mut self.networks, &mut self.fell_back).await?;
        let recent = old.recent(self.networks.cpu.config.context);
        if !recent.is_empty()
            && let Some(why) = moved.feed(&mut self.networks, &recent).await?
        {
            self.fell_back.get_or_insert(why);
        }
        self.episode = Some(moved);
        Ok(())
    }

    /// Starts an episode, optionally after a demonstration of the task (Gato's prompt).
    pub async fn begin_episode(&mut self, prompt: Option<&Sequence>) -> Result<()> {
        self.pending = None;
        let mut episode = Context::new(&mut self.networks, &mut self.fell_back).await?;
        if let Some(prompt) = prompt {
            let prompt = prompt.tail(self.networks.cpu.config.context / 2);
            if !prompt.is_empty()
                && let Some(why) = episode.feed(&mut self.networks, &prompt).await?
            {
                self.fell_back.get_or_insert(why);
            }
        }
        self.episode = Some(episode);
        Ok(())
    }

    /// The values an action token may take, as token ids.
    fn allowed(&self, spec: &ActionSpec) -> Range<usize> {
        let first = self.vocabulary.value(0) as usize;
        match spec {
            ActionSpec::Discrete { labels } => first..first + labels.len().max(1),
            ActionSpec::Continuous { .. } => first..first + values::VALUE_BINS as usize,
        }
    }

    /// Observes, then decodes one complete action for `spec`.
    pub async fn act(&mut self, observation: &Observation, spec: &ActionSpec) -> Result<Decision> {
        let mut builder = SequenceBuilder::new(&self.vocabulary, PositionMode::Eval);
        builder.observation(observation)?;
        let mut chunk = Sequence::from_parts(self.pending.take().into_iter().collect(), vec![]);
        chunk.append(&builder.finish());

        let allowed = self.allowed(spec);
        let mut episode = match self.episode.take() {
            Some(episode) => episode,
            None => Context::new(&mut self.networks, &mut self.fell_back).await?,
        };
        let (mut tokens, mut distributions, mut fell_back) = (vec![], vec![], self.fell_back.take());
        for _ in 0..spec.tokens() {
            let step =
                episode.choose(&mut self.networks, &chunk, allowed.clone(), None, self.sampling, &mut self.rng).await;
            let (choice, gave_up) = match step {
                Ok(step) => step,
                Err(e) => {
                    self.episode = Some(episode);
                    return Err(e);
                }
            };
            fell_back = fell_back.or(gave_up);
            chunk = Sequence::from_parts(vec![action_element(choice.token)], vec![]);
            tokens.push(choice.token);
            distributions.push(choice.probabilities);
        }
        // The last action token is fed with the next observation.
        self.pending = tokens.last().map(|&id| action_element(id));
        let backend = episode.backend();
        self.episode = Some(episode);
        let first = self.vocabulary.value(0);
        let bins = tokens.iter().map(|&id| id - first);
        let action = match spec {
            ActionSpec::Discrete { .. } => Action::Discrete(bins.collect()),
            ActionSpec::Continuous { .. } => Action::Continuous(
                bins.map(|b| values::unbin(ValueKind::Action, b))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(TokenError::from)?,
            ),
        };
        Ok(Decision { action, tokens, distributions, backend, fell_back })
    }

    /// Captions an image, or answers a question about it. `on_text` sees the text so far
    /// after each token, so the page can stream it. Byte-level BPE can end a token
    /// mid-character, which decodes as U+FFFD until the next token completes it: such a tail
    /// is held back, so what `on_text` shows is never rewritten.
    pub async fn describe(
        &mut self,
        image: &RgbImage,
        question: Option<&str>,
        mut on_text: impl FnMut(&str),
    ) -> Result<String> {
        let mut builder = SequenceBuilder::new(&self.vocabulary, PositionMode::Eval);
        let mut parts = vec![Part::Image(image)];
        if let Some(q) = question {
            parts.push(Part::Context(q));
        }
        builder.sentence(&parts)?;
        let prompt = builder.finish();
        let mut context = Context::new(&mut self.networks, &mut self.fell_back).await?;
        let text = &self.vocabulary.text;
        let (end, separator) = (text.end_of_text(), text.separator() as usize);
        let mut chunk = prompt.clone();
        let mut ids = vec![];
        let mut said = String::new();
        for position in prompt.len()..prompt.len() + MAX_TEXT_TOKENS {
            let allowed = 0..text.size() as usize;
            let (choice, gave_up) = context
                .choose(&mut self.networks, &chunk, allowed, Some(separator), self.sampling, &mut self.rng)
                .await?;
            if let Some(why) = gave_up {
                self.fell_back.get_or_insert(why);
            }
            if choice.token == end {
                break;
            }
            ids.push(choice.token);
            said = text.decode(&ids).map_err(TokenError::from)?;
            on_text(said.trim_end_matches('\u{FFFD}'));
            let element = Element {
                modality: Modality::Text,
                id: choice.token,
                local_position: (position as u32).min(ACTION_POSITION - 1),
                target: None,
            };
            chunk = Sequence::from_parts(vec![element], vec![]);
        }
        Ok(said)
    }
}

/// The model playing a world: it sees only what the world observes. (Natively only: the
/// page steps its agents itself, awaiting each decision.)
#[cfg(not(target_arch = "wasm32"))]
impl crate::envs::rollout::Actor for Agent {
    fn begin(
        &mut self,
        _: &dyn crate::envs::World,
        _: u64,
    ) -> std::result::Result<(), crate::envs::rollout::ActorError> {
        Ok(pollster::block_on(self.begin_episode(None))?)
    }

    fn act(&mut self, world: &dyn crate::envs::World) -> std::result::Result<Action, crate::envs::rollout::ActorError> {
        Ok(pollster::block_on(Agent::act(self, &world.observe(), &world.spec().action))?.action)
    }
}

fn action_element(id: u32) -> Element {
    Element { modality: Modality::Action, id, local_position: ACTION_POSITION, target: None }
}

// These read the tiny model from disk, which the browser cannot.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::model::{ModelFiles, argmax};
    use candle_core::Device;
    use pollster::block_on;

    fn agent() -> Agent {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny");
        let (model, vocabulary) = ModelFiles::read(std::path::Path::new(dir)).unwrap().load(&Device::Cpu).unwrap();
        Agent::new(Arc::new(model), vocabulary, Sampling::Greedy, 0)
    }

    fn frame(shade: u8) -> Observation {
        Observation { image: Some(RgbImage::from_pixel(64, 64, image::Rgb([shade, 40, 200]))), ..Default::default() }
    }

    #[test]
    fn actions_fit_the_spec_and_come_with_their_distributions() {
        let mut agent = agent();
        let discrete = ActionSpec::Discrete { labels: vec!["noop", "left", "right"] };
        let d = block_on(agent.act(&frame(0), &discrete)).unwrap();
        let Action::Discrete(a) = &d.action else { panic!("{d:?}") };
        assert!(a.len() == 1 && a[0] < 3);
        assert_eq!(d.distributions[0].len(), 3);
        assert!((d.distributions[0].iter().sum::<f32>() - 1.0).abs() < 1e-5);

        let continuous = ActionSpec::Continuous { dims: 2 };
        let state = Observation { continuous: vec![0.3, -2.0, 7.0], ..Default::default() };
        let d = block_on(agent.act(&state, &continuous)).unwrap();
        let Action::Continuous(a) = &d.action else { panic!("{d:?}") };
        assert_eq!(a.len(), 2);
        assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
        assert_eq!(d.distributions[1].len(), 1024);
    }

    /// Incremental decoding with the deferred last action token must choose what one
    /// pass over the whole episode so far would choose.
    #[test]
    fn stepping_matches_one_pass_over_the_episode() {
        let mut agent = agent();
        let spec = ActionSpec::Discrete { labels: vec!["a", "b", "c", "d"] };
        block_on(agent.begin_episode(None)).unwrap();
        let first = block_on(agent.act(&frame(10), &spec)).unwrap();
        let second = block_on(agent.act(&frame(250), &spec)).unwrap();

        let mut b = SequenceBuilder::new(agent.vocabulary(), PositionMode::Eval);
        b.timestep(&frame(10), &first.action).unwrap();
        b.observation(&frame(250)).unwrap();
        let whole = b.finish();
        let logits = agent.model().forward_last(&whole, &mut agent.model().new_cache()).unwrap();
        let start = agent.vocabulary().value(0) as usize;
        assert_eq!(second.tokens[0] as usize, start + argmax(&logits[start..start + 4]));
        assert_eq!(agent.seen(), whole.len());
    }

    #[test]
    fn descriptions_stop_at_the_cap_and_stream_their_text() {
        let mut agent = agent();
        let image = RgbImage::from_pixel(30, 50, image::Rgb([200, 10, 10]));
        let mut streamed = vec![];
        let text =
            block_on(agent.describe(&image, Some("what colour is it?"), |t| streamed.push(t.to_string()))).unwrap();
        assert!(streamed.len() <= MAX_TEXT_TOKENS);
        assert_eq!(streamed.last().map(String::as_str).unwrap_or(""), text.trim_end_matches('\u{FFFD}'));
        for pair in streamed.windows(2) {
            assert!(pair[1].starts_with(&pair[0]), "streamed text is only ever extended: {pair:?}");
        }
        assert!(agent.episode.is_none(), "describing leaves the episode alone");
    }

    #[test]
    fn bad_observations_are_errors_not_panics() {
        let mut agent = agent();
        let spec = ActionSpec::Continuous { dims: 1 };
        let bad = Observation { continuous: vec![f32::NAN], ..Default::default() };
        assert!(matches!(block_on(agent.act(&bad, &spec)), Err(AgentError::Tokens(_))));
        assert!(
            block_on(agent.act(&Observation::default(), &spec)).is_ok(),
            "an empty observation is just the separator"
        );
    }
}
