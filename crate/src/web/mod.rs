//! The wasm-bindgen surface the page's worker calls. Results cross as plain JS objects
//! (serde-wasm-bindgen); errors cross as JS exceptions carrying a readable message.

use crate::tokens::{TextTokenizer, ValueKind, Vocabulary, inspect};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    Ok(value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())?)
}

/// The tokenizer, as the page uses it.
#[wasm_bindgen]
pub struct Tokens {
    vocabulary: Vocabulary,
}

#[wasm_bindgen]
impl Tokens {
    /// Loads the text tokenizer from the bytes of `tokenizer.json`.
    #[wasm_bindgen(constructor)]
    pub fn new(tokenizer_json: &[u8]) -> Result<Tokens, JsError> {
        Ok(Tokens { vocabulary: Vocabulary::new(TextTokenizer::from_bytes(tokenizer_json)?) })
    }

    /// All ids: text, then the 1024 value bins.
    #[wasm_bindgen(getter, js_name = vocabularySize)]
    pub fn vocabulary_size(&self) -> u32 {
        self.vocabulary.size()
    }

    pub fn text(&self, text: &str) -> Result<JsValue, JsError> {
        to_js(&inspect::text(&self.vocabulary, text)?)
    }

    pub fn continuous(&self, values: &[f32], action: bool) -> Result<JsValue, JsError> {
        let kind = if action { ValueKind::Action } else { ValueKind::Observation };
        to_js(&inspect::values(&self.vocabulary, kind, values)?)
    }

    /// Decodes an uploaded image and cuts it into patches. The report carries the
    /// 64x64 RGB input as `rgb`, so the page can draw the patch grid.
    pub fn image(&self, bytes: &[u8]) -> Result<JsValue, JsError> {
        let report = inspect::image(bytes, 4)?;
        let js = to_js(&report)?;
        js_sys::Reflect::set(&js, &"rgb".into(), &js_sys::Uint8Array::from(&report.rgb[..]))
            .map_err(|_| JsError::new("could not attach the image pixels"))?;
        Ok(js)
    }
}
