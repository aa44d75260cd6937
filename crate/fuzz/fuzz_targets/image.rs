//! An uploaded or pasted image: decoded (PNG, JPEG, WebP, GIF), cropped, resized and cut into
//! patches, exactly as the page's `Tokens.image` and the command line's `tokens image` do.
#![no_main]

use gatito::tokens::inspect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = inspect::image(data, 4) {
        assert_eq!(report.rgb.len(), 64 * 64 * 3);
    }
});
