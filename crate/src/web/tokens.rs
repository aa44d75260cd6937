//! The tokenizer as the page uses it.

use super::controller::observation;
use super::{attach, report, to_js};
use crate::requests::picture;
use crate::tokens::{TextTokenizer, ValueKind, Vocabulary, inspect};
use wasm_bindgen::prelude::*;

/// The vocabulary, loaded from the shipped `tokenizer.json`.
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
        attach(&js, "rgb", &js_sys::Uint8Array::from(&report.rgb[..]))?;
        Ok(js)
    }

    /// The sentence the model will be prompted with about an image: its 64x64 RGB input (the
    /// `rgb` of [`Tokens::image`]), then the question, if one is given (empty means none).
    pub fn sentence(&self, rgb: &[u8], question: &str) -> Result<JsValue, JsError> {
        let image = picture(rgb.to_vec())?;
        let question = Some(question.trim()).filter(|q| !q.is_empty());
        sequence_to_js(report::sentence(&self.vocabulary, &image, question)?)
    }

    /// The tokens of one timestep's observation from another page (see `Controller.act`), up
    /// to the separator: what the model reads before it acts.
    pub fn timestep(&self, parts: JsValue, rgb: Option<Vec<u8>>) -> Result<JsValue, JsError> {
        sequence_to_js(report::timestep(&self.vocabulary, &observation(parts, rgb)?, None)?)
    }
}

impl Tokens {
    pub(crate) fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }
}

/// A sequence report as a JS object, its image (if any) attached as `rgb`.
pub(crate) fn sequence_to_js(report: report::SequenceReport) -> Result<JsValue, JsError> {
    let js = to_js(&report)?;
    if let Some(rgb) = &report.rgb {
        attach(&js, "rgb", &js_sys::Uint8Array::from(&rgb[..]))?;
    }
    Ok(js)
}
