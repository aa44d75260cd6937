//! The exact (erf) GELU and the softmax over the last dimension, as candle custom ops whose
//! `exp` and `erf` are plain arithmetic the compiler vectorizes. candle's own ops call libm
//! once per element, which in wasm is scalar code: profiled in Node, those calls (and the
//! `fmaxf` behind `f32::max`) took over a third of a game step, and with these ops the step
//! went from ~9.8 to ~6.4 ms there.
//!
//! Both approximations are within 5 parts in 10^7 of the exact functions, far inside
//! the 1e-3 the golden logits are held to.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// `x * Phi(x)`, the GELU PyTorch's `nn.GELU()` computes.
pub(super) fn gelu(x: &Tensor) -> Result<Tensor> {
    x.apply_op1_no_bwd(&RowOp { name: "gatito-gelu", row: gelu_row })
}

/// The softmax over the last dimension.
pub(super) fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    x.apply_op1_no_bwd(&RowOp { name: "gatito-softmax-last-dim", row: softmax_row })
}

/// An op on contiguous f32 tensors that maps every row of the last dimension to a new row.
struct RowOp {
    name: &'static str,
    row: fn(&[f32], &mut [f32]),
}

impl CustomOp1 for RowOp {
    fn name(&self) -> &'static str {
        self.name
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = match (storage, layout.contiguous_offsets()) {
            (CpuStorage::F32(values), Some((start, end))) => &values[start..end],
            (CpuStorage::F32(_), None) => candle_core::bail!("{} needs a contiguous input", self.name),
            (other, _) => candle_core::bail!("{} computes in f32, not {:?}", self.name, other.dtype()),
        };
        let width = layout.dims().last().copied().unwrap_or(1).max(1);
        let mut y = vec![0.0; x.len()];
        for (row, out) in x.chunks_exact(width).zip(y.chunks_exact_mut(width)) {
            (self.row)(row, out);
        }
        Ok((CpuStorage::F32(y), layout.shape().clone()))
    }
}

fn gelu_row(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

fn softmax_row(x: &[f32], out: &mut [f32]) {
    let max = lanes(x, f32::NEG_INFINITY, |a, b| if b > a { b } else { a });
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp(v - max);
    }
    let scale = 1.0 / lanes(out, 0.0, |a, b| a + b);
    for o in out.iter_mut() {
        *o *= scale;
    }
}

/// Folds `values` with `f` in eight independent lanes, so that the fold vectorizes (a
/// single running value would chain every step to the one before).
fn lanes(values: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let chunks = values.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = f(*a, v);
        }
    }
    rest.iter().chain(&acc).fold(init, |a, &v| f(a, v))
}

/// `e^x`: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, a degree-6 Taylor polynomial for `e^r`
/// (relative error below 1.2e-7 there), and `2^n` built in the exponent bits. Below -87,
/// near the smallest normal f32, it is 0, as `e^-inf` (a masked score) must be.
fn exp(x: f32) -> f32 {
    const LN2_HIGH: f32 = 0.693_145_75;
    const LN2_LOW: f32 = 1.428_606_8e-6;
    // Comparisons, not `f32::min`: wasm's `min` differs from Rust's on NaN, so `min` becomes a
    // libm call there, and the loop would not vectorize.
    let x = if x > 88.0 { 88.0 } else { x };
    // Rounds to the nearest integer by adding and subtracting 1.5 * 2^23, where f32 has no
    // fraction bits left: `round` and `floor` are libm calls on baseline x86-64, which
    // would keep the loop scalar there.
    const ROUND: f32 = 12_582_912.0;
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = (x - n * LN2_HIGH) - n * LN2_LOW;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r / 720.0)))));
    // n as an integer is what `shifted` adds to ROUND's bits. Not `n as i32`: that
    // conversion saturates, which x86-64 does one lane at a time (perf: the exp loops ran
    // scalar). Within [-87, 88], n + 127 is a valid exponent; below, the result is 0 anyway.
    let exponent = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32).wrapping_add(127);
    let scale = f32::from_bits((exponent as u32) << 23);
    if x < -87.0 { 0.0 } else { p * scale }
}

/// `erf(x)` by Abramowitz and Stegun's formula 7.1.26: absolute error at most 1.5e-7, and
/// 5e-7 once computed in f32.
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    if x < 0.0 { -y } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn exp_is_within_a_few_ulps_and_zero_far_below() {
        let mut worst = 0.0f64;
        for i in -87_000..88_000 {
            let x = i as f32 / 1000.0;
            let exact = (x as f64).exp();
            worst = worst.max(((exp(x) as f64 - exact) / exact).abs());
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-100.0), 0.0);
        assert!(exp(89.0).is_finite());
    }

    #[test]
    fn erf_is_within_its_stated_bound() {
        let worst = (-3000..=3000)
            .map(|i| i as f64 / 1000.0)
            .map(|x| (erf(x as f32) as f64 - erf_series(x)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "worst absolute error {worst}");
        // Beyond 3, erf is within erfc(3) = 2.2e-5 of +-1.
        for x in [3.5f32, 4.0, 6.0, 20.0] {
            assert!((erf(x) - 1.0).abs() < 3e-5 && (erf(-x) + 1.0).abs() < 3e-5, "{x}");
        }
    }

    /// erf in f64 from its Maclaurin series, independent of the code under test (exact to
    /// ~1e-13 for |x| <= 3, where the largest term stays near 1e3).
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..100 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    }

    #[test]
    fn the_ops_match_candles_own() {
        let values: Vec<f32> = (0..6 * 37).map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0).collect();
        let x = Tensor::from_vec(values, (6, 37), &Device::Cpu).unwrap();
        let max_diff = |a: &Tensor, b: &Tensor| {
            (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
        };
        assert!(max_diff(&gelu(&x).unwrap(), &x.gelu_erf().unwrap()) < 1e-5);
        // Every other score masked, as attention masks the future.
        let mask: Vec<f32> = (0..6 * 37).map(|i| if i % 37 % 2 == 1 { f32::NEG_INFINITY } else { 0.0 }).collect();
        let masked = (x + Tensor::from_vec(mask, (6, 37), &Device::Cpu).unwrap()).unwrap();
        let ours = softmax_last_dim(&masked).unwrap();
        assert!(max_diff(&ours, &candle_nn::ops::softmax_last_dim(&masked).unwrap()) < 1e-6);
        for row in ours.to_vec2::<f32>().unwrap() {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(row.iter().skip(1).step_by(2).all(|&p| p == 0.0), "masked scores get exactly 0");
        }
    }

    #[test]
    fn other_dtypes_and_layouts_are_errors() {
        let x = Tensor::zeros((3, 4), candle_core::DType::F64, &Device::Cpu).unwrap();
        assert!(gelu(&x).unwrap_err().to_string().contains("f32"));
        let t = Tensor::zeros((3, 4), candle_core::DType::F32, &Device::Cpu).unwrap().t().unwrap();
        assert!(softmax_last_dim(&t).unwrap_err().to_string().contains("contiguous"));
    }
}
