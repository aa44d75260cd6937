//! Sequences: observations and actions laid out as one token stream, as Gato does.
//!
//! A timestep is `[text observation][image patches][tensor observations] | [actions]`.
//! A multimodal sentence (PaLM-E) interleaves images and text, e.g. an image and then
//! its caption. Every element carries a local position (its index among the
//! observations of its timestep or sentence; the separator and actions share one
//! reserved index) and a loss flag: loss falls on target text (captions, answers, each
//! followed by end-of-text) and on actions only. Observation text such as a mission or
//! a question is context, not a target.

use super::image::{IMAGE_SIZE, Patch, PositionMode, patches, to_model_input};
use super::values::{self, VALUE_BINS, ValueKind};
use super::{TokenError, Vocabulary};
use image::RgbImage;

/// Local positions available; the last one is reserved for the separator and actions.
pub const LOCAL_POSITIONS: u32 = 256;
pub const ACTION_POSITION: u32 = LOCAL_POSITIONS - 1;

/// What an element of the sequence is, for the model's embedding and the page's colours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Text,
    Patch,
    Value,
    Separator,
    Action,
}

/// One position of the sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Element {
    pub modality: Modality,
    /// A token id in `0..vocabulary.size()`, or for a patch its index in [`Sequence::patches`].
    pub id: u32,
    pub local_position: u32,
    /// Where the element is a training target (text to say, actions to take): the id the
    /// model should predict here. That is the element's own id, except for an action taken
    /// off the expert's course, which the sequence shows as taken and labels with the
    /// expert's choice (see `data::episodes` on DART noise).
    pub target: Option<u32>,
}

/// A patch ready for the embedding: its pixels and its chosen row and column bins.
#[derive(Clone, Debug, PartialEq)]
pub struct PatchInput {
    pub pixels: Vec<f32>,
    pub row: u32,
    pub col: u32,
}

/// An action, as a world takes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Discrete actions, each in `0..1024`.
    Discrete(Vec<u32>),
    /// Continuous actions, each in [-1, 1].
    Continuous(Vec<f32>),
}

/// What one timestep observes.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    pub text: Option<String>,
    pub image: Option<RgbImage>,
    pub continuous: Vec<f32>,
    pub discrete: Vec<i64>,
}

/// A piece of a multimodal sentence.
pub enum Part<'a> {
    Image(&'a RgbImage),
    /// Text given to the model (a question, an instruction).
    Context(&'a str),
    /// Text the model learns to produce (a caption, an answer); end-of-text follows it.
    Target(&'a str),
}

/// A token sequence under construction or ready for the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sequence {
    pub elements: Vec<Element>,
    pub patches: Vec<PatchInput>,
    /// Where each timestep or sentence starts; sequences are only ever cut there.
    starts: Vec<usize>,
}

/// Builds sequences with one vocabulary and one patch-position mode.
pub struct SequenceBuilder<'a> {
    vocabulary: &'a Vocabulary,
    positions: PositionMode<'a>,
    sequence: Sequence,
    /// The next local position in the current timestep or sentence.
    local: u32,
}

impl<'a> SequenceBuilder<'a> {
    pub fn new(vocabulary: &'a Vocabulary, positions: PositionMode<'a>) -> Self {
        SequenceBuilder { vocabulary, positions, sequence: Sequence::default(), local: 0 }
    }

    pub fn finish(self) -> Sequence {
        self.sequence
    }

    fn begin(&mut self) {
        self.sequence.starts.push(self.sequence.elements.len());
        self.local = 0;
    }

    fn push(&mut self, modality: Modality, id: u32, target: Option<u32>) {
        let local_position = match modality {
            Modality::Separator | Modality::Action => ACTION_POSITION,
            _ => self.local.min(ACTION_POSITION - 1),
        };
        self.local += 1;
        self.sequence.elements.push(Element { modality, id, local_position, target });
    }

    fn push_text(&mut self, text: &str, target: bool) -> Result<(), TokenError> {
        for id in self.vocabulary.text.encode(text)? {
            self.push(Modality::Text, id, target.then_some(id));
        }
        if target {
            let end = self.vocabulary.text.end_of_text();
            self.push(Modality::Text, end, Some(end));
        }
        Ok(())
    }

    fn push_image(&mut self, image: &RgbImage) {
        let resized;
        let image = if image.dimensions() == (IMAGE_SIZE, IMAGE_SIZE) {
            image
        } else {
            resized = to_model_input(&image.clone().into());
            &resized
        };
        for Patch { pixels, row, col } in patches(image) {
            let index = self.sequence.patches.len() as u32;
            let (row, col) = (row.pick(&mut self.positions), col.pick(&mut self.positions));
            self.sequence.patches.push(PatchInput { pixels, row, col });
            self.push(Modality::Patch, index, None);
        }
    }

    fn push_observed_values(&mut self, bins: &[u32]) {
        for &bin in bins {
            debug_assert!(bin < VALUE_BINS);
            self.push(Modality::Value, self.vocabulary.value(bin), None);
        }
    }

    /// Begins a timestep: its observations, then the separator. The actions follow through
    /// [`SequenceBuilder::action`], or are generated by the model.
    pub fn observation(&mut self, observation: &Observation) -> Result<(), TokenError> {
        self.begin();
        if let Some(text) = &observation.text {
            self.push_text(text, false)?;
        }
        if let Some(image) = &observation.image {
            self.push_image(image);
        }
        self.push_observed_values(&values::bins(ValueKind::Observation, &observation.continuous)?);
        self.push_observed_values(&values::discrete_bins(&observation.discrete)?);
        self.push(Modality::Separator, self.vocabulary.text.separator(), None);
        Ok(())
    }

    /// The action that ends the current timestep, as a target.
    pub fn action(&mut self, action: &Action) -> Result<(), TokenError> {
        self.relabelled_action(action, action)
    }

    /// The action `taken`, labelled with the one the `expert` chose: the sequence shows what
    /// happened, as it will when the model acts, and the loss teaches the expert's choice.
    pub fn relabelled_action(&mut self, taken: &Action, expert: &Action) -> Result<(), TokenError> {
        let (taken, expert) = (action_bins(taken)?, action_bins(expert)?);
        if taken.len() != expert.len() {
            return Err(TokenError::ActionMismatch { taken: taken.len(), expert: expert.len() });
        }
        for (taken, expert) in taken.into_iter().zip(expert) {
            debug_assert!(taken < VALUE_BINS && expert < VALUE_BINS);
            self.push(Modality::Action, self.vocabulary.value(taken), Some(self.vocabulary.value(expert)));
        }
        Ok(())
    }

    /// A whole timestep: `[observations] | [action]`.
    ///
    /// (See [`SequenceBuilder::relabelled_action`] for one whose action went off course.)
    pub fn timestep(&mut self, observation: &Observation, action: &Action) -> Result<(), TokenError> {
        self.observation(observation)?;
        self.action(action)
    }

    /// Appends one multimodal sentence.
    pub fn sentence(&mut self, parts: &[Part<'_>]) -> Result<(), TokenError> {
        self.begin();
        for part in parts {
            match part {
                Part::Image(image) => self.push_image(image),
                Part::Context(text) => self.push_text(text, false)?,
                Part::Target(text) => self.push_text(text, true)?,
            }
        }
        Ok(())
    }
}

impl Sequence {
    /// A sequence from ready-made parts (golden files, tests), taken as one step.
    pub fn from_parts(elements: Vec<Element>, patches: Vec<PatchInput>) -> Sequence {
        let starts = if elements.is_empty() { vec![] } else { vec![0] };
        Sequence { elements, patches, starts }
    }

    pub fn len(&self) -> usize {
        self.elements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The number of timesteps and sentences.
    pub fn steps(&self) -> usize {
        self.starts.len()
    }

    /// Elements `from..to` as their own sequence (one step), patches renumbered. For feeding
    /// a model piece by piece.
    pub fn slice_elements(&self, from: usize, to: usize) -> Sequence {
        let mut out = self.slice(from);
        out.elements.truncate(to - from);
        let used = out.elements.iter().filter(|e| e.modality == Modality::Patch).count();
        out.patches.truncate(used);
        out.starts = vec![0];
        out
    }

    /// The latest whole timesteps that fit in `budget` elements.
    pub fn tail(&self, budget: usize) -> Sequence {
        let cut = self.starts.iter().copied().find(|&start| self.len() - start <= budget).unwrap_or(self.len());
        self.slice(cut)
    }

    /// The elements from `cut` (a timestep start, or the end) on, with patch indices renumbered.
    fn slice(&self, cut: usize) -> Sequence {
        let mut out = Sequence::default();
        for element in &self.elements[cut..] {
            let mut element = *element;
            if element.modality == Modality::Patch {
                out.patches.push(self.patches[element.id as usize].clone());
                element.id = out.patches.len() as u32 - 1;
            }
            out.elements.push(element);
        }
        out.starts = self.starts.iter().filter(|&&s| s >= cut).map(|s| s - cut).collect();
        out
    }

    /// Appends another sequence after this one.
    pub fn append(&mut self, other: &Sequence) {
        let (offset, patch_offset) = (self.len(), self.patches.len() as u32);
        self.starts.extend(other.starts.iter().map(|s| s + offset));
        self.patches.extend(other.patches.iter().cloned());
        self.elements.extend(other.elements.iter().map(|e| match e.modality {
            Modality::Patch => Element { id: e.id + patch_offset, ..*e },
            _ => *e,
        }));
    }

    /// Gato's prompting: a demonstration first, then as much of the episode's end as fits.
    /// The prompt keeps at most half of the context, cut at its own timestep boundaries.
    pub fn prompted(prompt: &Sequence, episode: &Sequence, context: usize) -> Sequence {
        let mut out = prompt.tail(context / 2);
        out.append(&episode.tail(context - out.len()));
        out
    }
}

/// An action's value bins: discrete values as they are, continuous ones binned without companding.
fn action_bins(action: &Action) -> Result<Vec<u32>, values::ValueError> {
    match action {
        Action::Discrete(xs) => values::discrete_bins(&xs.iter().map(|&x| i64::from(x)).collect::<Vec<_>>()),
        Action::Continuous(xs) => values::bins(ValueKind::Action, xs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::text::tests::shipped;

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(shipped())
    }

    fn frame(shade: u8) -> RgbImage {
        RgbImage::from_pixel(64, 64, image::Rgb([shade, shade, shade]))
    }

    #[test]
    fn atari_timestep_is_patches_separator_action() {
        let v = vocabulary();
        let mut b = SequenceBuilder::new(&v, PositionMode::Eval);
        let obs = Observation { image: Some(frame(0)), ..Default::default() };
        b.timestep(&obs, &Action::Discrete(vec![3])).unwrap();
        let s = b.finish();
        assert_eq!(s.len(), 18);
        assert!(s.elements[..16].iter().enumerate().all(|(i, e)| e.modality == Modality::Patch
            && e.id == i as u32
            && e.local_position == i as u32
            && e.target.is_none()));
        assert_eq!(
            s.elements[16],
            Element {
                modality: Modality::Separator,
                id: v.text.separator(),
                local_position: ACTION_POSITION,
                target: None
            }
        );
        assert_eq!(
            s.elements[17],
            Element {
                modality: Modality::Action,
                id: v.value(3),
                local_position: ACTION_POSITION,
                target: Some(v.value(3))
            }
        );
        assert_eq!((s.patches[5].row, s.patches[5].col), (48, 48));
    }

    #[test]
    fn control_timestep_orders_text_image_values_then_action() {
        let v = vocabulary();
        let mut b = SequenceBuilder::new(&v, PositionMode::Eval);
        let obs = Observation {
            text: Some("go to the red ball".into()),
            image: Some(frame(9)),
            continuous: vec![0.0, 1.0],
            discrete: vec![7],
        };
        b.timestep(&obs, &Action::Continuous(vec![-1.0, 1.0])).unwrap();
        let s = b.finish();
        let mission = v.text.encode("go to the red ball").unwrap();
        let kinds: Vec<Modality> = s.elements.iter().map(|e| e.modality).collect();
        let n = mission.len();
        assert!(kinds[..n].iter().all(|&k| k == Modality::Text));
        assert!(kinds[n..n + 16].iter().all(|&k| k == Modality::Patch));
        assert_eq!(
            &kinds[n + 16..],
            &[
                Modality::Value,
                Modality::Value,
                Modality::Value,
                Modality::Separator,
                Modality::Action,
                Modality::Action
            ]
        );
        let ids: Vec<u32> = s.elements[n + 16..].iter().map(|e| e.id).collect();
        let t = v.text.size();
        assert_eq!(ids, vec![t + 512, t + 744, t + 7, v.text.separator(), t, t + 1023]);
        assert_eq!(s.elements[n + 18].local_position, n as u32 + 18);
        let losses: Vec<bool> = s.elements.iter().map(|e| e.target.is_some()).collect();
        assert_eq!(losses.iter().filter(|&&l| l).count(), 2, "only the two actions carry loss");
    }

    #[test]
    fn caption_targets_carry_loss_and_end_of_text() {
        let v = vocabulary();
        let mut b = SequenceBuilder::new(&v, PositionMode::Eval);
        let img = frame(200);
        b.sentence(&[Part::Image(&img), Part::Context("what colour is the ball?"), Part::Target("red.")]).unwrap();
        let s = b.finish();
        let q = v.text.encode("what colour is the ball?").unwrap().len();
        let a = v.text.encode("red.").unwrap().len();
        assert_eq!(s.len(), 16 + q + a + 1);
        assert!(s.elements[..16 + q].iter().all(|e| e.target.is_none()));
        assert!(s.elements[16 + q..].iter().all(|e| e.target.is_some() && e.modality == Modality::Text));
        assert_eq!(s.elements.last().unwrap().id, v.text.end_of_text());
    }

    #[test]
    fn nan_and_out_of_range_values_are_errors() {
        let v = vocabulary();
        let mut b = SequenceBuilder::new(&v, PositionMode::Eval);
        let obs = Observation { continuous: vec![f32::NAN], ..Default::default() };
        assert!(b.observation(&obs).is_err());
        assert!(b.timestep(&Observation::default(), &Action::Discrete(vec![1024])).is_err());
        assert!(b.timestep(&Observation::default(), &Action::Continuous(vec![f32::NAN])).is_err());
    }

    #[test]
    fn tails_cut_at_timesteps_and_prompts_come_first() {
        let v = vocabulary();
        let episode = |shade: u8, steps: u32| {
            let mut b = SequenceBuilder::new(&v, PositionMode::Eval);
            for a in 0..steps {
                b.timestep(
                    &Observation { image: Some(frame(shade)), ..Default::default() },
                    &Action::Discrete(vec![a]),
                )
                .unwrap();
            }
            b.finish()
        };
        let long = episode(0, 10);
        let tail = long.tail(40);
        assert_eq!(tail.len(), 36, "two whole timesteps of 18");
        assert_eq!(tail.steps(), 2);
        assert_eq!(tail.elements[17].id, v.value(8));
        assert_eq!((tail.elements[0].id, tail.elements[18].id), (0, 16), "patch indices are renumbered");
        assert_eq!(tail.patches.len(), 32);
        assert!(long.tail(10).is_empty());

        let prompt = episode(255, 5);
        let s = Sequence::prompted(&prompt, &long, 100);
        assert_eq!(s.len(), 36 + 54, "two prompt steps (<= 50) and three episode steps");
        assert_eq!(s.patches[0].pixels[0], 0.25, "the prompt's white frame comes first");
        assert_eq!(s.patches[32].pixels[0], -0.25);
        assert_eq!(s.elements[36].id, 32);
        assert_eq!(s.steps(), 5);
    }
}
