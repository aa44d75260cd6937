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

/// Who chooses the actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// The world's scripted expert, which sees the privileged state.
    Expert,
    /// Uniformly random actions: the floor every other policy must clear.
    Random,
}

impl Policy {
    pub const ALL: [Policy; 2] = [Policy::Expert, Policy::Random];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Expert => "expert",
            Policy::Random => "random",
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

/// An episode being played: a world reset from a seed, and the policy playing it.
pub struct Rollout<'w> {
    world: &'w mut dyn World,
    policy: Policy,
    /// The world's action spec, kept so random play does not ask for it every step.
    action: ActionSpec,
    rng: Pcg64Mcg,
    steps: u32,
    /// The world's cap, enforced here too, so that no world can keep a rollout going forever.
    max_steps: u32,
}

impl<'w> Rollout<'w> {
    /// Resets `world` with `seed` and gets ready to play it with `policy`.
    pub fn new(world: &'w mut dyn World, policy: Policy, seed: u64) -> Self {
        world.reset(seed);
        let spec = world.spec();
        Rollout {
            world,
            policy,
            action: spec.action,
            rng: random_policy_rng(seed),
            steps: 0,
            max_steps: spec.max_steps,
        }
    }

    pub fn world(&self) -> &dyn World {
        &*self.world
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }

    pub fn done(&self) -> bool {
        self.world.done() || self.steps >= self.max_steps
    }

    /// Lets the policy act once; the reward, or `None` once the episode is over.
    pub fn step(&mut self) -> Option<f32> {
        if self.done() {
            return None;
        }
        let action = match self.policy {
            Policy::Expert => self.world.expert(),
            Policy::Random => random_action(&self.action, &mut self.rng),
        };
        self.steps += 1;
        Some(self.world.step(&action))
    }

    /// Plays to the end; the episode's score.
    pub fn finish(mut self) -> f32 {
        while self.step().is_some() {}
        self.world.score()
    }
}

/// The scores of several episodes, with their mean and (population) standard deviation.
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

/// Plays `episodes` episodes of `world` with `policy`, seeded from `seed` on.
pub fn evaluate(world: &mut dyn World, policy: Policy, episodes: u32, seed: u64) -> Evaluation {
    Evaluation::of((0..episodes).map(|i| Rollout::new(&mut *world, policy, episode_seed(seed, i)).finish()).collect())
}

/// Pictures of one episode, evenly spaced from its start to its end.
pub struct Filmstrip {
    pub frames: Vec<RgbaImage>,
    /// How many steps into the episode each frame was taken.
    pub steps: Vec<u32>,
    pub score: f32,
}

/// Films the episode of `world` from `seed` under `policy` in at most `count` frames, the
/// first at the start and the last at the end. The episode is played twice, once to learn
/// its length and once to film it, which relies on worlds replaying exactly.
pub fn film(world: &mut dyn World, policy: Policy, seed: u64, count: u32) -> Filmstrip {
    let mut rollout = Rollout::new(&mut *world, policy, seed);
    while rollout.step().is_some() {}
    let length = rollout.steps();
    let count = count.clamp(1, length + 1);
    let wanted: Vec<u32> = match count {
        1 => vec![0],
        _ => (0..count).map(|i| (u64::from(i) * u64::from(length) / u64::from(count - 1)) as u32).collect(),
    };
    let mut rollout = Rollout::new(world, policy, seed);
    let mut frames = Vec::with_capacity(wanted.len());
    for &step in &wanted {
        while rollout.steps() < step && rollout.step().is_some() {}
        frames.push(rollout.world().render());
    }
    let score = rollout.finish();
    Filmstrip { frames, steps: wanted, score }
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
        let mut rollout = Rollout::new(&mut world, Policy::Expert, 3);
        let rewards: Vec<f32> = std::iter::from_fn(|| rollout.step()).collect();
        assert_eq!(rewards, vec![1.0; 10]);
        assert_eq!(rollout.steps(), 10);
        assert_eq!(world.seed, 3);
    }

    #[test]
    fn evaluate_seeds_episodes_in_turn_and_summarises_them() {
        let mut world = counter();
        let expert = evaluate(&mut world, Policy::Expert, 3, 40);
        assert_eq!(expert, Evaluation { mean: 10.0, std: 0.0, scores: vec![10.0; 3] });
        assert_eq!(world.seed, 42);
        let random = evaluate(&mut world, Policy::Random, 20, 0);
        assert!(random.mean > 2.0 && random.mean < 8.0 && random.std > 0.0, "{random:?}");
        assert_eq!(random, evaluate(&mut world, Policy::Random, 20, 0), "random play must replay exactly");
        assert_ne!(random.scores, evaluate(&mut world, Policy::Random, 20, 1).scores);
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
        let strip = film(&mut world, Policy::Expert, 7, 6);
        assert_eq!(strip.steps, vec![0, 2, 4, 6, 8, 10]);
        let steps_seen: Vec<u8> = strip.frames.iter().map(|f| f.get_pixel(0, 0).0[0]).collect();
        assert_eq!(steps_seen, vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(strip.score, 10.0);
        // More frames than steps: one per step, no repeats.
        assert_eq!(film(&mut world, Policy::Expert, 7, 100).frames.len(), 11);
        assert_eq!(film(&mut world, Policy::Expert, 7, 1).steps, vec![0]);
    }

    #[test]
    fn policies_parse_by_name() {
        assert_eq!("expert".parse(), Ok(Policy::Expert));
        assert_eq!("random".parse(), Ok(Policy::Random));
        let error = "model".parse::<Policy>().unwrap_err();
        assert!(error.contains("expert, random"), "{error}");
    }
}
