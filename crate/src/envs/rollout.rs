//! Rollouts: playing a world's episodes with a policy and keeping the score.
//!
//! One place decides how episodes are seeded and driven, so that the command line, the page
//! and the training data all play exactly the same episodes: episode `i` of a run from seed
//! `s` is the world reset with seed `s + i`, and a random policy draws its actions from its
//! own generator seeded from that episode seed, so a random episode replays exactly too.

use super::{ActionSpec, World};
use crate::tokens::Action;
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::fmt;
use std::str::FromStr;

/// Who chooses the actions, by name: what `--policy` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The world's scripted expert, which sees the privileged state.
    Expert,
    /// Uniformly random actions: the floor every other policy must clear.
    Random,
    /// The trained model, which sees only what the world observes (crate::agent).
    Model,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Expert, Policy::Random, Policy::Model];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Expert => "expert",
            Policy::Random => "random",
            Policy::Model => "model",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Policy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Policy::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            let names: Vec<_> = Policy::ALL.iter().map(|p| p.name()).collect();
            format!("unknown policy '{s}'; the policies are: {}", names.join(", "))
        })
    }
}

/// Why an actor could not act (only the model can fail: a bad observation, a broken model).
pub type ActorError = Box<dyn std::error::Error>;

/// Anything that chooses actions in a world.
pub trait Actor {
    /// A new episode starts from `seed`, the world already reset.
    fn begin(&mut self, world: &dyn World, seed: u64) -> Result<(), ActorError>;
    fn act(&mut self, world: &dyn World) -> Result<Action, ActorError>;
}

/// The world's own scripted expert.
pub struct Expert;

impl Actor for Expert {
    fn begin(&mut self, _: &dyn World, _: u64) -> Result<(), ActorError> {
        Ok(())
    }

    fn act(&mut self, world: &dyn World) -> Result<Action, ActorError> {
        Ok(world.expert())
    }
}

/// Uniform random play, replayable: its generator is seeded from the episode seed.
pub struct Random {
    rng: Pcg64Mcg,
    /// The world's action spec, kept so random play does not ask for it every step.
    action: ActionSpec,
}

impl Random {
    pub fn new() -> Self {
        Random { rng: Pcg64Mcg::seed_from_u64(RANDOM_POLICY_STREAM), action: ActionSpec::Continuous { dims: 0 } }
    }
}

impl Default for Random {
    fn default() -> Self {
        Random::new()
    }
}

impl Actor for Random {
    fn begin(&mut self, world: &dyn World, seed: u64) -> Result<(), ActorError> {
        self.rng = random_policy_rng(seed);
        self.action = world.spec().action;
        Ok(())
    }

    fn act(&mut self, _: &dyn World) -> Result<Action, ActorError> {
        Ok(random_action(&self.action, &mut self.rng))
    }
}

/// The seed of episode `index` of a run that starts from `seed`.
pub fn episode_seed(seed: u64, index: u32) -> u64 {
    seed.wrapping_add(u64::from(index))
}

/// Keeps the random policy's draws apart from the world's own, which use the bare episode seed.
const RANDOM_POLICY_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// The generator random play draws its actions from in the episode of `seed`, for anyone who
/// plays episodes step by step (the page does) and must play exactly these.
pub fn random_policy_rng(seed: u64) -> Pcg64Mcg {
    Pcg64Mcg::seed_from_u64(seed ^ RANDOM_POLICY_STREAM)
}

/// A uniformly random action that fits `spec`.
pub fn random_action(spec: &ActionSpec, rng: &mut impl Rng) -> Action {
    match spec {
        ActionSpec::Discrete { labels } => Action::Discrete(vec![rng.random_range(0..labels.len().max(1)) as u32]),
        ActionSpec::Continuous { dims } => {
            Action::Continuous((0..*dims).map(|_| rng.random_range(-1.0..=1.0)).collect())
        }
    }
}

/// An episode being played: a world reset from a seed, and the actor playing it.
pub struct Rollout<'w> {
    world: &'w mut dyn World,
    actor: &'w mut dyn Actor,
    steps: u32,
    /// The world's cap, enforced here too, so that no world can keep a rollout going forever.
    max_steps: u32,
}

impl<'w> Rollout<'w> {
    pub fn new(world: &'w mut dyn World, actor: &'w mut dyn Actor, seed: u64) -> Result<Self, ActorError> {
        world.reset(seed);
        actor.begin(&*world, seed)?;
        let max_steps = world.spec().max_steps;
        Ok(Rollout { world, actor, steps: 0, max_steps })
    }

    pub fn world(&self) -> &dyn World {
        &*self.world
    }

    pub fn steps(&self) -> u32 {
        self.steps
    }

    pub fn done(&self) -> bool {
        self.world.done() || self.steps >= self.max_steps
    }

    /// Plays one step and returns its reward, or `None` once the episode is over.
    pub fn step(&mut self) -> Result<Option<f32>, ActorError> {
        if self.done() {
            return Ok(None);
        }
        let action = self.actor.act(&*self.world)?;
        self.steps += 1;
        Ok(Some(self.world.step(&action)))
    }

    /// Plays to the end and returns the episode's score.
    pub fn finish(mut self) -> Result<f32, ActorError> {
        while self.step()?.is_some() {}
        Ok(self.world.score())
    }
}

/// Scores over several episodes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Evaluation {
    pub mean: f32,
    pub std: f32,
    pub scores: Vec<f32>,
}

impl Evaluation {
    pub fn of(scores: Vec<f32>) -> Self {
        let n = scores.len().max(1) as f64;
        let mean = scores.iter().map(|&s| f64::from(s)).sum::<f64>() / n;
        let variance = scores.iter().map(|&s| (f64::from(s) - mean).powi(2)).sum::<f64>() / n;
        Evaluation { mean: mean as f32, std: variance.sqrt() as f32, scores }
    }
}

/// Plays `episodes` episodes from seeds `seed, seed + 1, ...`.
pub fn evaluate(
    world: &mut dyn World,
    actor: &mut dyn Actor,
    episodes: u32,
    seed: u64,
) -> Result<Evaluation, ActorError> {
    evaluate_reporting(world, actor, episodes, seed, &|| {})
}

/// [`evaluate`], calling `done` after each episode (a progress bar's tick).
pub fn evaluate_reporting(
    world: &mut dyn World,
    actor: &mut dyn Actor,
    episodes: u32,
    seed: u64,
    done: &dyn Fn(),
) -> Result<Evaluation, ActorError> {
    let scores = (0..episodes)
        .map(|i| {
            let score = Rollout::new(&mut *world, &mut *actor, episode_seed(seed, i))?.finish();
            done();
            score
        })
        .collect::<Result<_, _>>()?;
    Ok(Evaluation::of(scores))
}

/// Frames of one episode, for a contact sheet.
pub struct Filmstrip {
    pub frames: Vec<RgbaImage>,
    pub steps: Vec<u32>,
    pub score: f32,
}

/// Films `count` frames evenly spaced over one episode. The episode is played twice (to
/// learn its length, then to film), which is why actors must replay exactly from a seed.
pub fn film(world: &mut dyn World, actor: &mut dyn Actor, seed: u64, count: u32) -> Result<Filmstrip, ActorError> {
    let mut rollout = Rollout::new(&mut *world, &mut *actor, seed)?;
    while rollout.step()?.is_some() {}
    let length = rollout.steps();
    let count = count.clamp(1, length + 1);
    let wanted: Vec<u32> = match count {
        1 => vec![0],
        _ => (0..count).map(|i| (u64::from(i) * u64::from(length) / u64::from(count - 1)) as u32).collect(),
    };
    let mut rollout = Rollout::new(world, actor, seed)?;
    let mut frames = Vec::with_capacity(wanted.len());
    for &step in &wanted {
        while rollout.steps() < step && rollout.step()?.is_some() {}
        frames.push(rollout.world().render());
    }
    let score = rollout.finish()?;
    Ok(Filmstrip { frames, steps: wanted, score })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{Kind, WorldSpec};
    use crate::tokens::Observation;

    /// A world that counts: reward 1 for action 1, nothing for action 0; it never says it is done,
    /// which the rollout's own cap must catch. Its expert always picks 1.
    struct Counter {
        seed: u64,
        steps: u32,
        score: f32,
    }

    impl World for Counter {
        fn spec(&self) -> WorldSpec {
            WorldSpec {
                name: "counter",
                kind: Kind::Atari,
                action: ActionSpec::Discrete { labels: vec!["no", "yes"] },
                description: "Counts.",
                max_steps: 10,
            }
        }
        fn reset(&mut self, seed: u64) {
            (self.seed, self.steps, self.score) = (seed, 0, 0.0);
        }
        fn observe(&self) -> Observation {
            Observation { discrete: vec![self.steps as i64], ..Default::default() }
        }
        fn step(&mut self, action: &Action) -> f32 {
            self.steps += 1;
            let reward = if *action == Action::Discrete(vec![1]) { 1.0 } else { 0.0 };
            self.score += reward;
            reward
        }
        fn render(&self) -> RgbaImage {
            RgbaImage::from_pixel(2, 1, image::Rgba([self.steps as u8, self.seed as u8, 0, 255]))
        }
        fn score(&self) -> f32 {
            self.score
        }
        fn done(&self) -> bool {
            false
        }
        fn expert(&self) -> Action {
            Action::Discrete(vec![1])
        }
    }

    fn counter() -> Counter {
        Counter { seed: 0, steps: 0, score: 0.0 }
    }

    #[test]
    fn the_rollout_stops_at_the_cap_even_if_the_world_does_not() {
        let mut world = counter();
        let mut expert = Expert;
        let mut rollout = Rollout::new(&mut world, &mut expert, 3).unwrap();
        let rewards: Vec<f32> = std::iter::from_fn(|| rollout.step().unwrap()).collect();
        assert_eq!(rewards, vec![1.0; 10]);
        assert_eq!(rollout.steps(), 10);
        assert_eq!(world.seed, 3);
    }

    #[test]
    fn evaluate_seeds_episodes_in_turn_and_summarises_them() {
        let mut world = counter();
        let expert = evaluate(&mut world, &mut Expert, 3, 40).unwrap();
        assert_eq!(expert, Evaluation { mean: 10.0, std: 0.0, scores: vec![10.0; 3] });
        assert_eq!(world.seed, 42);
        let mut random = |seed| evaluate(&mut world, &mut Random::new(), 20, seed).unwrap();
        let first = random(0);
        assert!(first.mean > 2.0 && first.mean < 8.0 && first.std > 0.0, "{first:?}");
        assert_eq!(first, random(0), "random play must replay exactly");
        assert_ne!(first.scores, random(1).scores);
    }

    #[test]
    fn mean_and_deviation_are_the_textbook_ones() {
        let e = Evaluation::of(vec![2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((e.mean, e.std), (5.0, 2.0));
        assert_eq!(Evaluation::of(vec![]), Evaluation { mean: 0.0, std: 0.0, scores: vec![] });
    }

    #[test]
    fn random_actions_fit_their_spec() {
        let mut rng = Pcg64Mcg::seed_from_u64(0);
        for spec in [ActionSpec::Discrete { labels: vec!["a", "b", "c"] }, ActionSpec::Continuous { dims: 4 }] {
            for _ in 0..100 {
                assert!(spec.accepts(&random_action(&spec, &mut rng)));
            }
        }
    }

    #[test]
    fn a_filmstrip_spans_the_episode() {
        let mut world = counter();
        let strip = film(&mut world, &mut Expert, 7, 6).unwrap();
        assert_eq!(strip.steps, vec![0, 2, 4, 6, 8, 10]);
        let steps_seen: Vec<u8> = strip.frames.iter().map(|f| f.get_pixel(0, 0).0[0]).collect();
        assert_eq!(steps_seen, vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(strip.score, 10.0);
        // More frames than steps: one per step, no repeats.
        assert_eq!(film(&mut world, &mut Expert, 7, 100).unwrap().frames.len(), 11);
        assert_eq!(film(&mut world, &mut Expert, 7, 1).unwrap().steps, vec![0]);
    }

    #[test]
    fn policies_parse_by_name() {
        assert_eq!("expert".parse(), Ok(Policy::Expert));
        assert_eq!("random".parse(), Ok(Policy::Random));
        assert_eq!("model".parse(), Ok(Policy::Model));
        let error = "psychic".parse::<Policy>().unwrap_err();
        assert!(error.contains("expert, random, model"), "{error}");
    }
}
