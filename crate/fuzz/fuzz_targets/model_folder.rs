//! The model folder as the page and `--model` read it: `config.json`, the header and offsets
//! of `model.safetensors` and of `golden.safetensors`. The first byte picks the file the rest
//! replaces (the tiny model's files stand in for the others); with bit 2 set the rest is the
//! whole safetensors file, length prefix and all, so lying lengths and truncations are tried
//! too. Whatever loads is then run on the golden inputs.
#![no_main]

use gatito::model::golden::Golden;
use gatito_fuzz::{GOLDEN, WEIGHTS, tiny_files, with_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let whole = pick & 4 != 0;
    let safetensors = |file: &[u8]| if whole { rest.to_vec() } else { with_header(rest, file) };
    let mut files = tiny_files();
    let mut golden = GOLDEN.to_vec();
    match pick % 3 {
        0 => files.config = rest.to_vec(),
        1 => files.weights = safetensors(WEIGHTS),
        _ => golden = safetensors(GOLDEN),
    }
    let Ok((model, _)) = files.load(&candle_core::Device::Cpu) else { return };
    if let Ok(golden) = Golden::from_bytes(&golden, model.config.text_vocab) {
        let _ = golden.max_abs_diff(&model);
    }
});
