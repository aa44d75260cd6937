//! Paths through moving hazards, for the experts.
//!
//! In Freeway, Space Invaders, Asterix and Seaquest the hazards (cars, bombs, lyres,
//! sharks) move on fixed tracks, so an expert can predict where each will be for the
//! next few steps. The player's positions form a small grid, one bitset per row, and
//! one step moves the player at most one cell. Stepping the set of safely reachable
//! cells forward in time, then pruning the cells that die before the horizon, gives
//! every safe path at once; the expert follows one to the earliest goal it can reach.

/// The most rows a grid can have; a row holds up to 64 columns.
const MAX_ROWS: usize = 64;
/// The furthest ahead a plan looks, in steps.
const MAX_HORIZON: usize = 32;

/// A set of cells: bit `c` of `rows[r]` is the cell in row `r`, column `c`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cells {
    rows: [u64; MAX_ROWS],
}

impl Cells {
    pub const EMPTY: Cells = Cells { rows: [0; MAX_ROWS] };

    pub fn contains(&self, (row, col): (usize, usize)) -> bool {
        row < MAX_ROWS && col < 64 && self.rows[row] & (1 << col) != 0
    }

    /// Adds (`on`) or removes the columns `first..=last` of `row`, clipped to the grid.
    pub fn span(&mut self, row: i32, first: i32, last: i32, on: bool) {
        if !(0..MAX_ROWS as i32).contains(&row) || last < first.max(0) || first > 63 {
            return;
        }
        let (first, last) = (first.max(0) as u32, last.min(63) as u32);
        let bits = (u64::MAX >> (63 - (last - first))) << first;
        if on {
            self.rows[row as usize] |= bits;
        } else {
            self.rows[row as usize] &= !bits;
        }
    }

    /// The member nearest to `target` (Manhattan distance), the first in row order on ties.
    fn nearest(&self, (row, col): (usize, usize)) -> Option<(usize, usize)> {
        let mut best: Option<((usize, usize), usize)> = None;
        for (r, &row_bits) in self.rows.iter().enumerate() {
            let mut bits = row_bits;
            while bits != 0 {
                let c = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let distance = r.abs_diff(row) + c.abs_diff(col);
                if best.is_none_or(|(_, d)| distance < d) {
                    best = Some(((r, c), distance));
                }
            }
        }
        best.map(|(cell, _)| cell)
    }
}

/// One step of the player on the grid; rows grow downwards, columns rightwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    Stay,
    Up,
    Down,
    Left,
    Right,
}

const MOVES: [Move; 5] = [Move::Stay, Move::Up, Move::Down, Move::Left, Move::Right];

impl Move {
    /// The game's action for this move, given its actions for Stay, Up, Down, Left and Right.
    pub fn action(self, actions: [usize; 5]) -> usize {
        actions[MOVES.iter().position(|&m| m == self).unwrap_or(0)]
    }

    fn from(self, (row, col): (usize, usize)) -> Option<(usize, usize)> {
        match self {
            Move::Stay => Some((row, col)),
            Move::Up => Some((row.checked_sub(1)?, col)),
            Move::Down => Some((row + 1, col)),
            Move::Left => Some((row, col.checked_sub(1)?)),
            Move::Right => Some((row, col + 1)),
        }
    }
}

/// What the expert should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The first move of the chosen path.
    pub first: Move,
    /// Steps until the goal is reached, if the path reaches one.
    pub goal_in: Option<usize>,
    /// For each move in the order Stay, Up, Down, Left, Right: whether it keeps the player
    /// alive as long as any path can.
    safe: [bool; 5],
}

impl Plan {
    pub fn is_safe(&self, step: Move) -> bool {
        MOVES.iter().zip(self.safe).any(|(&m, safe)| m == step && safe)
    }
}

/// The player's grid of positions.
#[derive(Clone, Copy, Debug)]
pub struct Grid {
    pub rows: usize,
    /// At most 64.
    pub cols: usize,
}

impl Grid {
    fn full(&self) -> Cells {
        let mut cells = Cells::EMPTY;
        for row in 0..self.rows.min(MAX_ROWS) {
            cells.span(row as i32, 0, self.cols.min(64) as i32 - 1, true);
        }
        cells
    }

    /// The cells of `within` one move (or none) away from `cells`.
    fn step(&self, cells: &Cells, within: &Cells) -> Cells {
        let mut out = Cells::EMPTY;
        let rows = self.rows.min(MAX_ROWS);
        for row in 0..rows {
            let here = cells.rows[row];
            let mut bits = here | here << 1 | here >> 1;
            if row > 0 {
                bits |= cells.rows[row - 1];
            }
            if row + 1 < rows {
                bits |= cells.rows[row + 1];
            }
            out.rows[row] = bits & within.rows[row];
        }
        out
    }

    /// The cells in both sets.
    fn both(&self, a: &Cells, b: &Cells) -> Cells {
        let mut out = Cells::EMPTY;
        for row in 0..self.rows.min(MAX_ROWS) {
            out.rows[row] = a.rows[row] & b.rows[row];
        }
        out
    }

    /// Plans from `start` over `horizon` steps. `clear_hazards(t, safe)` removes from `safe`
    /// (the whole grid) the cells where the player would be hit at step `t`;
    /// `mark_goals(t, goals)` adds the cells that reach a goal at step `t`. Without a
    /// reachable goal the plan heads for the surviving cell nearest to `fallback`.
    pub fn plan(
        &self,
        start: (usize, usize),
        horizon: usize,
        mut clear_hazards: impl FnMut(usize, &mut Cells),
        mut mark_goals: impl FnMut(usize, &mut Cells),
        fallback: (usize, usize),
    ) -> Plan {
        let horizon = horizon.min(MAX_HORIZON);
        let mut reach = [Cells::EMPTY; MAX_HORIZON + 1];
        reach[0].span(start.0 as i32, start.1 as i32, start.1 as i32, true);
        let full = self.full();
        let mut last = 0;
        for t in 1..=horizon {
            let mut safe = full;
            clear_hazards(t, &mut safe);
            // `safe` lies within the grid, so stepping within it also keeps to the grid.
            reach[t] = self.step(&reach[t - 1], &safe);
            if reach[t].rows.iter().take(self.rows).all(|&bits| bits == 0) {
                break;
            }
            last = t;
        }
        let stay = Plan { first: Move::Stay, goal_in: None, safe: [false; 5] };
        if last == 0 {
            return stay;
        }
        // Keep only the cells from which some path survives until `last`.
        let mut alive = reach;
        for t in (0..last).rev() {
            alive[t] = self.step(&alive[t + 1], &reach[t]);
        }
        let safe = MOVES.map(|m| m.from(start).is_some_and(|cell| alive[1].contains(cell)));
        let goal = (1..=last).find_map(|t| {
            let mut goals = Cells::EMPTY;
            mark_goals(t, &mut goals);
            self.both(&goals, &alive[t]).nearest(start).map(|cell| (t, cell))
        });
        let (t, target) = match goal {
            Some(found) => found,
            None => match alive[last].nearest(fallback) {
                Some(cell) => (last, cell),
                None => return stay,
            },
        };
        // Walk back from the target to the first step: every alive cell has an alive
        // predecessor, and moves are symmetric, so predecessors are neighbours. Staying
        // is tried first, which makes the path move as early as it can.
        let mut cell = target;
        for s in (1..t).rev() {
            match MOVES.iter().find_map(|m| m.from(cell).filter(|&p| alive[s].contains(p))) {
                Some(previous) => cell = previous,
                None => return Plan { safe, ..stay },
            }
        }
        let first = MOVES.into_iter().find(|m| m.from(start) == Some(cell)).unwrap_or(Move::Stay);
        Plan { first, goal_in: goal.map(|(t, _)| t), safe }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_a_gap_then_goes() {
        // A one-column corridor of 5 rows; the player starts at the bottom (row 4) and
        // wants row 0. Row 2 is blocked during steps 1..=3.
        let grid = Grid { rows: 5, cols: 1 };
        let plan = grid.plan(
            (4, 0),
            10,
            |t, safe| {
                if t <= 3 {
                    safe.span(2, 0, 0, false)
                }
            },
            |_, goals| goals.span(0, 0, 0, true),
            (0, 0),
        );
        assert_eq!(plan.goal_in, Some(6));
        assert!(plan.is_safe(Move::Up) && plan.is_safe(Move::Stay));
    }

    #[test]
    fn dodges_what_would_hit_it() {
        // A bomb lands on column 3 at step 1; the player standing there must step aside.
        let grid = Grid { rows: 1, cols: 8 };
        let plan = grid.plan((0, 3), 6, |t, safe| safe.span(0, 3, 3, t > 1), |_, _| {}, (0, 3));
        assert!(!plan.is_safe(Move::Stay));
        assert!(matches!(plan.first, Move::Left | Move::Right));
        assert!(!plan.is_safe(Move::Up), "moves off the grid are never safe");
    }

    #[test]
    fn doomed_player_stays() {
        let grid = Grid { rows: 2, cols: 2 };
        let plan = grid.plan((0, 0), 4, |_, safe| *safe = Cells::EMPTY, |_, _| {}, (1, 1));
        assert_eq!(plan.first, Move::Stay);
        assert!(!plan.is_safe(Move::Stay));
    }

    #[test]
    fn spans_clip_to_the_grid() {
        let mut cells = Cells::EMPTY;
        cells.span(-1, 0, 5, true);
        cells.span(70, 0, 5, true);
        cells.span(0, 60, 99, true);
        cells.span(1, -5, 1, true);
        assert!(cells.contains((0, 63)) && cells.contains((0, 60)) && !cells.contains((0, 59)));
        assert!(cells.contains((1, 0)) && cells.contains((1, 1)) && !cells.contains((1, 2)));
        cells.span(0, 0, 63, false);
        assert!(!cells.contains((0, 63)));
    }
}
