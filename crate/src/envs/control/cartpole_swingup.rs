//! Cart-pole swing-up: push a cart along a rail to swing the pole hanging from it upright,
//! then balance it there, near the middle of the track.
//!
//! A 1 kg cart runs on a rail with walls, driven by up to 10 N. A uniform 1 m pole of
//! 0.1 kg hangs from a hinge on top of it. With the angle measured from upright and `l`
//! the distance from the hinge to the pole's centre of mass, the standard equations of
//! motion (Barto, Sutton & Anderson 1983, with viscous rather than dry friction) are
//!
//! `theta'' = (g sin(theta) - cos(theta) t - b_p theta' / (m_p l)) / (l (4/3 - m_p cos^2(theta) / M))`
//! `x''     = t - m_p l theta'' cos(theta) / M`, where `t = (F - b_c x' + m_p l theta'^2 sin(theta)) / M`
//!
//! and `M` is the total mass. Hitting a wall stops the cart dead; the hinge's impulse keeps
//! the pole's angular momentum about the hinge, so the pole swings on.
//!
//! Reward, as in DM Control: how upright the pole is, times how central the cart is, how
//! slowly the pole spins and how gently the motor pushes, each a factor near 1 when good.
//! Episodes start with the pole hanging down and last 500 steps of 20 ms.

use super::{
    Canvas, Falloff, Tally, along_swing, colour, controls, impulse, lqr, rk4, small_control, tolerance, wrap_angle,
};
use crate::envs::{ActionSpec, Kind, World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::f64::consts::PI;

const CART_MASS: f64 = 1.0;
const POLE_MASS: f64 = 0.1;
/// From the hinge to the pole's centre of mass: half the pole.
const HALF_POLE: f64 = 0.5;
const GRAVITY: f64 = 9.81;

/// Viscous friction of the cart on its rail (N s/m) and of the pole in its hinge (N m s).
#[derive(Clone, Copy)]
struct Friction {
    cart: f64,
    hinge: f64,
}
const FRICTION: Friction = Friction { cart: 0.05, hinge: 0.002 };

const MAX_FORCE: f64 = 10.0;
/// How far the cart's centre can go either way before it meets a wall.
const TRACK_LIMIT: f64 = 1.6;
const CART_HALF_WIDTH: f64 = 0.2;
/// The drive's and the hinge's top speeds; they keep the state bounded whatever the motor does.
const MAX_CART_SPEED: f64 = 10.0;
const MAX_SPIN: f64 = 8.0 * PI;

const CONTROL_DT: f64 = 0.02;
const SUBSTEPS: usize = 4;
const MAX_STEPS: u32 = 500;

/// A full-strength push on the pole's tip changes its spin by this much (rad/s).
const PUSH_SPIN: f64 = 4.0;

/// The expert balances with LQR inside this angle from upright, and swings up outside it.
const CATCH_ANGLE: f64 = 0.4;
/// The pole energy the swing aims for: a little above resting upright, so that the pole
/// arrives with some speed to spare instead of creeping up ever more slowly.
const SWING_ENERGY: f64 = 0.03;

/// `[cart position, pole angle from upright, cart velocity, pole angular velocity]`.
type State = [f64; 4];

pub struct CartpoleSwingup {
    state: State,
    tally: Tally,
    /// LQR gains for balancing upright at the centre, from the linearized control step.
    balance: [f64; 4],
}

impl CartpoleSwingup {
    pub fn new() -> Self {
        let (a, b) = lqr::linearize(control_step, [0.0; 4], 0.0);
        // The pole's angle costs most, the cart's offset next, the velocities only a little.
        let balance = lqr::gain(&a, &b, &[1.0, 10.0, 0.1, 0.1], 0.1);
        CartpoleSwingup { state: [0.0, PI, 0.0, 0.0], tally: Tally::default(), balance }
    }
}

/// The equations of motion: the state's rate of change under a force on the cart.
fn derivative(s: &State, force: f64, friction: Friction) -> State {
    let [_, angle, speed, spin] = *s;
    let (sin, cos) = angle.sin_cos();
    let total = CART_MASS + POLE_MASS;
    let t = (force - friction.cart * speed + POLE_MASS * HALF_POLE * spin * spin * sin) / total;
    let spin_rate = (GRAVITY * sin - cos * t - friction.hinge * spin / (POLE_MASS * HALF_POLE))
        / (HALF_POLE * (4.0 / 3.0 - POLE_MASS * cos * cos / total));
    let acceleration = t - POLE_MASS * HALF_POLE * spin_rate * cos / total;
    [speed, spin, acceleration, spin_rate]
}

/// One control step under a constant motor command `u` in [-1, 1].
fn control_step(mut s: State, u: f64) -> State {
    for _ in 0..SUBSTEPS {
        s = rk4(s, CONTROL_DT / SUBSTEPS as f64, |s| derivative(s, u * MAX_FORCE, FRICTION));
        s = hit_walls(s);
        s = [s[0], wrap_angle(s[1]), s[2].clamp(-MAX_CART_SPEED, MAX_CART_SPEED), s[3].clamp(-MAX_SPIN, MAX_SPIN)];
    }
    s
}

/// Stops a cart that has run into a wall. The wall's impulse acts through the hinge, so the
/// pole keeps its angular momentum about the hinge: `(4/3) l theta' + cos(theta) x'` is
/// unchanged while `x'` drops to zero.
fn hit_walls(s: State) -> State {
    let [position, angle, speed, spin] = s;
    if position.abs() <= TRACK_LIMIT {
        return s;
    }
    let position = position.clamp(-TRACK_LIMIT, TRACK_LIMIT);
    if speed * position <= 0.0 {
        return [position, angle, speed, spin];
    }
    [position, angle, 0.0, spin + 3.0 * angle.cos() * speed / (4.0 * HALF_POLE)]
}

/// The pole's kinetic energy about the hinge plus its potential energy, zero at rest upright.
/// The cart's motion is left out: it is what the expert uses to pump this energy.
fn pole_energy(s: &State) -> f64 {
    let inertia = 4.0 / 3.0 * POLE_MASS * HALF_POLE * HALF_POLE;
    0.5 * inertia * s[3] * s[3] + POLE_MASS * GRAVITY * HALF_POLE * (s[1].cos() - 1.0)
}

impl World for CartpoleSwingup {
    fn spec(&self) -> WorldSpec {
        WorldSpec {
            name: "cartpole_swingup",
            kind: Kind::Control,
            action: ActionSpec::Continuous { dims: 1 },
            description: "Push a cart to swing up the pole hanging from it, and balance it in the middle.",
            max_steps: MAX_STEPS,
        }
    }

    fn reset(&mut self, seed: u64) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        self.state = [
            rng.random_range(-0.5..0.5),
            wrap_angle(PI + rng.random_range(-0.3..0.3)),
            rng.random_range(-0.2..0.2),
            rng.random_range(-0.5..0.5),
        ];
        self.tally = Tally::default();
    }

    /// Cart position, `[cos, sin]` of the pole's angle from upright, cart velocity and the
    /// pole's angular velocity.
    fn observe(&self) -> Observation {
        let [position, angle, speed, spin] = self.state;
        let continuous = [position, angle.cos(), angle.sin(), speed, spin].map(|x| x as f32).to_vec();
        Observation { continuous, ..Default::default() }
    }

    fn step(&mut self, action: &Action) -> f32 {
        if self.done() {
            return 0.0;
        }
        let u = controls::<1>(action);
        self.state = control_step(self.state, u[0]);
        let [position, angle, _, spin] = self.state;
        let upright = (angle.cos() + 1.0) / 2.0;
        let centred = (1.0 + tolerance(position, (0.0, 0.0), 2.0, Falloff::Gaussian)) / 2.0;
        let slow = (1.0 + tolerance(spin, (0.0, 0.0), 5.0, Falloff::Gaussian)) / 2.0;
        self.tally.record(upright * centred * slow * small_control(&u))
    }

    fn render(&self) -> RgbaImage {
        let [position, angle, _, _] = self.state;
        let mut canvas = Canvas::new([0.0, 0.0], 32.0);
        let wall = TRACK_LIMIT + CART_HALF_WIDTH;
        canvas.disc([0.0, 2.0 * HALF_POLE], 0.2, colour::TARGET_HALO);
        canvas.rect([-wall, -0.02], [wall, 0.02], colour::FLOOR);
        for side in [-1.0, 1.0] {
            canvas.rect([side * wall, -0.3], [side * (wall + 0.1), 0.3], colour::STRUCTURE);
        }
        canvas.rect([position - CART_HALF_WIDTH, -0.12], [position + CART_HALF_WIDTH, 0.12], colour::STRUCTURE);
        let tip = [position + 2.0 * HALF_POLE * angle.sin(), 2.0 * HALF_POLE * angle.cos()];
        canvas.line([position, 0.0], tip, 0.1, colour::BODY);
        canvas.disc([position, 0.0], 0.07, colour::JOINT);
        canvas.finish()
    }

    fn score(&self) -> f32 {
        self.tally.score
    }

    fn done(&self) -> bool {
        self.tally.steps >= MAX_STEPS
    }

    /// Energy shaping, then LQR. Accelerating the cart changes the pole's energy at
    /// `-m_p l x'' theta' cos(theta)`, so pushing with `x''` proportional to
    /// `(E - E*) theta' cos(theta)` drives the energy toward `E*`, about that of resting upright,
    /// while a weak spring pulls the cart back to the middle. Near upright the LQR gains take over.
    fn expert(&self) -> Action {
        let [position, angle, speed, spin] = self.state;
        let u = if angle.abs() < CATCH_ANGLE {
            -self.balance.iter().zip(self.state).map(|(k, x)| k * x).sum::<f64>()
        } else {
            let excess = pole_energy(&self.state) - SWING_ENERGY;
            let pump = (40.0 * excess * spin * angle.cos()).clamp(-8.0, 8.0);
            let acceleration = pump - 2.0 * position - 2.0 * speed;
            (CART_MASS + POLE_MASS) * acceleration / MAX_FORCE
        };
        Action::Continuous(vec![u.clamp(-1.0, 1.0) as f32])
    }

    /// A push on the pole's tip: its part along the tip's path sets the pole spinning.
    fn push(&mut self, push: [f32; 2]) {
        if self.done() {
            return;
        }
        let spin = self.state[3] + PUSH_SPIN * along_swing(impulse(push), self.state[1]);
        self.state[3] = spin.clamp(-MAX_SPIN, MAX_SPIN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::control::tests as shared;
    use proptest::prelude::*;

    #[test]
    fn a_hanging_pole_stays_put_and_an_upright_one_falls() {
        let mut hanging = [0.0, PI, 0.0, 0.0];
        let mut upright = [0.0, 1e-3, 0.0, 0.0];
        for _ in 0..100 {
            hanging = control_step(hanging, 0.0);
            upright = control_step(upright, 0.0);
        }
        assert!((wrap_angle(hanging[1] - PI)).abs() < 1e-9 && hanging[0].abs() < 1e-9, "{hanging:?}");
        assert!(upright[1].abs() > 1.0, "{upright:?}");
        // The cart recoils the other way from the falling pole.
        assert!(upright[0] < 0.0, "{upright:?}");
    }

    #[test]
    fn without_friction_momentum_and_energy_are_conserved() {
        // With no friction and no force, horizontal momentum and total energy are constant:
        // a check on the equations of motion themselves, away from the walls.
        let frictionless = Friction { cart: 0.0, hinge: 0.0 };
        let momentum = |s: &State| (CART_MASS + POLE_MASS) * s[2] + POLE_MASS * HALF_POLE * s[1].cos() * s[3];
        let energy = |s: &State| {
            let pole_velocity = [s[2] + HALF_POLE * s[1].cos() * s[3], -HALF_POLE * s[1].sin() * s[3]];
            let pole_inertia = POLE_MASS * (2.0 * HALF_POLE).powi(2) / 12.0;
            0.5 * CART_MASS * s[2] * s[2]
                + 0.5 * POLE_MASS * (pole_velocity[0].powi(2) + pole_velocity[1].powi(2))
                + 0.5 * pole_inertia * s[3] * s[3]
                + POLE_MASS * GRAVITY * HALF_POLE * s[1].cos()
        };
        let mut s = [0.0, 2.5, 0.1, 1.0];
        let (p0, e0) = (momentum(&s), energy(&s));
        for _ in 0..2000 {
            s = rk4(s, 0.005, |s| derivative(s, 0.0, frictionless));
        }
        assert!((momentum(&s) - p0).abs() < 1e-6, "momentum {} vs {p0}", momentum(&s));
        assert!((energy(&s) - e0).abs() < 1e-5, "energy {} vs {e0}", energy(&s));
    }

    #[test]
    fn a_wall_stops_the_cart_and_tips_the_pole() {
        let s = hit_walls([TRACK_LIMIT + 0.01, 0.0, 2.0, 0.0]);
        assert_eq!((s[0], s[2]), (TRACK_LIMIT, 0.0));
        assert!(s[3] > 0.0, "the pole should pitch toward the wall: {s:?}");
        // A cart already leaving the wall is only put back on the track.
        assert_eq!(hit_walls([-TRACK_LIMIT - 0.01, 0.0, 1.0, 0.5]), [-TRACK_LIMIT, 0.0, 1.0, 0.5]);
    }

    #[test]
    fn the_expert_balances_from_a_small_tilt() {
        let mut world = CartpoleSwingup::new();
        world.reset(0);
        world.state = [0.5, 0.2, 0.0, -0.3];
        for _ in 0..250 {
            world.step(&world.expert());
        }
        assert!(world.state[0].abs() < 0.05 && world.state[1].abs() < 0.01, "{:?}", world.state);
    }

    proptest! {
        #[test]
        fn any_actions_and_pushes_keep_the_state_bounded(
            seed in any::<u64>(),
            steps in proptest::collection::vec(shared::arbitrary_step(), 1..200),
        ) {
            shared::assert_stays_bounded(&mut CartpoleSwingup::new(), seed, &steps, |w| {
                let [position, angle, speed, spin] = w.state;
                position.abs() <= TRACK_LIMIT
                    && (-PI..PI).contains(&angle)
                    && speed.abs() <= MAX_CART_SPEED
                    && spin.abs() <= MAX_SPIN
            });
        }
    }
}
