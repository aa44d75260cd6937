//! Asterix. Objects drift along eight lanes, one per lane at most. Asterix walks across
//! and between the lanes, collecting the treasure (cauldrons first, then helmets,
//! shields, lamps and richer things, each worth more) and dodging the lyres, which cost
//! a life. Every ten treasures the next kind appears and everything drifts faster.
//! Three lives.

use super::arcade::{Game, SIZE};
use super::paint;
use super::plan::{Cells, Grid};
use crate::envs::draw::rect;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const LANES: usize = 8;
const LANE_TOP: i32 = 10;
const LANE_HEIGHT: i32 = 6;
const SPRITE: i32 = 4;
/// Two sprites overlap when their left edges (or tops) are closer than this.
const TOUCH: f32 = SPRITE as f32;
/// Asterix moves two pixels a step either way, so changing lanes takes three steps.
const PLAYER_STEP: i32 = 2;
const PLAYER_MAX_X: i32 = SIZE - SPRITE;
const PLAYER_MIN_Y: i32 = LANE_TOP + 1;
const PLAYER_MAX_Y: i32 = PLAYER_MIN_Y + (LANES as i32 - 1) * LANE_HEIGHT;
const START_LANE: usize = 3;

/// The treasure of each stage, what it is worth, and its colour.
const TREASURES: [(u32, [u8; 3]); 8] = [
    (50, [150, 90, 40]),
    (100, [200, 200, 210]),
    (200, [70, 110, 230]),
    (300, [240, 190, 40]),
    (400, [220, 40, 40]),
    (500, [60, 210, 220]),
    (750, [250, 150, 190]),
    (1000, [250, 130, 30]),
];
const TREASURES_PER_STAGE: u32 = 10;
const LYRE_CHANCE: f64 = 0.35;
const SPAWN_CHANCE: f64 = 0.05;
const BASE_SPEED: f32 = 0.5;
const SPEED_PER_STAGE: f32 = 0.15;
const SPEED_SPREAD: f32 = 0.25;
const MAX_SPEED: f32 = 2.0;
const LIVES: u32 = 3;

const LEFT: usize = 1;
const RIGHT: usize = 2;
const UP: usize = 3;
const DOWN: usize = 4;

const GRASS: [[u8; 3]; 2] = [[50, 130, 60], [60, 145, 70]];
const HUD: [u8; 3] = [20, 60, 30];
const TEXT: [u8; 3] = [240, 240, 240];
const PLAYER_COLOUR: [u8; 3] = [250, 230, 80];
const WINGS: [u8; 3] = [255, 255, 255];
const LYRE_COLOUR: [u8; 3] = [210, 50, 210];
const PLAYER_SPRITE: [u8; 4] = [0b1001, 0b0110, 0b1111, 0b0110];
const TREASURE_SPRITE: [u8; 4] = [0b0110, 0b1111, 0b1111, 0b0110];
const LYRE_SPRITE: [u8; 4] = [0b1001, 0b1111, 0b1001, 0b0110];

#[derive(Clone, Copy, Debug, PartialEq)]
struct Thing {
    x: f32,
    /// Pixels per step; negative drifts left.
    speed: f32,
    lyre: bool,
}

impl Thing {
    fn x_after(&self, steps: usize) -> f32 {
        self.x + self.speed * steps as f32
    }
}

pub struct Asterix {
    rng: Pcg64Mcg,
    things: [Option<Thing>; LANES],
    /// Asterix's top left; `y` may lie between two lanes.
    x: i32,
    y: i32,
    stage: usize,
    collected: u32,
    lives: u32,
    points: u32,
}

impl Asterix {
    fn lane_top(lane: usize) -> i32 {
        PLAYER_MIN_Y + lane as i32 * LANE_HEIGHT
    }

    /// The lane whose objects Asterix touches at height `y` (every height touches one).
    fn lane_at(y: i32) -> usize {
        (0..LANES).find(|&lane| (y - Self::lane_top(lane)).abs() < SPRITE).unwrap_or(0)
    }

    fn start(&mut self) {
        (self.x, self.y) = (PLAYER_MAX_X / 2, Self::lane_top(START_LANE));
    }

    /// Objects enter empty lanes from either side; later stages drift faster.
    fn spawn(&mut self) {
        let speed = BASE_SPEED + SPEED_PER_STAGE * self.stage as f32;
        for lane in 0..LANES {
            if self.things[lane].is_some() || !self.rng.random_bool(SPAWN_CHANCE) {
                continue;
            }
            let speed = (speed + self.rng.random_range(0.0..SPEED_SPREAD)).min(MAX_SPEED);
            let lyre = self.rng.random_bool(LYRE_CHANCE);
            let from_left = self.rng.random_bool(0.5);
            let (x, speed) = if from_left { (-TOUCH, speed) } else { (SIZE as f32, -speed) };
            self.things[lane] = Some(Thing { x, speed, lyre });
        }
    }

    /// The planning grid cell of a position: rows and columns are steps of Asterix.
    fn cell(x: i32, y: i32) -> (usize, usize) {
        (((y - PLAYER_MIN_Y) / PLAYER_STEP) as usize, (x / PLAYER_STEP) as usize)
    }

    /// Marks, for step `t`, the grid cells where Asterix touches a lyre (`lyres`) or a treasure.
    fn mark_touching(&self, t: usize, cells: &mut Cells, lyres: bool, margin: f32, on: bool) {
        for (lane, thing) in self.things.iter().enumerate() {
            let Some(thing) = thing.filter(|thing| thing.lyre == lyres) else { continue };
            let x = thing.x_after(t);
            let reach = TOUCH + margin;
            // Touching means |x - player x| < reach, player x being twice the column.
            let first = ((x - reach) / PLAYER_STEP as f32).floor() as i32 + 1;
            let last = ((x + reach) / PLAYER_STEP as f32).ceil() as i32 - 1;
            let top = Self::lane_top(lane);
            for y in (PLAYER_MIN_Y..=PLAYER_MAX_Y).step_by(PLAYER_STEP as usize).filter(|y| (y - top).abs() < SPRITE) {
                cells.span(Self::cell(0, y).0 as i32, first, last, on);
            }
        }
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let player = (0..=PLAYER_MAX_X).contains(&self.x)
            && (PLAYER_MIN_Y..=PLAYER_MAX_Y).contains(&self.y)
            && self.x % PLAYER_STEP == 0
            && (self.y - PLAYER_MIN_Y) % PLAYER_STEP == 0;
        let things =
            self.things.iter().flatten().all(|t| (-TOUCH..=SIZE as f32).contains(&t.x) && t.speed.abs() <= MAX_SPEED);
        if player && things && self.lives <= LIVES && self.stage < TREASURES.len() {
            Ok(())
        } else {
            Err(format!("at {:?} things {:?}", (self.x, self.y), self.things))
        }
    }
}

impl Game for Asterix {
    const NAME: &'static str = "asterix";
    const DESCRIPTION: &'static str =
        "Asterix: collect the treasures drifting along eight lanes and dodge the lyres; treasures grow richer.";
    const ACTIONS: &'static [&'static str] = &["noop", "left", "right", "up", "down"];
    const MAX_STEPS: u32 = 2000;

    fn new(seed: u64) -> Self {
        let mut game = Asterix {
            rng: Pcg64Mcg::seed_from_u64(seed),
            things: [None; LANES],
            x: 0,
            y: 0,
            stage: 0,
            collected: 0,
            lives: LIVES,
            points: 0,
        };
        game.start();
        game
    }

    fn act(&mut self, action: usize) -> f32 {
        match action {
            LEFT => self.x = (self.x - PLAYER_STEP).max(0),
            RIGHT => self.x = (self.x + PLAYER_STEP).min(PLAYER_MAX_X),
            UP => self.y = (self.y - PLAYER_STEP).max(PLAYER_MIN_Y),
            DOWN => self.y = (self.y + PLAYER_STEP).min(PLAYER_MAX_Y),
            _ => {}
        }
        for slot in &mut self.things {
            if let Some(thing) = slot {
                thing.x += thing.speed;
                if thing.x < -TOUCH || thing.x > SIZE as f32 {
                    *slot = None;
                }
            }
        }
        let mut points = 0;
        let lane = Self::lane_at(self.y);
        if let Some(thing) = self.things[lane].filter(|t| (t.x - self.x as f32).abs() < TOUCH) {
            if thing.lyre {
                // A lost life clears the field and puts Asterix back in the middle.
                self.lives -= 1;
                self.things = [None; LANES];
                self.start();
            } else {
                self.things[lane] = None;
                points = TREASURES[self.stage].0;
                self.collected += 1;
                if self.collected.is_multiple_of(TREASURES_PER_STAGE) {
                    self.stage = (self.stage + 1).min(TREASURES.len() - 1);
                }
            }
        }
        self.spawn();
        self.points += points;
        points as f32
    }

    fn over(&self) -> bool {
        self.lives == 0
    }

    fn draw(&self, frame: &mut RgbImage) {
        rect(frame, 0, 0, SIZE, LANE_TOP, HUD);
        paint::number(frame, self.points, 30, 2, TEXT);
        paint::pips(frame, self.lives, 52, 4, PLAYER_COLOUR);
        for lane in 0..LANES {
            rect(frame, 0, LANE_TOP + lane as i32 * LANE_HEIGHT, SIZE, LANE_HEIGHT, GRASS[lane % 2]);
        }
        let bottom = LANE_TOP + LANES as i32 * LANE_HEIGHT;
        rect(frame, 0, bottom, SIZE, SIZE - bottom, HUD);
        for (lane, thing) in self.things.iter().enumerate() {
            let Some(thing) = thing else { continue };
            let (shape, colour) =
                if thing.lyre { (&LYRE_SPRITE, LYRE_COLOUR) } else { (&TREASURE_SPRITE, TREASURES[self.stage].1) };
            paint::sprite(frame, shape, SPRITE, thing.x.round() as i32, Self::lane_top(lane), colour);
        }
        paint::sprite(frame, &PLAYER_SPRITE[1..], SPRITE, self.x, self.y + 1, PLAYER_COLOUR);
        paint::sprite(frame, &PLAYER_SPRITE[..1], SPRITE, self.x, self.y, WINGS);
    }

    /// Plans past the lyres' predicted paths to the earliest treasure it can reach.
    fn expert(&self) -> usize {
        const HORIZON: usize = 16;
        let (rows, cols) = Self::cell(PLAYER_MAX_X, PLAYER_MAX_Y);
        let grid = Grid { rows: rows + 1, cols: cols + 1 };
        let plan = grid.plan(
            Self::cell(self.x, self.y),
            HORIZON,
            |t, safe| {
                self.mark_touching(t, safe, true, 1.0, false);
                // A lyre may enter any empty lane at either end.
                if t > 1 {
                    for lane in (0..LANES).filter(|&l| self.things[l].is_none()) {
                        let top = Self::lane_top(lane);
                        for y in (top - SPRITE + PLAYER_STEP..top + SPRITE).step_by(PLAYER_STEP as usize) {
                            let row = (y - PLAYER_MIN_Y) / PLAYER_STEP;
                            safe.span(row, 0, 0, false);
                            safe.span(row, cols as i32, cols as i32, false);
                        }
                    }
                }
            },
            |t, goals| self.mark_touching(t, goals, false, 0.0, true),
            Self::cell(PLAYER_MAX_X / 2, Self::lane_top(START_LANE)),
        );
        plan.first.action([0, UP, DOWN, LEFT, RIGHT])
    }
}

#[cfg(test)]
mod tests {
    use super::super::arcade::testing;
    use super::*;

    #[test]
    fn shared_checks() {
        testing::check_deterministic::<Asterix>();
        testing::check_any_actions::<Asterix>(Asterix::check);
        testing::check_cap::<Asterix>();
        testing::check_frames::<Asterix>();
    }

    #[test]
    fn expert_outscores_random() {
        let (expert, random) = testing::expert_and_random::<Asterix>(8);
        assert!(expert >= 50_000.0 && expert >= 50.0 * random, "expert {expert}, random {random}");
    }

    /// A game with one thing right beside Asterix, drifting into it.
    fn beside(lyre: bool) -> Asterix {
        let mut game = Asterix::new(0);
        game.things[START_LANE] = Some(Thing { x: game.x as f32 + TOUCH + 0.5, speed: -1.0, lyre });
        game
    }

    #[test]
    fn changing_lanes_takes_three_steps() {
        let mut game = Asterix::new(0);
        let lanes: Vec<usize> = (0..3)
            .map(|_| {
                game.act(DOWN);
                Asterix::lane_at(game.y)
            })
            .collect();
        assert_eq!(lanes, [START_LANE, START_LANE + 1, START_LANE + 1]);
        assert_eq!(game.y, Asterix::lane_top(START_LANE + 1));
    }

    #[test]
    fn treasures_pay_and_lyres_cost_a_life() {
        let mut game = beside(false);
        assert_eq!(game.act(0), TREASURES[0].0 as f32);
        assert_eq!(game.collected, 1);
        let mut game = beside(true);
        assert_eq!(game.act(0), 0.0);
        assert_eq!(game.lives, LIVES - 1);
        assert!(
            game.things.iter().flatten().all(|t| t.x == -TOUCH || t.x == SIZE as f32),
            "a lost life clears the field"
        );
    }

    #[test]
    fn ten_treasures_bring_richer_faster_ones() {
        let mut game = beside(false);
        game.collected = TREASURES_PER_STAGE - 1;
        game.act(0);
        assert_eq!(game.stage, 1);
        let mut slow = Asterix::new(3);
        let mut fast = Asterix::new(3);
        fast.stage = 5;
        for _ in 0..200 {
            slow.spawn();
            fast.spawn();
        }
        let top = |game: &Asterix| game.things.iter().flatten().map(|t| t.speed.abs()).fold(0.0, f32::max);
        assert!(top(&fast) > top(&slow) + 0.5);
    }
}
