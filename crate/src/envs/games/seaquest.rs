//! Seaquest. The player's yellow submarine patrols four lanes of sea where sharks and
//! enemy submarines cross, the submarines firing as they go. Torpedoing either scores
//! 20 points, 10 more for each successful surfacing (up to 90). Divers swim the lanes
//! too: the submarine picks them up, six at most. Oxygen runs down under water, so the
//! submarine must surface, where it refills and cannot dive again until full. Surfacing
//! with six divers rescues them all for a bonus; with fewer, one diver is let off; with
//! none, a life is lost. Every successful surfacing speeds the sea up. Three lives.

use super::arcade::{Game, SIZE};
use super::paint;
use super::plan::{Cells, Grid, Move};
use crate::envs::draw::rect;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const LANES: usize = 4;
const LANE_TOPS: [i32; LANES] = [16, 26, 36, 46];
/// Every swimmer, the submarines included, is this big.
const WIDTH: i32 = 6;
const HEIGHT: i32 = 4;
/// The submarine's top row when surfaced, and its lowest.
const SURFACE_Y: i32 = 8;
const WATER_Y: i32 = 12;
const DEEPEST_Y: i32 = 50;
const SEABED_Y: i32 = 56;
const SUB_MAX_X: i32 = SIZE - WIDTH;
const START_X: i32 = SUB_MAX_X / 2 / SUB_STEP * SUB_STEP;
/// The submarine moves two pixels a step either way.
const SUB_STEP: i32 = 2;

const OXYGEN: u32 = 256;
const REFILL: u32 = 8;
const MAX_DIVERS: u32 = 6;
const LIVES: u32 = 3;

const TORPEDO_SPEED: f32 = 4.0;
const TORPEDO_LENGTH: i32 = 4;
const BULLET_LENGTH: i32 = 3;
/// How much faster than the submarine that fired it an enemy bullet flies.
const BULLET_SPEED: f32 = 1.5;
const DIVER_SPEED: f32 = 0.4;

const LEFT: usize = 1;
const RIGHT: usize = 2;
const UP: usize = 3;
const DOWN: usize = 4;
const FIRE: usize = 5;

const SKY: [u8; 3] = [110, 150, 230];
const WATER: [u8; 3] = [24, 26, 167];
const SEABED: [u8; 3] = [170, 150, 80];
const PANEL: [u8; 3] = [0, 0, 0];
const TEXT: [u8; 3] = [230, 230, 230];
const SUB_COLOUR: [u8; 3] = [240, 220, 60];
const ENEMY_SUB_COLOUR: [u8; 3] = [170, 170, 170];
/// Sharks change colour with the level, as the sea speeds up.
const SHARK_COLOURS: [[u8; 3]; 4] = [[92, 200, 92], [230, 110, 200], [240, 140, 50], [230, 60, 60]];
const DIVER_COLOUR: [u8; 3] = [120, 220, 255];
const BULLET_COLOUR: [u8; 3] = [255, 120, 100];
const OXYGEN_COLOURS: ([u8; 3], [u8; 3]) = ([240, 240, 240], [160, 40, 40]);
/// Sprites facing right, six bits a line.
const SUB_SPRITE: [u8; 4] = [0b001000, 0b111110, 0b111111, 0b111110];
const SHARK_SPRITE: [u8; 4] = [0b100100, 0b110111, 0b111110, 0b100000];
const DIVER_SPRITE: [u8; 4] = [0b000010, 0b111111, 0b101000, 0b010100];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enemy {
    Shark,
    Sub,
}

/// Anything that crosses a lane: an enemy, a diver, a bullet.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Swimmer {
    x: f32,
    /// Pixels per step; negative swims left.
    speed: f32,
}

impl Swimmer {
    fn x_after(&self, steps: usize) -> f32 {
        self.x + self.speed * steps as f32
    }

    fn on_screen(&self, width: i32) -> bool {
        self.x > -(width as f32) && self.x < SIZE as f32
    }

    /// Enters from a random side at `speed`.
    fn enter(rng: &mut Pcg64Mcg, speed: f32) -> Swimmer {
        if rng.random_bool(0.5) {
            Swimmer { x: -(WIDTH as f32), speed }
        } else {
            Swimmer { x: SIZE as f32, speed: -speed }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Torpedo {
    x: f32,
    y: i32,
    speed: f32,
}

/// Whether a `w`x`h` box at `(x, y)` overlaps the submarine-sized box at `(sub_x, sub_y)`.
fn touches(sub_x: i32, sub_y: i32, (x, y, w, h): (f32, i32, i32, i32)) -> bool {
    x < (sub_x + WIDTH) as f32 && x + w as f32 > sub_x as f32 && y < sub_y + HEIGHT && y + h > sub_y
}

/// A bullet fired by an enemy submarine at `x` swimming at `speed`: it leaves from the
/// front, faster than the submarine.
fn bullet_from(x: f32, speed: f32) -> Swimmer {
    let bullet = speed + BULLET_SPEED * speed.signum();
    let x = if speed > 0.0 { x + WIDTH as f32 } else { x - BULLET_LENGTH as f32 };
    Swimmer { x, speed: bullet }
}

pub struct Seaquest {
    rng: Pcg64Mcg,
    enemies: [Option<(Enemy, Swimmer)>; LANES],
    divers: [Option<Swimmer>; LANES],
    bullets: [Option<Swimmer>; LANES],
    torpedo: Option<Torpedo>,
    x: i32,
    y: i32,
    faces_left: bool,
    oxygen: u32,
    /// At the surface, refilling: the submarine cannot dive until the tank is full.
    refilling: bool,
    /// Whether the submarine has been under water since it last surfaced.
    dived: bool,
    rescued: u32,
    level: u32,
    lives: u32,
    points: u32,
}

impl Seaquest {
    fn kill_points(&self) -> u32 {
        20 + 10 * self.level.min(7)
    }

    fn enemy_speed(&self) -> f32 {
        (0.5 + 0.12 * self.level as f32).min(1.6)
    }

    /// A fresh submarine at the surface; the divers on board stay on board.
    fn new_life(&mut self) {
        (self.x, self.y, self.faces_left) = (START_X, SURFACE_Y, false);
        (self.oxygen, self.refilling, self.dived) = (OXYGEN, false, false);
        self.clear_enemies();
    }

    fn clear_enemies(&mut self) {
        self.enemies = [None; LANES];
        self.bullets = [None; LANES];
        self.torpedo = None;
    }

    fn lose_life(&mut self) {
        self.lives = self.lives.saturating_sub(1);
        self.new_life();
    }

    /// Surfacing: six divers earn a bonus, fewer let one off, none cost a life.
    fn surface(&mut self) -> u32 {
        self.dived = false;
        if self.rescued == 0 {
            self.lose_life();
            return 0;
        }
        let bonus = if self.rescued == MAX_DIVERS {
            let oxygen_left = self.oxygen * 48 / OXYGEN;
            self.rescued = 0;
            MAX_DIVERS * 50 * (self.level + 1) + 20 * oxygen_left
        } else {
            self.rescued -= 1;
            0
        };
        self.level += 1;
        self.refilling = true;
        self.clear_enemies();
        bonus
    }

    fn move_swimmers(&mut self) {
        let gone = |s: &Swimmer, width: i32| s.x < -(width as f32) || s.x > SIZE as f32;
        for lane in 0..LANES {
            if let Some((kind, enemy)) = &mut self.enemies[lane] {
                enemy.x += enemy.speed;
                // Enemy submarines fire along their lane now and then.
                let shoot = *kind == Enemy::Sub && enemy.on_screen(WIDTH) && self.bullets[lane].is_none();
                if shoot && self.rng.random_bool((0.02 + 0.005 * self.level as f64).min(0.06)) {
                    self.bullets[lane] = Some(bullet_from(enemy.x, enemy.speed));
                }
                if gone(enemy, WIDTH) {
                    self.enemies[lane] = None;
                }
            }
            for (slot, width) in [(&mut self.divers[lane], WIDTH), (&mut self.bullets[lane], BULLET_LENGTH)] {
                if let Some(swimmer) = slot {
                    swimmer.x += swimmer.speed;
                    if gone(swimmer, width) {
                        *slot = None;
                    }
                }
            }
        }
    }

    /// Moves the torpedo; returns the points if it hits an enemy.
    fn move_torpedo(&mut self) -> u32 {
        let Some(mut torpedo) = self.torpedo.take() else { return 0 };
        torpedo.x += torpedo.speed;
        if torpedo.x < -(TORPEDO_LENGTH as f32) || torpedo.x > SIZE as f32 {
            return 0;
        }
        for (slot, top) in self.enemies.iter_mut().zip(LANE_TOPS) {
            let hit = slot.is_some_and(|(_, enemy)| {
                torpedo.x < enemy.x + WIDTH as f32
                    && torpedo.x + TORPEDO_LENGTH as f32 > enemy.x
                    && (top..top + HEIGHT).contains(&torpedo.y)
            });
            if hit {
                *slot = None;
                return self.kill_points();
            }
        }
        self.torpedo = Some(torpedo);
        0
    }

    /// Whether an enemy or a bullet touches the submarine.
    fn sub_hit(&self) -> bool {
        (0..LANES).any(|lane| {
            let top = LANE_TOPS[lane];
            let enemy = self.enemies[lane].is_some_and(|(_, e)| touches(self.x, self.y, (e.x, top, WIDTH, HEIGHT)));
            let bullet = self.bullets[lane].is_some_and(|b| touches(self.x, self.y, (b.x, top + 2, BULLET_LENGTH, 1)));
            enemy || bullet
        })
    }

    fn spawn(&mut self) {
        let enemy_chance = (0.02 + 0.004 * self.level as f64).min(0.05);
        let speed = self.enemy_speed();
        for lane in 0..LANES {
            if self.enemies[lane].is_none() && self.rng.random_bool(enemy_chance) {
                let kind = if self.rng.random_bool(0.5) { Enemy::Shark } else { Enemy::Sub };
                let speed = speed + self.rng.random_range(0.0..0.2);
                self.enemies[lane] = Some((kind, Swimmer::enter(&mut self.rng, speed)));
            }
            if self.divers[lane].is_none() && self.rng.random_bool(0.008) {
                self.divers[lane] = Some(Swimmer::enter(&mut self.rng, DIVER_SPEED));
            }
        }
    }

    /// The planning grid cell of a submarine position.
    fn cell(x: i32, y: i32) -> (usize, usize) {
        (((y - SURFACE_Y) / SUB_STEP) as usize, (x / SUB_STEP) as usize)
    }

    /// Marks (`on`) or clears the cells where the submarine would overlap a `w`x`h` box at
    /// `(x, y)`, widened by `margin` on either side.
    fn mark_box(cells: &mut Cells, (x, y, w, h): (f32, i32, i32, i32), margin: f32, on: bool) {
        let first = ((x - margin - WIDTH as f32) / SUB_STEP as f32).floor() as i32 + 1;
        let last = ((x + w as f32 + margin) / SUB_STEP as f32).ceil() as i32 - 1;
        for sub_y in (SURFACE_Y..=DEEPEST_Y).step_by(SUB_STEP as usize).filter(|&sy| sy < y + h && sy + HEIGHT > y) {
            cells.span(Self::cell(0, sub_y).0 as i32, first, last, on);
        }
    }

    /// Whether an enemy lies ahead of the submarine in the torpedo's path, within range.
    fn target_ahead(&self) -> bool {
        let torpedo_y = self.y + HEIGHT / 2;
        (0..LANES).any(|lane| {
            self.enemies[lane].is_some_and(|(_, e)| {
                let ahead = if self.faces_left { self.x as f32 - e.x } else { e.x - self.x as f32 };
                (LANE_TOPS[lane]..LANE_TOPS[lane] + HEIGHT).contains(&torpedo_y) && (0.0..48.0).contains(&ahead)
            })
        })
    }

    /// The side (-1 left, +1 right) of an enemy in the torpedo's path behind the submarine.
    fn target_behind(&self) -> Option<i32> {
        let torpedo_y = self.y + HEIGHT / 2;
        (0..LANES).find_map(|lane| {
            let (_, e) = self.enemies[lane]?;
            let side = if e.x < self.x as f32 { -1 } else { 1 };
            let behind = (side < 0) != self.faces_left;
            ((LANE_TOPS[lane]..LANE_TOPS[lane] + HEIGHT).contains(&torpedo_y)
                && behind
                && (e.x - self.x as f32).abs() > 8.0)
                .then_some(side)
        })
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let sub = (0..=SUB_MAX_X).contains(&self.x)
            && (SURFACE_Y..=DEEPEST_Y).contains(&self.y)
            && self.x % SUB_STEP == 0
            && self.y % SUB_STEP == 0;
        let tank = self.oxygen <= OXYGEN && (self.oxygen > 0 || self.lives == 0);
        let rules = self.rescued <= MAX_DIVERS && self.lives <= LIVES;
        let swimmers = self
            .enemies
            .iter()
            .flatten()
            .map(|(_, e)| e)
            .chain(self.divers.iter().flatten())
            .all(|s| (-(WIDTH as f32)..=SIZE as f32).contains(&s.x));
        if sub && tank && rules && swimmers { Ok(()) } else { Err(format!("sub at {:?}", (self.x, self.y))) }
    }
}

impl Game for Seaquest {
    const NAME: &'static str = "seaquest";
    const DESCRIPTION: &'static str =
        "Seaquest: torpedo sharks and submarines, pick up divers, and surface for oxygen before it runs out.";
    const ACTIONS: &'static [&'static str] = &["noop", "left", "right", "up", "down", "fire"];
    const MAX_STEPS: u32 = 2000;

    fn new(seed: u64) -> Self {
        let mut game = Seaquest {
            rng: Pcg64Mcg::seed_from_u64(seed),
            enemies: [None; LANES],
            divers: [None; LANES],
            bullets: [None; LANES],
            torpedo: None,
            x: 0,
            y: 0,
            faces_left: false,
            oxygen: OXYGEN,
            refilling: false,
            dived: false,
            rescued: 0,
            level: 0,
            lives: LIVES,
            points: 0,
        };
        game.new_life();
        game
    }

    fn act(&mut self, action: usize) -> f32 {
        match action {
            LEFT => (self.x, self.faces_left) = ((self.x - SUB_STEP).max(0), true),
            RIGHT => (self.x, self.faces_left) = ((self.x + SUB_STEP).min(SUB_MAX_X), false),
            UP => self.y = (self.y - SUB_STEP).max(SURFACE_Y),
            DOWN if !self.refilling => self.y = (self.y + SUB_STEP).min(DEEPEST_Y),
            FIRE if self.torpedo.is_none() && self.y > SURFACE_Y => {
                let (x, speed) = if self.faces_left {
                    (self.x - TORPEDO_LENGTH, -TORPEDO_SPEED)
                } else {
                    (self.x + WIDTH, TORPEDO_SPEED)
                };
                self.torpedo = Some(Torpedo { x: x as f32, y: self.y + HEIGHT / 2, speed });
            }
            _ => {}
        }
        let mut points = 0;
        if self.y == SURFACE_Y {
            if self.dived {
                points += self.surface();
            }
            self.oxygen = (self.oxygen + REFILL).min(OXYGEN);
            self.refilling &= self.oxygen < OXYGEN;
        } else {
            self.dived = true;
            self.oxygen -= 1;
            if self.oxygen == 0 {
                self.lose_life();
            }
        }
        self.move_swimmers();
        points += self.move_torpedo();
        if self.lives > 0 && self.sub_hit() {
            self.lose_life();
        }
        for (slot, top) in self.divers.iter_mut().zip(LANE_TOPS) {
            let reached = slot.is_some_and(|d| touches(self.x, self.y, (d.x, top, WIDTH, HEIGHT)));
            if reached && self.rescued < MAX_DIVERS {
                *slot = None;
                self.rescued += 1;
            }
        }
        if self.lives > 0 {
            self.spawn();
        }
        self.points += points;
        points as f32
    }

    fn over(&self) -> bool {
        self.lives == 0
    }

    fn draw(&self, frame: &mut RgbImage) {
        rect(frame, 0, 0, SIZE, SIZE, PANEL);
        paint::number(frame, self.points, 30, 1, TEXT);
        paint::pips(frame, self.lives, 52, 3, SUB_COLOUR);
        rect(frame, 0, 7, SIZE, WATER_Y - 7, SKY);
        rect(frame, 0, WATER_Y, SIZE, SEABED_Y - WATER_Y, WATER);
        rect(frame, 0, SEABED_Y, SIZE, 2, SEABED);
        paint::bar(frame, 14, 59, 48, self.oxygen as f32 / OXYGEN as f32, OXYGEN_COLOURS);
        paint::pips(frame, self.rescued, 14, 62, DIVER_COLOUR);
        let shark = SHARK_COLOURS[self.level as usize % SHARK_COLOURS.len()];
        for (lane, top) in LANE_TOPS.into_iter().enumerate() {
            if let Some(diver) = self.divers[lane] {
                paint::facing_sprite(
                    frame,
                    &DIVER_SPRITE,
                    WIDTH,
                    (diver.x.round() as i32, top),
                    diver.speed < 0.0,
                    DIVER_COLOUR,
                );
            }
            if let Some((kind, enemy)) = self.enemies[lane] {
                let (shape, colour) = match kind {
                    Enemy::Shark => (&SHARK_SPRITE, shark),
                    Enemy::Sub => (&SUB_SPRITE, ENEMY_SUB_COLOUR),
                };
                paint::facing_sprite(frame, shape, WIDTH, (enemy.x.round() as i32, top), enemy.speed < 0.0, colour);
            }
            if let Some(bullet) = self.bullets[lane] {
                rect(frame, bullet.x.round() as i32, top + 2, BULLET_LENGTH, 1, BULLET_COLOUR);
            }
        }
        if let Some(torpedo) = self.torpedo {
            rect(frame, torpedo.x.round() as i32, torpedo.y, TORPEDO_LENGTH, 1, SUB_COLOUR);
        }
        paint::facing_sprite(frame, &SUB_SPRITE, WIDTH, (self.x, self.y), self.faces_left, SUB_COLOUR);
    }

    /// Surfaces in time with divers on board, picks divers up, and hunts the enemies in
    /// between, always along a path the planner has checked against every enemy and bullet.
    fn expert(&self) -> usize {
        const HORIZON: usize = 16;
        if self.refilling {
            return 0;
        }
        let errand = self.errand();
        let (rows, cols) = Self::cell(SUB_MAX_X, DEEPEST_Y);
        let grid = Grid { rows: rows + 1, cols: cols + 1 };
        let fallback = match errand {
            Errand::Surface => Self::cell(self.x, SURFACE_Y),
            _ => Self::cell(START_X, (LANE_TOPS[1] + LANE_TOPS[2]) / 2),
        };
        let plan = grid.plan(
            Self::cell(self.x, self.y),
            HORIZON,
            |t, safe| self.clear_hazards(t, safe),
            |t, goals| self.mark_goals(errand, t, goals),
            fallback,
        );
        if errand == Errand::Hunt {
            if self.torpedo.is_none() && self.target_ahead() && plan.is_safe(Move::Stay) {
                return FIRE;
            }
            if let Some(side) = self.target_behind() {
                let (turn, action) = if side < 0 { (Move::Left, LEFT) } else { (Move::Right, RIGHT) };
                if plan.is_safe(turn) {
                    return action;
                }
            }
        }
        plan.first.action([0, UP, DOWN, LEFT, RIGHT])
    }
}

/// What the expert is after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Errand {
    /// Up for air with divers on board, or to cash in six.
    Surface,
    /// Picking up the divers in sight.
    Rescue,
    /// Torpedoing enemies.
    Hunt,
}

impl Seaquest {
    fn errand(&self) -> Errand {
        /// Steps of oxygen kept in hand for detours on the way up.
        const OXYGEN_MARGIN: u32 = 30;
        let steps_up = ((self.y - SURFACE_Y) / SUB_STEP) as u32;
        // Without divers surfacing costs a life anyway, so the expert never surfaces empty.
        if self.rescued == MAX_DIVERS || (self.rescued > 0 && self.oxygen < steps_up + OXYGEN_MARGIN) {
            Errand::Surface
        } else if self.divers.iter().any(Option::is_some) {
            Errand::Rescue
        } else {
            Errand::Hunt
        }
    }

    /// Clears the cells where, `t` steps from now, an enemy or a bullet would hit the
    /// submarine, including bullets not yet fired and enemies not yet come. Beyond the
    /// first step every hazard is widened by a step of the submarine, so that one move
    /// that goes astray (a sticky action) does not sink it.
    fn clear_hazards(&self, t: usize, safe: &mut Cells) {
        let slack = if t > 1 { SUB_STEP } else { 0 };
        let mut hazard = |x: f32, y: i32, w: i32, h: i32| {
            Self::mark_box(safe, (x, y - slack, w, h + 2 * slack), 1.0 + slack as f32, false)
        };
        for (lane, &top) in LANE_TOPS.iter().enumerate() {
            if let Some(b) = self.bullets[lane] {
                hazard(b.x_after(t), top + 2, BULLET_LENGTH, 1);
            }
            let Some((kind, e)) = self.enemies[lane] else {
                // An enemy may enter an empty lane at either end.
                if t > 1 {
                    hazard(1.0 - WIDTH as f32, top, WIDTH, HEIGHT);
                    hazard(SIZE as f32 - 1.0, top, WIDTH, HEIGHT);
                }
                continue;
            };
            hazard(e.x_after(t), top, WIDTH, HEIGHT);
            if kind == Enemy::Sub && self.bullets[lane].is_none() {
                // Anywhere between a bullet fired now and one fired at the first step.
                let (latest, earliest) =
                    (bullet_from(e.x_after(t), e.speed).x, bullet_from(e.x_after(1), e.speed).x_after(t - 1));
                let (from, to) = (latest.min(earliest), latest.max(earliest));
                hazard(from, top + 2, (to - from).ceil() as i32 + BULLET_LENGTH, 1);
            }
        }
    }

    fn mark_goals(&self, errand: Errand, t: usize, goals: &mut Cells) {
        match errand {
            Errand::Surface => goals.span(0, 0, 63, true),
            Errand::Rescue => {
                for (lane, &top) in LANE_TOPS.iter().enumerate() {
                    if let Some(d) = self.divers[lane] {
                        Self::mark_box(goals, (d.x_after(t), top, WIDTH, HEIGHT), 0.0, true);
                    }
                }
            }
            Errand::Hunt => {
                // Firing spots: the rows whose torpedo runs in an enemy's lane, at a fair distance.
                for (lane, &top) in LANE_TOPS.iter().enumerate() {
                    let Some((_, e)) = self.enemies[lane] else { continue };
                    let x = e.x_after(t) / SUB_STEP as f32;
                    let (near, far) = (12.0 / SUB_STEP as f32, 40.0 / SUB_STEP as f32);
                    for row in [top - HEIGHT / 2, top].map(|y| Self::cell(0, y).0 as i32) {
                        goals.span(row, (x - far).ceil() as i32, (x - near).floor() as i32, true);
                        goals.span(row, (x + near).ceil() as i32, (x + far).floor() as i32, true);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::arcade::testing;
    use super::*;

    #[test]
    fn shared_checks() {
        testing::check_deterministic::<Seaquest>();
        testing::check_any_actions::<Seaquest>(Seaquest::check);
        testing::check_cap::<Seaquest>();
        testing::check_frames::<Seaquest>();
    }

    #[test]
    fn expert_outscores_random() {
        let (expert, random) = testing::expert_and_random::<Seaquest>(8);
        assert!(expert >= 10_000.0 && expert >= 100.0 * random, "expert {expert}, random {random}");
    }

    /// A quiet sea, the submarine under water at `y` with `rescued` divers on board.
    fn diving(y: i32, rescued: u32) -> Seaquest {
        let mut game = Seaquest::new(0);
        (game.y, game.dived, game.rescued) = (y, true, rescued);
        game
    }

    #[test]
    fn oxygen_runs_out_under_water() {
        let mut game = diving(DEEPEST_Y, 1);
        game.oxygen = 3;
        game.act(0);
        game.act(0);
        assert_eq!(game.lives, LIVES);
        game.act(0);
        assert_eq!((game.lives, game.y, game.oxygen), (LIVES - 1, SURFACE_Y, OXYGEN));
    }

    #[test]
    fn surfacing_rules() {
        // Six divers: all rescued for a bonus, and the sea speeds up.
        let mut game = diving(SURFACE_Y + SUB_STEP, MAX_DIVERS);
        game.oxygen = OXYGEN / 2;
        let bonus = game.act(UP);
        assert!(bonus >= (MAX_DIVERS * 50) as f32, "bonus {bonus}");
        assert_eq!((game.rescued, game.level, game.lives), (0, 1, LIVES));
        assert!(game.refilling);
        // Fewer: one diver is let off.
        let mut game = diving(SURFACE_Y + SUB_STEP, 3);
        assert_eq!(game.act(UP), 0.0);
        assert_eq!((game.rescued, game.level), (2, 1));
        // None: a life is lost.
        let mut game = diving(SURFACE_Y + SUB_STEP, 0);
        game.act(UP);
        assert_eq!(game.lives, LIVES - 1);
    }

    #[test]
    fn no_diving_until_the_tank_is_full() {
        let mut game = diving(SURFACE_Y + SUB_STEP, 2);
        game.oxygen = OXYGEN / 2;
        game.act(UP);
        game.act(DOWN);
        assert_eq!(game.y, SURFACE_Y);
        for _ in 0..OXYGEN / REFILL {
            game.act(0);
        }
        game.act(DOWN);
        assert_eq!(game.y, SURFACE_Y + SUB_STEP);
    }

    #[test]
    fn torpedoes_score_more_each_level() {
        for level in [0, 3, 20] {
            let mut game = diving(LANE_TOPS[1], 0);
            game.level = level;
            game.enemies[1] = Some((Enemy::Shark, Swimmer { x: game.x as f32 + 20.0, speed: 0.0 }));
            let reward: f32 = (0..6).map(|step| game.act(if step == 0 { FIRE } else { 0 })).sum();
            assert_eq!(reward, (20 + 10 * level.min(7)) as f32);
        }
    }

    #[test]
    fn divers_are_picked_up_six_at_most() {
        let mut game = diving(LANE_TOPS[2], 5);
        game.divers[2] = Some(Swimmer { x: game.x as f32 + 2.0, speed: 0.0 });
        game.act(0);
        assert_eq!(game.rescued, MAX_DIVERS);
        game.divers[2] = Some(Swimmer { x: game.x as f32 + 2.0, speed: 0.0 });
        game.act(0);
        assert_eq!(game.rescued, MAX_DIVERS);
        assert!(game.divers[2].is_some(), "a full submarine leaves the diver be");
    }
}
