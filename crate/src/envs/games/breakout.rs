//! Breakout. A wall of six coloured rows of bricks hangs under the ceiling; the player's
//! paddle keeps the ball in play and the ball breaks one brick per touch. Bricks are worth
//! 7 (red and orange rows), 4 (yellow and green) or 1 (aqua and blue). The ball speeds up
//! after 4 and 12 returns and when it first breaks an orange and a red brick, and the
//! paddle shrinks once the ball reaches the ceiling. Five balls; a cleared wall is rebuilt.

use super::arcade::{Game, SIZE};
use super::paint;
use crate::envs::draw::rect;
use image::RgbImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// The ball stays between the side walls and under the ceiling.
const LEFT: f32 = 2.0;
const RIGHT: f32 = 62.0;
const CEILING: f32 = 10.0;
const BALL: f32 = 2.0;

const ROWS: usize = 6;
const COLS: usize = 12;
const BRICK_TOP: f32 = 16.0;
const BRICK_WIDTH: f32 = 5.0;
const BRICK_HEIGHT: f32 = 3.0;
const BRICK_BOTTOM: f32 = BRICK_TOP + ROWS as f32 * BRICK_HEIGHT;
const ROW_POINTS: [u32; ROWS] = [7, 7, 4, 4, 1, 1];
const FULL_ROW: u16 = (1 << COLS) - 1;
const RED_ROW: usize = 0;
const ORANGE_ROW: usize = 1;

const PADDLE_Y: f32 = 58.0;
const PADDLE_WIDTH: f32 = 8.0;
const SHRUNK_WIDTH: f32 = 6.0;
const PADDLE_SPEED: f32 = 3.0;
/// The steepest bounce off the paddle's edge, from the vertical.
const MAX_ANGLE: f32 = std::f32::consts::FRAC_PI_3;

const BASE_SPEED: f32 = 1.2;
const SPEED_UP: f32 = 0.3;
const RETURNS_TO_SPEED_UP: [u32; 2] = [4, 12];
const SERVE_DELAY: u32 = 20;
const BALLS: u32 = 5;

const LEFT_ACTION: usize = 1;
const RIGHT_ACTION: usize = 2;

const BACKGROUND: [u8; 3] = [0, 0, 0];
const WALL: [u8; 3] = [142, 142, 142];
const ROW_COLOURS: [[u8; 3]; ROWS] =
    [[200, 72, 72], [198, 108, 58], [180, 122, 48], [162, 162, 42], [72, 160, 72], [66, 72, 200]];
const PADDLE_COLOUR: [u8; 3] = [200, 72, 72];
const BALL_COLOUR: [u8; 3] = [236, 236, 236];
const TRAIL_COLOUR: [u8; 3] = [110, 110, 110];

#[derive(Clone, Copy, Debug, PartialEq)]
struct Ball {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
}

/// The bricks still standing: bit `c` of row `r`.
type Bricks = [u16; ROWS];

/// What the ball touched during one step.
#[derive(Default)]
struct Touches {
    /// Bricks broken, per row.
    broken: [u32; ROWS],
    ceiling: bool,
    /// The ball came down to the paddle's height (and bounced, if a paddle was there).
    paddle: bool,
}

impl Touches {
    fn points(&self) -> u32 {
        self.broken.iter().zip(ROW_POINTS).map(|(n, p)| n * p).sum()
    }
}

/// The paddle as the ball sees it: a real one it bounces off, or a mere line where a
/// prediction stops.
#[derive(Clone, Copy)]
enum Paddle {
    At { left: f32, width: f32 },
    Line,
}

/// Removes the first standing brick under the ball, if any, and returns its row.
fn break_brick(bricks: &mut Bricks, x: f32, y: f32) -> Option<usize> {
    if y >= BRICK_BOTTOM || y + BALL <= BRICK_TOP {
        return None;
    }
    let span = |from: f32, to: f32, origin: f32, size: f32, count: usize| {
        let first = ((from - origin) / size).floor().max(0.0) as usize;
        let last = (((to - origin) / size).ceil() as usize).min(count);
        first..last
    };
    for row in span(y, y + BALL, BRICK_TOP, BRICK_HEIGHT, ROWS) {
        for col in span(x, x + BALL, LEFT, BRICK_WIDTH, COLS) {
            if bricks[row] & (1 << col) != 0 {
                bricks[row] &= !(1 << col);
                return Some(row);
            }
        }
    }
    None
}

impl Ball {
    /// Sends the ball back up off a paddle: the further from its centre, the steeper.
    fn bounce(&mut self, left: f32, width: f32, speed: f32) {
        let offset = (self.x + BALL / 2.0 - (left + width / 2.0)) / ((width + BALL) / 2.0);
        let angle = offset.clamp(-1.0, 1.0) * MAX_ANGLE;
        (self.vx, self.vy) = (speed * angle.sin(), -speed * angle.cos());
    }

    /// One step of flight in sub-steps of at most a pixel, so the ball never skips a brick.
    /// Bounces off the walls, the bricks it breaks, and the paddle; `speed` sets the pace
    /// of a paddle bounce.
    fn fly(&mut self, bricks: &mut Bricks, paddle: Paddle, speed: f32) -> Touches {
        let mut touches = Touches::default();
        let substeps = self.vx.abs().max(self.vy.abs()).ceil().max(1.0);
        for _ in 0..substeps as u32 {
            let (dx, dy) = (self.vx / substeps, self.vy / substeps);
            self.x += dx;
            if self.x < LEFT || self.x > RIGHT - BALL {
                self.x = self.x.clamp(LEFT, RIGHT - BALL);
                self.vx = -self.vx;
            } else if let Some(row) = break_brick(bricks, self.x, self.y) {
                touches.broken[row] += 1;
                self.x -= dx;
                self.vx = -self.vx;
            }
            self.y += dy;
            if self.y < CEILING {
                self.y = CEILING;
                self.vy = -self.vy;
                touches.ceiling = true;
            } else if let Some(row) = break_brick(bricks, self.x, self.y) {
                touches.broken[row] += 1;
                self.y -= dy;
                self.vy = -self.vy;
            } else if self.vy > 0.0 && self.y + BALL >= PADDLE_Y && self.y + BALL - dy < PADDLE_Y {
                match paddle {
                    Paddle::Line => {
                        self.y = PADDLE_Y - BALL;
                        touches.paddle = true;
                        return touches;
                    }
                    Paddle::At { left, width } if self.x + BALL > left && self.x < left + width => {
                        self.y = PADDLE_Y - BALL;
                        self.bounce(left, width, speed);
                        touches.paddle = true;
                    }
                    Paddle::At { .. } => {}
                }
            }
        }
        touches
    }
}

pub struct Breakout {
    rng: Pcg64Mcg,
    bricks: Bricks,
    ball: Ball,
    /// Where the ball was a step ago, drawn dimly so one frame shows its motion.
    trail: (f32, f32),
    /// Steps until the next ball is served; the ball is out of play meanwhile.
    serve_in: u32,
    paddle: f32,
    paddle_width: f32,
    /// Returns off the paddle, and whether an orange and a red brick have broken, with this ball.
    returns: u32,
    broke_orange: bool,
    broke_red: bool,
    balls: u32,
    /// The points scored so far, for the display.
    points: u32,
}

impl Breakout {
    fn in_play(&self) -> bool {
        self.serve_in == 0 && self.balls > 0
    }

    /// The ball's speed now: the base, plus one step for each speed-up earned with this ball.
    fn speed(&self) -> f32 {
        let earned = RETURNS_TO_SPEED_UP.iter().filter(|&&n| self.returns >= n).count()
            + usize::from(self.broke_orange)
            + usize::from(self.broke_red);
        BASE_SPEED + SPEED_UP * earned as f32
    }

    /// A new ball, served downwards from under the wall after a pause, with the full paddle.
    fn new_ball(&mut self) {
        let angle = self.rng.random_range(0.35..0.7) * if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let x = self.rng.random_range(12.0..50.0);
        self.ball =
            Ball { x, y: BRICK_BOTTOM + 4.0, vx: BASE_SPEED * f32::sin(angle), vy: BASE_SPEED * f32::cos(angle) };
        self.trail = (x, self.ball.y);
        self.serve_in = SERVE_DELAY;
        self.paddle_width = PADDLE_WIDTH;
        (self.returns, self.broke_orange, self.broke_red) = (0, false, false);
    }

    /// Where the expert wants the paddle's left edge: under the ball when it comes down,
    /// placed so that the bounce sends it at the most valuable brick it can reach.
    fn expert_target(&self) -> f32 {
        if self.balls == 0 {
            return self.paddle;
        }
        let centred = |x: f32| x + BALL / 2.0 - self.paddle_width / 2.0;
        // A ball waiting to be served is predicted like one in flight; it just starts later.
        let (mut contact, mut bricks, mut steps) = (self.ball, self.bricks, self.serve_in);
        while !contact.fly(&mut bricks, Paddle::Line, 0.0).paddle {
            steps += 1;
            if contact.y > SIZE as f32 || steps > 400 {
                return centred(self.ball.x);
            }
        }
        steps += 1;
        // Aim only in the last few steps: the paddle is close by then, and it is cheap.
        const AIMING_STEPS: u32 = 8;
        if steps > AIMING_STEPS {
            return centred(contact.x);
        }
        let half = (self.paddle_width + BALL) / 2.0;
        let mut best = (f32::NEG_INFINITY, centred(contact.x));
        for offset in (-6..=6).map(|k| k as f32 * 0.1) {
            let left = centred(contact.x) - offset * half;
            if (left - self.paddle).abs() > PADDLE_SPEED * steps as f32 - 1.0
                || !(LEFT..=RIGHT - self.paddle_width).contains(&left)
            {
                continue;
            }
            let value = self.bounce_value(contact, bricks, left) - offset.abs();
            if value > best.0 {
                best = (value, left);
            }
        }
        best.1
    }

    /// What a bounce off a paddle at `left` earns before the ball comes back down, with
    /// `bricks` as they will stand when the ball gets there.
    fn bounce_value(&self, contact: Ball, mut bricks: Bricks, left: f32) -> f32 {
        if contact.x + BALL <= left || contact.x >= left + self.paddle_width {
            return f32::NEG_INFINITY;
        }
        let mut ball = contact;
        ball.bounce(left, self.paddle_width, self.speed());
        let mut points = 0;
        for _ in 0..300 {
            let touches = ball.fly(&mut bricks, Paddle::Line, 0.0);
            points += touches.points();
            if touches.paddle {
                break;
            }
        }
        points as f32
    }

    #[cfg(test)]
    fn check(&self) -> Result<(), String> {
        let ball = (LEFT..=RIGHT - BALL).contains(&self.ball.x) && (CEILING..=SIZE as f32 + 4.0).contains(&self.ball.y);
        let paddle = (LEFT..=RIGHT - self.paddle_width).contains(&self.paddle);
        let speed = (self.ball.vx.hypot(self.ball.vy) - self.speed()).abs() < 0.01;
        let rules = self.balls <= BALLS && self.bricks.iter().all(|&row| row <= FULL_ROW);
        if ball && paddle && speed && rules { Ok(()) } else { Err(format!("broken state: {:?}", self.ball)) }
    }
}

impl Game for Breakout {
    const NAME: &'static str = "breakout";
    const DESCRIPTION: &'static str =
        "Breakout: keep the ball in play with the paddle and break the wall of bricks; higher rows are worth more.";
    const ACTIONS: &'static [&'static str] = &["noop", "left", "right"];
    const MAX_STEPS: u32 = 2000;

    fn new(seed: u64) -> Self {
        let mut game = Breakout {
            rng: Pcg64Mcg::seed_from_u64(seed),
            bricks: [FULL_ROW; ROWS],
            ball: Ball { x: 0.0, y: 0.0, vx: 0.0, vy: 0.0 },
            trail: (0.0, 0.0),
            serve_in: 0,
            paddle: (LEFT + RIGHT - PADDLE_WIDTH) / 2.0,
            paddle_width: PADDLE_WIDTH,
            returns: 0,
            broke_orange: false,
            broke_red: false,
            balls: BALLS,
            points: 0,
        };
        game.new_ball();
        game
    }

    fn act(&mut self, action: usize) -> f32 {
        let dx = match action {
            LEFT_ACTION => -PADDLE_SPEED,
            RIGHT_ACTION => PADDLE_SPEED,
            _ => 0.0,
        };
        self.paddle = (self.paddle + dx).clamp(LEFT, RIGHT - self.paddle_width);
        if !self.in_play() {
            self.serve_in = self.serve_in.saturating_sub(1);
            return 0.0;
        }
        self.trail = (self.ball.x, self.ball.y);
        let paddle = Paddle::At { left: self.paddle, width: self.paddle_width };
        let speed = self.speed();
        let touches = self.ball.fly(&mut self.bricks, paddle, speed);
        let points = touches.points();
        self.points += points;
        self.returns += u32::from(touches.paddle);
        self.broke_orange |= touches.broken[ORANGE_ROW] > 0;
        self.broke_red |= touches.broken[RED_ROW] > 0;
        if touches.ceiling && self.paddle_width == PADDLE_WIDTH {
            self.paddle_width = SHRUNK_WIDTH;
            self.paddle = self.paddle.min(RIGHT - SHRUNK_WIDTH);
        }
        // Keep the ball's direction but bring it to the speed it has earned.
        let scale = self.speed() / speed;
        (self.ball.vx, self.ball.vy) = (self.ball.vx * scale, self.ball.vy * scale);
        if self.bricks.iter().all(|&row| row == 0) {
            self.bricks = [FULL_ROW; ROWS];
        }
        if self.ball.y > SIZE as f32 {
            self.balls -= 1;
            if self.balls > 0 {
                self.new_ball();
            }
        }
        points as f32
    }

    fn over(&self) -> bool {
        self.balls == 0
    }

    fn draw(&self, frame: &mut RgbImage) {
        let px = |v: f32| v.round() as i32;
        rect(frame, 0, 0, SIZE, SIZE, BACKGROUND);
        paint::pips(frame, self.balls, 2, 2, PADDLE_COLOUR);
        paint::number(frame, self.points, 62, 1, WALL);
        rect(frame, 0, px(CEILING) - 2, SIZE, 2, WALL);
        rect(frame, 0, px(CEILING) - 2, px(LEFT), SIZE, WALL);
        rect(frame, px(RIGHT), px(CEILING) - 2, SIZE - px(RIGHT), SIZE, WALL);
        for (row, bits) in self.bricks.iter().enumerate() {
            for col in (0..COLS).filter(|c| bits & (1 << c) != 0) {
                let (x, y) = (LEFT + col as f32 * BRICK_WIDTH, BRICK_TOP + row as f32 * BRICK_HEIGHT);
                rect(frame, px(x), px(y), px(BRICK_WIDTH), px(BRICK_HEIGHT), ROW_COLOURS[row]);
            }
        }
        rect(frame, px(self.paddle), px(PADDLE_Y), px(self.paddle_width), 2, PADDLE_COLOUR);
        if self.balls > 0 {
            let ball = px(BALL);
            rect(frame, px(self.trail.0), px(self.trail.1), ball, ball, TRAIL_COLOUR);
            rect(frame, px(self.ball.x), px(self.ball.y), ball, ball, BALL_COLOUR);
        }
    }

    fn expert(&self) -> usize {
        let gap = self.expert_target() - self.paddle;
        if gap > PADDLE_SPEED / 2.0 {
            RIGHT_ACTION
        } else if gap < -PADDLE_SPEED / 2.0 {
            LEFT_ACTION
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
        testing::check_deterministic::<Breakout>();
        testing::check_any_actions::<Breakout>(Breakout::check);
        testing::check_cap::<Breakout>();
        testing::check_frames::<Breakout>();
    }

    #[test]
    fn expert_clears_bricks_and_random_does_not() {
        let (expert, random) = testing::expert_and_random::<Breakout>(10);
        assert!(expert >= 150.0, "expert {expert}");
        assert!(expert >= 8.0 * random.max(1.0), "expert {expert}, random {random}");
    }

    /// A game with the ball about to rise into column 3 from just under `row`.
    fn ball_under(row: usize) -> Breakout {
        let mut game = Breakout::new(0);
        game.serve_in = 0;
        for r in row + 1..ROWS {
            game.bricks[r] &= !(1 << 3);
        }
        let y = BRICK_TOP + (row + 1) as f32 * BRICK_HEIGHT + 0.5;
        game.ball = Ball { x: LEFT + 3.0 * BRICK_WIDTH + 1.5, y, vx: 0.0, vy: -BASE_SPEED };
        game
    }

    #[test]
    fn rows_score_by_colour() {
        assert_eq!(ball_under(0).act(0), 7.0);
        assert_eq!(ball_under(2).act(0), 4.0);
        assert_eq!(ball_under(5).act(0), 1.0);
        let mut game = ball_under(5);
        game.act(0);
        assert_eq!(game.bricks[5], FULL_ROW & !(1 << 3), "the brick is gone");
        assert!(game.ball.vy > 0.0, "and the ball bounced off it");
    }

    #[test]
    fn the_ball_speeds_up_and_the_paddle_shrinks() {
        let mut game = ball_under(1);
        game.act(0);
        assert!((game.speed() - (BASE_SPEED + SPEED_UP)).abs() < 1e-5, "an orange brick speeds the ball up");
        let mut game = ball_under(0);
        game.bricks[0] &= !(1 << 3);
        for _ in 0..30 {
            game.act(0);
        }
        assert_eq!(game.paddle_width, SHRUNK_WIDTH, "reaching the ceiling shrinks the paddle");
        game.returns = RETURNS_TO_SPEED_UP[1];
        assert!(game.speed() >= BASE_SPEED + 2.0 * SPEED_UP);
    }

    #[test]
    fn five_missed_balls_end_the_game_and_a_cleared_wall_returns() {
        let mut game = Breakout::new(2);
        let mut steps = 0;
        while !game.over() && steps < 2000 {
            // Run away from the ball.
            game.act(if game.ball.x < 32.0 { RIGHT_ACTION } else { LEFT_ACTION });
            steps += 1;
        }
        assert!(game.over() && game.balls == 0, "after {steps} steps");
        let mut game = ball_under(5);
        game.bricks = [0; ROWS];
        game.bricks[5] = 1 << 3;
        assert_eq!(game.act(0), 1.0);
        assert_eq!(game.bricks, [FULL_ROW; ROWS]);
    }
}
