//! Continuous control from state: four classic tasks in the manner of the DeepMind Control Suite.
//!
//! Each task integrates its equations of motion with RK4 at a fixed physics step, several
//! physics steps per control step. The agent sees a state vector and acts with values in
//! [-1, 1], which the task scales to its force or torque limit. Rewards are smooth and lie in
//! [0, 1] per step, built from [`tolerance`] as DM Control builds them, so a score is at most
//! the episode length. There are no terminal states: every episode runs to its cap.
//!
//! This file holds what the tasks share: reading actions, the integrator, the reward shapes,
//! episode bookkeeping and the canvas the frames are drawn on.

mod cartpole_swingup;
mod lqr;
mod pendulum_swingup;
mod point_mass;
mod reacher;

use super::{World, draw};
use crate::tokens::Action;
use image::{RgbImage, RgbaImage};
use std::f64::consts::{PI, TAU};

/// Every control task, freshly made.
pub fn all() -> Vec<Box<dyn World>> {
    vec![
        Box::new(cartpole_swingup::CartpoleSwingup::new()),
        Box::new(pendulum_swingup::PendulumSwingup::new()),
        Box::new(reacher::Reacher::new()),
        Box::new(point_mass::PointMass::new()),
    ]
}

/// The controls an action asks for: clamped to [-1, 1], with NaN and missing entries as 0.
/// A discrete action means nothing to a motor, so it applies no force at all.
fn controls<const N: usize>(action: &Action) -> [f64; N] {
    let mut u = [0.0; N];
    if let Action::Continuous(values) = action {
        for (u, &v) in u.iter_mut().zip(values) {
            *u = if v.is_nan() { 0.0 } else { f64::from(v.clamp(-1.0, 1.0)) };
        }
    }
    u
}

/// One classic fourth-order Runge-Kutta step of `dx/dt = f(x)` over `dt`.
fn rk4<const N: usize>(x: [f64; N], dt: f64, f: impl Fn(&[f64; N]) -> [f64; N]) -> [f64; N] {
    let along = |k: &[f64; N], h: f64| -> [f64; N] { std::array::from_fn(|i| x[i] + h * k[i]) };
    let k1 = f(&x);
    let k2 = f(&along(&k1, dt / 2.0));
    let k3 = f(&along(&k2, dt / 2.0));
    let k4 = f(&along(&k3, dt));
    std::array::from_fn(|i| x[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// An angle brought into [-pi, pi).
fn wrap_angle(angle: f64) -> f64 {
    (angle + PI).rem_euclid(TAU) - PI
}

/// How a [`tolerance`] reward falls off outside its bounds.
#[derive(Clone, Copy)]
enum Falloff {
    /// A Gaussian bump, 0.1 at one margin beyond the bounds; it never quite reaches 0.
    Gaussian,
    /// `1 - d^2`, reaching 0 at one margin beyond the bounds.
    Quadratic,
}

/// DM Control's `tolerance`: 1 inside `bounds`, falling off smoothly over `margin`
/// outside them, so the agent is rewarded a little for getting close. A zero margin
/// makes it a plain 0/1 indicator.
fn tolerance(x: f64, (lower, upper): (f64, f64), margin: f64, falloff: Falloff) -> f64 {
    if (lower..=upper).contains(&x) {
        return 1.0;
    }
    if margin <= 0.0 {
        return 0.0;
    }
    let d = if x < lower { lower - x } else { x - upper } / margin;
    match falloff {
        Falloff::Gaussian => 0.1f64.powf(d * d),
        Falloff::Quadratic => (1.0 - d * d).max(0.0),
    }
}

/// A visitor's push (see [`World::push`]) as a vector in [-1, 1]²: NaN counts as no push.
fn impulse(push: [f32; 2]) -> [f64; 2] {
    push.map(|p| if p.is_nan() { 0.0 } else { f64::from(p.clamp(-1.0, 1.0)) })
}

/// How much of a push drives a body swinging about a pivot, for a body at `angle` from
/// upright (`[sin, cos]` of it from the pivot): the push's component along its path, the
/// direction in which `angle` grows.
fn along_swing(push: [f64; 2], angle: f64) -> f64 {
    push[0] * angle.cos() - push[1] * angle.sin()
}

/// DM Control's gentle penalty on effort: 1 with the motors idle, 0.8 at full force.
/// It tips the balance toward calm solutions without making effort the goal.
fn small_control(u: &[f64]) -> f64 {
    let mean = u.iter().map(|&u| tolerance(u, (0.0, 0.0), 1.0, Falloff::Quadratic)).sum::<f64>() / u.len() as f64;
    (4.0 + mean) / 5.0
}

/// Steps taken and reward gathered in the current episode.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tally {
    steps: u32,
    score: f32,
}

impl Tally {
    /// Counts one step and its reward, which it hands back as the world reports it.
    fn record(&mut self, reward: f64) -> f32 {
        let reward = reward as f32;
        self.steps += 1;
        self.score += reward;
        reward
    }
}

/// Side of every control frame, in pixels.
const FRAME_SIZE: u32 = 128;

/// The palette the control frames share, so the four tasks look like one family.
mod colour {
    pub const BACKGROUND: [u8; 3] = [236, 239, 244];
    pub const FLOOR: [u8; 3] = [204, 210, 220];
    pub const STRUCTURE: [u8; 3] = [84, 92, 108];
    pub const BODY: [u8; 3] = [230, 126, 34];
    pub const JOINT: [u8; 3] = [44, 50, 62];
    pub const TARGET: [u8; 3] = [46, 174, 96];
    pub const TARGET_HALO: [u8; 3] = [196, 232, 208];
}

/// A frame in world coordinates: metres, y pointing up, a chosen point at the centre.
struct Canvas {
    image: RgbImage,
    centre: [f64; 2],
    pixels_per_metre: f64,
}

impl Canvas {
    fn new(centre: [f64; 2], pixels_per_metre: f64) -> Self {
        let image = RgbImage::from_pixel(FRAME_SIZE, FRAME_SIZE, image::Rgb(colour::BACKGROUND));
        Canvas { image, centre, pixels_per_metre }
    }

    fn pixel(&self, p: [f64; 2]) -> (f32, f32) {
        let half = f64::from(FRAME_SIZE) / 2.0;
        let x = half + (p[0] - self.centre[0]) * self.pixels_per_metre;
        let y = half - (p[1] - self.centre[1]) * self.pixels_per_metre;
        (x as f32, y as f32)
    }

    fn length(&self, metres: f64) -> f32 {
        (metres * self.pixels_per_metre) as f32
    }

    fn disc(&mut self, centre: [f64; 2], radius: f64, colour: [u8; 3]) {
        let (x, y) = self.pixel(centre);
        let r = self.length(radius);
        draw::disc(&mut self.image, x, y, r, colour);
    }

    fn line(&mut self, a: [f64; 2], b: [f64; 2], width: f64, colour: [u8; 3]) {
        let (a, b, w) = (self.pixel(a), self.pixel(b), self.length(width));
        draw::line(&mut self.image, a, b, w, colour);
    }

    /// Fills the axis-aligned box between two opposite corners.
    fn rect(&mut self, a: [f64; 2], b: [f64; 2], colour: [u8; 3]) {
        let (a, b) = (self.pixel(a), self.pixel(b));
        let (x0, x1) = (a.0.min(b.0).round() as i32, a.0.max(b.0).round() as i32);
        let (y0, y1) = (a.1.min(b.1).round() as i32, a.1.max(b.1).round() as i32);
        draw::rect(&mut self.image, x0, y0, x1 - x0, y1 - y0, colour);
    }

    fn finish(self) -> RgbaImage {
        image::DynamicImage::from(self.image).to_rgba8()
    }
}

/// Checks every control task must pass, and helpers the tasks' own tests share.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::rollout::{self, Actor, Expert, Random};
    use proptest::prelude::*;

    /// Anything a caller might send as an action: any length, any float including NaN and
    /// the infinities, or a discrete action.
    pub fn arbitrary_action() -> impl Strategy<Value = Action> {
        let value = prop_oneof![
            4 => -1.5f32..1.5,
            1 => Just(f32::NAN),
            1 => Just(f32::INFINITY),
            1 => Just(f32::NEG_INFINITY),
            1 => any::<f32>(),
        ];
        prop_oneof![
            8 => proptest::collection::vec(value, 0..4).prop_map(Action::Continuous),
            1 => proptest::collection::vec(any::<u32>(), 0..3).prop_map(Action::Discrete),
        ]
    }

    /// A step a visitor might take: any action, sometimes after a push of any size, NaN and
    /// the infinities included.
    pub fn arbitrary_step() -> impl Strategy<Value = (Action, Option<[f32; 2]>)> {
        let component =
            prop_oneof![4 => -1.5f32..1.5, 1 => Just(f32::NAN), 1 => Just(f32::INFINITY), 1 => any::<f32>()];
        let push = prop_oneof![4 => Just(None), 1 => [component.clone(), component].prop_map(Some)];
        (arbitrary_action(), push)
    }

    /// Plays `steps` from `seed`, checking after every step that the observation is finite
    /// and that `in_bounds` holds for the task's state.
    pub fn assert_stays_bounded<W: World>(
        world: &mut W,
        seed: u64,
        steps: &[(Action, Option<[f32; 2]>)],
        in_bounds: impl Fn(&W) -> bool,
    ) {
        world.reset(seed);
        for (action, push) in steps {
            if let Some(push) = push {
                world.push(*push);
                assert!(in_bounds(world), "state left its bounds after the push {push:?}");
            }
            let reward = world.step(action);
            assert!((0.0..=1.0).contains(&reward), "reward {reward} outside [0, 1]");
            assert!(world.observe().continuous.iter().all(|x| x.is_finite()), "{:?}", world.observe().continuous);
            assert!(in_bounds(world), "state left its bounds after {action:?}");
        }
    }

    /// Mean score of `episodes` episodes played by `actor`, seeds `seed..`.
    pub fn mean_score(world: &mut dyn World, actor: &mut dyn Actor, episodes: u32, seed: u64) -> f32 {
        rollout::evaluate(world, actor, episodes, seed).expect("built-in actors never fail").mean
    }

    #[test]
    fn same_seed_and_actions_replay_exactly() {
        for mut world in all() {
            let mut trace = |seed: u64| {
                world.reset(seed);
                let mut rng = <rand_pcg::Pcg64Mcg as rand::SeedableRng>::seed_from_u64(7);
                let mut observations = Vec::new();
                for _ in 0..100 {
                    let action = rollout::random_action(&world.spec().action, &mut rng);
                    world.step(&action);
                    observations.push(world.observe().continuous);
                }
                (observations, world.score())
            };
            let first = trace(3);
            assert_eq!(first, trace(3), "{}", world.spec().name);
            assert_ne!(first.0, trace(4).0, "{}: different seeds should differ", world.spec().name);
        }
    }

    #[test]
    fn episodes_end_at_the_cap_and_then_stand_still() {
        for mut world in all() {
            let spec = world.spec();
            world.reset(1);
            let idle = Action::Continuous(vec![0.0; spec.action.tokens()]);
            for step in 0..spec.max_steps {
                assert!(!world.done(), "{} ended early at {step}", spec.name);
                world.step(&idle);
            }
            assert!(world.done(), "{} did not end at {}", spec.name, spec.max_steps);
            let (score, observation) = (world.score(), world.observe().continuous);
            assert_eq!(world.step(&world.expert()), 0.0);
            assert_eq!((world.score(), world.observe().continuous), (score, observation));
        }
    }

    #[test]
    fn observations_match_the_spec_and_the_expert_acts_within_it() {
        for mut world in all() {
            let spec = world.spec();
            assert_eq!(spec.kind, crate::envs::Kind::Control);
            world.reset(5);
            let dims = world.observe().continuous.len();
            for _ in 0..50 {
                let action = world.expert();
                assert!(spec.action.accepts(&action), "{}: {action:?}", spec.name);
                world.step(&action);
                assert_eq!(world.observe().continuous.len(), dims);
            }
        }
    }

    #[test]
    fn the_expert_beats_random_play_by_a_wide_margin() {
        for mut world in all() {
            let name = world.spec().name;
            let max = world.spec().max_steps as f32;
            let expert = mean_score(world.as_mut(), &mut Expert, 20, 100);
            let random = mean_score(world.as_mut(), &mut Random::new(), 20, 100);
            assert!(expert > 0.6 * max, "{name}: expert {expert} of {max}");
            assert!(expert > 3.0 * random + 0.2 * max, "{name}: expert {expert} vs random {random}");
        }
    }

    #[test]
    fn frames_are_the_right_size_and_show_something() {
        for mut world in all() {
            world.reset(2);
            let frame = world.render();
            assert_eq!(frame.dimensions(), (FRAME_SIZE, FRAME_SIZE));
            let distinct: std::collections::BTreeSet<[u8; 4]> = frame.pixels().map(|p| p.0).collect();
            assert!(distinct.len() >= 4, "{}: only {} colours", world.spec().name, distinct.len());
            let first = frame.clone();
            for _ in 0..25 {
                world.step(&world.expert());
            }
            assert_ne!(first, world.render(), "{}: the picture should move", world.spec().name);
        }
    }

    #[test]
    fn a_push_moves_the_body_and_the_expert_recovers() {
        for mut world in all() {
            let name = world.spec().name;
            world.reset(6);
            for _ in 0..300 {
                world.step(&world.expert());
            }
            let settled = world.observe().continuous;
            world.push([1.0, 0.5]);
            assert_ne!(world.observe().continuous, settled, "{name}: the push did nothing");
            let rewards: Vec<f32> = (0..200).map(|_| world.step(&world.expert())).collect();
            let recovered = rewards[150..].iter().sum::<f32>() / 50.0;
            assert!(recovered > 0.7, "{name}: reward {recovered} 150 steps after the push");
        }
    }

    #[test]
    fn pushes_that_are_no_numbers_or_come_after_the_end_do_nothing() {
        for mut world in all() {
            let name = world.spec().name;
            world.reset(8);
            world.step(&world.expert());
            let before = world.observe().continuous;
            world.push([f32::NAN, 0.0]);
            world.push([0.0, 0.0]);
            assert_eq!(world.observe().continuous, before, "{name}");
            for _ in 0..world.spec().max_steps {
                world.step(&world.expert());
            }
            let finished = world.observe().continuous;
            world.push([1.0, 1.0]);
            assert_eq!(world.observe().continuous, finished, "{name}: a finished episode was pushed");
        }
    }

    #[test]
    fn along_swing_is_the_push_along_the_path() {
        // Upright, the path runs to the right; hanging down, to the left; level to the right, downward.
        assert!((along_swing([1.0, 0.0], 0.0) - 1.0).abs() < 1e-12);
        assert!((along_swing([1.0, 0.0], PI) + 1.0).abs() < 1e-12);
        assert!((along_swing([0.0, -1.0], PI / 2.0) - 1.0).abs() < 1e-12);
        assert_eq!(impulse([f32::NAN, 7.0]), [0.0, 1.0]);
    }

    #[test]
    fn tolerance_is_one_inside_and_falls_off_outside() {
        assert_eq!(tolerance(0.5, (0.0, 1.0), 1.0, Falloff::Gaussian), 1.0);
        assert!((tolerance(2.0, (0.0, 1.0), 1.0, Falloff::Gaussian) - 0.1).abs() < 1e-12);
        assert!(
            tolerance(3.0, (0.0, 1.0), 1.0, Falloff::Gaussian) < tolerance(2.0, (0.0, 1.0), 1.0, Falloff::Gaussian)
        );
        assert_eq!(tolerance(-2.0, (0.0, 1.0), 1.0, Falloff::Quadratic), 0.0);
        assert!((tolerance(-0.5, (0.0, 1.0), 1.0, Falloff::Quadratic) - 0.75).abs() < 1e-12);
        assert_eq!(tolerance(1.01, (0.0, 1.0), 0.0, Falloff::Gaussian), 0.0);
        assert_eq!(small_control(&[0.0, 0.0]), 1.0);
        assert!((small_control(&[1.0, -1.0]) - 0.8).abs() < 1e-12);
    }

    #[test]
    fn controls_are_clamped_and_never_nan() {
        let u: [f64; 3] = controls(&Action::Continuous(vec![f32::NAN, 7.0, f32::NEG_INFINITY, 0.3]));
        assert_eq!(u, [0.0, 1.0, -1.0]);
        let u: [f64; 2] = controls(&Action::Continuous(vec![0.5]));
        assert_eq!(u, [0.5, 0.0]);
        let u: [f64; 2] = controls(&Action::Discrete(vec![3]));
        assert_eq!(u, [0.0, 0.0]);
    }

    #[test]
    fn rk4_integrates_a_harmonic_oscillator_accurately() {
        let (mut x, dt, steps) = ([1.0, 0.0], 0.01, 500);
        for _ in 0..steps {
            x = rk4(x, dt, |s| [s[1], -s[0]]);
        }
        // The exact solution is (cos t, -sin t); RK4's error at this step is far below 1e-6.
        let t = dt * f64::from(steps);
        assert!((x[0] - t.cos()).abs() < 1e-6 && (x[1] + t.sin()).abs() < 1e-6, "{x:?}");
    }

    #[test]
    fn wrap_angle_lands_in_range() {
        for a in [-10.0, -PI, -0.1, 0.0, 3.0, PI, 7.0, 100.0] {
            let w = wrap_angle(a);
            assert!((-PI..PI).contains(&w));
            assert!(((a - w) / TAU - ((a - w) / TAU).round()).abs() < 1e-9);
        }
    }
}
