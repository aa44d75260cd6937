//! Captioned images and questions about them: PaLM-E style multimodal sentences.
//!
//! Two sources feed the same [`Sample`] type, so training and evaluation treat every
//! captioned image alike:
//!
//! - [`scenes`]: seeded synthetic scenes of coloured shapes, each with an exact caption
//!   and questions whose answers follow from the scene alone. Pure and cheap, so they
//!   also run in the page (wasm32).
//! - [`digits`]: MNIST digits and Fashion-MNIST clothes, read from disk for training and
//!   evaluation only (native; the page never fetches them).
//!
//! # The prompt convention
//!
//! Every sample is one sentence: the image first, then text.
//!
//! - A caption: `[image] [target: caption]`, e.g. image, then `a large red circle.`
//! - A question: `[image] [context: question] [target: answer]`, e.g. image, then
//!   `what colour is the circle?` as context, then `red.` as the target.
//!
//! Context carries no loss; the target does and is followed by end-of-text (see
//! [`crate::tokens::sequence`]). Questions end with `?`; captions and answers are lower
//! case and end with `.`. Context and target are tokenized separately, so a target
//! begins without a leading space.

#[cfg(not(target_arch = "wasm32"))]
pub mod digits;
pub mod scenes;

use crate::tokens::Part;
use image::RgbImage;

/// Number words for counts and digit names: answers are words, not numerals, so they
/// share subwords with the rest of the text.
pub const NUMBER_WORDS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// One image with the text the model learns to produce about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub image: RgbImage,
    /// A question the model is given; `None` for a caption.
    pub context: Option<String>,
    /// The caption or answer the model learns to produce.
    pub target: String,
}

impl Sample {
    pub fn caption(image: RgbImage, caption: String) -> Self {
        Sample { image, context: None, target: caption }
    }

    pub fn question(image: RgbImage, question: String, answer: String) -> Self {
        Sample { image, context: Some(question), target: answer }
    }

    /// The sentence in the prompt convention above, ready for
    /// [`SequenceBuilder::sentence`](crate::tokens::SequenceBuilder::sentence).
    pub fn parts(&self) -> Vec<Part<'_>> {
        let mut parts = vec![Part::Image(&self.image)];
        if let Some(question) = &self.context {
            parts.push(Part::Context(question));
        }
        parts.push(Part::Target(&self.target));
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::image::PositionMode;
    use crate::tokens::text::tests::shipped;
    use crate::tokens::{Modality, SequenceBuilder, Vocabulary};

    #[test]
    fn captions_are_image_then_target_and_questions_put_context_between() {
        let v = Vocabulary::new(shipped());
        let image = RgbImage::from_pixel(28, 28, image::Rgb([255, 255, 255]));
        let caption = Sample::caption(image.clone(), "a handwritten digit seven.".into());
        let question = Sample::question(image, "which digit is this?".into(), "seven.".into());
        let build = |sample: &Sample| {
            let mut b = SequenceBuilder::new(&v, PositionMode::Eval);
            b.sentence(&sample.parts()).unwrap();
            b.finish()
        };
        let (c, q) = (build(&caption), build(&question));
        let target = v.text.encode("a handwritten digit seven.").unwrap().len();
        assert_eq!(c.len(), 16 + target + 1, "16 patches (28x28 is upscaled), the caption, end-of-text");
        assert!(c.elements[..16].iter().all(|e| e.modality == Modality::Patch));
        assert!(c.elements[16..].iter().all(|e| e.target.is_some()));
        let context = v.text.encode("which digit is this?").unwrap().len();
        assert!(q.elements[16..16 + context].iter().all(|e| e.modality == Modality::Text && e.target.is_none()));
        assert!(q.elements[16 + context..].iter().all(|e| e.target.is_some()));
        assert_eq!(
            v.text.decode(&q.elements[16 + context..].iter().map(|e| e.id).collect::<Vec<_>>()).unwrap(),
            "seven."
        );
    }
}
