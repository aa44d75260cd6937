//! Missions: the little language of instructions, which of its sentences training may
//! use and which are kept for evaluation, and when a mission is accomplished.
//!
//! The grammar, after BabyAI:
//!
//! ```text
//! mission := clause | clause " then " clause
//! clause  := "go to the " object        (any object, doors included)
//!          | "pick up the " portable
//!          | "open the " colour " door"
//!          | "put the " portable " next to the " object
//! object  := colour " " ("ball" | "box" | "key" | "door");  portable: not a door
//! colour  := red | green | blue | purple | yellow | grey
//! ```
//!
//! "then" is ordered: the second clause counts only once the first is done, and what
//! the first achieved may be undone afterwards.

use super::room::{Cell, Colour, DoorState, Object, ObjectKind, Room};
use rand::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    GoTo,
    PickUp,
    Open,
    PutNext,
}

impl Verb {
    pub const ALL: [Verb; 4] = [Verb::GoTo, Verb::PickUp, Verb::Open, Verb::PutNext];

    /// The verb as missions say it.
    pub fn words(self) -> &'static str {
        match self {
            Verb::GoTo => "go to",
            Verb::PickUp => "pick up",
            Verb::Open => "open",
            Verb::PutNext => "put next to",
        }
    }

    /// Every object this verb can act on: for "put ... next to" the object moved.
    pub fn subjects(self) -> impl Iterator<Item = Object> + Clone {
        every_object().filter(move |o| match self {
            Verb::GoTo => true,
            Verb::PickUp | Verb::PutNext => o.kind.is_portable(),
            Verb::Open => o.kind == ObjectKind::Door,
        })
    }
}

fn every_object() -> impl Iterator<Item = Object> + Clone {
    Colour::ALL.into_iter().flat_map(|c| ObjectKind::ALL.into_iter().map(move |k| Object::new(c, k)))
}

/// The (verb, object) pairs training never asks for; the held-out missions use them.
/// Training still shows each held-out object under other verbs, and each verb with
/// other objects of the same kind, so solving these tests composition, not new words.
/// For "put X next to Y" the pair is the verb and X.
pub const HELD_OUT: [(Verb, Object); 8] = [
    (Verb::GoTo, Object::new(Colour::Purple, ObjectKind::Box)),
    (Verb::GoTo, Object::new(Colour::Yellow, ObjectKind::Door)),
    (Verb::GoTo, Object::new(Colour::Grey, ObjectKind::Key)),
    (Verb::PickUp, Object::new(Colour::Red, ObjectKind::Ball)),
    (Verb::PickUp, Object::new(Colour::Green, ObjectKind::Key)),
    (Verb::Open, Object::new(Colour::Blue, ObjectKind::Door)),
    (Verb::PutNext, Object::new(Colour::Yellow, ObjectKind::Ball)),
    (Verb::PutNext, Object::new(Colour::Grey, ObjectKind::Box)),
];

/// Which missions to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissionSet {
    /// Missions with no held-out clause: the training data.
    Train,
    /// Missions with exactly one held-out clause (any other clause is a training one).
    HeldOut,
}

/// How often a mission has two clauses joined by "then".
const COMPOUND_PROBABILITY: f64 = 1.0 / 3.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clause {
    GoTo(Object),
    PickUp(Object),
    Open(Colour),
    PutNext { moved: Object, fixed: Object },
}

impl Clause {
    pub fn verb(&self) -> Verb {
        match self {
            Clause::GoTo(_) => Verb::GoTo,
            Clause::PickUp(_) => Verb::PickUp,
            Clause::Open(_) => Verb::Open,
            Clause::PutNext { .. } => Verb::PutNext,
        }
    }

    /// The object acted on: the one gone to, picked up, opened or moved.
    pub fn subject(&self) -> Object {
        match *self {
            Clause::GoTo(object) | Clause::PickUp(object) | Clause::PutNext { moved: object, .. } => object,
            Clause::Open(colour) => Object::new(colour, ObjectKind::Door),
        }
    }

    pub fn is_held_out(&self) -> bool {
        HELD_OUT.contains(&(self.verb(), self.subject()))
    }

    /// Whether the room shows this clause accomplished, as BabyAI's verifiers judge:
    /// facing the object, carrying it, the door open, or the moved object lying on the
    /// floor next to the other.
    pub fn satisfied(&self, room: &Room) -> bool {
        match *self {
            Clause::GoTo(object) => room.cell(room.front()).object() == Some(object),
            Clause::PickUp(object) => room.carrying == Some(object),
            Clause::Open(colour) => {
                let door = room.find(Object::new(colour, ObjectKind::Door)).map(|p| room.cell(p));
                door == Some(Cell::Door(colour, DoorState::Open))
            }
            Clause::PutNext { moved, fixed } => match (room.find(moved), room.find(fixed)) {
                (Some(a), Some(b)) => a.adjacent(b),
                _ => false,
            },
        }
    }

    /// Draws a clause for `verb` whose subject is held out or not, as asked.
    fn sample(verb: Verb, held_out: bool, rng: &mut impl Rng) -> Option<Clause> {
        let subject = pick(verb.subjects().filter(|&o| HELD_OUT.contains(&(verb, o)) == held_out), rng)?;
        Some(match verb {
            Verb::GoTo => Clause::GoTo(subject),
            Verb::PickUp => Clause::PickUp(subject),
            Verb::Open => Clause::Open(subject.colour),
            Verb::PutNext => {
                Clause::PutNext { moved: subject, fixed: pick(every_object().filter(|&o| o != subject), rng)? }
            }
        })
    }

    /// A training clause with a random verb.
    fn sample_training(rng: &mut impl Rng) -> Clause {
        let verb = Verb::ALL[rng.random_range(0..Verb::ALL.len())];
        // Every verb has training subjects (a test checks it), so the fallback is never used.
        Clause::sample(verb, false, rng).unwrap_or(Clause::GoTo(Object::new(Colour::Red, ObjectKind::Ball)))
    }

    fn sample_held_out(rng: &mut impl Rng) -> Clause {
        let (verb, subject) = HELD_OUT[rng.random_range(0..HELD_OUT.len())];
        match verb {
            Verb::GoTo => Clause::GoTo(subject),
            Verb::PickUp => Clause::PickUp(subject),
            Verb::Open => Clause::Open(subject.colour),
            Verb::PutNext => {
                let fixed = pick(every_object().filter(|&o| o != subject), rng);
                Clause::PutNext { moved: subject, fixed: fixed.unwrap_or(Object::new(Colour::Red, ObjectKind::Box)) }
            }
        }
    }

    fn parse(text: &str) -> Option<Clause> {
        if let Some(rest) = text.strip_prefix("go to the ") {
            return Some(Clause::GoTo(parse_object(rest)?));
        }
        if let Some(rest) = text.strip_prefix("pick up the ") {
            return parse_object(rest).filter(|o| o.kind.is_portable()).map(Clause::PickUp);
        }
        if let Some(rest) = text.strip_prefix("open the ") {
            return parse_object(rest).filter(|o| o.kind == ObjectKind::Door).map(|o| Clause::Open(o.colour));
        }
        let (moved, fixed) = text.strip_prefix("put the ")?.split_once(" next to the ")?;
        let (moved, fixed) = (parse_object(moved)?, parse_object(fixed)?);
        (moved.kind.is_portable() && moved != fixed).then_some(Clause::PutNext { moved, fixed })
    }
}

impl std::fmt::Display for Clause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Clause::GoTo(object) => write!(f, "go to the {object}"),
            Clause::PickUp(object) => write!(f, "pick up the {object}"),
            Clause::Open(colour) => write!(f, "open the {} door", colour.name()),
            Clause::PutNext { moved, fixed } => write!(f, "put the {moved} next to the {fixed}"),
        }
    }
}

fn parse_object(text: &str) -> Option<Object> {
    let (colour, kind) = text.split_once(' ')?;
    Some(Object::new(Colour::from_name(colour)?, ObjectKind::from_name(kind)?))
}

/// One of `items`, uniformly; `None` if there are none.
fn pick<T>(items: impl Iterator<Item = T> + Clone, rng: &mut impl Rng) -> Option<T> {
    let count = items.clone().count();
    if count == 0 {
        return None;
    }
    items.into_iter().nth(rng.random_range(0..count))
}

/// How much of a typed mission an error quotes.
const QUOTED_CHARS: usize = 60;

/// A typed mission outside the grammar: what was said, and what the room understands.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0} is not a mission this room understands. Missions look like \"go to the red ball\", \
     \"pick up the green key\", \"open the blue door\" or \"put the yellow box next to the grey ball\", \
     or two of them joined by \"then\". Colours: {colours}. Objects: {kinds} (doors cannot be picked up or moved).",
    colours = Colour::ALL.map(Colour::name).join(", "),
    kinds = ObjectKind::ALL.map(ObjectKind::name).join(", ")
)]
pub struct NotAMission(String);

/// Clauses to accomplish in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mission {
    pub clauses: Vec<Clause>,
}

impl Mission {
    pub fn sample(set: MissionSet, rng: &mut impl Rng) -> Mission {
        let compound = rng.random_bool(COMPOUND_PROBABILITY);
        let first = match set {
            MissionSet::Train => Clause::sample_training(rng),
            MissionSet::HeldOut => Clause::sample_held_out(rng),
        };
        let mut clauses = vec![first];
        if compound {
            // A repeated clause would be done the moment it starts; keep such draws single.
            let second = Clause::sample_training(rng);
            if second != first {
                clauses.push(second);
                if set == MissionSet::HeldOut && rng.random_bool(0.5) {
                    clauses.swap(0, 1);
                }
            }
        }
        Mission { clauses }
    }

    /// Reads a mission back from its text; `None` if it is not in the grammar.
    pub fn parse(text: &str) -> Option<Mission> {
        let clauses = text.split(" then ").map(Clause::parse).collect::<Option<Vec<_>>>()?;
        Some(Mission { clauses })
    }

    /// Reads a mission as a person types it, forgiving case, extra spaces and a final full
    /// stop; anything outside the grammar is an error that says what the room understands.
    pub fn read(text: &str) -> Result<Mission, NotAMission> {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        let normal = words.join(" ");
        let normal = normal.trim_end_matches(['.', '!']);
        Mission::parse(normal).ok_or_else(|| {
            let said = text.trim();
            NotAMission(if normal.is_empty() {
                "An empty mission".to_string()
            } else if let Some((cut, _)) = said.char_indices().nth(QUOTED_CHARS) {
                // A pasted essay is not echoed whole: its start says which text was meant.
                format!("\"{}…\" ({} characters)", said[..cut].trim_end(), said.chars().count())
            } else {
                format!("\"{said}\"")
            })
        })
    }

    pub fn is_held_out(&self) -> bool {
        self.clauses.iter().any(Clause::is_held_out)
    }

    /// Every object the mission names, each once.
    pub fn objects(&self) -> Vec<Object> {
        let mut objects = Vec::new();
        for clause in &self.clauses {
            let named = match *clause {
                Clause::PutNext { moved, fixed } => [Some(moved), Some(fixed)],
                _ => [Some(clause.subject()), None],
            };
            for object in named.into_iter().flatten() {
                if !objects.contains(&object) {
                    objects.push(object);
                }
            }
        }
        objects
    }

    /// The colours of the doors the mission asks to open.
    pub fn doors_to_open(&self) -> Vec<Colour> {
        self.clauses.iter().filter_map(|c| if let Clause::Open(colour) = c { Some(*colour) } else { None }).collect()
    }
}

impl std::fmt::Display for Mission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" then ")?;
            }
            write!(f, "{clause}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;

    fn missions(set: MissionSet, count: u64) -> impl Iterator<Item = Mission> {
        (0..count).map(move |seed| Mission::sample(set, &mut Pcg64Mcg::seed_from_u64(seed)))
    }

    #[test]
    fn training_never_draws_a_held_out_pair_and_held_out_missions_always_hold_one() {
        for mission in missions(MissionSet::Train, 20_000) {
            assert!(!mission.is_held_out(), "training drew {mission}");
        }
        for mission in missions(MissionSet::HeldOut, 5_000) {
            assert_eq!(mission.clauses.iter().filter(|c| c.is_held_out()).count(), 1, "{mission}");
        }
    }

    #[test]
    fn every_held_out_pair_is_drawn_and_its_parts_are_trained() {
        let held_out: Vec<Mission> = missions(MissionSet::HeldOut, 5_000).collect();
        let train: Vec<Mission> = missions(MissionSet::Train, 20_000).collect();
        let train_clauses = || train.iter().flat_map(|m| m.clauses.iter());
        for (verb, object) in HELD_OUT {
            let drawn = held_out.iter().flat_map(|m| &m.clauses).any(|c| (c.verb(), c.subject()) == (verb, object));
            assert!(drawn, "{verb:?} {object} never drawn");
            let object_trained = train_clauses().any(|c| c.subject() == object && c.verb() != verb);
            let kind_trained = train_clauses().any(|c| c.verb() == verb && c.subject().kind == object.kind);
            assert!(object_trained && kind_trained, "{verb:?} {object} is not a recombination");
        }
    }

    #[test]
    fn training_covers_every_other_pair_and_both_mission_lengths() {
        let train: Vec<Mission> = missions(MissionSet::Train, 20_000).collect();
        for verb in Verb::ALL {
            for object in verb.subjects().filter(|&o| !HELD_OUT.contains(&(verb, o))) {
                let drawn = train.iter().flat_map(|m| &m.clauses).any(|c| (c.verb(), c.subject()) == (verb, object));
                assert!(drawn, "{verb:?} {object} never drawn in training");
            }
        }
        let compound = train.iter().filter(|m| m.clauses.len() == 2).count() as f64 / train.len() as f64;
        assert!((0.25..0.4).contains(&compound), "compound fraction {compound}");
    }

    #[test]
    fn mission_text_parses_back_to_the_same_mission() {
        for set in [MissionSet::Train, MissionSet::HeldOut] {
            for mission in missions(set, 2_000) {
                assert_eq!(Mission::parse(&mission.to_string()), Some(mission.clone()), "{mission}");
            }
        }
        assert_eq!(
            Mission::parse("put the green box next to the grey ball then open the yellow door"),
            Some(Mission {
                clauses: vec![
                    Clause::PutNext {
                        moved: Object::new(Colour::Green, ObjectKind::Box),
                        fixed: Object::new(Colour::Grey, ObjectKind::Ball)
                    },
                    Clause::Open(Colour::Yellow),
                ]
            })
        );
    }

    #[test]
    fn sentences_outside_the_grammar_do_not_parse() {
        for text in [
            "",
            "pick up the red door",
            "open the red ball",
            "go to the pink ball",
            "go to the red  ball",
            "put the red door next to the blue ball",
            "put the red ball next to the red ball",
            "go to the red ball then",
            "go to the red ball and open the blue door",
        ] {
            assert_eq!(Mission::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn typed_missions_forgive_case_spaces_and_a_full_stop_and_errors_say_the_grammar() {
        assert_eq!(Mission::read("  Go to the RED   ball. ").ok(), Mission::parse("go to the red ball"));
        let error = Mission::read("fly to the moon").unwrap_err().to_string();
        assert!(error.starts_with("\"fly to the moon\" is not a mission"), "{error}");
        assert!(error.contains("Colours: red, green, blue, purple, yellow, grey."), "{error}");
        assert!(Mission::read(" . ").unwrap_err().to_string().starts_with("An empty mission"));
        let essay = Mission::read(&"go to the red ball ".repeat(5000)).unwrap_err().to_string();
        assert!(
            essay.starts_with(
                "\"go to the red ball go to the red ball go to the red ball go…\" (94999 characters) is not"
            ),
            "{essay}"
        );
        assert!(essay.len() < 600, "{} bytes", essay.len());
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in ".{0,80}") {
            let _ = Mission::parse(&text);
        }
    }
}
