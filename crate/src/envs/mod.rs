//! Worlds: the games, control tasks and rooms the agent acts in, each with its expert.
//!
//! Every world implements [`World`]. A world is deterministic given its seed: it uses
//! no wall clock and no threads, so an episode replays exactly from `(seed, actions)`,
//! natively and in wasm alike. Its expert sees the privileged state (positions,
//! velocities, the map) that the model never does: the model learns from pixels,
//! state vectors and text alone.

pub mod captions;
pub mod control;
pub mod draw;
pub mod games;
pub mod grid;
pub mod rollout;

use crate::tokens::{Action, Observation};
use image::RgbaImage;

/// The family a world belongs to; it decides what the model observes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Atari-like games: a 64x64 RGB frame in, one discrete action out.
    Atari,
    /// Continuous control: a state vector in, continuous actions in [-1, 1] out.
    Control,
    /// Grid instructions: a 64x64 view of the room and a text mission in, a discrete action out.
    Grid,
}

/// What a world accepts as an action.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ActionSpec {
    /// One discrete action in `0..labels.len()`.
    Discrete { labels: Vec<&'static str> },
    /// `dims` values, each in [-1, 1].
    Continuous { dims: usize },
}

impl ActionSpec {
    /// How many tokens one action takes.
    pub fn tokens(&self) -> usize {
        match self {
            ActionSpec::Discrete { .. } => 1,
            ActionSpec::Continuous { dims } => *dims,
        }
    }

    /// Whether an action fits this spec (in range, right length, no NaN).
    pub fn accepts(&self, action: &Action) -> bool {
        match (self, action) {
            (ActionSpec::Discrete { labels }, Action::Discrete(a)) => a.len() == 1 && (a[0] as usize) < labels.len(),
            (ActionSpec::Continuous { dims }, Action::Continuous(a)) => {
                a.len() == *dims && a.iter().all(|x| (-1.0..=1.0).contains(x))
            }
            _ => false,
        }
    }
}

/// A world's fixed description.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WorldSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub action: ActionSpec,
    /// One sentence a visitor can read.
    pub description: &'static str,
    /// The episode cap, in steps.
    pub max_steps: u32,
}

/// The one interface every world implements.
pub trait World {
    fn spec(&self) -> WorldSpec;
    /// Starts a new episode; the same seed always gives the same episode.
    fn reset(&mut self, seed: u64);
    /// Starts the episode for `seed` astray: in a state the expert's own play seldom reaches
    /// but a learner's often does, so that training data shows the way back from it
    /// (`gatito data --astray`). Evaluation never starts here. Worlds with no such state
    /// start as `reset` does; the same seed always gives the same start.
    fn reset_astray(&mut self, seed: u64) {
        self.reset(seed);
    }
    /// What the agent sees now.
    fn observe(&self) -> Observation;
    /// Advances one step and returns the reward. An action outside the spec is
    /// treated as the world's no-op (discrete) or clamped to [-1, 1] (continuous),
    /// so no action sequence can break a world.
    fn step(&mut self, action: &Action) -> f32;
    /// A picture for people: the page's canvas and the contact sheets.
    fn render(&self) -> RgbaImage;
    /// The episode's score so far, as the original game counts it.
    fn score(&self) -> f32;
    /// Whether the episode has ended (a terminal state or the step cap).
    fn done(&self) -> bool;
    /// The scripted expert's action in the current state, from the privileged state.
    fn expert(&self) -> Action;
    /// A visitor's shove, from the page: an impulse on the world's main body in the plane of
    /// its picture (x to the right, y up), each component in [-1, 1] for a full-strength push.
    /// It stands outside the `(seed, actions)` replay on purpose: it is how a person tests an
    /// agent's recovery. Worlds with nothing to shove ignore it, as do finished episodes.
    fn push(&mut self, _impulse: [f32; 2]) {}
}

/// Every world, freshly made (not yet reset).
pub fn all() -> Vec<Box<dyn World>> {
    games::all().into_iter().chain(control::all()).chain(grid::all()).collect()
}

/// The world called `name`.
pub fn make(name: &str) -> Option<Box<dyn World>> {
    all().into_iter().find(|w| w.spec().name == name)
}
