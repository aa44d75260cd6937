//! Episodes: windows of expert play, the way Gato trains on them.
//!
//! A sequence from a world is a window of consecutive timesteps of one episode, each
//! `timestep(observation, expert's action)`, as many whole timesteps as the context holds.
//! The window's start is uniform over the starts that keep it whole, so every part of an
//! episode is seen, the opening and the end game alike (an episode shorter than the
//! context is taken whole and leaves the rest of the context as padding).
//!
//! # Playing once, cutting several windows
//!
//! An [`Episode`] is played through once, noting what the expert chose and what the world
//! executed; a window is then cut by replaying the executed actions up to its start (worlds
//! replay exactly from their seed and actions) and building observations for its steps
//! alone, since frames and patches are costly. The experts are the costliest part of all:
//! the planning game experts take 10-20 microseconds a step, so a 2000-step game costs
//! 20-40 ms to play while a window of 14 frames costs well under one. A [`Player`] therefore
//! cuts several windows from each episode it plays, as many as cover a quarter of the
//! episode's steps and at most [`MAX_WINDOWS_PER_EPISODE`], before it plays the next: long
//! games are reused eight times, short grid episodes never. Consecutive windows of one
//! episode are spread over the stream, since the tasks interleave.
//!
//! # DART noise
//!
//! Pure imitation only ever sees states the expert visits, so one early mistake puts the
//! model somewhere it has never been. DART (Laskey et al., 2017) fixes this cheaply: the
//! world executes a perturbed action, so the data shows the expert recovering from small
//! mistakes. The sequence shows the action as executed and labels it with the expert's
//! choice ([`SequenceBuilder::relabelled_action`]). Showing the expert's choice instead
//! taught the first trained model to copy its previous action: in the data the last action
//! predicts the next one almost always, and on its own the model repeated its first no-op
//! forever. With what was executed in view, the previous action is a worse guide than the
//! frame. [`Noise::DART`]:
//!
//! - discrete: with probability 0.25 the world executes a uniformly random action. Rarely
//!   enough that episodes still go the expert's way, often enough that the previous action
//!   is no shortcut and every episode of a few dozen steps holds many recoveries.
//! - continuous: every action gets Gaussian noise of sigma 0.2, clamped to [-1, 1]: a tenth
//!   of the action range, so the state is always a little off the expert's own trajectory,
//!   yet the experts shrug it off (they lose at most 2% of their score under it; a test
//!   checks they keep 85%).
//!
//! [`Noise::with_lapses`] adds lapses for discrete actions: at a given chance per step the
//! world starts holding one random action for [`LAPSE_STEPS`] steps, still labelled with
//! the expert's choices, as a cheap stand-in for the runs of one action a student falls
//! into. Training's noise has none: on Pong they cost teacher-forced accuracy and did not
//! move the closed loop (models/recipe/RUNS.md).
//!
//! [`Noise::with_astray`] starts a share of episodes astray ([`World::reset_astray`]): in a
//! state that noise of one step seldom reaches but a learner's mistakes do, such as a grid
//! agent holding an object its mission has no use for. The expert labels the way back as
//! it labels any state. It is off in [`Noise::DART`] and chosen per run (the recipe starts
//! half the episodes astray: on the grid alone that doubled the pick-up missions completed,
//! models/recipe/RUNS.md, `grid-astray`).
//!
//! # DAgger
//!
//! DART's mistakes are the expert's, random and brief; a trained model's are its own, and
//! they last. On Pong a model that is right on 77% of the expert's turns teacher-forced
//! still never moves its paddle in closed loop: its own history of clean no-ops is a state
//! the noisy data rarely shows. DAgger (Ross et al., 2011) trains on the states the
//! learner reaches: a [`Student`] (an exported model, or any [`Actor`]) drives a share of
//! the training episodes, the world executes its choices with training's noise on top, and
//! every step is labelled with the expert's choice in the state the student reached (or
//! with none, [`Student::without_noise`], as DAgger ran it). A
//! student may hold every round's model, one drawn for each episode: DAgger trains on the
//! union of all rounds' data, so what one round fixed stays in view. The
//! student plays hundreds of times slower than the experts (a forward pass a step), so its
//! episodes are capped in length and cut into windows until every step is used once.
//!
//! # Prompts
//!
//! As in Gato, a quarter of sequences ([`PROMPT_SHARE`]) begin with a demonstration of the
//! same task from another episode, played by the expert without noise: half of them the
//! demonstration's end (where the goal is reached), half a uniformly random window. The
//! prompt keeps at most half the context ([`Sequence::prompted`]); the episode gets the rest.

use super::{DataError, seeds};
use crate::envs::rollout::{Actor, ActorError, random_action};
use crate::envs::{ActionSpec, World};
use crate::tokens::image::PositionMode;
use crate::tokens::{Action, Sequence, SequenceBuilder, Vocabulary};
use rand::Rng;
use std::f32::consts::TAU;

/// The share of sequences that begin with a demonstration, as in Gato.
pub const PROMPT_SHARE: f64 = 0.25;
/// The share of prompts taken from the end of their demonstration.
pub const PROMPT_FROM_END_SHARE: f64 = 0.5;

/// How the action the world executes departs from the expert's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    /// The probability of executing a uniformly random discrete action instead.
    discrete: f64,
    /// The standard deviation of the Gaussian noise added to every continuous action.
    continuous: f32,
    /// For discrete actions, the chance at each step outside a lapse that one begins.
    lapse: f64,
    /// The share of episodes that start astray ([`World::reset_astray`]).
    astray: f64,
}

/// How long a lapse lasts, in steps: about a Pong window's worth.
pub const LAPSE_STEPS: std::ops::RangeInclusive<u32> = 4..=12;

/// A lapse in progress: the action the world keeps executing, and for how many more steps.
#[derive(Clone, Debug)]
pub struct Lapse {
    held: Action,
    left: u32,
}

impl Noise {
    /// Training's noise; the module notes say why these amounts.
    pub const DART: Noise = Noise { discrete: 0.25, continuous: 0.2, lapse: 0.0, astray: 0.0 };
    /// The expert exactly, for demonstrations.
    pub const NONE: Noise = Noise { discrete: 0.0, continuous: 0.0, lapse: 0.0, astray: 0.0 };

    /// This noise with lapses beginning at `chance` per step.
    pub fn with_lapses(self, chance: f64) -> Noise {
        Noise { lapse: chance.clamp(0.0, 1.0), ..self }
    }

    /// This noise with `share` of episodes begun astray.
    pub fn with_astray(self, share: f64) -> Noise {
        Noise { astray: share.clamp(0.0, 1.0), ..self }
    }

    /// Whether the next episode starts astray (no draw when none do, so that streams
    /// without it stay as they were).
    fn starts_astray(&self, rng: &mut impl Rng) -> bool {
        self.astray > 0.0 && rng.random_bool(self.astray)
    }

    /// The action the world executes when the driver chose `chosen`; `lapse` carries a
    /// lapse from one step of an episode to the next.
    pub fn perturb(&self, chosen: &Action, spec: &ActionSpec, lapse: &mut Option<Lapse>, rng: &mut impl Rng) -> Action {
        match chosen {
            Action::Discrete(_) if lapse.is_some() || (self.lapse > 0.0 && rng.random_bool(self.lapse)) => {
                let current = lapse.get_or_insert_with(|| Lapse {
                    held: random_action(spec, rng),
                    left: rng.random_range(LAPSE_STEPS),
                });
                current.left -= 1;
                let held = current.held.clone();
                if current.left == 0 {
                    *lapse = None;
                }
                held
            }
            Action::Discrete(_) if self.discrete > 0.0 && rng.random_bool(self.discrete) => random_action(spec, rng),
            Action::Continuous(xs) if self.continuous > 0.0 => {
                Action::Continuous(xs.iter().map(|&x| (x + self.continuous * gaussian(rng)).clamp(-1.0, 1.0)).collect())
            }
            _ => chosen.clone(),
        }
    }
}

/// Starts `world`'s episode for `seed`, astray or not.
fn begin(world: &mut dyn World, seed: u64, astray: bool) {
    if astray { world.reset_astray(seed) } else { world.reset(seed) }
}

/// A standard normal draw (Box-Muller).
fn gaussian(rng: &mut impl Rng) -> f32 {
    let u = 1.0 - rng.random::<f32>();
    (-2.0 * u.ln()).sqrt() * (TAU * rng.random::<f32>()).cos()
}

/// DAgger's student: the policies that drive a share of the training episodes (the module
/// notes say why), one drawn uniformly for each, as DAgger trains on every round's data.
pub struct Student {
    actors: Vec<Box<dyn Actor>>,
    /// The share of training episodes they drive.
    share: f64,
    /// The cap on the length of an episode one drives, in steps.
    steps: u32,
    /// Whether the world adds training's noise to their choices.
    noisy: bool,
}

impl Student {
    pub fn new(actors: Vec<Box<dyn Actor>>, share: f64, steps: u32) -> Student {
        let share = if actors.is_empty() { 0.0 } else { share.clamp(0.0, 1.0) };
        Student { actors, share, steps: steps.max(1), noisy: true }
    }

    /// Students whose choices the world executes as they are, as DAgger ran them: the states
    /// a greedy student reaches alone, its own unbroken runs of one action included, which
    /// training's noise on top would break up.
    pub fn without_noise(self) -> Student {
        Student { noisy: false, ..self }
    }

    /// The policy that drives the next episode.
    fn draw(&mut self, rng: &mut impl Rng) -> &mut dyn Actor {
        let index = if self.actors.len() > 1 { rng.random_range(0..self.actors.len()) } else { 0 };
        self.actors[index].as_mut()
    }
}

/// The most windows cut from one episode.
pub const MAX_WINDOWS_PER_EPISODE: usize = 8;

/// Which window of an episode to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// Uniform over the starts that keep the window whole.
    Random,
    /// The episode's last timesteps.
    End,
}

/// An episode played through once: what the expert chose and what the world executed.
pub struct Episode {
    seed: u64,
    /// The length of the first timestep; timesteps of one world are about equally long
    /// (a mission's text holds all episode), so it sizes the windows.
    per_step: usize,
    experts: Vec<Action>,
    executed: Vec<Action>,
    /// Whether a student drove it rather than the expert.
    by_student: bool,
    /// Whether it began astray rather than at its world's usual start.
    astray: bool,
}

impl Episode {
    /// Plays the episode of `world` from `seed` to its end, the world executing the
    /// expert's actions perturbed by `noise`.
    pub fn play(
        world: &mut dyn World,
        vocabulary: &Vocabulary,
        seed: u64,
        noise: &Noise,
        rng: &mut impl Rng,
    ) -> Result<Episode, DataError> {
        let steps = world.spec().max_steps;
        Episode::driven(world, vocabulary, seed, None, steps, noise, rng)
    }

    /// Plays the episode of `world` from `seed` for at most `steps` steps, the world
    /// executing the actions of `driver` (the expert when `None`) perturbed by `noise`; the
    /// labels are the expert's choices in the states reached.
    pub fn driven(
        world: &mut dyn World,
        vocabulary: &Vocabulary,
        seed: u64,
        mut driver: Option<&mut dyn Actor>,
        steps: u32,
        noise: &Noise,
        rng: &mut impl Rng,
    ) -> Result<Episode, DataError> {
        let spec = world.spec();
        let astray = noise.starts_astray(rng);
        begin(world, seed, astray);
        if world.done() || spec.max_steps == 0 {
            return Err(DataError::EmptyEpisode { world: spec.name, seed });
        }
        let failed = |e: ActorError| DataError::Driver { world: spec.name, seed, message: e.to_string() };
        if let Some(driver) = driver.as_deref_mut() {
            driver.begin(&*world, seed).map_err(failed)?;
        }
        let mut sizing = SequenceBuilder::new(vocabulary, PositionMode::Eval);
        let first = sizing.timestep(&world.observe(), &world.expert());
        first.map_err(|source| DataError::World { world: spec.name, seed, source })?;
        let per_step = sizing.finish().len();
        let mut episode =
            Episode { seed, per_step, experts: vec![], executed: vec![], by_student: driver.is_some(), astray };
        let mut lapse = None;
        // The world's cap is enforced here too, so that no world can keep this loop going forever.
        while !world.done() && episode.len() < spec.max_steps.min(steps) as usize {
            let expert = world.expert();
            let chosen = match driver.as_deref_mut() {
                Some(driver) => driver.act(&*world).map_err(failed)?,
                None => expert.clone(),
            };
            let taken = noise.perturb(&chosen, &spec.action, &mut lapse, rng);
            world.step(&taken);
            episode.experts.push(expert);
            episode.executed.push(taken);
        }
        Ok(episode)
    }

    /// Its length in steps.
    pub fn len(&self) -> usize {
        self.experts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.experts.is_empty()
    }

    /// How many whole timesteps fit in `budget` tokens.
    fn steps_in(&self, budget: usize) -> usize {
        (budget / self.per_step).min(self.len())
    }

    /// How many windows of `budget` tokens to cut from it: a quarter of its steps' worth,
    /// at least one and at most [`MAX_WINDOWS_PER_EPISODE`]; from a student's episode,
    /// which costs far more to play, every step's worth once.
    pub fn windows(&self, budget: usize) -> usize {
        let steps = self.steps_in(budget).max(1);
        if self.by_student {
            (self.len() / steps).max(1)
        } else {
            (self.len() / (4 * steps)).clamp(1, MAX_WINDOWS_PER_EPISODE)
        }
    }

    /// A training window of at most `budget` tokens, replayed in `world` (the world it was
    /// played in), with training's random patch positions.
    pub fn window(
        &self,
        world: &mut dyn World,
        vocabulary: &Vocabulary,
        budget: usize,
        window: Window,
        rng: &mut impl Rng,
    ) -> Result<Sequence, DataError> {
        let steps = self.fitting(world, budget)?;
        let start = match window {
            Window::Random => rng.random_range(0..=self.len() - steps),
            Window::End => self.len() - steps,
        };
        self.cut(world, vocabulary, start..start + steps, budget, PositionMode::Train(rng))
    }

    /// The episode's last `budget` tokens with evaluation's patch positions: a demonstration
    /// that prompts the model at test time.
    pub fn ending(&self, world: &mut dyn World, vocabulary: &Vocabulary, budget: usize) -> Result<Sequence, DataError> {
        let steps = self.fitting(world, budget)?;
        self.cut(world, vocabulary, self.len() - steps..self.len(), budget, PositionMode::Eval)
    }

    /// At most `count` windows of `budget` tokens spread evenly from the episode's start to
    /// its end, with evaluation's patch positions: what the probe scores teacher-forced.
    pub fn spread(
        &self,
        world: &mut dyn World,
        vocabulary: &Vocabulary,
        budget: usize,
        count: usize,
    ) -> Result<Vec<Sequence>, DataError> {
        let steps = self.fitting(world, budget)?;
        let count = count.min(self.len().div_ceil(steps)).max(1);
        let last_start = self.len() - steps;
        (0..count)
            .map(|k| {
                let start = if count == 1 { 0 } else { k * last_start / (count - 1) };
                self.cut(world, vocabulary, start..start + steps, budget, PositionMode::Eval)
            })
            .collect()
    }

    /// How many whole timesteps fit in `budget`; an error if none does.
    fn fitting(&self, world: &dyn World, budget: usize) -> Result<usize, DataError> {
        match self.steps_in(budget) {
            0 => Err(self.too_small(world.spec().name, budget)),
            steps => Ok(steps),
        }
    }

    fn too_small(&self, task: &str, budget: usize) -> DataError {
        DataError::ContextTooSmall { task: task.to_string(), needs: self.per_step, budget }
    }

    fn cut<'a>(
        &self,
        world: &mut dyn World,
        vocabulary: &'a Vocabulary,
        steps: std::ops::Range<usize>,
        budget: usize,
        positions: PositionMode<'a>,
    ) -> Result<Sequence, DataError> {
        let name = world.spec().name;
        begin(world, self.seed, self.astray);
        for action in &self.executed[..steps.start] {
            world.step(action);
        }
        let mut builder = SequenceBuilder::new(vocabulary, positions);
        for (expert, executed) in self.experts.iter().zip(&self.executed).skip(steps.start).take(steps.len()) {
            let built =
                builder.observation(&world.observe()).and_then(|()| builder.relabelled_action(executed, expert));
            built.map_err(|source| DataError::World { world: name, seed: self.seed, source })?;
            world.step(executed);
        }
        let sequence = builder.finish().tail(budget);
        if sequence.is_empty() { Err(self.too_small(name, budget)) } else { Ok(sequence) }
    }
}

/// An episode being cut into windows, and how many it still owes.
#[derive(Default)]
struct Cutting {
    episode: Option<Episode>,
    windows_left: usize,
}

/// A world and the episodes it is cutting windows from: one played with training's noise,
/// and one played cleanly for prompts.
pub struct Player {
    world: Box<dyn World>,
    noisy: Cutting,
    clean: Cutting,
}

impl Player {
    pub fn new(world: Box<dyn World>) -> Self {
        Player { world, noisy: Cutting::default(), clean: Cutting::default() }
    }

    /// One training sequence in `context` tokens: a window of an episode played with
    /// `noise`, driven by `student` for its share of episodes and by the expert otherwise,
    /// and for [`PROMPT_SHARE`] of them a demonstration from another episode first.
    pub fn sequence(
        &mut self,
        vocabulary: &Vocabulary,
        context: usize,
        noise: &Noise,
        student: Option<&mut Student>,
        rng: &mut impl Rng,
    ) -> Result<Sequence, DataError> {
        if !rng.random_bool(PROMPT_SHARE) {
            return self.window(false, vocabulary, context, Window::Random, noise, student, rng);
        }
        let window = if rng.random_bool(PROMPT_FROM_END_SHARE) { Window::End } else { Window::Random };
        let prompt = self.window(true, vocabulary, context / 2, window, &Noise::NONE, None, rng)?;
        let episode = self.window(false, vocabulary, context - prompt.len(), Window::Random, noise, student, rng)?;
        Ok(Sequence::prompted(&prompt, &episode, context))
    }

    /// A window of the clean or the noisy episode, playing a fresh one when it is used up.
    #[allow(clippy::too_many_arguments)]
    fn window(
        &mut self,
        clean: bool,
        vocabulary: &Vocabulary,
        budget: usize,
        window: Window,
        noise: &Noise,
        student: Option<&mut Student>,
        rng: &mut impl Rng,
    ) -> Result<Sequence, DataError> {
        let cutting = if clean { &mut self.clean } else { &mut self.noisy };
        let world = self.world.as_mut();
        let episode = match &mut cutting.episode {
            Some(episode) if cutting.windows_left > 0 => episode,
            slot => {
                let seed = seeds::draw(rng);
                let episode = match student.filter(|s| rng.random_bool(s.share)) {
                    Some(s) => {
                        let (steps, noise) = (s.steps, if s.noisy { noise } else { &Noise::NONE });
                        let actor = s.draw(rng);
                        Episode::driven(world, vocabulary, seed, Some(actor), steps, noise, rng)?
                    }
                    None => Episode::play(world, vocabulary, seed, noise, rng)?,
                };
                cutting.windows_left = episode.windows(budget);
                slot.insert(episode)
            }
        };
        cutting.windows_left -= 1;
        episode.window(world, vocabulary, budget, window, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::{self, Kind, WorldSpec, rollout};
    use crate::tokens::text::tests::shipped;
    use crate::tokens::{Modality, Observation};
    use image::RgbaImage;
    use rand::SeedableRng;
    use rand_pcg::Pcg64Mcg;
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    const ECHO_STEPS: u32 = 40;

    /// How an [`Echo`] was reset, and how often its expert was asked.
    #[derive(Default)]
    struct EchoLog {
        resets: RefCell<Vec<u64>>,
        /// The seeds of the resets that began astray.
        astray: RefCell<Vec<u64>>,
        expert_calls: Cell<u32>,
    }

    /// A world that shows its seed and its step count, and keeps a log of what it executed
    /// and how it was reset. Its expert picks `steps % 4`, or 0.5 when continuous. Its
    /// episodes last `length` steps, at most its cap of [`ECHO_STEPS`].
    struct Echo {
        continuous: bool,
        length: u32,
        seed: u64,
        steps: u32,
        executed: Vec<Action>,
        /// Shared, so that a test still reads it once a player owns the world.
        log: Rc<EchoLog>,
    }

    impl Echo {
        fn new(continuous: bool) -> Echo {
            Echo { continuous, length: ECHO_STEPS, seed: 0, steps: 0, executed: Vec::new(), log: Rc::default() }
        }
    }

    impl World for Echo {
        fn spec(&self) -> WorldSpec {
            let action = if self.continuous {
                ActionSpec::Continuous { dims: 1 }
            } else {
                ActionSpec::Discrete { labels: vec!["a", "b", "c", "d"] }
            };
            WorldSpec { name: "echo", kind: Kind::Atari, action, description: "Echoes.", max_steps: ECHO_STEPS }
        }
        fn reset(&mut self, seed: u64) {
            (self.seed, self.steps) = (seed, 0);
            self.executed.clear();
            self.log.resets.borrow_mut().push(seed);
        }
        fn reset_astray(&mut self, seed: u64) {
            self.reset(seed);
            self.log.astray.borrow_mut().push(seed);
        }
        fn observe(&self) -> Observation {
            Observation { discrete: vec![(self.seed % 1000) as i64, i64::from(self.steps)], ..Default::default() }
        }
        fn step(&mut self, action: &Action) -> f32 {
            self.steps += 1;
            self.executed.push(action.clone());
            0.0
        }
        fn render(&self) -> RgbaImage {
            RgbaImage::new(1, 1)
        }
        fn score(&self) -> f32 {
            0.0
        }
        fn done(&self) -> bool {
            self.steps >= self.length
        }
        fn expert(&self) -> Action {
            self.log.expert_calls.set(self.log.expert_calls.get() + 1);
            if self.continuous { Action::Continuous(vec![0.5]) } else { Action::Discrete(vec![self.steps % 4]) }
        }
    }

    /// Each Echo timestep, as (seed shown, step shown, action recorded).
    fn echo_steps(v: &Vocabulary, s: &Sequence) -> Vec<(u32, u32, u32)> {
        assert_eq!(s.len() % 4, 0, "Echo timesteps are two values, the separator and an action");
        s.elements
            .chunks(4)
            .map(|c| {
                let kinds: Vec<Modality> = c.iter().map(|e| e.modality).collect();
                assert_eq!(kinds, [Modality::Value, Modality::Value, Modality::Separator, Modality::Action]);
                let bin = |id: u32| v.bin_of(id).unwrap();
                (bin(c[0].id), bin(c[1].id), bin(c[3].target.unwrap()))
            })
            .collect()
    }

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(shipped())
    }

    /// How often each step of an Echo episode starts a window of `budget` tokens, and the
    /// last step of an `End` window.
    fn window_starts(world: &mut Echo, budget: usize, rng: &mut Pcg64Mcg) -> (Vec<u32>, u32) {
        let v = vocabulary();
        let episode = Episode::play(world, &v, 7, &Noise::NONE, rng).unwrap();
        let mut starts = vec![0; ECHO_STEPS as usize];
        for _ in 0..600 {
            let s = episode.window(world, &v, budget, Window::Random, rng).unwrap();
            let steps = echo_steps(&v, &s);
            assert_eq!(steps.len() * 4, budget.min(4 * world.length as usize), "whole timesteps fill the budget");
            let first = steps[0].1;
            for (i, &(seed, step, action)) in steps.iter().enumerate() {
                assert_eq!((seed, step, action), (7, first + i as u32, (first + i as u32) % 4));
            }
            starts[first as usize] += 1;
        }
        let end = episode.window(world, &v, budget, Window::End, rng).unwrap();
        (starts, echo_steps(&v, &end).last().unwrap().1)
    }

    #[test]
    fn endings_are_the_end_window_with_evaluation_positions() {
        let v = vocabulary();
        let mut world = crate::envs::make("pong").unwrap();
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        let episode = Episode::play(world.as_mut(), &v, 5, &Noise::NONE, &mut rng).unwrap();
        let ending = episode.ending(world.as_mut(), &v, 128).unwrap();
        let window = episode.window(world.as_mut(), &v, 128, Window::End, &mut rng).unwrap();
        assert_eq!(ending.elements, window.elements);
        let positions = |s: &Sequence| s.patches.iter().map(|p| (p.row, p.col)).collect::<Vec<_>>();
        assert_eq!(positions(&ending), positions(&episode.ending(world.as_mut(), &v, 128).unwrap()));
        assert_ne!(positions(&ending), positions(&window), "training draws positions within each interval");
    }

    #[test]
    fn windows_are_whole_consecutive_and_start_anywhere() {
        let mut rng = Pcg64Mcg::seed_from_u64(1);
        let mut world = Echo::new(false);
        // Ten 4-token steps in 40 tokens: starts 0..=30 keep them whole, and each is drawn.
        let (starts, end) = window_starts(&mut world, 40, &mut rng);
        assert!(starts[..=30].iter().all(|&n| n > 5) && starts[31..].iter().all(|&n| n == 0), "{starts:?}");
        assert_eq!(end, ECHO_STEPS - 1);
        // An episode that ends before its cap offers only its own starts.
        world.length = 25;
        let (starts, end) = window_starts(&mut world, 40, &mut rng);
        assert!(starts[..=15].iter().all(|&n| n > 15) && starts[16..].iter().all(|&n| n == 0), "{starts:?}");
        assert_eq!(end, 24);
        // A short episode is taken whole.
        let (starts, end) = window_starts(&mut world, 1000, &mut rng);
        assert_eq!((starts[0], end), (600, 24));

        let v = vocabulary();
        let episode = Episode::play(&mut world, &v, 7, &Noise::NONE, &mut rng).unwrap();
        assert!(matches!(
            episode.window(&mut world, &v, 3, Window::Random, &mut rng),
            Err(DataError::ContextTooSmall { needs: 4, budget: 3, .. })
        ));
        world.length = 0;
        assert!(matches!(
            Episode::play(&mut world, &v, 7, &Noise::NONE, &mut rng),
            Err(DataError::EmptyEpisode { world: "echo", seed: 7 })
        ));
    }

    #[test]
    fn a_lapse_holds_one_action_for_several_steps_while_the_labels_stay_the_experts() {
        let v = vocabulary();
        let mut world = envs::make("pong").unwrap();
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        // Lapses at every chance: the executed actions come in held runs of at least 4 steps.
        let episode = Episode::play(world.as_mut(), &v, 1 << 63, &Noise::NONE.with_lapses(1.0), &mut rng).unwrap();
        let runs = episode.executed.chunk_by(|a, b| a == b).map(<[Action]>::len).collect::<Vec<_>>();
        assert!(runs[..runs.len() - 1].iter().all(|&n| n >= 4), "{runs:?}");
        let off = episode.experts.iter().zip(&episode.executed).filter(|(e, x)| e != x).count();
        assert!(off > episode.len() / 4, "{off} of {} steps off the expert's choice", episode.len());
        // Without lapses, the same call executes the expert's choices exactly.
        let clean = Episode::play(world.as_mut(), &v, 1 << 63, &Noise::NONE, &mut rng).unwrap();
        assert_eq!(clean.executed, clean.experts);
    }

    /// A student that always chooses "c" and counts the episodes it began.
    struct Stubborn {
        episodes: Rc<Cell<u32>>,
    }

    impl Actor for Stubborn {
        fn begin(&mut self, _: &dyn World, _: u64) -> Result<(), ActorError> {
            self.episodes.set(self.episodes.get() + 1);
            Ok(())
        }
        fn act(&mut self, _: &dyn World) -> Result<Action, ActorError> {
            Ok(Action::Discrete(vec![2]))
        }
    }

    fn stubborn(share: f64, steps: u32) -> (Student, Rc<Cell<u32>>) {
        let episodes = Rc::new(Cell::new(0));
        (Student::new(vec![Box::new(Stubborn { episodes: episodes.clone() })], share, steps), episodes)
    }

    #[test]
    fn a_student_drives_its_capped_episodes_and_the_expert_labels_every_step() {
        let v = vocabulary();
        let mut rng = Pcg64Mcg::seed_from_u64(6);
        let mut world = Echo::new(false);
        let (mut student, _) = stubborn(1.0, 10);
        let episode =
            Episode::driven(&mut world, &v, 7, Some(student.actors[0].as_mut()), 10, &Noise::NONE, &mut rng).unwrap();
        assert_eq!(episode.len(), 10, "capped at the student's steps");
        // Two-step windows: five cover the costly episode, where the expert's gives one.
        assert_eq!(episode.windows(8), 5);
        assert_eq!(Episode::driven(&mut world, &v, 7, None, 10, &Noise::NONE, &mut rng).unwrap().windows(8), 1);
        let s = episode.window(&mut world, &v, 1000, Window::Random, &mut rng).unwrap();
        for (step, (_, shown, label)) in echo_steps(&v, &s).into_iter().enumerate() {
            assert_eq!((shown, label), (step as u32, step as u32 % 4), "labelled with the expert's choice");
            assert_eq!(v.bin_of(s.elements[4 * step + 3].id), Some(2), "shown as the student executed it");
        }
    }

    /// An Echo sequence's executed actions, and the step where its own episode begins (after
    /// any demonstration).
    fn executed_and_cut(v: &Vocabulary, s: &Sequence) -> (Vec<Option<u32>>, usize) {
        let steps = echo_steps(v, s);
        let executed = s.elements.chunks(4).map(|step| v.bin_of(step[3].id)).collect();
        let episode_seed = steps.last().unwrap().0;
        (executed, steps.iter().position(|&(seed, ..)| seed == episode_seed).unwrap())
    }

    #[test]
    fn a_student_drives_its_share_of_training_episodes_and_never_the_demonstrations() {
        let v = vocabulary();
        for (share, low, high) in [(0.0, 0, 0), (0.5, 30, 70), (1.0, 100, 100)] {
            let mut player = Player::new(Box::new(Echo::new(false)));
            let (mut student, episodes) = stubborn(share, ECHO_STEPS);
            let mut rng = Pcg64Mcg::seed_from_u64(8);
            let mut driven = 0;
            for _ in 0..100 {
                let s =
                    player.sequence(&v, 4 * ECHO_STEPS as usize, &Noise::NONE, Some(&mut student), &mut rng).unwrap();
                let (executed, cut) = executed_and_cut(&v, &s);
                assert!(cut == 0 || executed[..cut].iter().any(|&a| a != Some(2)), "demonstrations are the expert's");
                driven += usize::from(executed[cut..].iter().all(|&a| a == Some(2)));
            }
            assert!((low..=high).contains(&driven), "share {share}: {driven} of 100 driven");
            // A prompted sequence uses half an episode, and the rest of it goes to the next.
            let begun = episodes.get() as usize;
            assert!(begun <= driven && driven <= 2 * begun, "{begun} driven episodes for {driven} sequences");
        }
    }

    #[test]
    fn a_student_without_noise_has_every_choice_executed() {
        let v = vocabulary();
        for clean in [false, true] {
            let mut player = Player::new(Box::new(Echo::new(false)));
            let (student, _) = stubborn(1.0, ECHO_STEPS);
            let mut student = if clean { student.without_noise() } else { student };
            let mut rng = Pcg64Mcg::seed_from_u64(10);
            let mut off = 0;
            for _ in 0..50 {
                let s =
                    player.sequence(&v, 4 * ECHO_STEPS as usize, &Noise::DART, Some(&mut student), &mut rng).unwrap();
                let (executed, cut) = executed_and_cut(&v, &s);
                off += executed[cut..].iter().filter(|&&a| a != Some(2)).count();
            }
            assert_eq!(off == 0, clean, "{off} of the students' choices executed otherwise (clean: {clean})");
        }
    }

    #[test]
    fn every_rounds_student_drives_a_like_share_of_the_driven_episodes() {
        let v = vocabulary();
        let counters = [Rc::new(Cell::new(0)), Rc::new(Cell::new(0))];
        let actors: Vec<Box<dyn Actor>> =
            counters.iter().map(|c| Box::new(Stubborn { episodes: c.clone() }) as Box<dyn Actor>).collect();
        let mut student = Student::new(actors, 1.0, ECHO_STEPS);
        let mut player = Player::new(Box::new(Echo::new(false)));
        let mut rng = Pcg64Mcg::seed_from_u64(9);
        for _ in 0..200 {
            player.sequence(&v, 4 * ECHO_STEPS as usize, &Noise::NONE, Some(&mut student), &mut rng).unwrap();
        }
        let (first, second) = (counters[0].get(), counters[1].get());
        let total = first + second;
        assert!(total >= 100, "{total} driven episodes");
        assert!((first * 10 >= total * 3) && (second * 10 >= total * 3), "{first} and {second} episodes");
        // No student at all drives nothing, whatever the share asked.
        assert_eq!(Student::new(vec![], 1.0, ECHO_STEPS).share, 0.0);
    }

    #[test]
    fn noisy_actions_are_shown_as_executed_and_labelled_with_the_experts() {
        let v = vocabulary();
        let mut rng = Pcg64Mcg::seed_from_u64(2);
        let mut world = Echo::new(false);
        let (mut differ, mut total) = (0, 0);
        for seed in 0..200 {
            let episode = Episode::play(&mut world, &v, seed, &Noise::DART, &mut rng).unwrap();
            let s = episode.window(&mut world, &v, 1000, Window::Random, &mut rng).unwrap();
            for (step, (_, shown, label)) in echo_steps(&v, &s).into_iter().enumerate() {
                assert_eq!((shown, label), (step as u32, step as u32 % 4), "labelled with the expert's choice");
                let taken = v.bin_of(s.elements[4 * step + 3].id).unwrap();
                assert_eq!(world.executed[step], Action::Discrete(vec![taken]), "shown as executed");
                differ += usize::from(taken != label);
                total += 1;
            }
        }
        // A random action replaces the expert's 25% of the time, and differs from it 3 times in 4.
        let rate = differ as f64 / total as f64;
        assert!((0.16..0.215).contains(&rate), "{rate}");

        let mut world = Echo::new(true);
        let mut executed = Vec::new();
        for seed in 0..10 {
            let episode = Episode::play(&mut world, &v, seed, &Noise::DART, &mut rng).unwrap();
            let s = episode.window(&mut world, &v, 1000, Window::Random, &mut rng).unwrap();
            let actions: Vec<_> = s.elements.iter().filter(|e| e.modality == Modality::Action).collect();
            assert!(actions.iter().all(|e| e.target == Some(v.value(768))), "labelled with the expert's 0.5");
            let taken: Vec<f32> =
                world.executed.iter().map(|a| if let Action::Continuous(x) = a { x[0] } else { f32::NAN }).collect();
            let shown: Vec<u32> = actions.iter().map(|e| v.bin_of(e.id).unwrap()).collect();
            assert_eq!(shown, crate::tokens::values::bins(crate::tokens::ValueKind::Action, &taken).unwrap());
            executed.extend(taken);
        }
        let mean = executed.iter().sum::<f32>() / executed.len() as f32;
        let sd = (executed.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / executed.len() as f32).sqrt();
        assert!((mean - 0.5).abs() < 0.03 && (0.17..0.23).contains(&sd), "mean {mean}, sd {sd}");
    }

    #[test]
    fn an_episode_begun_astray_is_cut_from_the_same_start() {
        let v = vocabulary();
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        let mut world = Echo::new(false);
        let log = world.log.clone();
        for (share, expected) in [(0.0, 0..=0), (0.5, 10..=30), (1.0, 40..=40)] {
            log.astray.borrow_mut().clear();
            let mut astray = 0;
            for seed in 0..40 {
                let episode = Episode::play(&mut world, &v, seed, &Noise::DART.with_astray(share), &mut rng).unwrap();
                episode.window(&mut world, &v, 1000, Window::Random, &mut rng).unwrap();
                let starts = log.astray.borrow().iter().filter(|&&s| s == seed).count();
                assert!(starts == 0 || starts == 2, "played and cut from different starts");
                astray += starts / 2;
            }
            assert!(expected.contains(&astray), "{astray} of 40 began astray at share {share}");
        }
    }

    /// Plays `count` training sequences of Echo, each as its timesteps.
    fn played(player: &mut Player, context: usize, count: usize) -> Vec<Vec<(u32, u32, u32)>> {
        let v = vocabulary();
        let mut rng = Pcg64Mcg::seed_from_u64(3);
        (0..count)
            .map(|_| {
                let s = player.sequence(&v, context, &Noise::DART, None, &mut rng).unwrap();
                assert!(s.len() <= context);
                echo_steps(&v, &s)
            })
            .collect()
    }

    #[test]
    fn a_quarter_of_sequences_open_with_a_demonstration_of_another_episode() {
        let echo = Echo::new(false);
        let log = echo.log.clone();
        let mut player = Player::new(Box::new(echo));
        let sequences = played(&mut player, 80, 800);
        let resets = log.resets.borrow();
        assert!(resets.iter().all(|&seed| seeds::is_training(seed)), "{resets:?}");
        let (mut prompted, mut from_end) = (0, 0);
        for steps in &sequences {
            let episode_seed = steps.last().unwrap().0;
            let Some(cut) = steps.iter().position(|&(seed, ..)| seed == episode_seed) else { unreachable!() };
            assert!(steps[cut..].iter().all(|&(seed, ..)| seed == episode_seed));
            if cut == 0 {
                assert_eq!(steps.len(), 20, "an unprompted window fills the context");
                continue;
            }
            prompted += 1;
            let (prompt, episode) = steps.split_at(cut);
            assert_eq!((prompt.len(), episode.len()), (10, 10), "the prompt keeps half the context");
            assert!(prompt.windows(2).all(|w| w[1].1 == w[0].1 + 1), "the demonstration is consecutive");
            from_end += usize::from(prompt.last().unwrap().1 == ECHO_STEPS - 1);
        }
        let share = prompted as f64 / sequences.len() as f64;
        assert!((0.2..0.3).contains(&share), "{share}");
        assert!((0.4..0.65).contains(&(from_end as f64 / prompted as f64)), "{from_end} of {prompted}");
    }

    #[test]
    fn each_episode_gives_a_quarter_of_its_steps_in_windows() {
        let v = vocabulary();
        let mut rng = Pcg64Mcg::seed_from_u64(4);
        // Two-step windows (8 tokens) of 40-step episodes: 40 / (4 * 2) = 5 windows each.
        let echo = Echo::new(false);
        let log = echo.log.clone();
        let mut player = Player::new(Box::new(echo));
        let seeds: Vec<u32> = (0..20)
            .map(|_| {
                let s = player.window(false, &v, 8, Window::Random, &Noise::DART, None, &mut rng).unwrap();
                echo_steps(&v, &s)[0].0
            })
            .collect();
        let runs: Vec<usize> = seeds.chunk_by(|a, b| a == b).map(<[u32]>::len).collect();
        assert_eq!(runs, [5, 5, 5, 5], "{seeds:?}");
        // Each play asks the expert once more, to size the windows.
        assert_eq!(log.expert_calls.get(), 4 * (ECHO_STEPS + 1), "four episodes played, no more");
        // Windows of whole episodes: one each, and the clean episode is another.
        for clean in [false, false, true] {
            player.window(clean, &v, 160, Window::Random, &Noise::DART, None, &mut rng).unwrap();
        }
        assert_eq!(log.expert_calls.get(), 7 * (ECHO_STEPS + 1));
        assert_eq!(Episode::play(&mut Echo::new(false), &v, 1, &Noise::NONE, &mut rng).unwrap().windows(4), 8);
    }

    #[test]
    fn every_world_makes_deterministic_windows_with_loss_on_actions_only() {
        let v = vocabulary();
        for world in envs::all() {
            let name = world.spec().name;
            let mut player = Player::new(world);
            let mut make = || {
                let mut rng = Pcg64Mcg::seed_from_u64(11);
                let mut episode_rng = Pcg64Mcg::seed_from_u64(12);
                let world = player.world.as_mut();
                let episode = Episode::play(world, &v, seeds::draw(&mut episode_rng), &Noise::DART, &mut rng).unwrap();
                episode.window(world, &v, 256, Window::Random, &mut rng).unwrap()
            };
            let (a, b) = (make(), make());
            assert_eq!(a, b, "{name}: the same generator gives the same sequence");
            assert!(!a.is_empty() && a.len() <= 256, "{name}: {} tokens", a.len());
            for e in &a.elements {
                assert_eq!(e.target.is_some(), e.modality == Modality::Action, "{name}: {e:?}");
            }
            for _ in 0..4 {
                let s = player.sequence(&v, 256, &Noise::DART, None, &mut Pcg64Mcg::seed_from_u64(13)).unwrap();
                assert!(!s.is_empty() && s.len() <= 256, "{name}");
            }
        }
    }

    #[test]
    fn control_experts_still_succeed_under_the_noise() {
        for mut world in envs::all().into_iter().filter(|w| w.spec().kind == Kind::Control) {
            let spec = world.spec();
            let mut rng = Pcg64Mcg::seed_from_u64(4);
            let (mut clean, mut noisy) = (0.0, 0.0);
            for seed in 0..4 {
                clean += rollout::evaluate(world.as_mut(), &mut rollout::Expert, 1, seed).unwrap().mean;
                world.reset(seed);
                let mut lapse = None;
                while !world.done() {
                    let action = Noise::DART.perturb(&world.expert(), &spec.action, &mut lapse, &mut rng);
                    world.step(&action);
                }
                noisy += world.score();
            }
            eprintln!("{}: expert {clean:.0} without noise, {noisy:.0} with it (4 episodes)", spec.name);
            assert!(noisy >= 0.85 * clean, "{}: {noisy} under noise against {clean} without", spec.name);
        }
    }
}
