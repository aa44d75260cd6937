//! Pendulum swing-up: a motor too weak to lift the pendulum directly must swing it up by
//! pumping energy, then balance it upright.
//!
//! A bob of 1 kg hangs on a massless 0.5 m rod from a motor with 1.5 N m of torque, less
//! than a third of what gravity exerts with the rod horizontal, so the pendulum has to be
//! rocked higher and higher. The hinge has viscous damping. The angle is measured from
//! upright:
//!
//! `m l^2 theta'' = m g l sin(theta) - b theta' + torque`.
//!
//! Reward: 1 while the pendulum is within 30 degrees of upright, falling off smoothly
//! outside that cone (DM Control's pendulum, with a soft edge). Episodes start from any
//! angle at a small random speed, and last 500 steps of 20 ms.

use super::{Canvas, Falloff, Tally, along_swing, colour, controls, impulse, lqr, rk4, tolerance, wrap_angle};
use crate::envs::{ActionSpec, Kind, World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::f64::consts::PI;

const MASS: f64 = 1.0;
const LENGTH: f64 = 0.5;
const GRAVITY: f64 = 9.81;
const DAMPING: f64 = 0.05;
const MAX_TORQUE: f64 = 1.5;
/// The bearing's speed limit; it keeps the state bounded whatever the motor does.
const MAX_SPEED: f64 = 8.0 * PI;

const CONTROL_DT: f64 = 0.02;
const SUBSTEPS: usize = 4;
const MAX_STEPS: u32 = 500;

/// A full-strength push changes the pendulum's spin by this much (rad/s).
const PUSH_SPIN: f64 = 4.0;

/// The expert hands over from pumping to balancing inside this angle from upright.
const CATCH_ANGLE: f64 = 0.6;

/// The pendulum: `[angle from upright, angular velocity]`.
type State = [f64; 2];

pub struct PendulumSwingup {
    state: State,
    tally: Tally,
    /// LQR gains for balancing upright, from the linearized control step.
    balance: [f64; 2],
}

impl PendulumSwingup {
    pub fn new() -> Self {
        let (a, b) = lqr::linearize(|x, u| control_step(x, u, DAMPING), [0.0; 2], 0.0);
        // Holding the angle matters more than damping the swing.
        let balance = lqr::gain(&a, &b, &[10.0, 1.0], 1.0);
        PendulumSwingup { state: [PI, 0.0], tally: Tally::default(), balance }
    }

    /// Where the bob is, relative to the pivot: `[across, up]`.
    fn bob(&self) -> [f64; 2] {
        [LENGTH * self.state[0].sin(), LENGTH * self.state[0].cos()]
    }
}

/// The equations of motion: `[theta', theta'']`.
fn derivative(s: &State, torque: f64, damping: f64) -> State {
    let inertia = MASS * LENGTH * LENGTH;
    [s[1], (MASS * GRAVITY * LENGTH * s[0].sin() - damping * s[1] + torque) / inertia]
}

/// One control step under a constant motor command `u` in [-1, 1].
fn control_step(mut s: State, u: f64, damping: f64) -> State {
    for _ in 0..SUBSTEPS {
        s = rk4(s, CONTROL_DT / SUBSTEPS as f64, |s| derivative(s, u * MAX_TORQUE, damping));
        s = [wrap_angle(s[0]), s[1].clamp(-MAX_SPEED, MAX_SPEED)];
    }
    s
}

/// Kinetic plus potential energy, zero when resting upright.
fn energy(s: &State) -> f64 {
    0.5 * MASS * LENGTH * LENGTH * s[1] * s[1] + MASS * GRAVITY * LENGTH * (s[0].cos() - 1.0)
}

impl World for PendulumSwingup {
    fn spec(&self) -> WorldSpec {
        WorldSpec {
            name: "pendulum_swingup",
            kind: Kind::Control,
            action: ActionSpec::Continuous { dims: 1 },
            description: "Swing a pendulum up with a weak motor and balance it upright.",
            max_steps: MAX_STEPS,
        }
    }

    fn reset(&mut self, seed: u64) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        self.state = [rng.random_range(-PI..PI), rng.random_range(-1.0..1.0)];
        self.tally = Tally::default();
    }

    /// `[cos, sin]` of the angle from upright, then the angular velocity.
    fn observe(&self) -> Observation {
        let [angle, speed] = self.state;
        Observation { continuous: vec![angle.cos() as f32, angle.sin() as f32, speed as f32], ..Default::default() }
    }

    fn step(&mut self, action: &Action) -> f32 {
        if self.done() {
            return 0.0;
        }
        let [u] = controls(action);
        self.state = control_step(self.state, u, DAMPING);
        let upright = tolerance(self.state[0].cos(), ((PI / 6.0).cos(), 1.0), 0.4, Falloff::Gaussian);
        self.tally.record(upright)
    }

    fn render(&self) -> RgbaImage {
        let mut canvas = Canvas::new([0.0, 0.0], 100.0);
        canvas.disc([0.0, LENGTH], 0.1, colour::TARGET_HALO);
        canvas.disc([0.0, LENGTH], 0.035, colour::TARGET);
        canvas.line([0.0, 0.0], self.bob(), 0.04, colour::STRUCTURE);
        canvas.disc(self.bob(), 0.07, colour::BODY);
        canvas.disc([0.0, 0.0], 0.04, colour::JOINT);
        canvas.finish()
    }

    fn score(&self) -> f32 {
        self.tally.score
    }

    fn done(&self) -> bool {
        self.tally.steps >= MAX_STEPS
    }

    /// Energy shaping, then LQR: far from upright, push along the swing while the
    /// pendulum has too little energy to reach the top (and against it when it has too
    /// much), which brings its energy to exactly that of resting upright; near the top,
    /// balance with the LQR gains.
    fn expert(&self) -> Action {
        let [angle, speed] = self.state;
        let u = if angle.abs() < CATCH_ANGLE {
            -(self.balance[0] * angle + self.balance[1] * speed)
        } else {
            // Energy changes at `speed * (torque - damping * speed)`. At rest the sign of a
            // zero speed is +1, so the expert starts the swing instead of waiting.
            let push = (-4.0 * energy(&self.state)).clamp(-MAX_TORQUE, MAX_TORQUE);
            (push * speed.signum() + DAMPING * speed) / MAX_TORQUE
        };
        Action::Continuous(vec![u.clamp(-1.0, 1.0) as f32])
    }

    /// A push on the bob: its part along the bob's path sets the pendulum spinning.
    fn push(&mut self, push: [f32; 2]) {
        if self.done() {
            return;
        }
        let [angle, speed] = self.state;
        let spin = speed + PUSH_SPIN * along_swing(impulse(push), angle);
        self.state[1] = spin.clamp(-MAX_SPEED, MAX_SPEED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::control::tests as shared;
    use proptest::prelude::*;

    #[test]
    fn energy_is_conserved_without_damping_or_torque() {
        let mut s = [2.0, 0.0];
        let start = energy(&s);
        for _ in 0..250 {
            s = control_step(s, 0.0, 0.0);
        }
        // Five seconds of swinging through the bottom at nearly 5 rad/s.
        assert!((energy(&s) - start).abs() < 1e-4 * start.abs(), "{} vs {start}", energy(&s));
    }

    #[test]
    fn damping_bleeds_energy_away() {
        let mut s = [2.0, 0.0];
        let mut previous = energy(&s);
        for _ in 0..250 {
            s = control_step(s, 0.0, DAMPING);
            assert!(energy(&s) <= previous + 1e-9);
            previous = energy(&s);
        }
        assert!(previous < energy(&[2.0, 0.0]) - 0.5);
    }

    #[test]
    fn the_motor_alone_cannot_hold_the_pendulum_horizontal() {
        // Full torque against gravity at 90 degrees: it still falls, so swinging is required.
        let mut s = [PI / 2.0, 0.0];
        for _ in 0..50 {
            s = control_step(s, -1.0, DAMPING);
        }
        assert!(s[0].abs() > PI / 2.0 + 0.5, "{s:?}");
    }

    #[test]
    fn the_expert_balances_from_a_small_tilt() {
        let mut world = PendulumSwingup::new();
        world.reset(0);
        world.state = [0.3, -0.5];
        for _ in 0..100 {
            world.step(&world.expert());
        }
        assert!(world.state[0].abs() < 0.01 && world.state[1].abs() < 0.01, "{:?}", world.state);
    }

    proptest! {
        #[test]
        fn any_actions_and_pushes_keep_the_state_bounded(
            seed in any::<u64>(),
            steps in proptest::collection::vec(shared::arbitrary_step(), 1..200),
        ) {
            shared::assert_stays_bounded(&mut PendulumSwingup::new(), seed, &steps, |w| {
                (-PI..PI).contains(&w.state[0]) && w.state[1].abs() <= MAX_SPEED
            });
        }
    }
}
