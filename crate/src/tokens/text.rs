//! Text: byte-level BPE subwords from a Hugging Face `tokenizer.json`.
//!
//! Byte-level BPE can represent any input. The special tokens live in the tokenizer
//! (so its size T covers them), but user text can never produce them: we encode with
//! special-token matching off, so typing `<|sep|>` yields ordinary subwords.

use thiserror::Error;
use tokenizers::Tokenizer;

/// End of a text (a caption, an answer): decoding stops here.
pub const END_OF_TEXT: &str = "<|eot|>";
/// Gato's separator between a timestep's observations and its actions.
pub const SEPARATOR: &str = "<|sep|>";
/// The longest text we tokenize, in characters. Longer input is refused, not cut silently.
pub const MAX_TEXT_CHARS: usize = 4096;

#[derive(Debug, Error)]
pub enum TextError {
    #[error("tokenizer.json could not be read: {0}")]
    Load(String),
    #[error("tokenizer.json lacks the special token {0}")]
    MissingSpecial(&'static str),
    #[error("the text is {0} characters long; at most {MAX_TEXT_CHARS} are accepted")]
    TooLong(usize),
    #[error("tokenizing failed: {0}")]
    Encode(String),
    #[error("token id {id} is not text (the text vocabulary has {size} ids)")]
    NotText { id: u32, size: u32 },
}

#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    size: u32,
    end_of_text: u32,
    separator: u32,
}

impl TextTokenizer {
    pub fn from_bytes(json: &[u8]) -> Result<Self, TextError> {
        // tokenizers panics, rather than erring, on malformed JSON inside the decoder's section (a
        // syntax error, a string that is not UTF-8: 0.22, found by fuzzing), so the JSON is read
        // whole, strings decoded, before it reads the file.
        serde_json::from_slice::<serde_json::Value>(json).map_err(|e| TextError::Load(e.to_string()))?;
        let mut inner = Tokenizer::from_bytes(json).map_err(|e| TextError::Load(e.to_string()))?;
        inner.set_encode_special_tokens(true);
        let special = |name: &'static str| inner.token_to_id(name).ok_or(TextError::MissingSpecial(name));
        let (end_of_text, separator) = (special(END_OF_TEXT)?, special(SEPARATOR)?);
        let size = inner.get_vocab_size(true) as u32;
        Ok(TextTokenizer { inner, size, end_of_text, separator })
    }

    /// T: text ids are `0..T`, and value tokens start at T.
    pub fn size(&self) -> u32 {
        self.size
    }

    pub fn end_of_text(&self) -> u32 {
        self.end_of_text
    }

    pub fn separator(&self) -> u32 {
        self.separator
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, TextError> {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(TextError::TooLong(chars));
        }
        let encoding = self.inner.encode(text, false).map_err(|e| TextError::Encode(e.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Decodes text ids, dropping special tokens.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TextError> {
        if let Some(&id) = ids.iter().find(|&&id| id >= self.size) {
            return Err(TextError::NotText { id, size: self.size });
        }
        self.inner.decode(ids, true).map_err(|e| TextError::Encode(e.to_string()))
    }

    /// The text of one id, as the page shows it in a token chip.
    pub fn piece(&self, id: u32) -> String {
        match self.inner.id_to_token(id) {
            Some(token) if id == self.end_of_text || id == self.separator => token,
            Some(_) => self.inner.decode(&[id], false).unwrap_or_default(),
            None => format!("<{id}?>"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn shipped() -> TextTokenizer {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/gatito-s/tokenizer.json");
        TextTokenizer::from_bytes(&std::fs::read(path).expect("the shipped tokenizer")).unwrap()
    }

    /// Found by the `text` fuzz target: tokenizers panicked on these instead of returning an error.
    #[test]
    fn malformed_json_in_the_decoder_is_an_error() {
        let syntax = br#"{"version": "1.0", "added_tokens": [], "decoder": {"type": "ByteLevel" "trim": true}}"#;
        let not_utf8 =
            b"{\"version\": \"1.0\", \"added_tokens\": [], \"decoder\": {\"type\": \"ByteLevel\", \"tr\xe6m\": true}}";
        for json in [&syntax[..], &not_utf8[..]] {
            assert!(matches!(TextTokenizer::from_bytes(json), Err(TextError::Load(_))));
        }
    }

    #[test]
    fn specials_exist_and_cannot_be_typed() {
        let t = shipped();
        assert_ne!(t.end_of_text(), t.separator());
        assert!(t.end_of_text() < t.size() && t.separator() < t.size());
        let ids = t.encode("a <|sep|> b <|eot|>").unwrap();
        assert!(!ids.contains(&t.separator()) && !ids.contains(&t.end_of_text()), "{ids:?}");
        assert_eq!(t.decode(&ids).unwrap(), "a <|sep|> b <|eot|>");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert!(matches!(TextTokenizer::from_bytes(b"{ not json"), Err(TextError::Load(_))));
        let t = shipped();
        assert_eq!(t.encode("").unwrap(), Vec::<u32>::new());
        assert!(matches!(t.encode(&"x".repeat(MAX_TEXT_CHARS + 1)), Err(TextError::TooLong(4097))));
        assert!(matches!(t.decode(&[t.size()]), Err(TextError::NotText { .. })));
    }

    #[test]
    fn common_words_are_single_tokens() {
        let t = shipped();
        for word in [" red", " ball", " the", " left"] {
            assert_eq!(t.encode(word).unwrap().len(), 1, "{word:?} should be one subword");
        }
    }

    proptest! {
        #[test]
        fn any_text_round_trips(text in "\\PC{0,200}") {
            let t = shipped();
            let ids = t.encode(&text).unwrap();
            prop_assert!(ids.iter().all(|&id| id < t.size()));
            prop_assert_eq!(t.decode(&ids).unwrap(), text);
        }
    }
}
