//! Grid instructions, after BabyAI: one room, a written mission, a discrete action.
//!
//! The agent sees the whole room from above (64x64, 8 pixels a cell), turned so that it
//! faces up, and reads a mission such as "put the green box next to the grey ball". It turns, steps, picks
//! up, drops and toggles until the mission is done or 64 steps pass. Success pays
//! BabyAI's reward, 1 - 0.9 * steps / 64, and nothing else pays; the score is that
//! reward, so the success rate is the share of positive scores.
//!
//! Two worlds share the rules: `grid` draws training missions, `grid_heldout` only
//! missions that use a (verb, object) pair training never shows (see
//! [`mission::HELD_OUT`]), to measure whether the model composes what it learned.
//!
//! Every episode is solvable: a room is furnished for its mission and kept only if the
//! expert, replaying it privately, succeeds within the cap (almost every room passes).

mod expert;
pub mod mission;
mod picture;
mod room;

pub use mission::{Clause, Mission, MissionSet, Verb};
pub use room::{Act, Colour, Object, ObjectKind};

use super::{ActionSpec, Kind, World, WorldSpec};
use crate::tokens::{Action, Observation};
use image::RgbaImage;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use room::{Cell, Pos, Room};

pub const MAX_STEPS: u32 = 64;
/// Pixels per cell in the model's view (64x64, heading up around the agent) and in the page's render (128x128, north up).
const VIEW_CELL: u32 = 8;
const RENDER_CELL: u32 = 16;
/// Rooms tried per episode. A room is redrawn when its mission already holds (the agent
/// starts facing its target, say) or the expert cannot finish it (no room in 4,000 drawn
/// when this was written), so 32 tries do not run out; if they did, the last room is
/// kept rather than looping on.
const FURNISH_ATTEMPTS: u32 = 32;
/// Mixed into an episode's seed to choose what it holds when it starts astray, apart from
/// the draws that furnished its room.
const ASTRAY_STREAM: u64 = 0xa57a_a57a_a57a_a57a;

/// Both grid worlds.
pub fn all() -> Vec<Box<dyn World>> {
    vec![Box::new(Grid::new(MissionSet::Train)), Box::new(Grid::new(MissionSet::HeldOut))]
}

/// One episode's state: the room, the mission and how far along it is.
#[derive(Clone, Debug)]
struct Episode {
    room: Room,
    mission: Mission,
    /// Clauses accomplished so far, in order.
    progress: usize,
    steps: u32,
}

impl Episode {
    /// The episode for `seed`: its mission, then a room for it.
    fn generate(set: MissionSet, seed: u64) -> Episode {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mission = Mission::sample(set, &mut rng);
        Episode::for_mission(mission, &mut rng)
    }

    /// The first furnished room that poses the mission and that the expert solves.
    fn for_mission(mission: Mission, rng: &mut Pcg64Mcg) -> Episode {
        let mut episode = Episode::furnished(mission.clone(), rng);
        for _ in 1..FURNISH_ATTEMPTS {
            if episode.poses_mission() && episode.expert_succeeds() {
                break;
            }
            episode = Episode::furnished(mission.clone(), rng);
        }
        episode
    }

    fn furnished(mission: Mission, rng: &mut Pcg64Mcg) -> Episode {
        Episode { room: Room::furnish(&mission, rng), mission, progress: 0, steps: 0 }
    }

    /// This episode begun with the agent holding an object its mission has no use for, as a
    /// learner does that picked up the wrong one. The expert's own episodes hold one only
    /// after a rare noisy pickup, so they seldom show it put down; a model trained on them
    /// alone carried such objects for most of its steps (models/recipe/RUNS.md,
    /// `grid-astray`). Unchanged when the room has no such object or the expert could not
    /// finish from there.
    fn astray(self, seed: u64) -> Episode {
        let (named, doors) = (self.mission.objects(), self.mission.doors_to_open());
        let needed = |object: Object| {
            named.contains(&object) || (object.kind == ObjectKind::Key && doors.contains(&object.colour))
        };
        let loose: Vec<Pos> =
            Pos::all().filter(|&p| matches!(self.room.cell(p), Cell::Item(object) if !needed(object))).collect();
        if loose.is_empty() {
            return self;
        }
        let lifted = loose[Pcg64Mcg::seed_from_u64(seed ^ ASTRAY_STREAM).random_range(0..loose.len())];
        let mut astray = self.clone();
        astray.room.carrying = self.room.cell(lifted).object();
        astray.room.set(lifted, Cell::Floor);
        if astray.poses_mission() && astray.expert_succeeds() { astray } else { self }
    }

    /// Whether the mission asks for something: its first clause does not hold already.
    fn poses_mission(&self) -> bool {
        !self.mission.clauses.first().is_some_and(|c| c.satisfied(&self.room))
    }

    /// Whether the expert, from here, completes the mission before the cap.
    fn expert_succeeds(&self) -> bool {
        let mut trial = self.clone();
        while !trial.done() {
            trial.act(trial.expert());
        }
        trial.succeeded()
    }

    /// Acts, then marks off every clause now satisfied (one action may finish several),
    /// and returns the reward.
    fn act(&mut self, act: Act) -> f32 {
        if self.done() {
            return 0.0;
        }
        self.room.act(act);
        self.steps += 1;
        while self.mission.clauses.get(self.progress).is_some_and(|c| c.satisfied(&self.room)) {
            self.progress += 1;
        }
        if self.succeeded() { 1.0 - 0.9 * self.steps as f32 / MAX_STEPS as f32 } else { 0.0 }
    }

    fn succeeded(&self) -> bool {
        self.progress >= self.mission.clauses.len()
    }

    fn done(&self) -> bool {
        self.succeeded() || self.steps >= MAX_STEPS
    }

    fn expert(&self) -> Act {
        match self.mission.clauses.get(self.progress) {
            Some(clause) => expert::next_action(&self.room, clause),
            None => Act::Done,
        }
    }
}

pub struct Grid {
    set: MissionSet,
    episode: Episode,
    /// The mission's text, kept so each observation only copies it.
    text: String,
    score: f32,
}

impl Grid {
    pub fn new(set: MissionSet) -> Grid {
        let episode = Episode::generate(set, 0);
        Grid { set, text: episode.mission.to_string(), episode, score: 0.0 }
    }

    /// The current mission.
    pub fn mission(&self) -> &Mission {
        &self.episode.mission
    }

    /// Starts an episode for a mission chosen from outside (a visitor's typed instruction) in
    /// a room furnished for it from `seed`, checked as `reset` checks the rooms it draws.
    pub fn reset_with_mission(&mut self, mission: Mission, seed: u64) {
        self.begin(Episode::for_mission(mission, &mut Pcg64Mcg::seed_from_u64(seed)));
    }

    fn begin(&mut self, episode: Episode) {
        self.text = episode.mission.to_string();
        self.episode = episode;
        self.score = 0.0;
    }
}

impl World for Grid {
    fn spec(&self) -> WorldSpec {
        let (name, description) = match self.set {
            MissionSet::Train => {
                ("grid", "BabyAI-style room: read the mission (go to, pick up, open, put next to) and carry it out.")
            }
            MissionSet::HeldOut => (
                "grid_heldout",
                "The grid room with missions held out of training, to test whether the agent composes what it learned.",
            ),
        };
        WorldSpec {
            name,
            kind: Kind::Grid,
            action: ActionSpec::Discrete { labels: Act::ALL.iter().map(|a| a.label()).collect() },
            description,
            max_steps: MAX_STEPS,
        }
    }

    fn reset(&mut self, seed: u64) {
        self.begin(Episode::generate(self.set, seed));
    }

    fn reset_astray(&mut self, seed: u64) {
        self.begin(Episode::generate(self.set, seed).astray(seed));
    }

    fn observe(&self) -> Observation {
        Observation {
            text: Some(self.text.clone()),
            image: Some(picture::paint_ahead(&self.episode.room, VIEW_CELL)),
            ..Observation::default()
        }
    }

    fn step(&mut self, action: &Action) -> f32 {
        let act = match action {
            Action::Discrete(a) if a.len() == 1 => Act::from_index(a[0]),
            _ => Act::Done,
        };
        let reward = self.episode.act(act);
        self.score += reward;
        reward
    }

    fn render(&self) -> RgbaImage {
        image::DynamicImage::from(picture::paint(&self.episode.room, RENDER_CELL)).to_rgba8()
    }

    fn score(&self) -> f32 {
        self.score
    }

    fn done(&self) -> bool {
        self.episode.done()
    }

    fn expert(&self) -> Action {
        Action::Discrete(vec![self.episode.expert().index()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::Rng;

    /// Plays one episode with `policy` and returns its score.
    fn play(world: &mut Grid, seed: u64, policy: impl FnMut(&Grid) -> Action) -> f32 {
        world.reset(seed);
        play_on(world, policy)
    }

    /// Plays the episode already under way to its end and returns its score.
    fn play_on(world: &mut Grid, mut policy: impl FnMut(&Grid) -> Action) -> f32 {
        while !world.done() {
            let action = policy(world);
            world.step(&action);
        }
        world.score()
    }

    fn random_policy(seed: u64) -> impl FnMut(&Grid) -> Action {
        let mut rng = Pcg64Mcg::seed_from_u64(seed ^ 0x5eed);
        move |_| Action::Discrete(vec![rng.random_range(0..Act::ALL.len() as u32)])
    }

    fn mean(scores: &[f32]) -> f32 {
        scores.iter().sum::<f32>() / scores.len() as f32
    }

    fn success_rate(scores: &[f32]) -> f32 {
        scores.iter().filter(|&&s| s > 0.0).count() as f32 / scores.len() as f32
    }

    /// 100 single-clause missions of `verb`, from seeds 0, 1, ...
    fn missions_of(verb: Verb) -> impl Iterator<Item = (Mission, Pcg64Mcg)> {
        (0..).filter_map(move |seed| {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let mission = Mission::sample(MissionSet::Train, &mut rng);
            (mission.clauses.len() == 1 && mission.clauses[0].verb() == verb).then_some((mission, rng))
        })
    }

    #[test]
    fn the_expert_solves_100_missions_of_every_verb_even_in_unchecked_rooms() {
        for verb in Verb::ALL {
            let (mut posed, mut solved) = (0, 0);
            for (mission, mut rng) in missions_of(verb).take(100) {
                // A room as furnished, before the world's solvability check.
                let raw = Episode::furnished(mission.clone(), &mut rng);
                if raw.poses_mission() {
                    posed += 1;
                    solved += raw.expert_succeeds() as u32;
                }
                let mut episode = Episode::for_mission(mission.clone(), &mut rng);
                while !episode.done() {
                    episode.act(episode.expert());
                }
                assert!(episode.succeeded(), "{mission}");
            }
            assert!(solved as f32 >= 0.98 * posed as f32, "{verb:?}: expert solved {solved}/{posed} unchecked rooms");
        }
    }

    #[test]
    fn every_generated_episode_is_solved_by_the_expert_with_the_babyai_reward() {
        for set in [MissionSet::Train, MissionSet::HeldOut] {
            let mut world = Grid::new(set);
            for seed in 0..100 {
                let score = play(&mut world, seed, |w| w.expert());
                let steps = world.episode.steps;
                assert!(world.episode.succeeded(), "{set:?} seed {seed}: {}", world.text);
                assert_eq!(score, 1.0 - 0.9 * steps as f32 / MAX_STEPS as f32);
            }
        }
    }

    #[test]
    fn the_expert_beats_random_play_by_a_wide_margin() {
        for set in [MissionSet::Train, MissionSet::HeldOut] {
            let mut world = Grid::new(set);
            let expert: Vec<f32> = (0..40).map(|seed| play(&mut world, seed, |w| w.expert())).collect();
            let random: Vec<f32> = (0..40).map(|seed| play(&mut world, seed, random_policy(seed))).collect();
            assert_eq!(success_rate(&expert), 1.0);
            assert!(mean(&expert) > 0.6, "{set:?} expert mean {}", mean(&expert));
            assert!(success_rate(&random) < 0.3, "{set:?} random success {}", success_rate(&random));
            assert!(mean(&expert) > 3.0 * mean(&random));
        }
    }

    #[test]
    fn the_heldout_world_only_asks_held_out_missions() {
        let mut train = Grid::new(MissionSet::Train);
        let mut held_out = Grid::new(MissionSet::HeldOut);
        assert_eq!((train.spec().name, held_out.spec().name), ("grid", "grid_heldout"));
        for seed in 0..200 {
            train.reset(seed);
            held_out.reset(seed);
            assert!(!train.mission().is_held_out());
            assert!(held_out.mission().is_held_out());
            assert_eq!(Mission::parse(train.observe().text.as_deref().unwrap_or("")).as_ref(), Some(train.mission()));
        }
    }

    #[test]
    fn same_seed_and_actions_give_the_same_episode() {
        let run = |seed: u64| {
            let mut world = Grid::new(MissionSet::Train);
            world.reset(seed);
            let mut policy = random_policy(seed);
            let mut frames = Vec::new();
            while !world.done() {
                let observation = world.observe();
                frames.push((observation.text, observation.image));
                let action = policy(&world);
                world.step(&action);
            }
            (frames, world.score())
        };
        for seed in [0, 7, 1234] {
            assert_eq!(run(seed), run(seed));
        }
        assert_ne!(run(1).0[0], run(2).0[0]);
    }

    #[test]
    fn episodes_end_at_the_cap_with_nothing() {
        let mut world = Grid::new(MissionSet::Train);
        world.reset(3);
        for _ in 0..MAX_STEPS {
            assert!(!world.done());
            assert_eq!(world.step(&Action::Discrete(vec![Act::Done.index()])), 0.0);
        }
        assert!(world.done());
        assert_eq!(world.score(), 0.0);
        world.step(&Action::Discrete(vec![Act::Forward.index()]));
        assert_eq!(world.episode.steps, MAX_STEPS);
    }

    #[test]
    fn frames_have_the_right_size_and_show_the_room() {
        let mut world = Grid::new(MissionSet::Train);
        world.reset(11);
        let observation = world.observe();
        let image = observation.image.expect("an image");
        assert_eq!((image.width(), image.height()), (64, 64));
        let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        colours.sort();
        colours.dedup();
        assert!(colours.len() >= 6, "only {} colours", colours.len());
        assert!(observation.text.is_some_and(|t| !t.is_empty()));
        let render = world.render();
        assert_eq!((render.width(), render.height()), (128, 128));
        assert!(render.pixels().any(|p| p.0 != render.get_pixel(0, 0).0));
    }

    #[test]
    fn a_typed_mission_gets_a_room_of_its_own_that_the_expert_solves() {
        let mut world = Grid::new(MissionSet::Train);
        for text in [
            "pick up the red ball",
            "open the blue door then go to the grey key",
            "put the green box next to the red door",
        ] {
            for seed in 0..20 {
                let mission = Mission::parse(text).expect(text);
                world.reset_with_mission(mission.clone(), seed);
                assert_eq!(world.mission(), &mission);
                assert_eq!(world.observe().text.as_deref(), Some(text));
                let first = world.observe().image;
                let score = play_on(&mut world, |w| w.expert());
                assert!(score > 0.0, "{text} seed {seed}");
                world.reset_with_mission(mission, seed);
                assert_eq!(world.observe().image, first, "the same seed furnishes the same room");
            }
        }
    }

    #[test]
    fn the_spec_lists_the_babyai_actions() {
        let spec = Grid::new(MissionSet::Train).spec();
        assert_eq!(spec.kind, Kind::Grid);
        let ActionSpec::Discrete { labels } = spec.action else { panic!("discrete actions") };
        assert_eq!(labels, ["left", "right", "forward", "pickup", "drop", "toggle", "done"]);
    }

    fn objects_in(room: &Room) -> Vec<Object> {
        let mut objects: Vec<Object> = Pos::all().filter_map(|p| room.cell(p).object()).chain(room.carrying).collect();
        objects.sort();
        objects
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_actions_keep_the_room_whole(seed in 0u64..1_000, actions in prop::collection::vec(0u32..10, 0..80)) {
            let mut world = Grid::new(MissionSet::Train);
            world.reset(seed);
            let objects = objects_in(&world.episode.room);
            for a in actions {
                let reward = world.step(&Action::Discrete(vec![a]));
                prop_assert!((0.0..=1.0).contains(&reward));
                let room = &world.episode.room;
                prop_assert!(room.agent.inside() && room.cell(room.agent).walkable());
                prop_assert!(!matches!(room.cell(room.agent), Cell::Item(_)));
                prop_assert_eq!(objects_in(room), objects.clone());
                prop_assert!(world.episode.steps <= MAX_STEPS);
            }
            world.step(&Action::Continuous(vec![f32::NAN]));
            world.step(&Action::Discrete(vec![]));
        }

    }

    #[test]
    fn an_episode_begun_astray_holds_what_its_mission_does_not_need_and_the_expert_puts_it_down() {
        let mut world = Grid::new(MissionSet::Train);
        let (mut astray, mut dropped) = (0, 0);
        for seed in 0..200 {
            world.reset(seed);
            let plain = world.episode.clone();
            assert_eq!(plain.room.carrying, None, "a plain start holds nothing");
            world.reset_astray(seed);
            let Some(held) = world.episode.room.carrying else {
                assert_eq!(world.episode.room, plain.room, "left as it was");
                continue;
            };
            astray += 1;
            assert!(!plain.mission.objects().contains(&held), "{held:?} for '{}'", plain.mission);
            assert!(!plain.mission.doors_to_open().iter().any(|&c| held == Object::new(c, ObjectKind::Key)));
            let lifted = plain.room.find(held).expect("lifted from the room's floor");
            assert_eq!(world.episode.room.cell(lifted), Cell::Floor);
            world.reset_astray(seed);
            assert_eq!(world.episode.room.carrying, Some(held), "the seed decides");
            while !world.done() {
                let action = world.expert();
                dropped += u32::from(action == Action::Discrete(vec![Act::Drop.index()]));
                world.step(&action);
            }
            assert!(world.episode.succeeded(), "the expert finishes from an astray start");
        }
        assert!(astray >= 150, "{astray} of 200 episodes began astray");
        assert!(dropped >= astray / 2, "the expert put something down {dropped} times in {astray} episodes");
    }

    #[test]
    fn the_expert_takes_over_after_random_play() {
        // What a model's mistakes leave behind: objects moved, doors toggled or locked
        // keys carried off. The expert gets a fresh step budget from there.
        let mut world = Grid::new(MissionSet::Train);
        let (mut tried, mut solved) = (0, 0);
        for seed in 0..200 {
            world.reset(seed);
            let mut policy = random_policy(seed);
            for _ in 0..30 {
                let action = policy(&world);
                world.step(&action);
            }
            if world.done() {
                continue;
            }
            world.episode.steps = 0;
            tried += 1;
            while !world.done() {
                let action = world.expert();
                world.step(&action);
            }
            solved += world.episode.succeeded() as u32;
        }
        assert!(solved as f32 >= 0.98 * tried as f32, "expert took over {solved}/{tried}");
    }
}
