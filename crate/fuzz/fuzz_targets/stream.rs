//! The GTS2 stream's writer (`data::format::encode`; the reader is the recipe's Python): any
//! sequence, however malformed, is written as one whole record laid out as the format says,
//! or refused with nothing written, so a stream never holds half a record.
#![no_main]

use gatito::data::format::{self, MAGIC};
use gatito::tokens::image::PATCH_LEN;
use gatito::tokens::sequence::PatchInput;
use gatito::tokens::{Element, Modality, Sequence};
use libfuzzer_sys::fuzz_target;

/// Reads little-endian numbers off the front of the input; zeros once it runs out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = Bytes(data);
    let task = u16::from_le_bytes(bytes.take());
    let patch_count = usize::from(bytes.u8() % 8);
    let patches: Vec<PatchInput> = (0..patch_count)
        .map(|_| {
            let length = bytes.u8();
            // Mostly whole patches; now and then one of the wrong length.
            let length = if length < 250 { PATCH_LEN } else { usize::from(length) };
            PatchInput { pixels: vec![f32::from(bytes.u8()) / 1024.0; length], row: bytes.u32(), col: bytes.u32() }
        })
        .collect();
    let mut elements = Vec::new();
    while !bytes.0.is_empty() {
        let modality = [Modality::Text, Modality::Patch, Modality::Value, Modality::Separator, Modality::Action]
            [usize::from(bytes.u8() % 5)];
        let (id, local_position, target) = (bytes.u32(), bytes.u32(), bytes.u32());
        elements.push(Element { modality, id, local_position, target: (target != 0).then_some(target) });
    }
    let (n, p) = (elements.len(), patches.len());
    let sequence = Sequence::from_parts(elements, patches);
    let mut out = b"earlier records".to_vec();
    let before = out.len();
    match format::encode(task, &sequence, &mut out) {
        Ok(()) => {
            let record = &out[before..];
            assert_eq!(record.len(), 14 + n * 10 + p * (PATCH_LEN * 4 + 2));
            assert_eq!(&record[..4], MAGIC);
            assert_eq!(record[4..6], task.to_le_bytes());
            assert_eq!(record[6..10], (n as u32).to_le_bytes());
            assert_eq!(record[10..14], (p as u32).to_le_bytes());
        }
        Err(_) => assert_eq!(out.len(), before, "a refused sequence left part of a record"),
    }
});
