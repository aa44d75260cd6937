//! Sticky actions, as in ALE v5: at each step the world may repeat the previous action
//! instead of the one asked for, so an agent cannot rely on frame-exact timing.

use crate::envs::{World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The repeat probability ALE v5 uses.
pub const ALE_REPEAT: f64 = 0.25;

/// Keeps the sticky draws apart from the world's own random numbers for the same seed.
const SEED_SALT: u64 = 0x57ac_4a11_9e37_79b9;

/// A world whose actions stick: with probability `repeat` the previous action is taken again.
pub struct Sticky<W: World + ?Sized> {
    repeat: f64,
    rng: Pcg64Mcg,
    /// The action the world last took (not the one last asked for).
    previous: Option<Action>,
    inner: Box<W>,
}

impl<W: World + ?Sized> Sticky<W> {
    /// Wraps `inner`; `repeat` is clamped to [0, 1], NaN meaning never.
    pub fn new(inner: Box<W>, repeat: f64) -> Self {
        let repeat = if repeat.is_nan() { 0.0 } else { repeat.clamp(0.0, 1.0) };
        Sticky { repeat, rng: Pcg64Mcg::seed_from_u64(SEED_SALT), previous: None, inner }
    }

    /// Remembers the action taken, reusing the buffer of the previous one.
    fn remember(&mut self, action: &Action) {
        match (&mut self.previous, action) {
            (Some(Action::Discrete(kept)), Action::Discrete(taken)) => {
                kept.clear();
                kept.extend_from_slice(taken);
            }
            (Some(Action::Continuous(kept)), Action::Continuous(taken)) => {
                kept.clear();
                kept.extend_from_slice(taken);
            }
            (previous, taken) => *previous = Some(taken.clone()),
        }
    }
}

impl<W: World + ?Sized> World for Sticky<W> {
    fn spec(&self) -> WorldSpec {
        self.inner.spec()
    }

    fn reset(&mut self, seed: u64) {
        self.inner.reset(seed);
        self.rng = Pcg64Mcg::seed_from_u64(seed ^ SEED_SALT);
        self.previous = None;
    }

    fn observe(&self) -> Observation {
        self.inner.observe()
    }

    fn step(&mut self, action: &Action) -> f32 {
        if self.inner.done() {
            return self.inner.step(action);
        }
        let repeat = self.previous.is_some() && self.rng.random_bool(self.repeat);
        match (&self.previous, repeat) {
            (Some(previous), true) => self.inner.step(previous),
            _ => {
                let reward = self.inner.step(action);
                self.remember(action);
                reward
            }
        }
    }

    fn render(&self) -> RgbaImage {
        self.inner.render()
    }

    fn score(&self) -> f32 {
        self.inner.score()
    }

    fn done(&self) -> bool {
        self.inner.done()
    }

    fn expert(&self) -> Action {
        self.inner.expert()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{ActionSpec, Kind};

    /// A world that only records the actions it is given.
    #[derive(Default)]
    struct Recorder {
        taken: Vec<Action>,
    }

    impl World for Recorder {
        fn spec(&self) -> WorldSpec {
            WorldSpec {
                name: "recorder",
                kind: Kind::Atari,
                action: ActionSpec::Discrete { labels: vec!["a", "b"] },
                description: "records actions",
                max_steps: 10_000,
            }
        }
        fn reset(&mut self, _seed: u64) {
            self.taken.clear();
        }
        fn observe(&self) -> Observation {
            Observation::default()
        }
        fn step(&mut self, action: &Action) -> f32 {
            self.taken.push(action.clone());
            0.0
        }
        fn render(&self) -> RgbaImage {
            RgbaImage::new(1, 1)
        }
        fn score(&self) -> f32 {
            0.0
        }
        fn done(&self) -> bool {
            self.taken.len() >= 10_000
        }
        fn expert(&self) -> Action {
            Action::Discrete(vec![0])
        }
    }

    /// Asks for a different action at every step, so each repeat shows.
    fn asked(steps: u32) -> Vec<Action> {
        (0..steps).map(|i| Action::Discrete(vec![i])).collect()
    }

    /// What the world actually took when asked for [`asked`].
    fn taken(repeat: f64, seed: u64, steps: u32) -> Vec<Action> {
        let mut world = Sticky::new(Box::new(Recorder::default()), repeat);
        world.reset(seed);
        for action in asked(steps) {
            world.step(&action);
        }
        world.inner.taken.clone()
    }

    #[test]
    fn never_sticks_at_zero_and_always_at_one() {
        assert_eq!(taken(0.0, 1, 50), asked(50));
        assert_eq!(taken(f64::NAN, 1, 50), asked(50));
        assert_eq!(taken(1.0, 1, 50), vec![Action::Discrete(vec![0]); 50]);
        assert_eq!(taken(7.0, 1, 50), vec![Action::Discrete(vec![0]); 50]);
    }

    #[test]
    fn sticks_about_as_often_as_asked() {
        let steps = 8000;
        let repeats = taken(ALE_REPEAT, 3, steps).iter().zip(asked(steps)).filter(|(t, a)| *t != a).count();
        let rate = repeats as f64 / steps as f64;
        assert!((0.22..0.28).contains(&rate), "repeat rate {rate}");
    }

    #[test]
    fn the_seed_decides_and_reset_forgets() {
        assert_eq!(taken(ALE_REPEAT, 9, 300), taken(ALE_REPEAT, 9, 300));
        assert_ne!(taken(ALE_REPEAT, 9, 300), taken(ALE_REPEAT, 10, 300));
        let mut world = Sticky::new(Box::new(Recorder::default()), 1.0);
        world.reset(0);
        world.step(&Action::Discrete(vec![1]));
        world.reset(0);
        world.step(&Action::Discrete(vec![0]));
        assert_eq!(
            world.inner.taken,
            vec![Action::Discrete(vec![0])],
            "the first action after reset is never a repeat"
        );
    }

    #[test]
    fn wraps_boxed_games_and_keeps_them_playable() {
        for game in super::super::all() {
            let name = game.spec().name;
            let mut world = Sticky::new(game, ALE_REPEAT);
            world.reset(4);
            for _ in 0..200 {
                let action = world.expert();
                world.step(&action);
            }
            assert!(world.score().is_finite(), "{name}");
            assert_eq!(world.observe().image.map(|i| i.dimensions()), Some((64, 64)), "{name}");
        }
    }
}
