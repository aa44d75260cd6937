//! Space Invaders. Five rows of aliens march from side to side, stepping down at each
//! edge and dropping bombs; the player's cannon slides along the ground, hides under
//! three crumbling bunkers, and fires one shot at a time. Aliens are worth 30 (top row),
//! 20 or 10 points, and a saucer crossing the top is worth 50 to 300. The fewer aliens
//! remain, the faster they march; each new wave starts lower. Three cannons; the game
//! also ends when the aliens land.

use super::arcade::{Game, SIZE};
use super::paint;
use super::plan::{Cells, Grid, Move};
use crate::envs::draw::rect;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const ROWS: usize = 5;
const COLS: usize = 6;
const ALIEN_WIDTH: i32 = 5;
const ALIEN_HEIGHT: i32 = 4;
const SPACING_X: i32 = 8;
const SPACING_Y: i32 = 6;
const ROW_POINTS: [u32; ROWS] = [30, 20, 20, 10, 10];
/// Alien sprites by row, five bits a line.
const ROW_SPRITES: [[u8; 4]; ROWS] = [
    [0b01110, 0b10101, 0b11111, 0b01010],
    [0b10001, 0b11111, 0b10101, 0b01010],
    [0b10001, 0b11111, 0b10101, 0b01010],
    [0b01110, 0b11111, 0b10101, 0b10001],
    [0b01110, 0b11111, 0b10101, 0b10001],
];
const FORMATION_LEFT: i32 = 8;
const FORMATION_TOP: i32 = 14;
/// How much lower each new wave starts, and the lowest start.
const WAVE_DROP: i32 = 2;
const LOWEST_START: i32 = 22;
const MARCH_DROP: i32 = 2;
/// Aliens march between these columns.
const FIELD_LEFT: i32 = 1;
const FIELD_RIGHT: i32 = 63;

const UFO_Y: i32 = 8;
const UFO_WIDTH: i32 = 7;
const UFO_POINTS: [u32; 4] = [50, 100, 150, 300];
const UFO_SPRITE: [u8; 3] = [0b0111110, 0b1101011, 0b0111110];

const BUNKER_Y: i32 = 46;
const BUNKER_XS: [i32; 3] = [9, 28, 47];
const BUNKER_HEIGHT: usize = 4;
/// A fresh bunker, eight bits a line; hits clear bits.
const BUNKER: [u8; BUNKER_HEIGHT] = [0b0011_1100, 0b0111_1110, 0b1111_1111, 0b1110_0111];

const CANNON_Y: i32 = 57;
const CANNON_WIDTH: i32 = 5;
const CANNON_HEIGHT: i32 = 3;
const CANNON_MAX_X: i32 = SIZE - CANNON_WIDTH - 1;
const GROUND_Y: i32 = 61;
const SHOT_SPEED: i32 = 3;
const SHOT_LENGTH: i32 = 3;
const BOMB_LENGTH: i32 = 3;
const MAX_BOMBS: usize = 3;
const RESPAWN_DELAY: u32 = 24;
const CANNONS: u32 = 3;

const LEFT: usize = 1;
const RIGHT: usize = 2;
const FIRE: usize = 3;

const BACKGROUND: [u8; 3] = [0, 0, 0];
const ROW_COLOURS: [[u8; 3]; ROWS] = [[210, 90, 210], [90, 200, 230], [90, 200, 230], [200, 210, 80], [200, 210, 80]];
const UFO_COLOUR: [u8; 3] = [230, 60, 60];
const BUNKER_COLOUR: [u8; 3] = [200, 110, 50];
const CANNON_COLOUR: [u8; 3] = [80, 200, 80];
const SHOT_COLOUR: [u8; 3] = [255, 255, 255];
const BOMB_COLOUR: [u8; 3] = [255, 200, 90];
const TEXT_COLOUR: [u8; 3] = [220, 220, 220];

/// A shot or a bomb: a vertical streak whose top is at `(x, y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Missile {
    x: i32,
    y: i32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Ufo {
    x: i32,
    direction: i32,
}

pub struct SpaceInvaders {
    rng: Pcg64Mcg,
    alive: [[bool; COLS]; ROWS],
    /// Top left of the formation's first column and row, and its marching direction.
    formation: (i32, i32),
    direction: i32,
    /// Steps until the formation next moves.
    march_in: u32,
    bunkers: [[u8; BUNKER_HEIGHT]; 3],
    cannon: i32,
    shot: Option<Missile>,
    bombs: [Option<Missile>; MAX_BOMBS],
    ufo: Option<Ufo>,
    ufo_in: u32,
    /// Steps until a destroyed cannon comes back; it can neither move nor be hit meanwhile.
    respawn_in: u32,
    cannons: u32,
    wave: u32,
    landed: bool,
    points: u32,
}

impl SpaceInvaders {
    fn alive_count(&self) -> u32 {
        self.alive.iter().flatten().filter(|&&a| a).count() as u32
    }

    /// Steps between two moves of the formation: the fewer aliens, the faster they march.
    fn march_period(&self) -> u32 {
        1 + self.alive_count() / 3
    }

    fn alien_at(&self, row: usize, col: usize) -> (i32, i32) {
        (self.formation.0 + col as i32 * SPACING_X, self.formation.1 + row as i32 * SPACING_Y)
    }

    /// The row of the lowest living alien in column `col`, if any.
    fn lowest(&self, col: usize) -> Option<usize> {
        (0..ROWS).rev().find(|&row| self.alive[row][col])
    }

    fn new_wave(&mut self) {
        self.alive = [[true; COLS]; ROWS];
        let top = (FORMATION_TOP + WAVE_DROP * self.wave as i32).min(LOWEST_START);
        self.formation = (FORMATION_LEFT, top);
        self.direction = 1;
        self.march_in = self.march_period();
        self.bunkers = [BUNKER; 3];
        self.bombs = [None; MAX_BOMBS];
    }

    /// Whether `(x, y)` is a standing bunker pixel; if so, the hit knocks it out.
    fn hit_bunker(&mut self, x: i32, y: i32) -> bool {
        let row = y - BUNKER_Y;
        if !(0..BUNKER_HEIGHT as i32).contains(&row) {
            return false;
        }
        for (bunker, &left) in self.bunkers.iter_mut().zip(&BUNKER_XS) {
            let bit = x - left;
            if (0..8).contains(&bit) && bunker[row as usize] & (0x80 >> bit) != 0 {
                bunker[row as usize] &= !(0x80 >> bit);
                return true;
            }
        }
        false
    }

    fn march(&mut self) {
        let Some((first, last)) = self.living_columns() else { return };
        let left = self.alien_at(0, first).0;
        let right = self.alien_at(0, last).0 + ALIEN_WIDTH;
        if (self.direction > 0 && right + 1 > FIELD_RIGHT) || (self.direction < 0 && left - 1 < FIELD_LEFT) {
            self.formation.1 += MARCH_DROP;
            self.direction = -self.direction;
        } else {
            self.formation.0 += self.direction;
        }
        // Aliens crush the bunkers they walk through, and landing ends the game.
        for row in 0..ROWS {
            for col in 0..COLS {
                if !self.alive[row][col] {
                    continue;
                }
                let (x, y) = self.alien_at(row, col);
                for py in y..y + ALIEN_HEIGHT {
                    for px in x..x + ALIEN_WIDTH {
                        self.hit_bunker(px, py);
                    }
                }
                self.landed |= y + ALIEN_HEIGHT > CANNON_Y;
            }
        }
    }

    /// The first and last columns with a living alien.
    fn living_columns(&self) -> Option<(usize, usize)> {
        let first = (0..COLS).find(|&c| self.lowest(c).is_some())?;
        let last = (0..COLS).rev().find(|&c| self.lowest(c).is_some())?;
        Some((first, last))
    }

    /// Moves the shot up a pixel at a time, so it cannot skip an alien; returns the points.
    fn move_shot(&mut self) -> u32 {
        let Some(mut shot) = self.shot.take() else { return 0 };
        for _ in 0..SHOT_SPEED {
            shot.y -= 1;
            if shot.y < 0 || self.hit_bunker(shot.x, shot.y) {
                return 0;
            }
            for (row, points) in ROW_POINTS.into_iter().enumerate() {
                for col in 0..COLS {
                    let (x, y) = self.alien_at(row, col);
                    if self.alive[row][col]
                        && (x..x + ALIEN_WIDTH).contains(&shot.x)
                        && (y..y + ALIEN_HEIGHT).contains(&shot.y)
                    {
                        self.alive[row][col] = false;
                        return points;
                    }
                }
            }
            if let Some(ufo) = self.ufo
                && (ufo.x..ufo.x + UFO_WIDTH).contains(&shot.x)
                && (UFO_Y..UFO_Y + UFO_SPRITE.len() as i32).contains(&shot.y)
            {
                self.ufo = None;
                return UFO_POINTS[self.rng.random_range(0..UFO_POINTS.len())];
            }
        }
        self.shot = Some(shot);
        0
    }

    /// Moves the bombs down; returns whether one hit the cannon.
    fn move_bombs(&mut self) -> bool {
        let mut hit = false;
        for slot in 0..MAX_BOMBS {
            let Some(mut bomb) = self.bombs[slot].take() else { continue };
            bomb.y += 1;
            let on_cannon = (self.cannon..self.cannon + CANNON_WIDTH).contains(&bomb.x)
                && bomb.y + BOMB_LENGTH > CANNON_Y
                && bomb.y < CANNON_Y + CANNON_HEIGHT;
            if on_cannon && self.respawn_in == 0 {
                hit = true;
            } else if !self.hit_bunker(bomb.x, bomb.y + BOMB_LENGTH - 1) && bomb.y + BOMB_LENGTH <= GROUND_Y {
                self.bombs[slot] = Some(bomb);
            }
        }
        hit
    }

    /// Now and then the lowest alien of a random column drops a bomb; later waves bomb more.
    fn drop_bomb(&mut self) {
        let chance = (0.05 + 0.01 * self.wave as f64).min(0.1);
        if self.respawn_in > 0 || !self.rng.random_bool(chance) {
            return;
        }
        let Some(slot) = self.bombs.iter().position(Option::is_none) else { return };
        let columns = (0..COLS).filter(|&c| self.lowest(c).is_some()).count();
        if columns == 0 {
            return;
        }
        let pick = self.rng.random_range(0..columns);
        if let Some((col, row)) = (0..COLS).filter_map(|c| self.lowest(c).map(|r| (c, r))).nth(pick) {
            let (x, y) = self.alien_at(row, col);
            self.bombs[slot] = Some(Missile { x: x + ALIEN_WIDTH / 2, y: y + ALIEN_HEIGHT });
        }
    }

    /// The saucer crosses the top now and then, from a random side.
    fn move_ufo(&mut self) {
        match &mut self.ufo {
            Some(ufo) => {
                ufo.x += ufo.direction;
                if ufo.x < -UFO_WIDTH || ufo.x > SIZE {
                    self.ufo = None;
                }
            }
            None => {
                self.ufo_in = self.ufo_in.saturating_sub(1);
                if self.ufo_in == 0 {
                    let from_left = self.rng.random_bool(0.5);
                    self.ufo = Some(if from_left {
                        Ufo { x: -UFO_WIDTH, direction: 1 }
                    } else {
                        Ufo { x: SIZE, direction: -1 }
                    });
                    self.ufo_in = self.rng.random_range(300..600);
                }
            }
        }
    }

    /// The formation's left edge after `steps` more steps (edges and drops aside).
    fn formation_x_after(&self, steps: u32) -> i32 {
        let moves = if steps < self.march_in { 0 } else { 1 + (steps - self.march_in) / self.march_period() };
        let Some((first, last)) = self.living_columns() else { return self.formation.0 };
        let lowest = FIELD_LEFT - first as i32 * SPACING_X;
        let highest = FIELD_RIGHT - 1 - ALIEN_WIDTH - last as i32 * SPACING_X;
        (self.formation.0 + self.direction * moves as i32).clamp(lowest.min(highest), highest.max(lowest))
    }

    /// Whether a shot from column `x` would hit a bunker on its way up.
    fn blocked(&self, x: i32) -> bool {
        self.bunkers.iter().zip(&BUNKER_XS).any(|(bunker, &left)| {
            (0..8).contains(&(x - left)) && bunker.iter().any(|row| row & (0x80 >> (x - left)) != 0)
        })
    }

    /// Marks the cannon positions from which a shot fired `t` steps from now hits an alien
    /// or the saucer; bunkers in the way count only when `through_bunkers`.
    fn mark_firing_spots(&self, t: usize, spots: &mut Cells, through_bunkers: bool) {
        let flight = |bottom: i32| ((CANNON_Y - SHOT_LENGTH - bottom + SHOT_SPEED - 1) / SHOT_SPEED).max(1) as u32;
        let mut mark = |first: i32, last: i32| {
            for cannon in first.max(0)..=last.min(CANNON_MAX_X) {
                if through_bunkers || !self.blocked(cannon + CANNON_WIDTH / 2) {
                    spots.span(0, cannon, cannon, true);
                }
            }
        };
        for col in 0..COLS {
            let Some(row) = self.lowest(col) else { continue };
            let bottom = self.alien_at(row, col).1 + ALIEN_HEIGHT - 1;
            let x = self.formation_x_after(t as u32 + flight(bottom) - 1) + col as i32 * SPACING_X;
            mark(x - CANNON_WIDTH / 2, x + ALIEN_WIDTH - 1 - CANNON_WIDTH / 2);
        }
        if let Some(ufo) = self.ufo {
            let x = ufo.x + ufo.direction * (t as u32 + flight(UFO_Y + 2)) as i32;
            mark(x - CANNON_WIDTH / 2, x + UFO_WIDTH - 1 - CANNON_WIDTH / 2);
        }
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let cannon = (0..=CANNON_MAX_X).contains(&self.cannon);
        let missiles = self.shot.iter().chain(self.bombs.iter().flatten()).all(|m| (0..SIZE).contains(&m.y));
        let formation = (0..SIZE).contains(&self.formation.1) && (-SIZE..SIZE).contains(&self.formation.0);
        let rules = self.cannons <= CANNONS && (self.alive_count() > 0 || self.over());
        if cannon && missiles && formation && rules { Ok(()) } else { Err("out of bounds".into()) }
    }
}

impl Game for SpaceInvaders {
    const NAME: &'static str = "space_invaders";
    const DESCRIPTION: &'static str =
        "Space Invaders: shoot the marching aliens before they land, dodging their bombs behind the bunkers.";
    const ACTIONS: &'static [&'static str] = &["noop", "left", "right", "fire"];
    const MAX_STEPS: u32 = 2000;

    fn new(seed: u64) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let ufo_in = rng.random_range(300..600);
        let mut game = SpaceInvaders {
            rng,
            alive: [[true; COLS]; ROWS],
            formation: (FORMATION_LEFT, FORMATION_TOP),
            direction: 1,
            march_in: 1,
            bunkers: [BUNKER; 3],
            cannon: (SIZE - CANNON_WIDTH) / 2,
            shot: None,
            bombs: [None; MAX_BOMBS],
            ufo: None,
            ufo_in,
            respawn_in: 0,
            cannons: CANNONS,
            wave: 0,
            landed: false,
            points: 0,
        };
        game.new_wave();
        game
    }

    fn act(&mut self, action: usize) -> f32 {
        if self.respawn_in > 0 {
            self.respawn_in -= 1;
        } else {
            match action {
                LEFT => self.cannon = (self.cannon - 1).max(0),
                RIGHT => self.cannon = (self.cannon + 1).min(CANNON_MAX_X),
                FIRE if self.shot.is_none() => {
                    self.shot = Some(Missile { x: self.cannon + CANNON_WIDTH / 2, y: CANNON_Y - SHOT_LENGTH + 1 })
                }
                _ => {}
            }
        }
        let points = self.move_shot();
        self.move_ufo();
        self.march_in = self.march_in.saturating_sub(1);
        if self.march_in == 0 {
            self.march();
            self.march_in = self.march_period();
        }
        if self.move_bombs() {
            self.cannons -= 1;
            self.respawn_in = RESPAWN_DELAY;
            self.bombs = [None; MAX_BOMBS];
            self.shot = None;
        }
        self.drop_bomb();
        if self.alive_count() == 0 {
            self.wave += 1;
            self.new_wave();
        }
        self.points += points;
        points as f32
    }

    fn over(&self) -> bool {
        self.cannons == 0 || self.landed
    }

    fn draw(&self, frame: &mut RgbImage) {
        rect(frame, 0, 0, SIZE, SIZE, BACKGROUND);
        paint::number(frame, self.points, 26, 1, TEXT_COLOUR);
        paint::pips(frame, self.cannons, 52, 2, CANNON_COLOUR);
        if let Some(ufo) = self.ufo {
            paint::sprite(frame, &UFO_SPRITE, UFO_WIDTH, ufo.x, UFO_Y, UFO_COLOUR);
        }
        for row in 0..ROWS {
            for col in (0..COLS).filter(|&c| self.alive[row][c]) {
                let (x, y) = self.alien_at(row, col);
                paint::sprite(frame, &ROW_SPRITES[row], ALIEN_WIDTH, x, y, ROW_COLOURS[row]);
            }
        }
        for (bunker, &left) in self.bunkers.iter().zip(&BUNKER_XS) {
            paint::sprite(frame, bunker, 8, left, BUNKER_Y, BUNKER_COLOUR);
        }
        if self.respawn_in == 0 {
            rect(frame, self.cannon, CANNON_Y + 1, CANNON_WIDTH, CANNON_HEIGHT - 1, CANNON_COLOUR);
            rect(frame, self.cannon + CANNON_WIDTH / 2, CANNON_Y, 1, 1, CANNON_COLOUR);
        }
        rect(frame, 0, GROUND_Y, SIZE, 1, CANNON_COLOUR);
        if let Some(shot) = self.shot {
            rect(frame, shot.x, shot.y, 1, SHOT_LENGTH, SHOT_COLOUR);
        }
        for bomb in self.bombs.iter().flatten() {
            rect(frame, bomb.x, bomb.y, 1, BOMB_LENGTH, BOMB_COLOUR);
        }
    }

    fn expert(&self) -> usize {
        const HORIZON: usize = 14;
        if self.respawn_in > 0 {
            return 0;
        }
        let grid = Grid { rows: 1, cols: CANNON_MAX_X as usize + 1 };
        let fallback = self.living_columns().map_or(self.cannon, |(first, last)| {
            let centre = |c: usize| self.alien_at(0, c).0 + ALIEN_WIDTH / 2 - CANNON_WIDTH / 2;
            let nearest =
                (first..=last).filter(|&c| self.lowest(c).is_some()).min_by_key(|&c| (centre(c) - self.cannon).abs());
            nearest.map_or(self.cannon, centre)
        });
        let plan = grid.plan(
            (0, self.cannon as usize),
            HORIZON,
            |t, safe| {
                // Each bomb falls a pixel a step; keep a pixel of room on either side.
                for bomb in self.bombs.iter().flatten() {
                    let y = bomb.y + t as i32;
                    if y + BOMB_LENGTH > CANNON_Y - 1 && y < CANNON_Y + CANNON_HEIGHT + 1 {
                        safe.span(0, bomb.x - CANNON_WIDTH, bomb.x + 1, false);
                    }
                }
            },
            |t, goals| self.mark_firing_spots(t, goals, false),
            (0, fallback.clamp(0, CANNON_MAX_X) as usize),
        );
        let aimed = |through_bunkers: bool| {
            let mut spots = Cells::EMPTY;
            self.mark_firing_spots(0, &mut spots, through_bunkers);
            spots.contains((0, self.cannon as usize))
        };
        // Fire through a bunker only when no clear shot can be reached.
        let fire = self.shot.is_none() && (aimed(false) || (plan.goal_in.is_none() && aimed(true)));
        if fire && plan.is_safe(Move::Stay) {
            return FIRE;
        }
        plan.first.action([0, 0, 0, LEFT, RIGHT])
    }
}

#[cfg(test)]
mod tests {
    use super::super::arcade::testing;
    use super::*;

    #[test]
    fn shared_checks() {
        testing::check_deterministic::<SpaceInvaders>();
        testing::check_any_actions::<SpaceInvaders>(SpaceInvaders::check);
        testing::check_cap::<SpaceInvaders>();
        testing::check_frames::<SpaceInvaders>();
    }

    #[test]
    fn expert_outscores_random() {
        let (expert, random) = testing::expert_and_random::<SpaceInvaders>(10);
        assert!(expert >= 2000.0 && expert >= 4.0 * random, "expert {expert}, random {random}");
    }

    /// A quiet game: no bombs, no saucer.
    fn quiet() -> SpaceInvaders {
        let mut game = SpaceInvaders::new(0);
        game.ufo_in = u32::MAX;
        game
    }

    #[test]
    fn aliens_score_by_row() {
        for (row, points) in [(4, 10.0), (2, 20.0), (0, 30.0)] {
            let mut game = quiet();
            for r in row + 1..ROWS {
                game.alive[r][2] = false;
            }
            game.cannon = game.alien_at(row, 2).0 + ALIEN_WIDTH / 2 - CANNON_WIDTH / 2;
            game.march_in = u32::MAX;
            game.bunkers = [[0; BUNKER_HEIGHT]; 3];
            game.act(FIRE);
            let reward = (0..30).map(|_| game.act(0)).find(|&r| r > 0.0);
            assert_eq!(reward, Some(points), "row {row}");
            assert!(!game.alive[row][2]);
        }
    }

    #[test]
    fn fewer_aliens_march_faster() {
        let mut game = quiet();
        let full = game.march_period();
        game.alive = [[false; COLS]; ROWS];
        game.alive[0][0] = true;
        assert!(game.march_period() * 5 <= full, "{} vs {full}", game.march_period());
    }

    #[test]
    fn bombs_cost_cannons_and_bunkers_stop_them() {
        let mut game = quiet();
        game.bombs[0] = Some(Missile { x: game.cannon + 2, y: CANNON_Y - 5 });
        for _ in 0..6 {
            game.act(0);
        }
        assert_eq!(game.cannons, CANNONS - 1);
        assert!(game.respawn_in > 0);
        let mut game = quiet();
        let x = BUNKER_XS[0] + 3;
        game.bombs[0] = Some(Missile { x, y: BUNKER_Y - 5 });
        for _ in 0..20 {
            game.act(0);
        }
        assert_ne!(game.bunkers[0], BUNKER, "the bomb bit into the bunker");
        assert!(game.bombs.iter().flatten().all(|b| b.x != x));
    }

    #[test]
    fn the_game_ends_when_aliens_land() {
        let mut game = quiet();
        game.formation.1 = CANNON_Y - 4 * SPACING_Y - ALIEN_HEIGHT;
        game.march_in = 1;
        game.direction = 1;
        game.formation.0 = FIELD_RIGHT - ALIEN_WIDTH - (COLS as i32 - 1) * SPACING_X;
        game.act(0);
        assert!(game.over());
    }
}
