//! How a room looks: the whole grid from above, every cell a square of the same size, north
//! up for people ([`paint`]) and turned and moved to the agent for the model ([`paint_ahead`]).
//!
//! Shapes are drawn on an 8x8 design grid per cell, so at 8 pixels a cell (the model's
//! 64x64 view) each design unit is one pixel, and larger renders scale it up exactly.
//! Each kind has its own shape, so colour and kind read apart: a ball is a disc, a box
//! a hollow square, a key a ring on a toothed shaft. A door fills its wall cell: solid
//! with a handle when closed, solid with a keyhole slot when locked, and when open only
//! its two jambs remain with floor between them. The agent is a white triangle pointing
//! where it faces, with a dot of the colour of anything it carries; the carried object
//! is also drawn whole in the picture's top-left corner, where no door ever shows.

use super::room::{Cell, Colour, Dir, DoorState, Object, ObjectKind, Pos, Room, SIZE};
use crate::envs::draw;
use image::{Rgb, RgbImage};

/// Design units per cell side.
const UNITS: f32 = 8.0;
const FLOOR: [u8; 3] = [0, 0, 0];
const GRID_LINE: [u8; 3] = [32, 32, 32];
/// A warm dark brown, far from every object colour (grey included).
const WALL: [u8; 3] = [92, 74, 58];
const AGENT: [u8; 3] = [255, 255, 255];
const HOLE: [u8; 3] = [0, 0, 0];
/// Where the carried object is shown: a wall cell in the whole room (no door uses a corner),
/// and beyond the far wall in the model's view.
const CARRIED_CORNER: Pos = Pos::new(0, 0);
/// Where the agent stands in the model's view: on the bottom row, so that every row ahead of
/// it shows (the far wall is at most six rows away).
const VIEW_AGENT: Pos = Pos::new(3, SIZE - 1);

pub fn rgb(colour: Colour) -> [u8; 3] {
    match colour {
        Colour::Red => [235, 40, 40],
        Colour::Green => [40, 205, 60],
        Colour::Blue => [50, 100, 255],
        Colour::Purple => [160, 70, 230],
        Colour::Yellow => [245, 225, 30],
        Colour::Grey => [170, 170, 170],
    }
}

/// The room with `cell` pixels per grid cell (a multiple of 8 draws exactly), north up: the
/// view a person plays from.
pub fn paint(room: &Room, cell: u32) -> RgbImage {
    paint_view(room, cell, 0, Pos::new(0, 0))
}

/// The model's view: the room turned so that the agent faces up, as a driver's map turns with
/// the car, and moved so that the agent always stands at [`VIEW_AGENT`], as in BabyAI's
/// egocentric view. North up and whole, the same choice (turn left, say) answered a different
/// picture for each heading and each place, and what lay ahead sat in whichever patch the
/// agent's cell fell in; here what it faces is always the same cell of the same patch. The
/// view holds the row the agent stands on and every row ahead of it up to the far wall, and
/// three columns to its left and four to its right; what lies outside the room shows as wall.
pub fn paint_ahead(room: &Room, cell: u32) -> RgbImage {
    let turns = heading_up_turns(room.facing);
    let agent = turned(room.agent, turns);
    paint_view(room, cell, turns, Pos::new(agent.x - VIEW_AGENT.x, agent.y - VIEW_AGENT.y))
}

/// Left quarter turns of the picture that bring `facing` up (each turns it one step left).
fn heading_up_turns(facing: Dir) -> usize {
    (facing.index() + 1) % 4
}

/// Where cell `pos` shows in a picture turned left `turns` times.
fn turned(pos: Pos, turns: usize) -> Pos {
    (0..turns).fold(pos, |p, _| Pos::new(p.y, SIZE - 1 - p.x))
}

/// The room turned left `turns` times, its picture's top-left cell at `origin` in the turned
/// grid (so cells beyond the room, walls to [`Room::cell`], may show), with the carried object
/// in the picture's top-left corner.
fn paint_view(room: &Room, cell: u32, turns: usize, origin: Pos) -> RgbImage {
    let side = SIZE as u32 * cell;
    let mut image = RgbImage::from_pixel(side, side, Rgb(FLOOR));
    let back = (4 - turns) % 4;
    for shown in Pos::all() {
        let at = Pos::new(origin.x + shown.x, origin.y + shown.y);
        let mut brush = Brush::at(&mut image, shown, cell);
        match room.cell(turned(at, back)) {
            Cell::Floor => brush.floor(),
            Cell::Wall => brush.rect(0.0, 0.0, UNITS, UNITS, WALL),
            Cell::Item(object) => {
                brush.floor();
                brush.object(object);
            }
            Cell::Door(colour, state) => brush.door(colour, state, at.x == 0 || at.x == SIZE - 1),
        }
    }
    let heading = (room.facing.index() + 4 - turns) % 4;
    let agent = turned(room.agent, turns);
    Brush::at(&mut image, Pos::new(agent.x - origin.x, agent.y - origin.y), cell)
        .agent(heading, room.carrying.map(|o| o.colour));
    if let Some(object) = room.carrying {
        Brush::at(&mut image, CARRIED_CORNER, cell).object(object);
    }
    image
}

/// Draws in one cell's design units.
struct Brush<'a> {
    image: &'a mut RgbImage,
    x0: f32,
    y0: f32,
    /// Pixels per design unit.
    scale: f32,
}

impl<'a> Brush<'a> {
    fn at(image: &'a mut RgbImage, pos: Pos, cell: u32) -> Brush<'a> {
        let cell = cell as f32;
        Brush { image, x0: pos.x as f32 * cell, y0: pos.y as f32 * cell, scale: cell / UNITS }
    }

    fn pixel(&self, x: f32, y: f32) -> (i32, i32) {
        ((self.x0 + x * self.scale).round() as i32, (self.y0 + y * self.scale).round() as i32)
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, colour: [u8; 3]) {
        let (left, top) = self.pixel(x, y);
        let (right, bottom) = self.pixel(x + w, y + h);
        draw::rect(self.image, left, top, right - left, bottom - top, colour);
    }

    fn disc(&mut self, cx: f32, cy: f32, r: f32, colour: [u8; 3]) {
        draw::disc(self.image, self.x0 + cx * self.scale, self.y0 + cy * self.scale, r * self.scale, colour);
    }

    /// Fills the triangle `corners` (any winding), testing each pixel's centre.
    fn triangle(&mut self, corners: [(f32, f32); 3], colour: [u8; 3]) {
        let [a, b, c] = corners.map(|(x, y)| (self.x0 + x * self.scale, self.y0 + y * self.scale));
        let edge = |p: (f32, f32), q: (f32, f32), r: (f32, f32)| (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0);
        let (x_min, x_max) = (a.0.min(b.0).min(c.0).floor() as i32, a.0.max(b.0).max(c.0).ceil() as i32);
        let (y_min, y_max) = (a.1.min(b.1).min(c.1).floor() as i32, a.1.max(b.1).max(c.1).ceil() as i32);
        let (width, height) = (self.image.width() as i32, self.image.height() as i32);
        for y in y_min.max(0)..y_max.min(height) {
            for x in x_min.max(0)..x_max.min(width) {
                let p = (x as f32 + 0.5, y as f32 + 0.5);
                let sides = [edge(a, b, p), edge(b, c, p), edge(c, a, p)];
                if sides.iter().all(|&s| s >= 0.0) || sides.iter().all(|&s| s <= 0.0) {
                    self.image.put_pixel(x as u32, y as u32, Rgb(colour));
                }
            }
        }
    }

    /// Bare floor, with faint lines on its top and left edges so cells read apart.
    fn floor(&mut self) {
        self.rect(0.0, 0.0, UNITS, 1.0, GRID_LINE);
        self.rect(0.0, 0.0, 1.0, UNITS, GRID_LINE);
    }

    fn object(&mut self, object: Object) {
        let colour = rgb(object.colour);
        match object.kind {
            ObjectKind::Ball => self.disc(4.5, 4.5, 3.0, colour),
            ObjectKind::Box => {
                for (x, y, w, h) in
                    [(2.0, 2.0, 5.0, 1.0), (2.0, 6.0, 5.0, 1.0), (2.0, 2.0, 1.0, 5.0), (6.0, 2.0, 1.0, 5.0)]
                {
                    self.rect(x, y, w, h, colour);
                }
            }
            ObjectKind::Key => {
                // A ring (its bow), then a shaft with two teeth.
                for (x, y, w, h) in [
                    (3.0, 1.0, 3.0, 1.0),
                    (3.0, 3.0, 3.0, 1.0),
                    (3.0, 1.0, 1.0, 3.0),
                    (5.0, 1.0, 1.0, 3.0),
                    (4.0, 4.0, 1.0, 4.0),
                    (5.0, 5.0, 1.0, 1.0),
                    (5.0, 7.0, 1.0, 1.0),
                ] {
                    self.rect(x, y, w, h, colour);
                }
            }
            ObjectKind::Door => self.door(object.colour, DoorState::Closed, false),
        }
    }

    /// A door in a wall; `side_wall` says the wall runs up and down, so the way
    /// through runs left and right.
    fn door(&mut self, colour: Colour, state: DoorState, side_wall: bool) {
        let colour = rgb(colour);
        match state {
            DoorState::Open if side_wall => {
                self.rect(0.0, 0.0, UNITS, 1.0, colour);
                self.rect(0.0, 7.0, UNITS, 1.0, colour);
            }
            DoorState::Open => {
                self.rect(0.0, 0.0, 1.0, UNITS, colour);
                self.rect(7.0, 0.0, 1.0, UNITS, colour);
            }
            DoorState::Closed => {
                self.rect(0.0, 0.0, UNITS, UNITS, colour);
                self.rect(5.0, 3.0, 2.0, 2.0, HOLE);
            }
            DoorState::Locked => {
                self.rect(0.0, 0.0, UNITS, UNITS, colour);
                self.rect(3.0, 2.0, 2.0, 4.0, HOLE);
            }
        }
    }

    /// The agent as a triangle pointing along heading `quarter_turns` (clockwise from
    /// east), with a dot of the carried object's colour.
    fn agent(&mut self, quarter_turns: usize, carrying: Option<Colour>) {
        // Turns about the middle of the cell's drawing area (its units 1 to 8, past the grid lines).
        let turn = |(x, y): (f32, f32)| {
            let (mut dx, mut dy) = (x - 4.5, y - 4.5);
            for _ in 0..quarter_turns {
                (dx, dy) = (-dy, dx);
            }
            (4.5 + dx, 4.5 + dy)
        };
        self.triangle([(1.5, 1.5), (8.0, 4.5), (1.5, 7.5)].map(turn), AGENT);
        if let Some(colour) = carrying {
            let (cx, cy) = turn((3.7, 4.5));
            self.disc(cx, cy, 1.3, rgb(colour));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::grid::mission::{Clause, Mission};
    use crate::envs::grid::room::{Act, Dir};
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn cell_pixels(image: &RgbImage, pos: Pos, cell: u32) -> Vec<[u8; 3]> {
        let (x0, y0) = (pos.x as u32 * cell, pos.y as u32 * cell);
        (0..cell * cell).map(|i| image.get_pixel(x0 + i % cell, y0 + i / cell).0).collect()
    }

    fn empty_room() -> Room {
        let mission = Mission { clauses: vec![Clause::Open(Colour::Red)] };
        let mut room = Room::furnish(&mission, &mut Pcg64Mcg::seed_from_u64(5));
        room.clear_floor();
        room
    }

    #[test]
    fn the_agent_points_where_it_faces() {
        let mut room = empty_room();
        room.agent = Pos::new(3, 3);
        for facing in Dir::ALL {
            room.facing = facing;
            let image = paint(&room, 8);
            // Across the heading, the white rows narrow from a wide base to a tip.
            let (dx, dy) = facing.delta();
            let mut widths = [0; 16];
            for (i, pixel) in cell_pixels(&image, room.agent, 8).into_iter().enumerate() {
                let (x, y) = ((i % 8) as i32, (i / 8) as i32);
                if pixel == AGENT {
                    widths[(dx * x + dy * y + 8) as usize] += 1;
                }
            }
            let rows: Vec<i32> = widths.into_iter().filter(|&w| w > 0).collect();
            assert!(rows.len() >= 5, "{facing:?}: {rows:?}");
            assert!(rows[0] >= 5 && rows[rows.len() - 1] <= 2, "{facing:?}: {rows:?}");
        }
    }

    #[test]
    fn the_model_sees_from_where_the_agent_stands_facing_up() {
        let mut room = empty_room();
        let ball = Object::new(Colour::Yellow, ObjectKind::Ball);
        for agent in [Pos::new(2, 2), Pos::new(3, 4), Pos::new(5, 5)] {
            for facing in Dir::ALL {
                (room.agent, room.facing) = (agent, facing);
                room.clear_floor();
                room.set(agent.step(facing), Cell::Item(ball));
                let image = paint_ahead(&room, 8);
                let standing = cell_pixels(&image, VIEW_AGENT, 8);
                let rows: Vec<usize> = (0..8)
                    .map(|y| (0..8).filter(|x| standing[y * 8 + x] == AGENT).count())
                    .filter(|&w| w > 0)
                    .collect();
                let case = format!("{agent:?} facing {facing:?}");
                assert!(rows.len() >= 5 && rows[0] <= 2 && rows[rows.len() - 1] >= 5, "{case}: {rows:?}");
                assert!(cell_pixels(&image, VIEW_AGENT.step(Dir::Up), 8).contains(&rgb(Colour::Yellow)), "{case}");
                let yellow = Pos::all().filter(|&p| cell_pixels(&image, p, 8).contains(&rgb(Colour::Yellow))).count();
                assert_eq!(yellow, 1, "{case}: the ball shows once");
            }
        }
    }

    #[test]
    fn beyond_the_room_the_model_sees_wall() {
        let mut room = empty_room();
        (room.agent, room.facing) = (Pos::new(1, 1), Dir::Up);
        let image = paint_ahead(&room, 8);
        // The wall it faces is the row above it; every row above that lies outside the room.
        for shown in Pos::all().filter(|p| p.y < VIEW_AGENT.y - 1) {
            assert!(cell_pixels(&image, shown, 8).iter().all(|&p| p == WALL), "{shown:?}");
        }
        assert!(cell_pixels(&image, VIEW_AGENT.step(Dir::Right), 8).contains(&GRID_LINE), "the floor beside it");
    }

    #[test]
    fn kinds_have_distinct_shapes_and_doors_distinct_states() {
        let mut room = empty_room();
        let colour = Colour::Green;
        let mut scenes: Vec<(Pos, Cell)> =
            ObjectKind::PORTABLE.iter().map(|&kind| (Pos::new(2, 2), Cell::Item(Object::new(colour, kind)))).collect();
        scenes.extend(
            [DoorState::Open, DoorState::Closed, DoorState::Locked].map(|s| (Pos::new(0, 3), Cell::Door(colour, s))),
        );
        let mut masks: Vec<Vec<bool>> = Vec::new();
        for (pos, cell) in scenes {
            room.set(pos, cell);
            masks.push(cell_pixels(&paint(&room, 8), pos, 8).iter().map(|&p| p == rgb(colour)).collect());
        }
        for (i, a) in masks.iter().enumerate() {
            assert!(a.iter().filter(|&&on| on).count() >= 8, "shape {i} is too faint");
            for b in &masks[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_carried_object_shows_in_the_corner_and_on_the_agent() {
        let mut room = empty_room();
        room.agent = Pos::new(3, 3);
        room.facing = Dir::Right;
        let key = Object::new(Colour::Purple, ObjectKind::Key);
        room.set(Pos::new(4, 3), Cell::Item(key));
        let before = paint(&room, 8);
        room.act(Act::Pickup);
        assert_eq!(room.carrying, Some(key));
        let after = paint(&room, 8);
        let purple = |image: &RgbImage, pos| cell_pixels(image, pos, 8).contains(&rgb(Colour::Purple));
        assert!(!purple(&before, CARRIED_CORNER) && purple(&after, CARRIED_CORNER));
        assert!(purple(&paint_ahead(&room, 8), CARRIED_CORNER), "the model sees it in the same corner");
        assert!(!purple(&before, room.agent) && purple(&after, room.agent));
        assert!(!purple(&after, Pos::new(4, 3)));
    }

    #[test]
    fn larger_paintings_scale_the_same_design() {
        let room = empty_room();
        let (small, large) = (paint(&room, 8), paint(&room, 16));
        assert_eq!((large.width(), large.height()), (128, 128));
        let upscaled = image::imageops::resize(&small, 128, 128, image::imageops::FilterType::Nearest);
        let same = large.pixels().zip(upscaled.pixels()).filter(|(a, b)| a == b).count();
        assert!(same as f32 / (128.0 * 128.0) > 0.97, "only {same} pixels agree");
    }
}
