//! A typed mission, read as the Instruct panel reads it; whatever parses furnishes the grid
//! room and its expert plays it to the end of the episode.
#![no_main]

use gatito::envs::World;
use gatito::envs::grid::{Grid, Mission, MissionSet};
use gatito_fuzz::expert_plays;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&seed, text)) = data.split_first() else { return };
    let Ok(mission) = Mission::read(&String::from_utf8_lossy(text)) else { return };
    let mut grid = Grid::new(if mission.is_held_out() { MissionSet::HeldOut } else { MissionSet::Train });
    grid.reset_with_mission(mission, u64::from(seed));
    let cap = grid.spec().max_steps;
    expert_plays(&mut grid, cap);
});
