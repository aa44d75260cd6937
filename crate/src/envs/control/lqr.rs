//! Linear-quadratic regulators: how the swing-up experts catch and balance near upright.
//!
//! An expert linearizes the very control step its world runs (central differences around
//! the equilibrium, so the linear model includes the substeps and the integrator exactly)
//! and solves the discrete algebraic Riccati equation for it by iterating the Riccati
//! recursion `P <- Q + A'PA - A'PB (r + B'PB)^-1 B'PA` to its fixed point. The gains are
//! computed once, when the world is made.

/// A square matrix, row-major.
pub type Matrix<const N: usize> = [[f64; N]; N];

/// The Jacobians `(A, B)` of a single-input step `x' = step(x, u)` at `(x0, u0)`.
pub fn linearize<const N: usize>(
    step: impl Fn([f64; N], f64) -> [f64; N],
    x0: [f64; N],
    u0: f64,
) -> (Matrix<N>, [f64; N]) {
    const H: f64 = 1e-6;
    let mut a = [[0.0; N]; N];
    for j in 0..N {
        let (mut plus, mut minus) = (x0, x0);
        plus[j] += H;
        minus[j] -= H;
        let (fp, fm) = (step(plus, u0), step(minus, u0));
        for i in 0..N {
            a[i][j] = (fp[i] - fm[i]) / (2.0 * H);
        }
    }
    let (fp, fm) = (step(x0, u0 + H), step(x0, u0 - H));
    let b = std::array::from_fn(|i| (fp[i] - fm[i]) / (2.0 * H));
    (a, b)
}

/// The gain `K` of the infinite-horizon discrete LQR: `u = -K x` minimises the sum over
/// time of `x' diag(q) x + r u^2` for `x' = A x + B u`.
pub fn gain<const N: usize>(a: &Matrix<N>, b: &[f64; N], q: &[f64; N], r: f64) -> [f64; N] {
    let mut p: Matrix<N> = std::array::from_fn(|i| std::array::from_fn(|j| if i == j { q[i] } else { 0.0 }));
    let mut k = [0.0; N];
    for _ in 0..100_000 {
        let pa = multiply(&p, a);
        let pb: [f64; N] = std::array::from_fn(|i| (0..N).map(|j| p[i][j] * b[j]).sum());
        let s = r + (0..N).map(|i| b[i] * pb[i]).sum::<f64>();
        // B'PA is a row; K = (r + B'PB)^-1 B'PA.
        let bpa: [f64; N] = std::array::from_fn(|j| (0..N).map(|i| b[i] * pa[i][j]).sum());
        k = bpa.map(|x| x / s);
        let mut next: Matrix<N> = std::array::from_fn(|i| {
            std::array::from_fn(|j| (0..N).map(|m| a[m][i] * pa[m][j]).sum::<f64>() - bpa[i] * k[j])
        });
        for (i, row) in next.iter_mut().enumerate() {
            row[i] += q[i];
        }
        // P is symmetric in exact arithmetic. Rounding leaves an antisymmetric part that the
        // recursion multiplies by A' ... A every step, which for an unstable A (a pole
        // balanced upright) grows without bound, so it is removed each time.
        let next: Matrix<N> = std::array::from_fn(|i| std::array::from_fn(|j| (next[i][j] + next[j][i]) / 2.0));
        let change = (0..N).flat_map(|i| (0..N).map(move |j| (i, j))).map(|(i, j)| (next[i][j] - p[i][j]).abs());
        let scale = p.iter().flatten().fold(1.0f64, |m, x| m.max(x.abs()));
        let converged = change.fold(0.0f64, f64::max) <= 1e-11 * scale;
        p = next;
        if converged {
            break;
        }
    }
    k
}

fn multiply<const N: usize>(x: &Matrix<N>, y: &Matrix<N>) -> Matrix<N> {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..N).map(|m| x[i][m] * y[m][j]).sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_gain_matches_the_closed_form() {
        // x' = x + u with q = r = 1: P solves P^2 = P + 1, the golden ratio, and K = P / (1 + P).
        let p = (1.0 + 5f64.sqrt()) / 2.0;
        let k = gain(&[[1.0]], &[1.0], &[1.0], 1.0);
        assert!((k[0] - p / (1.0 + p)).abs() < 1e-9, "{k:?}");
    }

    #[test]
    fn the_gain_stabilises_an_unstable_system() {
        // A discretized double integrator with an unstable pole: the closed loop must decay.
        let (a, b) = ([[1.05, 0.02], [0.5, 1.0]], [0.0, 0.02]);
        let k = gain(&a, &b, &[1.0, 0.1], 0.01);
        let mut x = [1.0, -1.0];
        for _ in 0..2000 {
            let u = -(k[0] * x[0] + k[1] * x[1]);
            x = [a[0][0] * x[0] + a[0][1] * x[1] + b[0] * u, a[1][0] * x[0] + a[1][1] * x[1] + b[1] * u];
        }
        assert!(x[0].abs() < 1e-6 && x[1].abs() < 1e-6, "{x:?} with gain {k:?}");
    }

    #[test]
    fn linearize_recovers_a_linear_step() {
        let (a, b) = linearize(|x, u| [2.0 * x[0] + x[1], -x[0] + 3.0 * u], [0.4, -0.2], 0.1);
        for (got, want) in a.iter().flatten().zip([2.0, 1.0, -1.0, 0.0]) {
            assert!((got - want).abs() < 1e-6);
        }
        assert!((b[0]).abs() < 1e-6 && (b[1] - 3.0).abs() < 1e-6);
    }
}
