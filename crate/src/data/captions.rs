//! Captions: multimodal sentences packed into one sequence until the context is full.
//!
//! A sentence is a [`Sample`] in the prompt convention of [`crate::envs::captions`]: an
//! image, perhaps a question, then the caption or answer the model learns to write.
//! Sentences are whole or absent: the first one that would overflow the context ends the
//! sequence (it is drawn and dropped: one wasted sentence per sequence), so no
//! target is ever cut off from its image.

use super::DataError;
use crate::envs::captions::Sample;
use crate::tokens::image::PositionMode;
use crate::tokens::{Sequence, SequenceBuilder, Vocabulary};
use rand::Rng;

/// Sentences from `draw` (given the sequence's generator) until the next would not fit
/// in `context` tokens, or `draw` runs dry. `task` names the source in errors.
pub fn pack<R: Rng>(
    task: &str,
    vocabulary: &Vocabulary,
    context: usize,
    rng: &mut R,
    mut draw: impl FnMut(&mut R) -> Option<Sample>,
) -> Result<Sequence, DataError> {
    let mut packed = Sequence::default();
    while let Some(sample) = draw(rng) {
        let mut builder = SequenceBuilder::new(vocabulary, PositionMode::Train(rng));
        builder.sentence(&sample.parts())?;
        let sentence = builder.finish();
        if packed.len() + sentence.len() > context {
            if packed.is_empty() {
                return Err(DataError::ContextTooSmall {
                    task: task.to_string(),
                    needs: sentence.len(),
                    budget: context,
                });
            }
            return Ok(packed);
        }
        packed.append(&sentence);
    }
    Ok(packed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::seeds;
    use crate::envs::captions::scenes;
    use crate::tokens::Modality;
    use crate::tokens::text::tests::shipped;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn sentences_are_packed_whole_until_the_next_would_overflow() {
        let v = Vocabulary::new(shipped());
        let mut rng = Pcg64Mcg::seed_from_u64(9);
        for context in [64, 256, 1024] {
            let s = pack("scenes", &v, context, &mut rng, |rng| Some(scenes::sample(seeds::draw(rng)))).unwrap();
            assert!(s.len() <= context && s.len() > context.saturating_sub(60), "{} of {context}", s.len());
            // Every sentence: 16 patches, then text, ending in end-of-text with loss.
            let eot = v.text.end_of_text();
            let ends: Vec<usize> =
                (0..s.len()).filter(|&i| s.elements[i].id == eot && s.elements[i].modality == Modality::Text).collect();
            assert_eq!(ends.len(), s.steps());
            assert_eq!(*ends.last().unwrap(), s.len() - 1, "the last sentence is whole");
            let mut start = 0;
            for end in ends {
                let sentence = &s.elements[start..=end];
                assert!(sentence[..16].iter().all(|e| e.modality == Modality::Patch && e.target.is_none()));
                assert!(sentence[16..].iter().all(|e| e.modality == Modality::Text));
                assert!(sentence[end - start].target.is_some());
                start = end + 1;
            }
        }
        let tiny = pack("scenes", &v, 10, &mut rng, |rng| Some(scenes::sample(seeds::draw(rng))));
        assert!(matches!(tiny, Err(DataError::ContextTooSmall { budget: 10, .. })));
        assert_eq!(pack("none", &v, 10, &mut rng, |_| None).unwrap(), Sequence::default(), "a dry source ends it");
    }
}
