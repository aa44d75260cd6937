//! Point mass: steer a puck across a walled table onto a goal and keep it there.
//!
//! A 0.3 kg puck slides on a 60 cm square table with viscous friction, pushed by two motors
//! of up to 0.3 N, one along each axis:
//!
//! `m p'' = force - b p'`
//!
//! so it tops out at 1 m/s and must brake before the goal. Walls stop it dead.
//!
//! Reward, as in DM Control: 1 while the puck's centre is within 2 cm of the goal's, falling
//! off smoothly outside, times a gentle penalty on effort. Episodes start with the puck at
//! rest and the goal somewhere else on the table, and last 500 steps of 20 ms.

use super::{Canvas, Falloff, Tally, colour, controls, impulse, rk4, small_control, tolerance};
use crate::envs::{ActionSpec, Kind, World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

const MASS: f64 = 0.3;
const FRICTION: f64 = 0.3;
const MAX_FORCE: f64 = 0.3;
/// From the table's centre to each wall.
const HALF_TABLE: f64 = 0.3;
const PUCK_RADIUS: f64 = 0.02;
/// How far the puck's centre can go either way before it touches a wall.
const LIMIT: f64 = HALF_TABLE - PUCK_RADIUS;
const GOAL_RADIUS: f64 = 0.02;

const CONTROL_DT: f64 = 0.02;
const SUBSTEPS: usize = 2;
const MAX_STEPS: u32 = 500;

/// A full-strength push changes the puck's velocity by this much along each axis (m/s).
const PUSH_SPEED: f64 = 0.6;

/// The expert's PD gains: with the friction, a critically damped response at 6 rad/s.
const EXPERT_STIFFNESS: f64 = MASS * 36.0;
const EXPERT_DAMPING: f64 = 2.0 * MASS * 6.0 - FRICTION;

/// `[x, y, x velocity, y velocity]`.
type State = [f64; 4];

/// One control step under constant motor commands `u` in [-1, 1].
fn control_step(mut s: State, u: [f64; 2]) -> State {
    let force = u.map(|u| u * MAX_FORCE);
    for _ in 0..SUBSTEPS {
        s = rk4(s, CONTROL_DT / SUBSTEPS as f64, |s| {
            [s[2], s[3], (force[0] - FRICTION * s[2]) / MASS, (force[1] - FRICTION * s[3]) / MASS]
        });
        for axis in 0..2 {
            let (position, velocity) = (s[axis], s[2 + axis]);
            if position.abs() > LIMIT {
                s[axis] = position.clamp(-LIMIT, LIMIT);
                if position * velocity > 0.0 {
                    s[2 + axis] = 0.0;
                }
            }
        }
    }
    s
}

pub struct PointMass {
    state: State,
    goal: [f64; 2],
    tally: Tally,
}

impl PointMass {
    pub fn new() -> Self {
        PointMass { state: [0.0; 4], goal: [0.0; 2], tally: Tally::default() }
    }

    fn to_goal(&self) -> [f64; 2] {
        [self.goal[0] - self.state[0], self.goal[1] - self.state[1]]
    }
}

impl World for PointMass {
    fn spec(&self) -> WorldSpec {
        WorldSpec {
            name: "point_mass",
            kind: Kind::Control,
            action: ActionSpec::Continuous { dims: 2 },
            description: "Push a puck across a table onto the goal and keep it there.",
            max_steps: MAX_STEPS,
        }
    }

    fn reset(&mut self, seed: u64) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        self.state = [rng.random_range(-LIMIT..LIMIT), rng.random_range(-LIMIT..LIMIT), 0.0, 0.0];
        self.goal = [rng.random_range(-0.2..0.2), rng.random_range(-0.2..0.2)];
        self.tally = Tally::default();
    }

    /// The puck's position (the walls matter), the vector to the goal, and the velocity.
    fn observe(&self) -> Observation {
        let [x, y, vx, vy] = self.state;
        let [dx, dy] = self.to_goal();
        Observation { continuous: [x, y, dx, dy, vx, vy].map(|v| v as f32).to_vec(), ..Default::default() }
    }

    fn step(&mut self, action: &Action) -> f32 {
        if self.done() {
            return 0.0;
        }
        let u = controls(action);
        self.state = control_step(self.state, u);
        let [dx, dy] = self.to_goal();
        let near = tolerance(dx.hypot(dy), (0.0, GOAL_RADIUS), 2.0 * GOAL_RADIUS, Falloff::Gaussian);
        self.tally.record(near * small_control(&u))
    }

    fn render(&self) -> RgbaImage {
        let mut canvas = Canvas::new([0.0, 0.0], 200.0);
        let wall = HALF_TABLE + 0.015;
        canvas.rect([-wall, -wall], [wall, wall], colour::STRUCTURE);
        canvas.rect([-HALF_TABLE, -HALF_TABLE], [HALF_TABLE, HALF_TABLE], colour::FLOOR);
        canvas.disc(self.goal, 3.0 * GOAL_RADIUS, colour::TARGET_HALO);
        canvas.disc(self.goal, GOAL_RADIUS, colour::TARGET);
        canvas.disc([self.state[0], self.state[1]], PUCK_RADIUS, colour::BODY);
        canvas.finish()
    }

    fn score(&self) -> f32 {
        self.tally.score
    }

    fn done(&self) -> bool {
        self.tally.steps >= MAX_STEPS
    }

    /// PD control to the goal, axis by axis: a spring toward the goal and a damper that,
    /// with the table's friction, brakes the puck so that it arrives without overshooting.
    fn expert(&self) -> Action {
        let to_goal = self.to_goal();
        let force = [0, 1].map(|i| EXPERT_STIFFNESS * to_goal[i] - EXPERT_DAMPING * self.state[2 + i]);
        Action::Continuous(force.iter().map(|f| (f / MAX_FORCE).clamp(-1.0, 1.0) as f32).collect())
    }

    /// A push on the puck changes its velocity, up to the top speed friction allows.
    fn push(&mut self, push: [f32; 2]) {
        if self.done() {
            return;
        }
        let terminal = MAX_FORCE / FRICTION;
        for (axis, p) in impulse(push).into_iter().enumerate() {
            self.state[2 + axis] = (self.state[2 + axis] + PUSH_SPEED * p).clamp(-terminal, terminal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::control::tests as shared;
    use proptest::prelude::*;

    #[test]
    fn full_force_reaches_the_terminal_speed_of_friction() {
        let mut s = [-LIMIT, 0.0, 0.0, 0.0];
        for _ in 0..25 {
            s = control_step(s, [1.0, 0.0]);
        }
        // Velocity from rest under a constant force follows `(F / b)(1 - exp(-b t / m))`.
        let t = 25.0 * CONTROL_DT;
        let terminal = MAX_FORCE / FRICTION;
        let expected = terminal * (1.0 - (-FRICTION * t / MASS).exp());
        assert!((s[2] - expected).abs() < 1e-6, "{} vs {expected}", s[2]);
        assert!(s[2] < terminal && s[1] == 0.0 && s[3] == 0.0);
    }

    #[test]
    fn walls_stop_the_puck() {
        let mut s = [0.0, 0.0, 0.0, 0.0];
        for _ in 0..200 {
            s = control_step(s, [1.0, -1.0]);
        }
        assert_eq!(s, [LIMIT, -LIMIT, 0.0, 0.0]);
    }

    #[test]
    fn the_expert_settles_on_the_goal() {
        let mut world = PointMass::new();
        for seed in 0..5 {
            world.reset(seed);
            for _ in 0..100 {
                world.step(&world.expert());
            }
            let [dx, dy] = world.to_goal();
            assert!(dx.hypot(dy) < 0.002, "seed {seed}: {} m away", dx.hypot(dy));
        }
    }

    proptest! {
        #[test]
        fn any_actions_and_pushes_keep_the_state_bounded(
            seed in any::<u64>(),
            steps in proptest::collection::vec(shared::arbitrary_step(), 1..200),
        ) {
            shared::assert_stays_bounded(&mut PointMass::new(), seed, &steps, |w| {
                let terminal = MAX_FORCE / FRICTION;
                w.state[..2].iter().all(|p| p.abs() <= LIMIT) && w.state[2..].iter().all(|v| v.abs() <= terminal)
            });
        }
    }
}
