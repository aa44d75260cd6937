//! What every game shares: the step cap, the running score, reading actions, and frames.

use crate::envs::{ActionSpec, Kind, World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::{DynamicImage, RgbImage, RgbaImage};

/// Side of every game's square frame, in pixels.
pub const SIZE: i32 = 64;

/// The rules of one game, MinAtar style. Action 0 is always the no-op.
pub trait Game {
    const NAME: &'static str;
    /// One sentence a visitor can read.
    const DESCRIPTION: &'static str;
    /// Human labels of the discrete actions.
    const ACTIONS: &'static [&'static str];
    /// The episode cap, in steps.
    const MAX_STEPS: u32;

    /// A new game; the same seed always gives the same game.
    fn new(seed: u64) -> Self;
    /// Plays one step with `action` (in `0..ACTIONS.len()`) and returns the reward: the
    /// points scored, negative when the opponent scores.
    fn act(&mut self, action: usize) -> f32;
    /// Whether the game has ended by its own rules (lives lost, a match won).
    fn over(&self) -> bool;
    /// Draws the current state onto a cleared `SIZE`x`SIZE` frame.
    fn draw(&self, frame: &mut RgbImage);
    /// The scripted expert's action, read from the true state.
    fn expert(&self) -> usize;
}

/// A [`Game`] as a [`World`].
pub struct Arcade<G> {
    game: G,
    steps: u32,
    score: f32,
}

impl<G: Game> Arcade<G> {
    pub fn new() -> Self {
        Arcade { game: G::new(0), steps: 0, score: 0.0 }
    }

    fn frame(&self) -> RgbImage {
        let mut frame = RgbImage::new(SIZE as u32, SIZE as u32);
        self.game.draw(&mut frame);
        frame
    }

    #[cfg(test)]
    pub fn game(&self) -> &G {
        &self.game
    }

    #[cfg(test)]
    pub fn steps(&self) -> u32 {
        self.steps
    }
}

/// The action index an [`Action`] asks for; anything outside the game's actions is the no-op.
fn action_index(action: &Action, count: usize) -> usize {
    match action {
        Action::Discrete(a) if a.len() == 1 && (a[0] as usize) < count => a[0] as usize,
        _ => 0,
    }
}

impl<G: Game> World for Arcade<G> {
    fn spec(&self) -> WorldSpec {
        WorldSpec {
            name: G::NAME,
            kind: Kind::Atari,
            action: ActionSpec::Discrete { labels: G::ACTIONS.to_vec() },
            description: G::DESCRIPTION,
            max_steps: G::MAX_STEPS,
        }
    }

    fn reset(&mut self, seed: u64) {
        *self = Arcade { game: G::new(seed), steps: 0, score: 0.0 };
    }

    fn observe(&self) -> Observation {
        Observation { image: Some(self.frame()), ..Default::default() }
    }

    fn step(&mut self, action: &Action) -> f32 {
        if self.done() {
            return 0.0;
        }
        let reward = self.game.act(action_index(action, G::ACTIONS.len()));
        self.steps += 1;
        self.score += reward;
        reward
    }

    fn render(&self) -> RgbaImage {
        DynamicImage::from(self.frame()).to_rgba8()
    }

    fn score(&self) -> f32 {
        self.score
    }

    fn done(&self) -> bool {
        self.game.over() || self.steps >= G::MAX_STEPS
    }

    fn expert(&self) -> Action {
        Action::Discrete(vec![self.game.expert() as u32])
    }
}

/// Checks every game runs through: determinism, any actions, the cap, frames, and the expert's edge.
#[cfg(test)]
pub mod testing {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;
    use std::collections::BTreeSet;

    /// Plays one episode with `policy` and returns the score.
    pub fn play<G: Game>(seed: u64, mut policy: impl FnMut(&Arcade<G>) -> Action) -> f32 {
        let mut world = Arcade::<G>::new();
        world.reset(seed);
        while !world.done() {
            let action = policy(&world);
            world.step(&action);
        }
        world.score()
    }

    /// A policy choosing uniformly among the game's actions, seeded.
    pub fn random_policy<G: Game>(seed: u64) -> impl FnMut(&Arcade<G>) -> Action {
        let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x5eed);
        move |_| Action::Discrete(vec![rng.random_range(0..G::ACTIONS.len() as u32)])
    }

    /// Mean scores of the expert and of random play over `episodes` seeds; prints both.
    pub fn expert_and_random<G: Game>(episodes: u64) -> (f32, f32) {
        let expert: f32 = (0..episodes).map(|seed| play::<G>(seed, |w| w.expert())).sum::<f32>() / episodes as f32;
        let random: f32 =
            (0..episodes).map(|seed| play::<G>(seed, random_policy::<G>(seed))).sum::<f32>() / episodes as f32;
        eprintln!("{}: expert {expert:.1}, random {random:.1} over {episodes} episodes", G::NAME);
        (expert, random)
    }

    /// Same seed and actions give the same frames and scores; another seed gives another game.
    pub fn check_deterministic<G: Game>() {
        let run = |seed: u64| {
            let mut world = Arcade::<G>::new();
            world.reset(seed);
            let mut policy = random_policy::<G>(7);
            let mut trace = Vec::new();
            for _ in 0..300 {
                let action = policy(&world);
                let reward = world.step(&action);
                trace.push((world.observe().image.map(|i| i.into_raw()), reward.to_bits(), world.done()));
            }
            trace
        };
        assert_eq!(run(3), run(3), "{} is not deterministic", G::NAME);
        assert_ne!(run(3), run(4), "{} ignores its seed", G::NAME);
    }

    /// Any action sequence, out-of-range and continuous actions included, keeps `invariant`.
    pub fn check_any_actions<G: Game>(invariant: fn(&G) -> Result<(), String>) {
        let action = prop_oneof![
            (0..G::ACTIONS.len() as u32).prop_map(|a| Action::Discrete(vec![a])),
            any::<u32>().prop_map(|a| Action::Discrete(vec![a])),
            proptest::collection::vec(any::<u32>(), 0..3).prop_map(Action::Discrete),
            proptest::collection::vec(any::<f32>(), 0..3).prop_map(Action::Continuous),
        ];
        let strategy = (any::<u64>(), proptest::collection::vec(action, 0..400));
        let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
        runner
            .run(&strategy, |(seed, actions)| {
                let mut world = Arcade::<G>::new();
                world.reset(seed);
                for action in &actions {
                    let reward = world.step(action);
                    prop_assert!(reward.is_finite());
                    prop_assert!(world.score().is_finite());
                    if let Err(broken) = invariant(world.game()) {
                        return Err(TestCaseError::fail(broken));
                    }
                    prop_assert!(world.steps() <= G::MAX_STEPS);
                    let _ = world.expert();
                }
                Ok(())
            })
            .unwrap_or_else(|failure| panic!("{}: {failure}", G::NAME));
    }

    /// Episodes end by the cap whatever the policy, and a finished world stays finished.
    pub fn check_cap<G: Game>() {
        let mut world = Arcade::<G>::new();
        world.reset(1);
        let noop = Action::Discrete(vec![0]);
        while !world.done() {
            world.step(&noop);
        }
        assert!(world.steps() <= G::MAX_STEPS, "{} ran past its cap", G::NAME);
        let score = world.score();
        assert_eq!(world.step(&noop), 0.0);
        assert_eq!(world.score(), score);
        assert!(world.done());
    }

    /// Frames are 64x64, show several colours, and the render is the same picture in RGBA.
    pub fn check_frames<G: Game>() {
        let mut world = Arcade::<G>::new();
        world.reset(5);
        for _ in 0..60 {
            let action = world.expert();
            world.step(&action);
        }
        let frame = world.observe().image.expect("an Atari game observes an image");
        assert_eq!(frame.dimensions(), (SIZE as u32, SIZE as u32));
        let colours: BTreeSet<[u8; 3]> = frame.pixels().map(|p| p.0).collect();
        assert!(colours.len() >= 4, "{} frame has only {} colours", G::NAME, colours.len());
        let render = world.render();
        assert_eq!(render.dimensions(), frame.dimensions());
        assert!(render.pixels().zip(frame.pixels()).all(|(a, b)| a.0[..3] == b.0 && a.0[3] == 255));
        let spec = world.spec();
        assert_eq!(spec.kind, Kind::Atari);
        assert_eq!(spec.max_steps, G::MAX_STEPS);
        assert!(spec.action.accepts(&world.expert()));
    }
}
