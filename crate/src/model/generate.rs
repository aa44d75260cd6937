//! Choosing the next token: greedy, temperature or top-k, always inside an allowed range.

use rand::{Rng, RngCore};
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    Greedy,
    Temperature(f32),
    TopK { k: usize, temperature: f32 },
}

/// The softmax of `logits[allowed]`, at `temperature`.
pub fn probabilities(logits: &[f32], allowed: Range<usize>, temperature: f32) -> Vec<f32> {
    let slice = &logits[allowed];
    let max = slice.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = slice.iter().map(|&l| ((l - max) / temperature.max(1e-6)).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Picks an id in `allowed` (the caller guarantees it is non-empty and inside `logits`).
pub fn sample(logits: &[f32], allowed: Range<usize>, sampling: Sampling, rng: &mut dyn RngCore) -> usize {
    let start = allowed.start;
    let (temperature, k) = match sampling {
        Sampling::Greedy => return start + super::argmax(&logits[allowed]),
        Sampling::Temperature(t) => (t, allowed.len()),
        Sampling::TopK { k, temperature } => (temperature, k.clamp(1, allowed.len())),
    };
    let mut p: Vec<(usize, f32)> = probabilities(logits, allowed, temperature).into_iter().enumerate().collect();
    if k < p.len() {
        p.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
        p.truncate(k);
    }
    let total: f32 = p.iter().map(|(_, q)| q).sum();
    let mut u = rng.random::<f32>() * total;
    for &(i, q) in &p {
        if u < q {
            return start + i;
        }
        u -= q;
    }
    start + p[p.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn greedy_respects_the_allowed_range() {
        let logits = [9.0, 1.0, 3.0, 2.0, 8.0];
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(0);
        assert_eq!(sample(&logits, 0..5, Sampling::Greedy, &mut rng), 0);
        assert_eq!(sample(&logits, 1..4, Sampling::Greedy, &mut rng), 2);
    }

    #[test]
    fn top_k_never_leaves_the_top_k_and_temperature_spreads() {
        let logits = [0.0, 5.0, 4.9, -3.0, 4.8, 0.0];
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(1);
        let picks: Vec<usize> =
            (0..500).map(|_| sample(&logits, 0..6, Sampling::TopK { k: 2, temperature: 1.0 }, &mut rng)).collect();
        assert!(picks.iter().all(|&i| i == 1 || i == 2));
        assert!(picks.contains(&1) && picks.contains(&2));
        let hot: Vec<usize> = (0..2000).map(|_| sample(&logits, 0..6, Sampling::Temperature(10.0), &mut rng)).collect();
        assert!(hot.contains(&3), "a high temperature reaches unlikely ids");
        let p = probabilities(&logits, 0..6, 1.0);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
