//! The room: an 8x8 grid of cells (a ring of walls around a 6x6 floor), the objects
//! in it, the agent who moves about, and how a room is furnished for a mission.
//!
//! The rules follow BabyAI's single rooms. The agent stands on a floor cell and faces
//! one of four directions. It acts on the cell in front of it: it walks onto empty
//! floor or through an open door, picks up a ball, a box or a key (one at a time),
//! drops what it carries onto empty floor, and toggles doors: a closed door opens, an
//! open one closes, and a locked one opens only for the key of its colour.

use super::mission::Mission;
use rand::Rng;

/// Cells per side, walls included.
pub const SIZE: i32 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Colour {
    Red,
    Green,
    Blue,
    Purple,
    Yellow,
    Grey,
}

impl Colour {
    pub const ALL: [Colour; 6] =
        [Colour::Red, Colour::Green, Colour::Blue, Colour::Purple, Colour::Yellow, Colour::Grey];

    pub fn name(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Purple => "purple",
            Colour::Yellow => "yellow",
            Colour::Grey => "grey",
        }
    }

    pub fn from_name(name: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Ball,
    Box,
    Key,
    Door,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 4] = [ObjectKind::Ball, ObjectKind::Box, ObjectKind::Key, ObjectKind::Door];
    /// What the agent can carry; doors stay in their walls.
    pub const PORTABLE: [ObjectKind; 3] = [ObjectKind::Ball, ObjectKind::Box, ObjectKind::Key];

    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Ball => "ball",
            ObjectKind::Box => "box",
            ObjectKind::Key => "key",
            ObjectKind::Door => "door",
        }
    }

    pub fn from_name(name: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.name() == name)
    }

    pub fn is_portable(self) -> bool {
        self != ObjectKind::Door
    }
}

/// A coloured object. No room holds two objects of the same colour and kind, so
/// "the red ball" always names exactly one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Object {
    pub colour: Colour,
    pub kind: ObjectKind,
}

impl Object {
    pub const fn new(colour: Colour, kind: ObjectKind) -> Object {
        Object { colour, kind }
    }
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.colour.name(), self.kind.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DoorState {
    Open,
    Closed,
    Locked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Floor,
    Wall,
    /// A ball, a box or a key lying on the floor.
    Item(Object),
    Door(Colour, DoorState),
}

impl Cell {
    /// The object this cell shows, doors included.
    pub fn object(self) -> Option<Object> {
        match self {
            Cell::Item(object) => Some(object),
            Cell::Door(colour, _) => Some(Object::new(colour, ObjectKind::Door)),
            Cell::Floor | Cell::Wall => None,
        }
    }

    /// Whether the agent may stand here.
    pub fn walkable(self) -> bool {
        matches!(self, Cell::Floor | Cell::Door(_, DoorState::Open))
    }
}

/// The four headings, clockwise from east, so turning right adds one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Right,
    Down,
    Left,
    Up,
}

impl Dir {
    pub const ALL: [Dir; 4] = [Dir::Right, Dir::Down, Dir::Left, Dir::Up];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn turned_right(self) -> Dir {
        Dir::ALL[(self.index() + 1) % 4]
    }

    pub fn turned_left(self) -> Dir {
        Dir::ALL[(self.index() + 3) % 4]
    }

    /// The step in (x, y), with y growing downwards as in the picture.
    pub fn delta(self) -> (i32, i32) {
        match self {
            Dir::Right => (1, 0),
            Dir::Down => (0, 1),
            Dir::Left => (-1, 0),
            Dir::Up => (0, -1),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pos {
    pub x: i32,
    pub y: i32,
}

impl Pos {
    pub const fn new(x: i32, y: i32) -> Pos {
        Pos { x, y }
    }

    pub fn step(self, dir: Dir) -> Pos {
        let (dx, dy) = dir.delta();
        Pos::new(self.x + dx, self.y + dy)
    }

    /// Side by side: one step apart horizontally or vertically, as BabyAI counts "next to".
    pub fn adjacent(self, other: Pos) -> bool {
        (self.x - other.x).abs() + (self.y - other.y).abs() == 1
    }

    pub fn inside(self) -> bool {
        (0..SIZE).contains(&self.x) && (0..SIZE).contains(&self.y)
    }

    /// The cell's number in raster order, for arrays over the grid.
    pub fn index(self) -> usize {
        (self.y * SIZE + self.x) as usize
    }

    /// Every cell of the grid, in raster order.
    pub fn all() -> impl Iterator<Item = Pos> {
        (0..SIZE).flat_map(|y| (0..SIZE).map(move |x| Pos::new(x, y)))
    }

    fn interior() -> impl Iterator<Item = Pos> {
        Pos::all().filter(|p| (1..SIZE - 1).contains(&p.x) && (1..SIZE - 1).contains(&p.y))
    }
}

/// What the agent can do, as BabyAI names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Left,
    Right,
    Forward,
    Pickup,
    Drop,
    Toggle,
    /// Does nothing: BabyAI's single-room tasks end by themselves when the goal is
    /// met, so "done" is the no-op, and any invalid action becomes it.
    Done,
}

impl Act {
    pub const ALL: [Act; 7] = [Act::Left, Act::Right, Act::Forward, Act::Pickup, Act::Drop, Act::Toggle, Act::Done];

    pub fn label(self) -> &'static str {
        match self {
            Act::Left => "left",
            Act::Right => "right",
            Act::Forward => "forward",
            Act::Pickup => "pickup",
            Act::Drop => "drop",
            Act::Toggle => "toggle",
            Act::Done => "done",
        }
    }

    pub fn index(self) -> u32 {
        self as u32
    }

    pub fn from_index(index: u32) -> Act {
        Act::ALL.get(index as usize).copied().unwrap_or(Act::Done)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    cells: [Cell; (SIZE * SIZE) as usize],
    pub agent: Pos,
    pub facing: Dir,
    pub carrying: Option<Object>,
}

impl Room {
    /// The cell at `pos`; beyond the grid counts as wall.
    pub fn cell(&self, pos: Pos) -> Cell {
        if pos.inside() { self.cells[pos.index()] } else { Cell::Wall }
    }

    pub fn front(&self) -> Pos {
        self.agent.step(self.facing)
    }

    /// Where `object` is on the grid; `None` while it is carried (or absent).
    pub fn find(&self, object: Object) -> Option<Pos> {
        Pos::all().find(|&p| self.cell(p).object() == Some(object))
    }

    /// Whether something carried may be put down at `pos`: only on bare floor. (The
    /// agent's own cell counts as bare: it only ever drops in front of itself.)
    pub fn droppable(&self, pos: Pos) -> bool {
        self.cell(pos) == Cell::Floor
    }

    pub fn act(&mut self, act: Act) {
        let front = self.front();
        match (act, self.cell(front)) {
            (Act::Left, _) => self.facing = self.facing.turned_left(),
            (Act::Right, _) => self.facing = self.facing.turned_right(),
            (Act::Forward, cell) if cell.walkable() => self.agent = front,
            (Act::Pickup, Cell::Item(object)) if self.carrying.is_none() => {
                self.carrying = Some(object);
                self.set(front, Cell::Floor);
            }
            (Act::Drop, Cell::Floor) => {
                if let Some(object) = self.carrying.take() {
                    self.set(front, Cell::Item(object));
                }
            }
            (Act::Toggle, Cell::Door(colour, state)) => {
                let has_key = self.carrying == Some(Object::new(colour, ObjectKind::Key));
                let toggled = match state {
                    DoorState::Open => DoorState::Closed,
                    DoorState::Closed => DoorState::Open,
                    DoorState::Locked if has_key => DoorState::Open,
                    DoorState::Locked => DoorState::Locked,
                };
                self.set(front, Cell::Door(colour, toggled));
            }
            _ => {}
        }
    }

    /// Rewrites one cell; for furnishing, and for tests that stage a scene.
    pub(super) fn set(&mut self, pos: Pos, cell: Cell) {
        if pos.inside() {
            self.cells[pos.index()] = cell;
        }
    }

    /// Takes every ball, box and key off the floor, for tests that stage a scene.
    #[cfg(test)]
    pub(super) fn clear_floor(&mut self) {
        for cell in self.cells.iter_mut().filter(|c| matches!(c, Cell::Item(_))) {
            *cell = Cell::Floor;
        }
    }

    /// Furnishes a room for `mission`: every object it names, a key for each door it
    /// must open that is locked, distractors up to 4-8 floor objects and 1-4 doors
    /// (one per wall), and the agent somewhere on the floor facing any way. The room
    /// need not be solvable (objects may wall each other in); the world checks that.
    pub fn furnish(mission: &Mission, rng: &mut impl Rng) -> Room {
        let mut room = Room {
            cells: [Cell::Floor; (SIZE * SIZE) as usize],
            agent: Pos::new(1, 1),
            facing: Dir::Right,
            carrying: None,
        };
        for p in Pos::all().filter(|p| p.x == 0 || p.y == 0 || p.x == SIZE - 1 || p.y == SIZE - 1) {
            room.set(p, Cell::Wall);
        }
        let named = mission.objects();
        let to_open = mission.doors_to_open();

        let mut doors: Vec<Colour> = named.iter().filter(|o| o.kind == ObjectKind::Door).map(|o| o.colour).collect();
        let door_count = rng.random_range(doors.len().max(1)..=4);
        while doors.len() < door_count {
            push_unused(&mut doors, &Colour::ALL, rng);
        }
        let mut items: Vec<Object> = named.iter().copied().filter(|o| o.kind.is_portable()).collect();
        let mut walls = Dir::ALL;
        shuffle(&mut walls, rng);
        for (&colour, wall) in doors.iter().zip(walls) {
            let state = if to_open.contains(&colour) {
                if rng.random_bool(0.5) { DoorState::Locked } else { DoorState::Closed }
            } else {
                [DoorState::Open, DoorState::Closed, DoorState::Locked][rng.random_range(0..3)]
            };
            let key = Object::new(colour, ObjectKind::Key);
            if state == DoorState::Locked && to_open.contains(&colour) && !items.contains(&key) {
                items.push(key);
            }
            let along = rng.random_range(1..SIZE - 1);
            let pos = match wall {
                Dir::Right => Pos::new(SIZE - 1, along),
                Dir::Down => Pos::new(along, SIZE - 1),
                Dir::Left => Pos::new(0, along),
                Dir::Up => Pos::new(along, 0),
            };
            room.set(pos, Cell::Door(colour, state));
        }

        let item_count = rng.random_range(4..=8).max(items.len());
        let portable: Vec<Object> =
            Colour::ALL.iter().flat_map(|&c| ObjectKind::PORTABLE.map(|k| Object::new(c, k))).collect();
        while items.len() < item_count {
            push_unused(&mut items, &portable, rng);
        }

        room.agent = random_free_cell(&room, rng, |_| true);
        room.facing = Dir::ALL[rng.random_range(0..4)];
        for object in items {
            let pos = random_free_cell(&room, rng, |p| !room.in_doorway(p));
            room.set(pos, Cell::Item(object));
        }
        room
    }

    /// Whether `pos` is the floor cell just inside a door, kept clear when furnishing.
    fn in_doorway(&self, pos: Pos) -> bool {
        Dir::ALL.into_iter().any(|d| matches!(self.cell(pos.step(d)), Cell::Door(..)))
    }
}

/// Adds a random element of `pool` that `list` lacks (if any is left).
fn push_unused<T: Copy + PartialEq>(list: &mut Vec<T>, pool: &[T], rng: &mut impl Rng) {
    let unused = pool.iter().filter(|x| !list.contains(x)).count();
    if unused > 0 {
        let choice = rng.random_range(0..unused);
        if let Some(&x) = pool.iter().filter(|x| !list.contains(x)).nth(choice) {
            list.push(x);
        }
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut impl Rng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.random_range(0..=i));
    }
}

/// A bare floor cell the agent does not stand on, among those `allowed`. There is
/// always one: of the 36 floor cells at most 4 are doorways, 1 the agent's, 8 objects'.
fn random_free_cell(room: &Room, rng: &mut impl Rng, allowed: impl Fn(Pos) -> bool) -> Pos {
    let free = || Pos::interior().filter(|&p| room.droppable(p) && p != room.agent && allowed(p));
    let choice = rng.random_range(0..free().count().max(1));
    free().nth(choice).unwrap_or(room.agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::grid::mission::{Clause, MissionSet};
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn room_for(mission: &Mission, seed: u64) -> Room {
        Room::furnish(mission, &mut Pcg64Mcg::seed_from_u64(seed))
    }

    #[test]
    fn furnished_rooms_hold_every_named_object_once_and_keys_for_locked_doors() {
        for seed in 0..300 {
            let mission = Mission::sample(MissionSet::Train, &mut Pcg64Mcg::seed_from_u64(seed));
            let room = room_for(&mission, seed);
            let mut seen: Vec<Object> = Pos::all().filter_map(|p| room.cell(p).object()).collect();
            let total = seen.len();
            seen.sort();
            seen.dedup();
            assert_eq!(seen.len(), total, "duplicate object in {room:?}");
            for object in mission.objects() {
                assert!(room.find(object).is_some(), "{mission}: {object} missing");
            }
            for colour in mission.doors_to_open() {
                let door = room.find(Object::new(colour, ObjectKind::Door)).map(|p| room.cell(p));
                assert!(matches!(door, Some(Cell::Door(_, DoorState::Closed | DoorState::Locked))), "{mission}");
                if door == Some(Cell::Door(colour, DoorState::Locked)) {
                    assert!(room.find(Object::new(colour, ObjectKind::Key)).is_some(), "{mission}: no key");
                }
            }
            let items = Pos::all().filter(|&p| matches!(room.cell(p), Cell::Item(_))).count();
            assert!((4..=8).contains(&items));
            assert_eq!(room.cell(room.agent), Cell::Floor);
        }
    }

    #[test]
    fn locked_doors_open_only_for_their_key() {
        let mission = Mission { clauses: vec![Clause::Open(Colour::Blue)] };
        let mut room = room_for(&mission, 1);
        let door = room.find(Object::new(Colour::Blue, ObjectKind::Door)).expect("door");
        room.set(door, Cell::Door(Colour::Blue, DoorState::Locked));
        // Stand inside the door, facing it, with the wrong key and then the right one.
        let (inward, facing) = match door {
            Pos { x: 0, .. } => (Dir::Right, Dir::Left),
            Pos { x: 7, .. } => (Dir::Left, Dir::Right),
            Pos { y: 0, .. } => (Dir::Down, Dir::Up),
            _ => (Dir::Up, Dir::Down),
        };
        room.agent = door.step(inward);
        room.set(room.agent, Cell::Floor);
        room.facing = facing;
        room.carrying = Some(Object::new(Colour::Red, ObjectKind::Key));
        room.act(Act::Toggle);
        room.act(Act::Forward);
        assert_eq!(room.cell(door), Cell::Door(Colour::Blue, DoorState::Locked));
        assert_eq!(room.agent, door.step(inward));
        room.carrying = Some(Object::new(Colour::Blue, ObjectKind::Key));
        room.act(Act::Toggle);
        assert_eq!(room.cell(door), Cell::Door(Colour::Blue, DoorState::Open));
        room.act(Act::Forward);
        assert_eq!(room.agent, door, "an open door is walkable");
        room.act(Act::Forward);
        assert_eq!(room.agent, door, "nothing lies beyond the walls");
    }

    #[test]
    fn pickup_and_drop_move_one_object_at_a_time() {
        let mission = Mission { clauses: vec![Clause::PickUp(Object::new(Colour::Red, ObjectKind::Ball))] };
        let mut room = room_for(&mission, 3);
        let ball = Object::new(Colour::Red, ObjectKind::Ball);
        let key = Object::new(Colour::Grey, ObjectKind::Key);
        room.agent = Pos::new(3, 3);
        room.facing = Dir::Right;
        room.set(room.agent, Cell::Floor);
        room.set(Pos::new(4, 3), Cell::Item(ball));
        room.set(Pos::new(3, 4), Cell::Item(key));
        room.act(Act::Forward);
        assert_eq!(room.agent, Pos::new(3, 3), "objects block the way");
        room.act(Act::Pickup);
        assert_eq!((room.carrying, room.cell(Pos::new(4, 3))), (Some(ball), Cell::Floor));
        room.act(Act::Right);
        room.act(Act::Pickup);
        assert_eq!(room.carrying, Some(ball), "one object at a time");
        room.act(Act::Drop);
        assert_eq!(room.carrying, Some(ball), "cannot drop onto another object");
        room.act(Act::Left);
        room.act(Act::Drop);
        assert_eq!((room.carrying, room.cell(Pos::new(4, 3))), (None, Cell::Item(ball)));
    }
}
