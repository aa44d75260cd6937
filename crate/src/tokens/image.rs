//! Images: decoding, the resize policy, and the 16x16 patches Gato embeds.
//!
//! Policy: the image is centre-cropped to a square (the largest one that fits), then
//! resized to [`IMAGE_SIZE`]² RGB: area-averaged when shrinking, bilinear when growing.
//! Alpha is composited over white, so a transparent drawing reads as ink on paper.
//! Pixels map to [-1, 1] and are then divided by 4 (the square root of the patch size),
//! as in Gato. Patches are cut in raster order and stored channel-first (3x16x16).

use image::{DynamicImage, GenericImageView, ImageReader, Limits, RgbImage, imageops};
use rand::{Rng, RngCore};
use std::io::Cursor;
use thiserror::Error;

/// Side of the square image the model sees.
pub const IMAGE_SIZE: u32 = 64;
/// Side of one patch.
pub const PATCH_SIZE: u32 = 16;
/// Patches per side, and in all.
pub const PATCHES_PER_SIDE: u32 = IMAGE_SIZE / PATCH_SIZE;
pub const PATCHES: usize = (PATCHES_PER_SIDE * PATCHES_PER_SIDE) as usize;
/// Floats in one patch: 3 channels of 16x16.
pub const PATCH_LEN: usize = (3 * PATCH_SIZE * PATCH_SIZE) as usize;
/// Bins for the row and column patch position encodings.
pub const POSITION_BINS: u32 = 128;

/// The largest upload we decode. An 8000x8000 photo is fine; a decompression bomb is not.
pub const MAX_SIDE: u32 = 16_384;
const MAX_DECODE_BYTES: u64 = 768 << 20;

#[derive(Debug, Error)]
pub enum ImageError {
    #[error("this file is not an image we can read (PNG, JPEG, WebP or GIF): {0}")]
    Unreadable(String),
    #[error("the image is {width}x{height}; the largest side we accept is {MAX_SIDE} pixels")]
    TooLarge { width: u32, height: u32 },
    #[error("the image is empty (0 pixels)")]
    Empty,
}

/// Decodes PNG, JPEG, WebP or GIF (its first frame) from bytes, with size limits.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, ImageError> {
    let unreadable = |e: &dyn std::fmt::Display| ImageError::Unreadable(e.to_string());
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| unreadable(&e))?;
    if reader.format().is_none() {
        return Err(ImageError::Unreadable("unknown format".into()));
    }
    let (width, height) = reader.into_dimensions().map_err(|e| unreadable(&e))?;
    if width.max(height) > MAX_SIDE {
        return Err(ImageError::TooLarge { width, height });
    }
    if width == 0 || height == 0 {
        return Err(ImageError::Empty);
    }
    reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| unreadable(&e))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(|e| unreadable(&e))
}

/// Applies the documented policy: centre square crop, alpha over white, resize to 64x64.
pub fn to_model_input(image: &DynamicImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let side = w.min(h);
    let square = image.view((w - side) / 2, (h - side) / 2, side, side);
    let resized = if side >= IMAGE_SIZE {
        imageops::thumbnail(&*square, IMAGE_SIZE, IMAGE_SIZE)
    } else {
        imageops::resize(&*square, IMAGE_SIZE, IMAGE_SIZE, imageops::FilterType::Triangle)
    };
    RgbImage::from_fn(IMAGE_SIZE, IMAGE_SIZE, |x, y| {
        let [r, g, b, a] = resized.get_pixel(x, y).0;
        let over_white = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a)) + 127) / 255) as u8;
        image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

/// One 16x16 patch, channel-first, with the pixel intervals it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    pub pixels: Vec<f32>,
    pub row: Interval,
    pub col: Interval,
}

/// A half-open interval of position bins, `[lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Interval {
    pub lo: u32,
    pub hi: u32,
}

/// How a patch position is read from its interval.
pub enum PositionMode<'a> {
    /// A uniformly random bin in the interval (data augmentation, as in Gato).
    Train(&'a mut dyn RngCore),
    /// The rounded mean of the interval.
    Eval,
}

impl Interval {
    /// The interval of bins covered by pixels `[start, end)` of `size`.
    fn of_pixels(start: u32, end: u32, size: u32) -> Self {
        Interval { lo: start * POSITION_BINS / size, hi: end * POSITION_BINS / size }
    }

    /// The rounded mean: `round((lo + hi) / 2)`, kept inside the interval.
    pub fn mean(self) -> u32 {
        (self.lo + self.hi).div_ceil(2).min(self.hi - 1)
    }

    pub fn pick(self, mode: &mut PositionMode<'_>) -> u32 {
        match mode {
            PositionMode::Train(rng) => rng.random_range(self.lo..self.hi),
            PositionMode::Eval => self.mean(),
        }
    }
}

/// Maps a byte to Gato's pixel scale: [-1, 1], then divided by 4.
pub fn normalize(byte: u8) -> f32 {
    (f32::from(byte) / 127.5 - 1.0) / 4.0
}

/// Cuts a 64x64 RGB image into 16 patches in raster order.
pub fn patches(image: &RgbImage) -> Vec<Patch> {
    assert_eq!(image.dimensions(), (IMAGE_SIZE, IMAGE_SIZE), "call to_model_input first");
    let mut out = Vec::with_capacity(PATCHES);
    for pr in 0..PATCHES_PER_SIDE {
        for pc in 0..PATCHES_PER_SIDE {
            let (y0, x0) = (pr * PATCH_SIZE, pc * PATCH_SIZE);
            let mut pixels = Vec::with_capacity(PATCH_LEN);
            for channel in 0..3 {
                for y in y0..y0 + PATCH_SIZE {
                    for x in x0..x0 + PATCH_SIZE {
                        pixels.push(normalize(image.get_pixel(x, y).0[channel]));
                    }
                }
            }
            out.push(Patch {
                pixels,
                row: Interval::of_pixels(y0, y0 + PATCH_SIZE, IMAGE_SIZE),
                col: Interval::of_pixels(x0, x0 + PATCH_SIZE, IMAGE_SIZE),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn encode(img: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        img.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    /// Found by the `image` fuzz target: zune-jpeg's DC multiply overflows on this corrupt JPEG,
    /// which panicked in builds with overflow checks. Decoding it ends, either way, without one.
    #[test]
    fn a_jpeg_whose_dc_coefficient_overflows_decodes_or_is_refused() {
        let bytes = include_bytes!("../../tests/fixtures/dc-overflow.jpg");
        if let Ok(image) = decode(bytes) {
            assert_eq!(to_model_input(&image).dimensions(), (IMAGE_SIZE, IMAGE_SIZE));
        }
    }

    #[test]
    fn pixel_scale_matches_gato() {
        assert_eq!(normalize(0), -0.25);
        assert_eq!(normalize(255), 0.25);
        assert!(normalize(128).abs() < 0.002);
    }

    #[test]
    fn sixteen_patches_in_raster_order_with_position_intervals() {
        // Each patch filled with its own index in the red channel.
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([((y / 16) * 4 + x / 16) as u8 * 16, 0, 255]));
        let ps = patches(&img);
        assert_eq!(ps.len(), 16);
        for (i, p) in ps.iter().enumerate() {
            assert_eq!(p.pixels.len(), 768);
            assert_eq!(p.pixels[0], normalize(i as u8 * 16), "red plane of patch {i}");
            assert_eq!(p.pixels[256], normalize(0), "green plane of patch {i}");
            assert_eq!(p.pixels[767], normalize(255), "blue plane of patch {i}");
            let (r, c) = ((i / 4) as u32, (i % 4) as u32);
            assert_eq!(p.row, Interval { lo: r * 32, hi: r * 32 + 32 });
            assert_eq!(p.col, Interval { lo: c * 32, hi: c * 32 + 32 });
            assert_eq!(p.row.mean(), r * 32 + 16);
        }
    }

    #[test]
    fn train_positions_stay_inside_their_interval_and_vary() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        let iv = Interval { lo: 32, hi: 64 };
        let picks: Vec<u32> = (0..200).map(|_| iv.pick(&mut PositionMode::Train(&mut rng))).collect();
        assert!(picks.iter().all(|&p| (32..64).contains(&p)));
        assert!(picks.iter().collect::<std::collections::HashSet<_>>().len() > 20);
        assert_eq!(iv.pick(&mut PositionMode::Eval), 48);
    }

    #[test]
    fn every_format_decodes() {
        let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(30, 20, Rgba([200, 10, 10, 255])));
        for format in [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::WebP, ImageFormat::Gif] {
            let img = if format == ImageFormat::Jpeg { DynamicImage::ImageRgb8(img.to_rgb8()) } else { img.clone() };
            let decoded = decode(&encode(&img, format)).unwrap_or_else(|e| panic!("{format:?}: {e}"));
            assert_eq!(decoded.dimensions(), (30, 20), "{format:?}");
        }
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert!(matches!(decode(b"hello, not an image"), Err(ImageError::Unreadable(_))));
        assert!(matches!(decode(&[]), Err(ImageError::Unreadable(_))));
        let png = encode(&DynamicImage::new_rgb8(8, 8), ImageFormat::Png);
        assert!(matches!(decode(&png[..png.len() / 2]), Err(ImageError::Unreadable(_))));
        // A GIF whose header claims 20000x20000 pixels must be refused before decoding.
        let mut huge = encode(&DynamicImage::new_rgba8(8, 8), ImageFormat::Gif);
        huge[6..8].copy_from_slice(&20_000u16.to_le_bytes());
        huge[8..10].copy_from_slice(&20_000u16.to_le_bytes());
        assert!(matches!(decode(&huge), Err(ImageError::TooLarge { width: 20_000, .. })), "{:?}", decode(&huge));
    }

    #[test]
    fn crop_is_centred_and_alpha_goes_over_white() {
        // A wide image: red left third, green middle, blue right third.
        let wide = RgbaImage::from_fn(300, 100, |x, _| match x / 100 {
            0 => Rgba([255, 0, 0, 255]),
            1 => Rgba([0, 255, 0, 255]),
            _ => Rgba([0, 0, 255, 255]),
        });
        let input = to_model_input(&DynamicImage::ImageRgba8(wide));
        assert_eq!(input.dimensions(), (64, 64));
        assert!(input.pixels().all(|p| p.0 == [0, 255, 0]), "only the green middle survives");

        let clear = RgbaImage::from_pixel(10, 10, Rgba([0, 0, 0, 0]));
        let input = to_model_input(&DynamicImage::ImageRgba8(clear));
        assert!(input.pixels().all(|p| p.0 == [255, 255, 255]));
    }

    proptest! {
        #[test]
        fn any_size_becomes_64x64(w in 1u32..300, h in 1u32..300) {
            let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb([9, 99, 199])));
            let input = to_model_input(&img);
            prop_assert_eq!(input.dimensions(), (64, 64));
            prop_assert!(input.pixels().all(|p| p.0 == [9, 99, 199]));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
        }
    }
}
