//! Atari-like games in the spirit of MinAtar: small, fast, and each one a single file
//! whose rules read top to bottom like a description of the game.
//!
//! A game implements the tiny [`arcade::Game`] interface (start, act, draw, expert); [`arcade::Arcade`]
//! turns it into a [`World`] with the step cap, the score and the frames every game shares.
//! Frames are 64x64 RGB, drawn so that a glance tells paddles from balls and sharks from
//! divers. The experts read the game's true state; the ones that must dodge plan their
//! path through the predicted hazards with [`plan`]. [`sticky::Sticky`] adds ALE-style sticky
//! actions to any world.

mod arcade;
mod paint;
mod plan;
pub mod sticky;

mod asterix;
mod breakout;
mod freeway;
mod pong;
mod seaquest;
mod space_invaders;

use super::World;
use arcade::Arcade;

/// Every game, freshly made (not yet reset).
pub fn all() -> Vec<Box<dyn World>> {
    vec![
        Box::new(Arcade::<pong::Pong>::new()),
        Box::new(Arcade::<breakout::Breakout>::new()),
        Box::new(Arcade::<space_invaders::SpaceInvaders>::new()),
        Box::new(Arcade::<freeway::Freeway>::new()),
        Box::new(Arcade::<asterix::Asterix>::new()),
        Box::new(Arcade::<seaquest::Seaquest>::new()),
    ]
}

#[cfg(test)]
mod tests {
    use crate::envs::{ActionSpec, Kind};

    #[test]
    fn all_six_games_are_registered_once() {
        let names: Vec<&str> = super::all().iter().map(|w| w.spec().name).collect();
        assert_eq!(names, ["pong", "breakout", "space_invaders", "freeway", "asterix", "seaquest"]);
        for name in names {
            let world = crate::envs::make(name).expect("registered in envs::all");
            let spec = world.spec();
            assert_eq!(spec.kind, Kind::Atari);
            assert!(
                matches!(&spec.action, ActionSpec::Discrete { labels } if labels[0] == "noop" && labels.len() <= 6)
            );
            assert!((1000..=2000).contains(&spec.max_steps));
        }
    }
}
