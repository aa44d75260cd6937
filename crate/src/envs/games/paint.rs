//! Drawing the games share: scores in small digits, lives as pips, gauges, and sprites.

use crate::envs::draw::rect;
use image::RgbImage;

/// A 3x5 pixel font for the digits 0-9: five rows of three bits, leftmost pixel highest.
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b010, 0b010, 0b010],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// Writes `value` in decimal with its last digit ending at column `right` (exclusive).
pub fn number(frame: &mut RgbImage, value: u32, right: i32, top: i32, colour: [u8; 3]) {
    let mut rest = value;
    let mut left = right - 3;
    loop {
        let rows = DIGITS[(rest % 10) as usize];
        for (dy, bits) in rows.iter().enumerate() {
            for dx in 0..3 {
                if bits & (0b100 >> dx) != 0 {
                    rect(frame, left + dx, top + dy as i32, 1, 1, colour);
                }
            }
        }
        rest /= 10;
        if rest == 0 {
            break;
        }
        left -= 4;
    }
}

/// Draws `count` square pips of side 2 in a row from `left`, one every 3 pixels.
pub fn pips(frame: &mut RgbImage, count: u32, left: i32, top: i32, colour: [u8; 3]) {
    for i in 0..count as i32 {
        rect(frame, left + 3 * i, top, 2, 2, colour);
    }
}

/// Draws a bar `width` pixels long filled to `fraction` (clamped to [0, 1]).
pub fn bar(frame: &mut RgbImage, left: i32, top: i32, width: i32, fraction: f32, colours: ([u8; 3], [u8; 3])) {
    let (full, empty) = colours;
    let filled = (fraction.clamp(0.0, 1.0) * width as f32).round() as i32;
    rect(frame, left, top, width, 2, empty);
    rect(frame, left, top, filled, 2, full);
}

/// Draws a sprite given as rows of bits, the highest of `width` bits leftmost.
pub fn sprite(frame: &mut RgbImage, rows: &[u8], width: i32, left: i32, top: i32, colour: [u8; 3]) {
    facing_sprite(frame, rows, width, (left, top), false, colour);
}

/// Draws a sprite drawn facing right, mirrored when it faces left.
pub fn facing_sprite(
    frame: &mut RgbImage,
    rows: &[u8],
    width: i32,
    (left, top): (i32, i32),
    faces_left: bool,
    colour: [u8; 3],
) {
    for (dy, bits) in rows.iter().enumerate() {
        for dx in (0..width).filter(|dx| bits & (1 << (width - 1 - dx)) != 0) {
            let x = if faces_left { width - 1 - dx } else { dx };
            rect(frame, left + x, top + dy as i32, 1, 1, colour);
        }
    }
}
