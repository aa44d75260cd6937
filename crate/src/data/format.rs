//! The stream format: what `gatito data` writes and `models/recipe/stream.py` reads.
//!
//! A stream is one header line followed by records, one per sequence, until the writer
//! stops. Numbers are little-endian.
//!
//! **Header**: one line of JSON ending in `\n`, for example
//!
//! ```text
//! {"format":"GTS2","context":256,"vocab":2048,"text_vocab":1024,"patch_len":768,
//!  "tasks":[{"name":"cartpole_swingup","weight":1.0,"continuous_actions":true}, ...]}
//! ```
//!
//! (on one line). A record's task index points into `tasks`, so training can report its
//! loss per task.
//!
//! **Record**:
//!
//! | field      | type                | meaning                                                   |
//! |------------|---------------------|-----------------------------------------------------------|
//! | magic      | 4 bytes `GTS2`      | catches a reader that lost its place                      |
//! | task       | u16                 | index into the header's `tasks`                           |
//! | n          | u32                 | elements in the sequence                                  |
//! | p          | u32                 | image patches in the sequence                             |
//! | ids        | u32 × n             | token ids; a patch element's id is its patch index        |
//! | targets    | u32 × n             | the id to predict at each element, from the one before; [`NO_TARGET`] where none (no loss) |
//! | local      | u8 × n              | local positions, 0..=255 (255: separator and actions)     |
//! | modality   | u8 × n              | 0 text, 1 patch, 2 value, 3 separator, 4 action           |
//! | pixels     | f32 × p × 768       | each patch channel-first (3x16x16), in [-0.25, 0.25]      |
//! | rows, cols | u8 × p, then u8 × p | the patches' row and column position bins, 0..128         |
//!
//! A target differs from its element's id only for an action taken off the expert's course:
//! the sequence shows what was done, the loss teaches what the expert would have done.
//!
//! Patches appear in the order of their elements: the k-th patch element of a record has
//! id k and takes the k-th patch, which is what the model's `masked_scatter` assumes.

use crate::tokens::image::PATCH_LEN;
use crate::tokens::{Modality, Sequence, Vocabulary};
use thiserror::Error;

pub const MAGIC: &[u8; 4] = b"GTS2";
/// The target of an element that is not trained on.
pub const NO_TARGET: u32 = u32::MAX;

#[derive(Debug, Error, PartialEq)]
pub enum FormatError {
    #[error("element {index}: {what} {value} does not fit the stream format")]
    OutOfRange { index: usize, what: &'static str, value: u64 },
    #[error("patch element {index} points to patch {id}, not to the next patch in order")]
    PatchOrder { index: usize, id: u32 },
}

/// A modality's code in the stream.
pub fn modality_code(modality: Modality) -> u8 {
    match modality {
        Modality::Text => 0,
        Modality::Patch => 1,
        Modality::Value => 2,
        Modality::Separator => 3,
        Modality::Action => 4,
    }
}

/// One entry of the header's task list.
#[derive(Debug, serde::Serialize)]
pub struct TaskEntry<'a> {
    pub name: &'a str,
    pub weight: f64,
    pub continuous_actions: bool,
}

#[derive(serde::Serialize)]
struct Header<'a> {
    format: &'static str,
    context: usize,
    vocab: u32,
    text_vocab: u32,
    patch_len: usize,
    tasks: &'a [TaskEntry<'a>],
}

/// The stream's header line, with its `\n`.
pub fn header(context: usize, vocabulary: &Vocabulary, tasks: &[TaskEntry<'_>]) -> String {
    let header = Header {
        format: "GTS2",
        context,
        vocab: vocabulary.size(),
        text_vocab: vocabulary.text.size(),
        patch_len: PATCH_LEN,
        tasks,
    };
    // A struct of strings and numbers always serializes.
    let mut line = serde_json::to_string(&header).unwrap_or_default();
    line.push('\n');
    line
}

fn narrow<T: TryFrom<u64>>(value: u64, index: usize, what: &'static str) -> Result<T, FormatError> {
    T::try_from(value).map_err(|_| FormatError::OutOfRange { index, what, value })
}

/// Appends the record of `sequence`, drawn from task `task`, to `out`: the whole record, or
/// nothing when the sequence does not fit the format, so a stream never holds half a record.
pub fn encode(task: u16, sequence: &Sequence, out: &mut Vec<u8>) -> Result<(), FormatError> {
    let start = out.len();
    let written = write_record(task, sequence, out);
    if written.is_err() {
        out.truncate(start);
    }
    written
}

fn write_record(task: u16, sequence: &Sequence, out: &mut Vec<u8>) -> Result<(), FormatError> {
    let (elements, patches) = (&sequence.elements, &sequence.patches);
    let n: u32 = narrow(elements.len() as u64, elements.len(), "length")?;
    let p: u32 = narrow(patches.len() as u64, patches.len(), "patch count")?;
    out.reserve(14 + elements.len() * 10 + patches.len() * (PATCH_LEN * 4 + 2));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&task.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&p.to_le_bytes());
    let mut next_patch = 0;
    for (index, element) in elements.iter().enumerate() {
        if element.modality == Modality::Patch {
            if element.id != next_patch || element.id as usize >= patches.len() {
                return Err(FormatError::PatchOrder { index, id: element.id });
            }
            next_patch += 1;
        }
        out.extend_from_slice(&element.id.to_le_bytes());
    }
    for element in elements {
        out.extend_from_slice(&element.target.unwrap_or(NO_TARGET).to_le_bytes());
    }
    for (index, element) in elements.iter().enumerate() {
        out.push(narrow(u64::from(element.local_position), index, "local position")?);
    }
    out.extend(elements.iter().map(|e| modality_code(e.modality)));
    for (index, patch) in patches.iter().enumerate() {
        if patch.pixels.len() != PATCH_LEN {
            return Err(FormatError::OutOfRange { index, what: "patch length", value: patch.pixels.len() as u64 });
        }
        for &x in &patch.pixels {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    for (index, patch) in patches.iter().enumerate() {
        out.push(narrow(u64::from(patch.row), index, "patch row")?);
    }
    for (index, patch) in patches.iter().enumerate() {
        out.push(narrow(u64::from(patch.col), index, "patch column")?);
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::tokens::image::PositionMode;
    use crate::tokens::text::tests::shipped;
    use crate::tokens::{Action, Observation, Part, SequenceBuilder};
    use image::RgbImage;

    /// A record read back, field by field as the table above lists them.
    #[derive(Debug, PartialEq)]
    pub(crate) struct Record {
        pub task: u16,
        pub ids: Vec<u32>,
        pub targets: Vec<u32>,
        pub local: Vec<u8>,
        pub modality: Vec<u8>,
        pub pixels: Vec<f32>,
        pub rows: Vec<u8>,
        pub cols: Vec<u8>,
    }

    /// Reads the record at the start of `bytes`; it and the bytes it took.
    pub(crate) fn decode(bytes: &[u8]) -> (Record, usize) {
        let mut at = 0;
        let mut take = |count: usize| {
            let slice = &bytes[at..at + count];
            at += count;
            slice
        };
        assert_eq!(take(4), MAGIC);
        let task = u16::from_le_bytes(take(2).try_into().unwrap());
        let n = u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
        let p = u32::from_le_bytes(take(4).try_into().unwrap()) as usize;
        let mut words = |count: usize| -> Vec<u32> {
            take(4 * count).chunks(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect()
        };
        let (ids, targets) = (words(n), words(n));
        let (local, modality) = (take(n).to_vec(), take(n).to_vec());
        let pixels = take(4 * p * PATCH_LEN).chunks(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
        let (rows, cols) = (take(p).to_vec(), take(p).to_vec());
        (Record { task, ids, targets, local, modality, pixels, rows, cols }, at)
    }

    /// Checks that `record` holds exactly `sequence`.
    pub(crate) fn assert_holds(record: &Record, sequence: &Sequence) {
        let n = sequence.len();
        assert_eq!(record.ids, sequence.elements.iter().map(|e| e.id).collect::<Vec<_>>());
        assert_eq!(record.local, sequence.elements.iter().map(|e| e.local_position as u8).collect::<Vec<_>>());
        assert_eq!(record.modality, sequence.elements.iter().map(|e| modality_code(e.modality)).collect::<Vec<_>>());
        let targets: Vec<u32> = sequence.elements.iter().map(|e| e.target.unwrap_or(NO_TARGET)).collect();
        assert_eq!(record.targets, targets);
        assert_eq!((record.local.len(), record.rows.len()), (n, sequence.patches.len()));
        assert_eq!(record.pixels, sequence.patches.iter().flat_map(|p| p.pixels.clone()).collect::<Vec<_>>());
        assert_eq!(record.rows, sequence.patches.iter().map(|p| p.row as u8).collect::<Vec<_>>());
        assert_eq!(record.cols, sequence.patches.iter().map(|p| p.col as u8).collect::<Vec<_>>());
    }

    fn sample_sequence(v: &Vocabulary) -> Sequence {
        let mut rng = rand_pcg::Pcg64Mcg::new(5);
        let mut b = SequenceBuilder::new(v, PositionMode::Train(&mut rng));
        let image = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 77]));
        let obs =
            Observation { text: Some("go to the red ball".into()), image: Some(image.clone()), ..Default::default() };
        b.observation(&obs).unwrap();
        b.relabelled_action(&Action::Discrete(vec![2]), &Action::Discrete(vec![0])).unwrap();
        b.sentence(&[Part::Image(&image), Part::Context("what is this?"), Part::Target("a dress.")]).unwrap();
        b.observation(&Observation { continuous: vec![0.5, -3.0], ..Default::default() }).unwrap();
        b.finish()
    }

    #[test]
    fn records_round_trip_back_to_back() {
        let v = Vocabulary::new(shipped());
        let sequence = sample_sequence(&v);
        let mut bytes = Vec::new();
        encode(7, &sequence, &mut bytes).unwrap();
        let first = bytes.len();
        encode(65_535, &Sequence::default(), &mut bytes).unwrap();
        let n = sequence.len();
        assert_eq!(first, 14 + 10 * n + 32 * (4 * 768 + 2));
        let (record, used) = decode(&bytes);
        assert_eq!((record.task, used), (7, first));
        assert_holds(&record, &sequence);
        let action = sequence.elements.iter().position(|e| e.modality == Modality::Action).unwrap();
        assert_eq!((record.ids[action], record.targets[action]), (v.value(2), v.value(0)), "taken, then the expert's");
        assert_eq!(record.targets[0], NO_TARGET, "the mission is not a target");
        let (empty, rest) = decode(&bytes[first..]);
        assert_eq!((empty.task, empty.ids.len(), empty.pixels.len(), rest), (65_535, 0, 0, 14));
    }

    #[test]
    fn out_of_order_patches_and_huge_positions_are_refused() {
        let v = Vocabulary::new(shipped());
        let mut sequence = sample_sequence(&v);
        let first_patch = sequence.elements.iter().position(|e| e.modality == Modality::Patch).unwrap();
        sequence.elements[first_patch].id = 1;
        assert_eq!(encode(0, &sequence, &mut Vec::new()), Err(FormatError::PatchOrder { index: first_patch, id: 1 }));
        let mut sequence = sample_sequence(&v);
        sequence.elements[2].local_position = 256;
        assert!(matches!(encode(0, &sequence, &mut Vec::new()), Err(FormatError::OutOfRange { index: 2, .. })));
        let mut sequence = sample_sequence(&v);
        sequence.patches[3].row = 300;
        let refused = encode(0, &sequence, &mut Vec::new());
        assert_eq!(refused, Err(FormatError::OutOfRange { index: 3, what: "patch row", value: 300 }));
    }

    /// Found by the `stream` fuzz target: a sequence refused after its ids were written left
    /// them in the stream, where the reader would take them for the next record's start.
    #[test]
    fn a_refused_sequence_leaves_the_stream_as_it_was() {
        let v = Vocabulary::new(shipped());
        let mut bytes = Vec::new();
        encode(1, &sample_sequence(&v), &mut bytes).unwrap();
        let whole = bytes.clone();
        let mut sequence = sample_sequence(&v);
        sequence.patches[3].row = 300;
        assert!(encode(0, &sequence, &mut bytes).is_err());
        let mut sequence = sample_sequence(&v);
        sequence.elements[2].local_position = 256;
        assert!(encode(0, &sequence, &mut bytes).is_err());
        assert_eq!(bytes, whole);
    }

    #[test]
    fn the_header_is_one_json_line_naming_the_tasks() {
        let v = Vocabulary::new(shipped());
        let tasks = [
            TaskEntry { name: "pendulum_swingup", weight: 1.0, continuous_actions: true },
            TaskEntry { name: "mnist", weight: 0.5, continuous_actions: false },
        ];
        let line = header(256, &v, &tasks);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["format"], "GTS2");
        assert_eq!(json["vocab"], v.size());
        assert_eq!(json["tasks"][1]["name"], "mnist");
        assert_eq!(
            (&json["tasks"][0]["continuous_actions"], &json["tasks"][1]["continuous_actions"]),
            (&true.into(), &false.into())
        );
        assert_eq!(json["patch_len"], 768);
    }
}
