//! What the fuzz targets share: the tiny trained model of the crate's tests, whose files
//! stand in for the ones a target is not fuzzing, and the shipped tokenizer.

use gatito::envs::World;
use gatito::model::{Gatito, ModelFiles};
use gatito::tokens::{TextTokenizer, Vocabulary};
use std::sync::OnceLock;

pub const CONFIG: &[u8] = include_bytes!("../../tests/fixtures/tiny/config.json");
pub const WEIGHTS: &[u8] = include_bytes!("../../tests/fixtures/tiny/model.safetensors");
pub const TOKENIZER: &[u8] = include_bytes!("../../tests/fixtures/tiny/tokenizer.json");
pub const GOLDEN: &[u8] = include_bytes!("../../tests/fixtures/tiny/golden.safetensors");
/// The tokenizer the page ships, for the text the page's visitors type.
pub const SHIPPED_TOKENIZER: &[u8] = include_bytes!("../../../models/gatito-s/tokenizer.json");

/// The tiny model's files.
pub fn tiny_files() -> ModelFiles {
    ModelFiles { config: CONFIG.to_vec(), weights: WEIGHTS.to_vec(), tokenizer: TOKENIZER.to_vec() }
}

/// The tiny model, loaded once per process.
pub fn tiny_model() -> &'static (std::sync::Arc<Gatito>, Vocabulary) {
    static MODEL: OnceLock<(std::sync::Arc<Gatito>, Vocabulary)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let (model, vocabulary) = tiny_files().load(&candle_core::Device::Cpu).expect("the tiny model loads");
        (std::sync::Arc::new(model), vocabulary)
    })
}

/// The shipped vocabulary, loaded once per process.
pub fn shipped_vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary::new(TextTokenizer::from_bytes(SHIPPED_TOKENIZER).expect("it loads")))
}

/// A safetensors file whose header is `header` (its JSON) and whose data is `file`'s: the
/// offsets a fuzzed header names point into real tensor bytes.
pub fn with_header(header: &[u8], file: &[u8]) -> Vec<u8> {
    let old = u64::from_le_bytes(file[..8].try_into().expect("8 bytes")) as usize;
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header);
    out.extend_from_slice(&file[8 + old..]);
    out
}

/// The expert plays `world` on for at most `steps` steps, then the world is observed and drawn:
/// whatever a fuzzed input set up is played through.
pub fn expert_plays(world: &mut dyn World, steps: u32) {
    for _ in 0..steps {
        if world.done() {
            break;
        }
        let action = world.expert();
        world.step(&action);
    }
    let _ = (world.observe(), world.render());
}
