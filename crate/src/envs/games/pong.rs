//! Pong. The player's green paddle on the right returns the ball past the computer's
//! orange paddle on the left. A point is +1 for the player and -1 for the computer, and
//! the first to 21 wins. Every return speeds the ball up, and where the ball meets the
//! paddle sets its angle: a steep return off a paddle's edge is what beats the computer,
//! which only chases the ball and never quite aims where it will be.

use super::arcade::{Game, SIZE};
use super::paint;
use crate::envs::draw::rect;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The ball flies between the walls, in rows `TOP..BOTTOM`.
const TOP: f32 = 10.0;
const BOTTOM: f32 = 62.0;
const MIDDLE: f32 = (TOP + BOTTOM) / 2.0;
const BALL: f32 = 2.0;
const PADDLE_HEIGHT: f32 = 8.0;
const PADDLE_WIDTH: f32 = 2.0;
/// The left edge of each paddle.
const CPU_X: f32 = 4.0;
const PLAYER_X: f32 = 58.0;
/// The computer's paddle returns the ball from its right edge.
const CPU_FACE: f32 = CPU_X + PADDLE_WIDTH;
const PLAYER_SPEED: f32 = 2.0;
const CPU_SPEED: f32 = 1.0;
/// How far off the ball the computer aims; a new error is drawn at every return.
const CPU_ERROR: f32 = 4.0;
/// The computer's errors the expert plans against: the deciles 1, 3, 5, 7 and 9 of the
/// uniform draw from ±CPU_ERROR.
const PLANNED_ERRORS: [f32; 5] = [-0.8 * CPU_ERROR, -0.4 * CPU_ERROR, 0.0, 0.4 * CPU_ERROR, 0.8 * CPU_ERROR];
/// Horizontal ball speeds, in pixels per step.
const SERVE_SPEED: f32 = 2.0;
const SPEED_UP: f32 = 0.15;
const MAX_SPEED: f32 = 3.5;
/// The steepest return off a paddle's edge: vertical over horizontal speed.
const MAX_SLOPE: f32 = 1.2;
const SERVE_DELAY: u32 = 12;
const WINNING_POINTS: u32 = 21;

const UP: usize = 1;
const DOWN: usize = 2;

const FIELD: [u8; 3] = [144, 72, 17];
const WALL: [u8; 3] = [236, 236, 236];
const CPU_COLOUR: [u8; 3] = [213, 130, 74];
const PLAYER_COLOUR: [u8; 3] = [92, 186, 92];
const BALL_COLOUR: [u8; 3] = [236, 236, 236];
const TRAIL_COLOUR: [u8; 3] = [190, 140, 100];

/// The computer's paddle one step closer to centring on `target`.
fn cpu_step(cpu: f32, target: f32) -> f32 {
    let step = (target - (cpu + PADDLE_HEIGHT / 2.0)).clamp(-CPU_SPEED, CPU_SPEED);
    (cpu + step).clamp(TOP, BOTTOM - PADDLE_HEIGHT)
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Ball {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
}

impl Ball {
    /// One step of flight, bouncing off the walls.
    fn fly(self) -> Ball {
        let (x, mut y, mut vy) = (self.x + self.vx, self.y + self.vy, self.vy);
        if y < TOP {
            y = 2.0 * TOP - y;
            vy = -vy;
        } else if y > BOTTOM - BALL {
            y = 2.0 * (BOTTOM - BALL) - y;
            vy = -vy;
        }
        Ball { x, y: y.clamp(TOP, BOTTOM - BALL), vx: self.vx, vy }
    }

    fn centre(&self) -> f32 {
        self.y + BALL / 2.0
    }

    fn meets(&self, paddle: f32) -> bool {
        self.y + BALL > paddle && self.y < paddle + PADDLE_HEIGHT
    }

    /// The ball sent back off a paddle whose top is at `paddle`: the further from the
    /// paddle's centre it meets it, the steeper it leaves.
    fn returned(self, paddle: f32, direction: f32, speed: f32) -> Ball {
        let offset = (self.centre() - (paddle + PADDLE_HEIGHT / 2.0)) / ((PADDLE_HEIGHT + BALL) / 2.0);
        Ball { vx: direction * speed, vy: offset.clamp(-1.0, 1.0) * speed * MAX_SLOPE, ..self }
    }
}

pub struct Pong {
    rng: Pcg64Mcg,
    /// Paddle tops.
    player: f32,
    cpu: f32,
    ball: Ball,
    /// Where the ball was a step ago, drawn dimly so one frame shows its motion.
    trail: (f32, f32),
    /// The ball's horizontal speed.
    speed: f32,
    /// Steps until the waiting ball is served.
    serve_in: u32,
    /// How far off the ball the computer aims, drawn anew at each of its returns.
    cpu_error: f32,
    player_points: u32,
    cpu_points: u32,
}

impl Pong {
    /// Puts the ball in the middle, to be served towards `direction` (+1: the player).
    fn new_rally(&mut self, direction: f32) {
        let slope = self.rng.random_range(0.2..0.8) * if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
        self.speed = SERVE_SPEED;
        self.ball = Ball { x: 31.0, y: MIDDLE - BALL / 2.0, vx: direction * SERVE_SPEED, vy: slope * SERVE_SPEED };
        self.trail = (self.ball.x, self.ball.y);
        self.serve_in = SERVE_DELAY;
    }

    /// The computer chases the ball while it comes its way, and otherwise waits in the middle.
    fn move_cpu(&mut self) {
        let target =
            if self.ball.vx < 0.0 && self.serve_in == 0 { self.ball.centre() + self.cpu_error } else { MIDDLE };
        self.cpu = cpu_step(self.cpu, target);
    }

    /// Where the expert wants its paddle's centre: where the incoming ball will be, offset
    /// so that the return passes the computer by as much as possible. The expert knows
    /// how the computer moves, so it plays each candidate return out against it, but not
    /// the error the computer drew at its last return, which no frame shows until the
    /// computer moves: a student imitating a plan built on it could only guess (on Pong
    /// the models plateaued at about 75% agreement). It plans against that error's spread.
    fn expert_target(&self) -> f32 {
        if self.serve_in > 0 || self.ball.vx <= 0.0 {
            return MIDDLE;
        }
        let (mut contact, mut steps) = (self.ball, 0);
        while contact.x + BALL <= PLAYER_X {
            contact = contact.fly();
            steps += 1;
        }
        contact.x = PLAYER_X - BALL;
        // Until the ball is returned, the computer heads for the middle.
        let cpu_waiting = (0..steps).fold(self.cpu, |cpu, _| cpu_step(cpu, MIDDLE));
        let speed = (self.speed + SPEED_UP).min(MAX_SPEED);
        let mut best = (f32::NEG_INFINITY, contact.centre());
        for offset in (-7..=7).map(|k| k as f32 * 0.5) {
            let paddle = (contact.centre() - offset - PADDLE_HEIGHT / 2.0).clamp(TOP, BOTTOM - PADDLE_HEIGHT);
            if (paddle - self.player).abs() > PLAYER_SPEED * steps as f32 || !contact.meets(paddle) {
                continue;
            }
            let returned = contact.returned(paddle, -1.0, speed);
            let misses = PLANNED_ERRORS.map(|error| {
                let (mut back, mut cpu) = (returned, cpu_waiting);
                while back.x >= CPU_FACE {
                    cpu = cpu_step(cpu, back.centre() + error);
                    back = back.fly();
                }
                // How far the ball passes the computer's paddle (negative: by how much it is met).
                let miss = (back.centre() - (cpu + PADDLE_HEIGHT / 2.0)).abs() - (PADDLE_HEIGHT + BALL) / 2.0;
                miss.min(2.0)
            });
            // Between sure misses, prefer the gentler hit: it leaves more room for error.
            let value = misses.iter().sum::<f32>() / misses.len() as f32 - 0.01 * offset.abs();
            if value > best.0 {
                best = (value, paddle + PADDLE_HEIGHT / 2.0);
            }
        }
        best.1
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let paddles =
            (TOP..=BOTTOM - PADDLE_HEIGHT).contains(&self.player) && (TOP..=BOTTOM - PADDLE_HEIGHT).contains(&self.cpu);
        let ball = (TOP..=BOTTOM - BALL).contains(&self.ball.y) && (-BALL..=SIZE as f32).contains(&self.ball.x);
        let rules = self.speed <= MAX_SPEED && self.player_points.max(self.cpu_points) <= WINNING_POINTS;
        if paddles && ball && rules { Ok(()) } else { Err(format!("out of bounds: {:?}", self.ball)) }
    }
}

impl Game for Pong {
    const NAME: &'static str = "pong";
    const DESCRIPTION: &'static str =
        "Pong: return the ball past the computer's paddle; first to 21 points wins, each point +1 or -1.";
    const ACTIONS: &'static [&'static str] = &["noop", "up", "down"];
    const MAX_STEPS: u32 = 2000;

    fn new(seed: u64) -> Self {
        let paddle = MIDDLE - PADDLE_HEIGHT / 2.0;
        let mut pong = Pong {
            rng: Pcg64Mcg::seed_from_u64(seed),
            player: paddle,
            cpu: paddle,
            ball: Ball { x: 0.0, y: 0.0, vx: 0.0, vy: 0.0 },
            trail: (0.0, 0.0),
            speed: SERVE_SPEED,
            serve_in: 0,
            cpu_error: 0.0,
            player_points: 0,
            cpu_points: 0,
        };
        pong.new_rally(1.0);
        pong
    }

    fn act(&mut self, action: usize) -> f32 {
        let dy = match action {
            UP => -PLAYER_SPEED,
            DOWN => PLAYER_SPEED,
            _ => 0.0,
        };
        self.player = (self.player + dy).clamp(TOP, BOTTOM - PADDLE_HEIGHT);
        self.move_cpu();
        if self.serve_in > 0 {
            self.serve_in -= 1;
            return 0.0;
        }
        let before = self.ball;
        self.trail = (before.x, before.y);
        self.ball = before.fly();
        if self.ball.vx > 0.0
            && before.x + BALL <= PLAYER_X
            && self.ball.x + BALL > PLAYER_X
            && self.ball.meets(self.player)
        {
            self.speed = (self.speed + SPEED_UP).min(MAX_SPEED);
            self.ball.x = PLAYER_X - BALL;
            self.ball = self.ball.returned(self.player, -1.0, self.speed);
        } else if self.ball.vx < 0.0 && before.x >= CPU_FACE && self.ball.x < CPU_FACE && self.ball.meets(self.cpu) {
            self.speed = (self.speed + SPEED_UP).min(MAX_SPEED);
            self.ball.x = CPU_FACE;
            self.ball = self.ball.returned(self.cpu, 1.0, self.speed);
            self.cpu_error = self.rng.random_range(-CPU_ERROR..CPU_ERROR);
        }
        // A missed ball is a point for the other side, who then receives the serve.
        if self.ball.x > SIZE as f32 {
            self.cpu_points += 1;
            self.new_rally(1.0);
            -1.0
        } else if self.ball.x + BALL < 0.0 {
            self.player_points += 1;
            self.new_rally(-1.0);
            1.0
        } else {
            0.0
        }
    }

    fn over(&self) -> bool {
        self.player_points.max(self.cpu_points) >= WINNING_POINTS
    }

    fn draw(&self, frame: &mut RgbImage) {
        let px = |v: f32| v.round() as i32;
        rect(frame, 0, 0, SIZE, SIZE, FIELD);
        paint::number(frame, self.cpu_points, 24, 1, CPU_COLOUR);
        paint::number(frame, self.player_points, 56, 1, PLAYER_COLOUR);
        rect(frame, 0, px(TOP) - 2, SIZE, 2, WALL);
        rect(frame, 0, px(BOTTOM), SIZE, 2, WALL);
        let (w, h) = (px(PADDLE_WIDTH), px(PADDLE_HEIGHT));
        rect(frame, px(CPU_X), px(self.cpu), w, h, CPU_COLOUR);
        rect(frame, px(PLAYER_X), px(self.player), w, h, PLAYER_COLOUR);
        let ball = px(BALL);
        rect(frame, px(self.trail.0), px(self.trail.1), ball, ball, TRAIL_COLOUR);
        rect(frame, px(self.ball.x), px(self.ball.y), ball, ball, BALL_COLOUR);
    }

    fn expert(&self) -> usize {
        let gap = self.expert_target() - (self.player + PADDLE_HEIGHT / 2.0);
        if gap > PLAYER_SPEED / 2.0 {
            DOWN
        } else if gap < -PLAYER_SPEED / 2.0 {
            UP
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::arcade::testing;
    use super::*;

    #[test]
    fn shared_checks() {
        testing::check_deterministic::<Pong>();
        testing::check_any_actions::<Pong>(Pong::check);
        testing::check_cap::<Pong>();
        testing::check_frames::<Pong>();
    }

    #[test]
    fn expert_wins_and_random_loses() {
        let (expert, random) = testing::expert_and_random::<Pong>(10);
        assert!(expert >= 15.0, "expert {expert}");
        assert!(random <= -15.0, "random {random}");
    }

    #[test]
    fn a_missed_ball_is_a_point_for_the_computer() {
        let mut pong = Pong::new(0);
        pong.player = TOP;
        pong.serve_in = 0;
        pong.ball = Ball { x: 50.0, y: BOTTOM - 10.0, vx: 2.0, vy: 0.0 };
        let reward = (0..20).map(|_| pong.act(0)).find(|&r| r != 0.0);
        assert_eq!(reward, Some(-1.0));
        assert_eq!((pong.player_points, pong.cpu_points), (0, 1));
        assert_eq!(pong.serve_in, SERVE_DELAY, "the next rally waits to be served");
    }

    #[test]
    fn the_paddle_edge_returns_steeper_and_faster() {
        let vy_after = |offset: f32| {
            let mut pong = Pong::new(0);
            pong.serve_in = 0;
            let paddle = pong.player;
            pong.ball = Ball {
                x: PLAYER_X - BALL - 1.0,
                y: paddle + PADDLE_HEIGHT / 2.0 - BALL / 2.0 + offset,
                vx: 2.0,
                vy: 0.0,
            };
            pong.act(0);
            assert!(pong.ball.vx < 0.0, "the paddle returns the ball");
            assert!(pong.speed > SERVE_SPEED);
            pong.ball.vy
        };
        assert_eq!(vy_after(0.0), 0.0);
        assert!(vy_after(4.0) > 1.0 && vy_after(-4.0) < -1.0);
    }
}
