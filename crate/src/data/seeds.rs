//! Seeds: training never plays an episode that evaluation plays.
//!
//! Evaluation (`gatito play`, [`crate::envs::rollout`], the page) seeds episode `i` with
//! `i` (or a small offset plus `i`), so its seeds are far below 2^63. Every seed training
//! uses has the top bit set, so the two sets cannot meet: each sequence's generator is
//! seeded with a hash of the stream's seed and the sequence's index, that bit forced on,
//! and the seeds it draws for episodes and scenes ([`draw`]) have the bit forced on too.

use rand::Rng;

/// Set in every training seed and in no evaluation seed.
pub const TRAINING_BIT: u64 = 1 << 63;

/// The seed of sequence `index` of the stream seeded `stream`.
pub fn sequence_seed(stream: u64, index: u64) -> u64 {
    splitmix64(stream ^ splitmix64(index)) | TRAINING_BIT
}

/// A fresh training seed from a sequence's generator.
pub fn draw(rng: &mut impl Rng) -> u64 {
    rng.random::<u64>() | TRAINING_BIT
}

pub fn is_training(seed: u64) -> bool {
    seed & TRAINING_BIT != 0
}

/// SplitMix64's finalizer: consecutive indices land far apart, so neighbouring
/// sequences share nothing.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::rollout::episode_seed;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;
    use std::collections::HashSet;

    #[test]
    fn training_and_evaluation_seeds_never_meet() {
        let evaluation: HashSet<u64> = (0..100_000).map(|i| episode_seed(0, i)).collect();
        assert!(evaluation.iter().all(|&s| !is_training(s)));
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        for stream in [0, 1, 42, u64::MAX] {
            for index in 0..10_000 {
                let seed = sequence_seed(stream, index);
                assert!(is_training(seed) && !evaluation.contains(&seed));
                let drawn = draw(&mut rng);
                assert!(is_training(drawn) && !evaluation.contains(&drawn));
            }
        }
    }

    #[test]
    fn sequences_and_streams_get_different_seeds() {
        let seeds: HashSet<u64> = (0..4).flat_map(|s| (0..10_000).map(move |i| sequence_seed(s, i))).collect();
        assert_eq!(seeds.len(), 40_000);
        assert_eq!(sequence_seed(7, 9), sequence_seed(7, 9));
    }
}
