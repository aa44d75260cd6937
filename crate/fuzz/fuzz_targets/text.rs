//! Text: a `tokenizer.json` as a model folder brings it (first byte even), and the text
//! visitors type, encoded by the shipped tokenizer (first byte odd). Encoding is lossless:
//! whatever encodes decodes back to the same text.
#![no_main]

use gatito::tokens::{TextTokenizer, Vocabulary, inspect};
use gatito_fuzz::shipped_vocabulary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    if pick % 2 == 0 {
        let Ok(tokenizer) = TextTokenizer::from_bytes(rest) else { return };
        let vocabulary = Vocabulary::new(tokenizer);
        let _ = inspect::text(&vocabulary, "go to the red ball <|sep|> then stop");
        return;
    }
    let text = String::from_utf8_lossy(rest);
    let vocabulary = shipped_vocabulary();
    let _ = inspect::text(vocabulary, &text);
    if let Ok(ids) = vocabulary.text.encode(&text) {
        assert_eq!(vocabulary.text.decode(&ids).expect("text ids decode"), text);
    }
});
