//! The expert: reads the room (the privileged state) and plans the shortest way to the
//! current clause by breadth-first search over (cell, heading) states.
//!
//! Each clause breaks into "face this cell, then act": face the object and pick it up,
//! face the door and toggle it (fetching its key first if it is locked), face a bare
//! cell beside the anchor and drop. Routes are shortest for each stage; a clause that
//! needs free hands first puts down what it carries at the nearest spot that blocks
//! nothing it needs. Objects block the way; when they wall the target off, the expert
//! lifts one aside. It plans stage by stage, so a compound mission is solved by
//! shortest stages rather than one jointly shortest route.

use super::mission::Clause;
use super::room::{Act, Cell, Dir, DoorState, Object, ObjectKind, Pos, Room, SIZE};

/// The expert's next action for `clause`, which the room does not yet satisfy.
pub fn next_action(room: &Room, clause: &Clause) -> Act {
    match *clause {
        // Dropping it in front of the agent is going to it.
        Clause::GoTo(target) if room.carrying == Some(target) => put_down(room, [None, None]),
        // Facing the target is the goal itself, so arriving never happens here.
        Clause::GoTo(target) => act_on(room, target, Act::Done),
        Clause::PickUp(target) => fetch(room, target, None),
        Clause::Open(colour) => {
            let door = Object::new(colour, ObjectKind::Door);
            let Some(door_pos) = room.find(door) else { return Act::Done };
            let key = Object::new(colour, ObjectKind::Key);
            let locked = room.cell(door_pos) == Cell::Door(colour, DoorState::Locked);
            // Clear the way to the door (if need be) before taking the key: hands
            // holding the key cannot lift what stands in front of the door.
            if locked && room.carrying != Some(key) && faceable(room, door_pos) {
                fetch(room, key, Some(door_pos))
            } else {
                act_on(room, door, Act::Toggle)
            }
        }
        Clause::PutNext { moved, fixed } => {
            let Some(anchor) = room.find(fixed) else { return fetch(room, moved, None) };
            // Like the door, make room beside the anchor before taking the object.
            match route(room, |_, front| room.droppable(front) && front.adjacent(anchor)) {
                Route::Unreachable => clear_way(room, anchor),
                _ if room.carrying != Some(moved) => fetch(room, moved, Some(anchor)),
                Route::Arrived => Act::Drop,
                Route::First(act) => act,
            }
        }
    }
}

/// Gets `target` into the agent's hands, first putting down anything else held where
/// it blocks neither the target nor `also_needed`.
fn fetch(room: &Room, target: Object, also_needed: Option<Pos>) -> Act {
    match (room.carrying, room.find(target)) {
        (Some(held), _) if held == target => Act::Done,
        (Some(_), Some(pos)) => put_down(room, [Some(pos), also_needed]),
        (None, _) => act_on(room, target, Act::Pickup),
        (Some(_), None) => Act::Done,
    }
}

/// Walks to face `target`, then does `act`.
fn act_on(room: &Room, target: Object, act: Act) -> Act {
    let Some(pos) = room.find(target) else { return Act::Done };
    match route(room, |_, front| front == pos) {
        Route::Arrived => act,
        Route::First(step) => step,
        Route::Unreachable => clear_way(room, pos),
    }
}

/// Drops what the agent carries at the nearest bare cell that leaves every `needed`
/// cell still reachable to face; any bare cell if none does.
fn put_down(room: &Room, needed: [Option<Pos>; 2]) -> Act {
    let Some(held) = room.carrying else { return Act::Done };
    let harmless = |stand: Pos, drop: Pos| {
        let mut after = room.clone();
        after.agent = stand;
        after.set(drop, Cell::Item(held));
        needed.iter().flatten().all(|&p| faceable(&after, p))
    };
    let mut plan = route(room, |stand, front| room.droppable(front) && harmless(stand, front));
    if plan == Route::Unreachable {
        plan = route(room, |_, front| room.droppable(front));
    }
    match plan {
        Route::Arrived => Act::Drop,
        Route::First(act) => act,
        Route::Unreachable => Act::Done,
    }
}

/// When objects wall `pos` off, lifts the nearest one whose removal opens the way (its
/// load then goes down where it blocks nothing). Hands must be free to lift it.
fn clear_way(room: &Room, pos: Pos) -> Act {
    if room.carrying.is_some() {
        return put_down(room, [Some(pos), None]);
    }
    let opens_the_way = |stand: Pos, lifted: Pos| {
        if !matches!(room.cell(lifted), Cell::Item(_)) {
            return false;
        }
        let mut after = room.clone();
        after.agent = stand;
        after.set(lifted, Cell::Floor);
        faceable(&after, pos)
    };
    match route(room, opens_the_way) {
        Route::Arrived => Act::Pickup,
        Route::First(act) => act,
        Route::Unreachable => Act::Done,
    }
}

/// Whether the agent can get to face `pos`.
fn faceable(room: &Room, pos: Pos) -> bool {
    route(room, |_, front| front == pos) != Route::Unreachable
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    /// The agent already faces a goal cell.
    Arrived,
    /// The first action of a shortest route to face one.
    First(Act),
    Unreachable,
}

const STATES: usize = (SIZE * SIZE) as usize * 4;

/// Breadth-first search from the agent over (cell, heading) states, moving by left,
/// right and forward, for the nearest state where `goal(standing, front)` holds. Fixed
/// arrays keep it free of allocation: the expert runs at every step of every episode.
fn route(room: &Room, goal: impl Fn(Pos, Pos) -> bool) -> Route {
    let state = |pos: Pos, dir: Dir| pos.index() * 4 + dir.index();
    if !room.agent.inside() {
        return Route::Unreachable;
    }
    if goal(room.agent, room.front()) {
        return Route::Arrived;
    }
    let mut first: [Option<Act>; STATES] = [None; STATES];
    let mut seen = [false; STATES];
    let mut queue = [(room.agent, room.facing); STATES];
    let (mut head, mut tail) = (0, 1);
    seen[state(room.agent, room.facing)] = true;
    while head < tail {
        let (pos, dir) = queue[head];
        head += 1;
        for act in [Act::Forward, Act::Left, Act::Right] {
            let (next_pos, next_dir) = match act {
                Act::Forward if room.cell(pos.step(dir)).walkable() => (pos.step(dir), dir),
                Act::Left => (pos, dir.turned_left()),
                Act::Right => (pos, dir.turned_right()),
                _ => continue,
            };
            let next = state(next_pos, next_dir);
            if seen[next] {
                continue;
            }
            seen[next] = true;
            // Every state is queued once, so the queue never overflows.
            let origin = first[state(pos, dir)].unwrap_or(act);
            if goal(next_pos, next_pos.step(next_dir)) {
                return Route::First(origin);
            }
            first[next] = Some(origin);
            queue[tail] = (next_pos, next_dir);
            tail += 1;
        }
    }
    Route::Unreachable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::grid::mission::Mission;
    use crate::envs::grid::room::Colour;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    #[test]
    fn routes_are_shortest() {
        let mission = Mission { clauses: vec![Clause::GoTo(Object::new(Colour::Red, ObjectKind::Ball))] };
        let mut room = Room::furnish(&mission, &mut Pcg64Mcg::seed_from_u64(0));
        room.clear_floor();
        room.agent = Pos::new(1, 1);
        room.facing = Dir::Up;
        // Facing (5, 5) from (1, 1): turn, four steps, turn, three steps (facing it from (5, 4)).
        let target = Pos::new(5, 5);
        let mut steps = 0;
        while room.front() != target && steps < 20 {
            let Route::First(act) = route(&room, |_, front| front == target) else { panic!("no route") };
            room.act(act);
            steps += 1;
        }
        assert_eq!(steps, 9);
    }
}
