//! Reacher: a two-link arm lying flat on a table puts its fingertip on a target.
//!
//! Both links are uniform rods, 12 cm and 100 g each, driven by motors of up to 0.05 N m at
//! the shoulder and the elbow, with viscous damping in both joints. The elbow stops at
//! 160 degrees either way; the shoulder turns freely. The table is horizontal, so gravity
//! plays no part and the arm obeys the planar manipulator equations
//!
//! `M(q) q'' + c(q, q') + b q' = torque`
//!
//! with the inertia matrix `M` and the Coriolis and centrifugal terms `c` written out in
//! [`inertia`] and [`bias`].
//!
//! Reward: 1 while the fingertip is within 3 cm of the target's centre, falling off
//! smoothly outside (DM Control's reacher, with a soft edge). Episodes start from a random
//! pose with a random target within reach, and last 500 steps of 20 ms.

use super::{Canvas, Falloff, Tally, colour, controls, impulse, rk4, tolerance, wrap_angle};
use crate::envs::{ActionSpec, Kind, World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::f64::consts::{PI, TAU};

const LINK_LENGTH: f64 = 0.12;
const LINK_MASS: f64 = 0.1;
const DAMPING: f64 = 0.005;
const MAX_TORQUE: f64 = 0.05;
const ELBOW_LIMIT: f64 = 160.0 * PI / 180.0;
/// The motors' top speed; it keeps the state bounded whatever they are told.
const MAX_SPEED: f64 = 4.0 * PI;
const TARGET_RADIUS: f64 = 0.03;

const CONTROL_DT: f64 = 0.02;
const SUBSTEPS: usize = 4;
const MAX_STEPS: u32 = 500;

/// A full-strength push on the fingertip, straight along a joint's swing, changes that joint's
/// speed by this much (rad/s).
const PUSH_SPIN: f64 = 6.0;

/// The expert's PD gains per unit of inertia: each joint responds like a critically damped
/// spring with a natural frequency of 10 rad/s.
const EXPERT_STIFFNESS: f64 = 100.0;
const EXPERT_DAMPING: f64 = 20.0;

/// `[shoulder angle, elbow angle, shoulder velocity, elbow velocity]`.
type State = [f64; 4];

/// The inertia matrix `M(q)` of two uniform rods hinged end to end.
fn inertia(elbow: f64) -> [[f64; 2]; 2] {
    let (m, l) = (LINK_MASS, LINK_LENGTH);
    let centre = l / 2.0;
    let rod = m * l * l / 12.0;
    let coupling = m * l * centre * elbow.cos();
    let m22 = rod + m * centre * centre;
    let m12 = m22 + coupling;
    let m11 = rod + m * centre * centre + m22 + m * l * l + 2.0 * coupling;
    [[m11, m12], [m12, m22]]
}

/// The Coriolis and centrifugal torques `c(q, q')`.
fn bias(s: &State) -> [f64; 2] {
    let h = LINK_MASS * LINK_LENGTH * (LINK_LENGTH / 2.0) * s[1].sin();
    [-h * (2.0 * s[2] * s[3] + s[3] * s[3]), h * s[2] * s[2]]
}

/// Joint accelerations `M^-1 (torque - c - b q')`.
fn accelerations(s: &State, torque: [f64; 2], damping: f64) -> [f64; 2] {
    let [[a, b], [_, d]] = inertia(s[1]);
    let c = bias(s);
    let f = [torque[0] - c[0] - damping * s[2], torque[1] - c[1] - damping * s[3]];
    let det = a * d - b * b;
    [(d * f[0] - b * f[1]) / det, (a * f[1] - b * f[0]) / det]
}

/// Where the elbow and the fingertip are.
fn joints(s: &State) -> ([f64; 2], [f64; 2]) {
    let elbow = [LINK_LENGTH * s[0].cos(), LINK_LENGTH * s[0].sin()];
    let tip = [elbow[0] + LINK_LENGTH * (s[0] + s[1]).cos(), elbow[1] + LINK_LENGTH * (s[0] + s[1]).sin()];
    (elbow, tip)
}

/// One control step under constant motor commands `u` in [-1, 1].
fn control_step(mut s: State, u: [f64; 2]) -> State {
    let torque = u.map(|u| u * MAX_TORQUE);
    for _ in 0..SUBSTEPS {
        s = rk4(s, CONTROL_DT / SUBSTEPS as f64, |s| {
            let [a1, a2] = accelerations(s, torque, DAMPING);
            [s[2], s[3], a1, a2]
        });
        s = elbow_stop(s);
        s = [wrap_angle(s[0]), s[1], s[2].clamp(-MAX_SPEED, MAX_SPEED), s[3].clamp(-MAX_SPEED, MAX_SPEED)];
    }
    s
}

/// Stops an elbow that has reached its limit. The stop's impulse acts on the elbow joint
/// alone, which also jolts the shoulder: solving `M dq' = [0, impulse]` with the elbow
/// coming to rest gives the shoulder's change `q2' M12 / M11`.
fn elbow_stop(s: State) -> State {
    let [shoulder, elbow, shoulder_speed, elbow_speed] = s;
    if elbow.abs() <= ELBOW_LIMIT {
        return s;
    }
    let elbow = elbow.clamp(-ELBOW_LIMIT, ELBOW_LIMIT);
    if elbow_speed * elbow <= 0.0 {
        return [shoulder, elbow, shoulder_speed, elbow_speed];
    }
    let [[m11, m12], _] = inertia(elbow);
    [shoulder, elbow, shoulder_speed + elbow_speed * m12 / m11, 0.0]
}

/// The joint angles that put the fingertip on `target`, bending the elbow the way it is
/// bent now so that it never has to swing through straight. Out of reach, the arm points.
fn inverse_kinematics(target: [f64; 2], elbow_now: f64) -> [f64; 2] {
    let l = LINK_LENGTH;
    let reach = target[0].hypot(target[1]).clamp(1e-6, 2.0 * l);
    let cos_elbow = ((reach * reach - 2.0 * l * l) / (2.0 * l * l)).clamp(-1.0, 1.0);
    let elbow = cos_elbow.acos().min(ELBOW_LIMIT) * if elbow_now < 0.0 { -1.0 } else { 1.0 };
    let shoulder = target[1].atan2(target[0]) - (l * elbow.sin()).atan2(l + l * elbow.cos());
    [wrap_angle(shoulder), elbow]
}

pub struct Reacher {
    state: State,
    target: [f64; 2],
    tally: Tally,
}

impl Reacher {
    pub fn new() -> Self {
        Reacher { state: [0.0; 4], target: [LINK_LENGTH, LINK_LENGTH], tally: Tally::default() }
    }

    fn to_target(&self) -> [f64; 2] {
        let (_, tip) = joints(&self.state);
        [self.target[0] - tip[0], self.target[1] - tip[1]]
    }
}

impl World for Reacher {
    fn spec(&self) -> WorldSpec {
        WorldSpec {
            name: "reacher",
            kind: Kind::Control,
            action: ActionSpec::Continuous { dims: 2 },
            description: "Move a two-link arm so that its fingertip touches the target.",
            max_steps: MAX_STEPS,
        }
    }

    fn reset(&mut self, seed: u64) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        self.state = [rng.random_range(-PI..PI), rng.random_range(-ELBOW_LIMIT..ELBOW_LIMIT), 0.0, 0.0];
        let (angle, radius) = (rng.random_range(0.0..TAU), rng.random_range(0.05..0.20));
        self.target = [radius * angle.cos(), radius * angle.sin()];
        self.tally = Tally::default();
    }

    /// `[cos, sin]` of both joint angles, the vector from fingertip to target, and both
    /// joint velocities.
    fn observe(&self) -> Observation {
        let [shoulder, elbow, shoulder_speed, elbow_speed] = self.state;
        let [dx, dy] = self.to_target();
        let continuous =
            [shoulder.cos(), shoulder.sin(), elbow.cos(), elbow.sin(), dx, dy, shoulder_speed, elbow_speed];
        Observation { continuous: continuous.map(|x| x as f32).to_vec(), ..Default::default() }
    }

    fn step(&mut self, action: &Action) -> f32 {
        if self.done() {
            return 0.0;
        }
        self.state = control_step(self.state, controls(action));
        let [dx, dy] = self.to_target();
        self.tally.record(tolerance(dx.hypot(dy), (0.0, TARGET_RADIUS), TARGET_RADIUS, Falloff::Gaussian))
    }

    fn render(&self) -> RgbaImage {
        let mut canvas = Canvas::new([0.0, 0.0], 240.0);
        canvas.disc([0.0, 0.0], 2.0 * LINK_LENGTH + 0.02, colour::FLOOR);
        canvas.disc(self.target, 2.0 * TARGET_RADIUS, colour::TARGET_HALO);
        canvas.disc(self.target, TARGET_RADIUS, colour::TARGET);
        let (elbow, tip) = joints(&self.state);
        canvas.line([0.0, 0.0], elbow, 0.02, colour::STRUCTURE);
        canvas.line(elbow, tip, 0.02, colour::STRUCTURE);
        canvas.disc([0.0, 0.0], 0.016, colour::JOINT);
        canvas.disc(elbow, 0.013, colour::JOINT);
        canvas.disc(tip, 0.013, colour::BODY);
        canvas.finish()
    }

    fn score(&self) -> f32 {
        self.tally.score
    }

    fn done(&self) -> bool {
        self.tally.steps >= MAX_STEPS
    }

    /// Inverse kinematics gives the joint angles that touch the target; computed-torque PD
    /// control drives the joints there, scaling the PD terms by the arm's inertia and
    /// cancelling the Coriolis, centrifugal and damping torques, so both joints respond alike
    /// whatever the pose.
    fn expert(&self) -> Action {
        let s = &self.state;
        let goal = inverse_kinematics(self.target, s[1]);
        let error = [wrap_angle(goal[0] - s[0]), goal[1] - s[1]];
        let wanted = [0, 1].map(|i| EXPERT_STIFFNESS * error[i] - EXPERT_DAMPING * s[2 + i]);
        let [[a, b], [c, d]] = inertia(s[1]);
        let bias = bias(s);
        let torque = [
            a * wanted[0] + b * wanted[1] + bias[0] + DAMPING * s[2],
            c * wanted[0] + d * wanted[1] + bias[1] + DAMPING * s[3],
        ];
        Action::Continuous(torque.iter().map(|t| (t / MAX_TORQUE).clamp(-1.0, 1.0) as f32).collect())
    }

    /// A push on the fingertip: each joint takes the part of it along the path the fingertip
    /// follows when that joint alone turns (the arm's Jacobian, scaled by the longest reach).
    fn push(&mut self, push: [f32; 2]) {
        if self.done() {
            return;
        }
        let p = impulse(push);
        let (elbow, tip) = joints(&self.state);
        // Turning a joint moves the tip at right angles to the line from that joint to the tip.
        for (joint, pivot, reach) in [(0, [0.0, 0.0], 2.0 * LINK_LENGTH), (1, elbow, LINK_LENGTH)] {
            let along = (p[1] * (tip[0] - pivot[0]) - p[0] * (tip[1] - pivot[1])) / reach;
            self.state[2 + joint] = (self.state[2 + joint] + PUSH_SPIN * along).clamp(-MAX_SPEED, MAX_SPEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::control::tests as shared;
    use proptest::prelude::*;

    fn kinetic_energy(s: &State) -> f64 {
        let [[a, b], [_, d]] = inertia(s[1]);
        0.5 * (a * s[2] * s[2] + 2.0 * b * s[2] * s[3] + d * s[3] * s[3])
    }

    #[test]
    fn a_free_arm_keeps_its_energy() {
        // No gravity, no damping, no torque: the manipulator equations conserve kinetic energy.
        let mut s = [0.3, 0.5, 4.0, -6.0];
        let start = kinetic_energy(&s);
        for _ in 0..100 {
            s = rk4(s, 0.005, |s| {
                let [a1, a2] = accelerations(s, [0.0, 0.0], 0.0);
                [s[2], s[3], a1, a2]
            });
        }
        assert!((kinetic_energy(&s) - start).abs() < 1e-6 * start, "{} vs {start}", kinetic_energy(&s));
    }

    #[test]
    fn inverse_kinematics_reaches_the_target() {
        for target in [[0.1, 0.05], [-0.18, 0.02], [0.0, -0.06], [0.15, -0.15]] {
            for elbow_now in [-1.0, 1.0] {
                let [shoulder, elbow] = inverse_kinematics(target, elbow_now);
                assert_eq!(elbow.signum(), elbow_now);
                let (_, tip) = joints(&[shoulder, elbow, 0.0, 0.0]);
                assert!((tip[0] - target[0]).hypot(tip[1] - target[1]) < 1e-9, "{target:?} -> {tip:?}");
            }
        }
    }

    #[test]
    fn the_elbow_stop_halts_the_elbow_and_jolts_the_shoulder() {
        let s = elbow_stop([0.0, ELBOW_LIMIT + 0.01, 0.0, 3.0]);
        assert_eq!((s[1], s[3]), (ELBOW_LIMIT, 0.0));
        assert!(s[2] != 0.0);
        assert_eq!(elbow_stop([0.0, 1.0, 1.0, 3.0]), [0.0, 1.0, 1.0, 3.0]);
    }

    #[test]
    fn the_expert_holds_the_fingertip_on_the_target() {
        let mut world = Reacher::new();
        for seed in 0..5 {
            world.reset(seed);
            for _ in 0..100 {
                world.step(&world.expert());
            }
            let [dx, dy] = world.to_target();
            assert!(dx.hypot(dy) < 0.005, "seed {seed}: {} m away", dx.hypot(dy));
        }
    }

    proptest! {
        #[test]
        fn any_actions_and_pushes_keep_the_state_bounded(
            seed in any::<u64>(),
            steps in proptest::collection::vec(shared::arbitrary_step(), 1..200),
        ) {
            shared::assert_stays_bounded(&mut Reacher::new(), seed, &steps, |w| {
                let [shoulder, elbow, shoulder_speed, elbow_speed] = w.state;
                (-PI..PI).contains(&shoulder)
                    && elbow.abs() <= ELBOW_LIMIT
                    && shoulder_speed.abs() <= MAX_SPEED
                    && elbow_speed.abs() <= MAX_SPEED
            });
        }
    }
}
