//! Values: continuous observations, continuous actions and discrete values, as Gato bins them.
//!
//! Every value becomes one of [`VALUE_BINS`] bins. Continuous observations are mu-law
//! companded first, so that small values near zero keep fine resolution while large
//! values still fit; continuous actions already live in [-1, 1] and are binned directly.
//!
//! Worst-case round trips (checked by the tests below):
//! - action: |a' - a| <= 1/1024 for a in [-1, 1];
//! - observation: |x' - x| <= (1 + mu|x|) * ((1 + M mu)^(1/1024) - 1) / mu for |x| <= M,
//!   which is about 1e-4 near zero, 0.0101 at |x| = 1 and 2.55 at |x| = M = 256.
//!   Beyond M the value is clipped, so the error grows to |x| - M + 2.55.

use thiserror::Error;

/// Number of bins shared by all value kinds.
pub const VALUE_BINS: u32 = 1024;
/// Mu-law parameters from Gato.
pub const MU: f64 = 100.0;
pub const M: f64 = 256.0;

#[derive(Debug, Error, PartialEq)]
pub enum ValueError {
    #[error("value {index} is NaN; observations and actions must be numbers")]
    NotANumber { index: usize },
    #[error("discrete value {value} at {index} is outside 0..{VALUE_BINS}")]
    DiscreteOutOfRange { index: usize, value: i64 },
    #[error("bin {0} is outside 0..{VALUE_BINS}")]
    BinOutOfRange(u32),
}

/// How a value is binned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Mu-law companded, then binned.
    Observation,
    /// Binned as is: actions are already in [-1, 1].
    Action,
}

/// `sgn(x) ln(1 + mu|x|) / ln(1 + M mu)`, not yet clipped.
pub fn mu_law(x: f64) -> f64 {
    x.signum() * (MU * x.abs()).ln_1p() / (M * MU).ln_1p()
}

/// The inverse of [`mu_law`] on [-1, 1].
pub fn inverse_mu_law(y: f64) -> f64 {
    y.signum() * ((M * MU).ln_1p() * y.abs()).exp_m1() / MU
}

/// Bins a value already in [-1, 1] (anything outside is clipped; ±inf lands on the ends).
fn uniform_bin(y: f64) -> u32 {
    let y = y.clamp(-1.0, 1.0);
    (((y + 1.0) * f64::from(VALUE_BINS / 2)).floor() as u32).min(VALUE_BINS - 1)
}

/// The centre of a bin, in [-1, 1].
fn bin_centre(bin: u32) -> f64 {
    (f64::from(bin) + 0.5) / f64::from(VALUE_BINS / 2) - 1.0
}

/// Bins one value. NaN is an error: there is no honest bin for it.
pub fn bin(kind: ValueKind, x: f32, index: usize) -> Result<u32, ValueError> {
    if x.is_nan() {
        return Err(ValueError::NotANumber { index });
    }
    let x = f64::from(x);
    Ok(match kind {
        ValueKind::Observation => uniform_bin(mu_law(x)),
        ValueKind::Action => uniform_bin(x),
    })
}

/// Bins a slice of values.
pub fn bins(kind: ValueKind, xs: &[f32]) -> Result<Vec<u32>, ValueError> {
    xs.iter().enumerate().map(|(i, &x)| bin(kind, x, i)).collect()
}

/// The value a bin stands for: its centre, through the inverse mu-law for observations.
pub fn unbin(kind: ValueKind, bin: u32) -> Result<f32, ValueError> {
    if bin >= VALUE_BINS {
        return Err(ValueError::BinOutOfRange(bin));
    }
    let c = bin_centre(bin);
    Ok(match kind {
        ValueKind::Observation => inverse_mu_law(c),
        ValueKind::Action => c,
    } as f32)
}

/// Discrete values are their own bins.
pub fn discrete_bins(values: &[i64]) -> Result<Vec<u32>, ValueError> {
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            u32::try_from(value).ok().filter(|&v| v < VALUE_BINS).ok_or(ValueError::DiscreteOutOfRange { index, value })
        })
        .collect()
}

/// The worst-case round-trip error of an observation `x` with |x| <= M (see the module docs).
pub fn observation_error_bound(x: f64) -> f64 {
    let step = ((M * MU).ln_1p() / f64::from(VALUE_BINS)).exp_m1();
    (1.0 + MU * x.abs()) * step / MU
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bins() {
        // Zero sits on the lower edge of the upper half.
        assert_eq!(bin(ValueKind::Action, 0.0, 0), Ok(512));
        assert_eq!(bin(ValueKind::Action, -1.0, 0), Ok(0));
        assert_eq!(bin(ValueKind::Action, 1.0, 0), Ok(1023));
        assert_eq!(bin(ValueKind::Observation, 256.0, 0), Ok(1023));
        assert_eq!(bin(ValueKind::Observation, -256.0, 0), Ok(0));
        // mu_law(1) = ln(101)/ln(25601) = 0.45402...; floor(1.45402 * 512) = 744.
        assert_eq!(bin(ValueKind::Observation, 1.0, 0), Ok(744));
        assert_eq!(bin(ValueKind::Observation, -1.0, 0), Ok(279));
    }

    #[test]
    fn infinities_clip_and_nan_is_an_error() {
        for kind in [ValueKind::Observation, ValueKind::Action] {
            assert_eq!(bin(kind, f32::INFINITY, 0), Ok(1023));
            assert_eq!(bin(kind, f32::NEG_INFINITY, 0), Ok(0));
            assert_eq!(bin(kind, 1e30, 0), Ok(1023));
            assert_eq!(bin(kind, -1e30, 0), Ok(0));
            assert_eq!(bins(kind, &[0.0, f32::NAN]), Err(ValueError::NotANumber { index: 1 }));
            assert_eq!(bins(kind, &[]), Ok(vec![]));
        }
    }

    #[test]
    fn stated_error_bounds() {
        assert!((observation_error_bound(1.0) - 0.01006).abs() < 1e-4);
        assert!((observation_error_bound(256.0) - 2.55).abs() < 0.01);
        assert!(observation_error_bound(0.0) < 1e-4);
    }

    #[test]
    fn discrete_values_are_their_own_bins() {
        assert_eq!(discrete_bins(&[0, 7, 1023]), Ok(vec![0, 7, 1023]));
        assert_eq!(discrete_bins(&[3, 1024]), Err(ValueError::DiscreteOutOfRange { index: 1, value: 1024 }));
        assert!(discrete_bins(&[-1]).is_err());
        assert_eq!(unbin(ValueKind::Action, 1024), Err(ValueError::BinOutOfRange(1024)));
    }

    proptest! {
        #[test]
        fn action_round_trip(a in -1.0f32..=1.0) {
            let b = bin(ValueKind::Action, a, 0).unwrap();
            let back = unbin(ValueKind::Action, b).unwrap();
            prop_assert!((back - a).abs() <= 1.0 / 1024.0 + 1e-6, "{a} -> {b} -> {back}");
        }

        #[test]
        fn observation_round_trip(x in -256.0f32..=256.0) {
            let b = bin(ValueKind::Observation, x, 0).unwrap();
            let back = unbin(ValueKind::Observation, b).unwrap();
            let bound = observation_error_bound(f64::from(x)) as f32;
            prop_assert!((back - x).abs() <= bound * 1.0001 + 1e-6, "{x} -> {b} -> {back}, bound {bound}");
        }

        #[test]
        fn bins_are_monotone_and_in_range(a in any::<f32>(), b in any::<f32>()) {
            prop_assume!(!a.is_nan() && !b.is_nan());
            for kind in [ValueKind::Observation, ValueKind::Action] {
                let (ba, bb) = (bin(kind, a, 0).unwrap(), bin(kind, b, 0).unwrap());
                prop_assert!(ba < VALUE_BINS && bb < VALUE_BINS);
                if a <= b { prop_assert!(ba <= bb); }
            }
        }

        #[test]
        fn every_bin_decodes_back_to_itself(b in 0u32..VALUE_BINS) {
            for kind in [ValueKind::Observation, ValueKind::Action] {
                let v = unbin(kind, b).unwrap();
                prop_assert_eq!(bin(kind, v, 0).unwrap(), b);
            }
        }
    }
}
