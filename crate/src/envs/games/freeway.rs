//! Freeway. The player's chicken crosses eight lanes of traffic, scoring a point at each
//! crossing and starting again from the bottom. The upper four lanes drive left, the
//! lower four right. A car knocks the chicken back a lane and stuns it for a moment.
//! After every crossing the traffic is reshuffled, and it gets faster as the score grows.

use super::arcade::{Game, SIZE};
use super::paint;
use super::plan::Grid;
use crate::envs::draw::rect;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const LANES: usize = 8;
/// Six rows: a lane marking, three rows of car, and two rows that with the next
/// lane's marking leave the chicken a narrow refuge between lanes.
const LANE_HEIGHT: i32 = 6;
/// The road's first row; below the road lies the starting pavement.
const ROAD_TOP: i32 = 10;
const ROAD_BOTTOM: i32 = ROAD_TOP + LANES as i32 * LANE_HEIGHT;
const CHICKEN_X: i32 = 20;
const CHICKEN_SIZE: i32 = 3;
/// The chicken's top row at the start, and the row that completes a crossing.
const START_Y: i32 = ROAD_BOTTOM + 1;
const FINISH_Y: i32 = ROAD_TOP - CHICKEN_SIZE;
const CAR_WIDTH: f32 = 6.0;
const CAR_HEIGHT: i32 = 3;
/// Cars leave on one side and come back on the other after this many pixels.
const LOOP: f32 = SIZE as f32 + CAR_WIDTH;
const MIN_SPEED: f32 = 0.25;
/// The fastest car at the start, what each point adds, and the fastest ever.
const TOP_SPEED: f32 = 0.7;
const TOP_SPEED_PER_POINT: f32 = 0.08;
const FASTEST: f32 = 1.8;
const STUN: u32 = 4;

const UP: usize = 1;
const DOWN: usize = 2;

const BACKGROUND: [u8; 3] = [0, 0, 0];
const PAVEMENT: [u8; 3] = [170, 170, 170];
const ROAD: [u8; 3] = [80, 80, 80];
const LANE_MARK: [u8; 3] = [200, 200, 200];
const MIDDLE_MARK: [u8; 3] = [220, 190, 40];
const CHICKEN_COLOUR: [u8; 3] = [252, 252, 84];
const STUNNED_COLOUR: [u8; 3] = [240, 110, 60];
const CAR_COLOURS: [[u8; 3]; LANES] = [
    [210, 60, 60],
    [60, 120, 220],
    [230, 130, 200],
    [60, 190, 110],
    [160, 90, 220],
    [230, 140, 40],
    [60, 200, 210],
    [240, 240, 240],
];

/// One lane of cars, evenly spaced, all at the lane's speed.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Lane {
    /// Pixels per step; negative drives left.
    speed: f32,
    /// Where the first car is along the loop, in `0..LOOP`.
    phase: f32,
    cars: u32,
}

impl Lane {
    fn top(index: usize) -> i32 {
        ROAD_TOP + index as i32 * LANE_HEIGHT + 1
    }

    /// The left edges of the lane's cars `steps` from now.
    fn cars_after(&self, steps: f32) -> impl Iterator<Item = f32> + '_ {
        let gap = LOOP / self.cars as f32;
        (0..self.cars).map(move |k| (self.phase + self.speed * steps + k as f32 * gap).rem_euclid(LOOP) - CAR_WIDTH)
    }

    /// Whether a car covers any column in `first..=last` `steps` from now.
    fn blocks(&self, first: f32, last: f32, steps: f32) -> bool {
        self.cars_after(steps).any(|x| x <= last && x + CAR_WIDTH > first)
    }
}

pub struct Freeway {
    rng: Pcg64Mcg,
    lanes: [Lane; LANES],
    chicken: i32,
    /// Steps the knocked-back chicken still cannot move; it cannot be hit meanwhile either.
    stunned: u32,
    points: u32,
}

impl Freeway {
    /// New speeds and car counts for every lane; the cars stay where they are.
    fn reshuffle_traffic(&mut self) {
        let top = (TOP_SPEED + TOP_SPEED_PER_POINT * self.points as f32).min(FASTEST);
        for (index, lane) in self.lanes.iter_mut().enumerate() {
            let direction = if index < LANES / 2 { -1.0 } else { 1.0 };
            lane.speed = direction * self.rng.random_range(MIN_SPEED..top);
            lane.cars = self.rng.random_range(1..=3);
        }
    }

    fn hit(&self) -> bool {
        let (top, bottom) = (self.chicken, self.chicken + CHICKEN_SIZE);
        let (first, last) = (CHICKEN_X as f32, (CHICKEN_X + CHICKEN_SIZE - 1) as f32);
        self.lanes.iter().enumerate().any(|(index, lane)| {
            let car = Lane::top(index);
            car < bottom && car + CAR_HEIGHT > top && lane.blocks(first, last, 0.0)
        })
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let chicken = (FINISH_Y + 1..=START_Y).contains(&self.chicken) && self.stunned <= STUN;
        let lanes =
            self.lanes.iter().all(|l| (0.0..LOOP).contains(&l.phase) && l.speed.abs() <= FASTEST && l.cars >= 1);
        if chicken && lanes { Ok(()) } else { Err(format!("chicken at {}", self.chicken)) }
    }
}

impl Game for Freeway {
    const NAME: &'static str = "freeway";
    const DESCRIPTION: &'static str =
        "Freeway: guide the chicken across eight lanes of traffic; each crossing scores a point.";
    const ACTIONS: &'static [&'static str] = &["noop", "up", "down"];
    const MAX_STEPS: u32 = 2000;

    fn new(seed: u64) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let lanes = std::array::from_fn(|_| Lane { speed: 0.0, phase: rng.random_range(0.0..LOOP), cars: 1 });
        let mut game = Freeway { rng, lanes, chicken: START_Y, stunned: 0, points: 0 };
        game.reshuffle_traffic();
        game
    }

    fn act(&mut self, action: usize) -> f32 {
        if self.stunned > 0 {
            self.stunned -= 1;
        } else {
            match action {
                UP => self.chicken -= 1,
                DOWN => self.chicken = (self.chicken + 1).min(START_Y),
                _ => {}
            }
        }
        for lane in &mut self.lanes {
            lane.phase = (lane.phase + lane.speed).rem_euclid(LOOP);
        }
        if self.stunned == 0 && self.hit() {
            self.chicken = (self.chicken + LANE_HEIGHT).min(START_Y);
            self.stunned = STUN;
        }
        if self.chicken <= FINISH_Y {
            self.points += 1;
            self.chicken = START_Y;
            self.reshuffle_traffic();
            return 1.0;
        }
        0.0
    }

    fn over(&self) -> bool {
        false
    }

    fn draw(&self, frame: &mut RgbImage) {
        rect(frame, 0, 0, SIZE, SIZE, BACKGROUND);
        paint::number(frame, self.points, 12, 1, CHICKEN_COLOUR);
        rect(frame, 0, ROAD_TOP - 4, SIZE, 4, PAVEMENT);
        rect(frame, 0, ROAD_TOP, SIZE, ROAD_BOTTOM - ROAD_TOP, ROAD);
        rect(frame, 0, ROAD_BOTTOM, SIZE, SIZE - ROAD_BOTTOM, PAVEMENT);
        for index in 1..LANES {
            let y = ROAD_TOP + index as i32 * LANE_HEIGHT;
            let (colour, dash) = if index == LANES / 2 { (MIDDLE_MARK, SIZE) } else { (LANE_MARK, 4) };
            for x in (0..SIZE).step_by(8) {
                rect(frame, x, y, dash, 1, colour);
            }
        }
        for (index, lane) in self.lanes.iter().enumerate() {
            for x in lane.cars_after(0.0) {
                rect(frame, x.round() as i32, Lane::top(index), CAR_WIDTH as i32, CAR_HEIGHT, CAR_COLOURS[index]);
            }
        }
        let colour = if self.stunned > 0 { STUNNED_COLOUR } else { CHICKEN_COLOUR };
        rect(frame, CHICKEN_X, self.chicken, CHICKEN_SIZE, CHICKEN_SIZE, colour);
    }

    /// Plans through the predicted traffic to the highest row it can reach safely.
    fn expert(&self) -> usize {
        const HORIZON: usize = 24;
        if self.stunned > 0 {
            return 0;
        }
        let grid = Grid { rows: START_Y as usize + 1, cols: 1 };
        // A hair of room on either side, against rounding in the predicted car positions.
        let (first, last) = (CHICKEN_X as f32 - 0.01, (CHICKEN_X + CHICKEN_SIZE - 1) as f32 + 0.01);
        let plan = grid.plan(
            (self.chicken as usize, 0),
            HORIZON,
            |t, safe| {
                for (index, lane) in self.lanes.iter().enumerate() {
                    if lane.blocks(first, last, t as f32) {
                        let car = Lane::top(index);
                        for row in car - CHICKEN_SIZE + 1..car + CAR_HEIGHT {
                            safe.span(row, 0, 0, false);
                        }
                    }
                }
            },
            |_, goals| goals.span(FINISH_Y, 0, 0, true),
            (FINISH_Y as usize, 0),
        );
        plan.first.action([0, UP, DOWN, 0, 0])
    }
}

#[cfg(test)]
mod tests {
    use super::super::arcade::testing;
    use super::*;
    use crate::tokens::Action;

    #[test]
    fn shared_checks() {
        testing::check_deterministic::<Freeway>();
        testing::check_any_actions::<Freeway>(Freeway::check);
        testing::check_cap::<Freeway>();
        testing::check_frames::<Freeway>();
    }

    #[test]
    fn expert_crosses_often_and_beats_running_straight() {
        let (expert, random) = testing::expert_and_random::<Freeway>(8);
        let straight: f32 =
            (0..10).map(|seed| testing::play::<Freeway>(seed, |_| Action::Discrete(vec![1]))).sum::<f32>() / 8.0;
        eprintln!("freeway: always up {straight:.1}");
        assert!(expert >= 20.0 && expert >= straight + 4.0, "expert {expert}, always up {straight}");
        assert!(random <= 1.0, "random {random}");
    }

    fn empty_road() -> Freeway {
        let mut game = Freeway::new(0);
        for lane in &mut game.lanes {
            (lane.speed, lane.phase, lane.cars) = (0.0, LOOP - 1.0, 1);
        }
        game
    }

    #[test]
    fn a_crossing_scores_and_starts_again() {
        let mut game = empty_road();
        let rewards: f32 = (0..START_Y - FINISH_Y).map(|_| game.act(UP)).sum();
        assert_eq!(rewards, 1.0);
        assert_eq!(game.chicken, START_Y);
    }

    #[test]
    fn a_car_knocks_the_chicken_back_and_stuns_it() {
        let mut game = empty_road();
        game.chicken = Lane::top(4);
        // A car arriving at the chicken's column from the left.
        game.lanes[4] = Lane { speed: 1.0, phase: CHICKEN_X as f32 + CAR_WIDTH - 1.0, cars: 1 };
        game.act(0);
        assert_eq!(game.chicken, Lane::top(4) + LANE_HEIGHT);
        assert_eq!(game.stunned, STUN);
        game.act(UP);
        assert_eq!(game.chicken, Lane::top(4) + LANE_HEIGHT, "a stunned chicken cannot move");
    }

    #[test]
    fn traffic_gets_faster_with_the_score() {
        let fastest = |points: u32| {
            let mut game = Freeway::new(1);
            game.points = points;
            (0..50)
                .map(|_| {
                    game.reshuffle_traffic();
                    game.lanes.iter().map(|l| l.speed.abs()).fold(0.0, f32::max)
                })
                .fold(0.0, f32::max)
        };
        assert!(fastest(0) <= TOP_SPEED && fastest(10) > TOP_SPEED + 0.5);
    }
}
