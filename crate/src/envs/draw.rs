//! Small raster helpers the worlds share to draw their frames.

use image::{Rgb, RgbImage};

/// Fills the rectangle `[x, x+w) x [y, y+h)`, clipped to the image.
pub fn rect(img: &mut RgbImage, x: i32, y: i32, w: i32, h: i32, colour: [u8; 3]) {
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    for py in y.max(0)..(y + h).min(ih) {
        for px in x.max(0)..(x + w).min(iw) {
            img.put_pixel(px as u32, py as u32, Rgb(colour));
        }
    }
}

/// Fills the disc of radius `r` around `(cx, cy)`, clipped to the image.
pub fn disc(img: &mut RgbImage, cx: f32, cy: f32, r: f32, colour: [u8; 3]) {
    let (iw, ih) = (img.width() as i32, img.height() as i32);
    let (x0, x1) = (((cx - r).floor() as i32).max(0), ((cx + r).ceil() as i32).min(iw - 1));
    let (y0, y1) = (((cy - r).floor() as i32).max(0), ((cy + r).ceil() as i32).min(ih - 1));
    for py in y0..=y1 {
        for px in x0..=x1 {
            let (dx, dy) = (px as f32 + 0.5 - cx, py as f32 + 0.5 - cy);
            if dx * dx + dy * dy <= r * r {
                img.put_pixel(px as u32, py as u32, Rgb(colour));
            }
        }
    }
}

/// Draws a thick line from `a` to `b` as a row of discs.
pub fn line(img: &mut RgbImage, a: (f32, f32), b: (f32, f32), width: f32, colour: [u8; 3]) {
    let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let steps = (length * 2.0).ceil().max(1.0) as i32;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        disc(img, a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, width / 2.0, colour);
    }
}
