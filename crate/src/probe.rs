//! The probe: in a few minutes, whether a model is learning to act, task by task.
//!
//! A low training loss can hide a policy that never acts. With the executed actions in
//! view, a model can predict the expert well by repeating the previous action, since the
//! expert's actions run in streaks; in closed loop that model repeats its first no-op
//! forever. So the probe scores teacher-forced accuracy on held-out episodes (played with
//! training's DART noise, seeds from 0 as in evaluation) in two parts:
//!
//! - **copy** steps, where the expert's action equals the previous executed action: a
//!   copying model gets them all right;
//! - **change** steps, where it does not: a copying model gets them all wrong, a model
//!   that reads its observations does not;
//! - and across both, **turns**, where the expert's choice differs from its own previous
//!   one: with continuous actions DART's noise makes nearly every step a change, and turns
//!   are the steps that only the observation explains.
//!
//! Beside them: the mean loss on action targets (as training counts it), a short
//! closed-loop score (a few episodes capped in length, normalized against the expert and
//! random play on the same seeds) with how often the model chose the expert's action in
//! the states it reached itself (in the grid, also its successes by the mission's verb),
//! and for the text tasks the teacher-forced loss and token accuracy with the exact-match
//! rate of generated text.
//!
//! A continuous action token counts as right within [`CONTINUOUS_TOLERANCE`] of the
//! expert's, and two continuous actions count as equal (a copy step) within it too.

use crate::agent::Agent;
use crate::data::episodes::{Episode, Noise};
use crate::envs::captions::Sample;
use crate::envs::grid::{Clause, Mission, Verb};
use crate::envs::rollout::{self, Actor, ActorError, Evaluation, Expert, Random, Rollout};
use crate::envs::{self, ActionSpec, Kind, World};
use crate::eval;
use crate::model::{Gatito, argmax, rows};
use crate::tokens::image::PositionMode;
use crate::tokens::values::{ValueKind, unbin};
use crate::tokens::{Action, Modality, Sequence, SequenceBuilder, Vocabulary};
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// How far (in action units, of a range of 2) a continuous action token may be from the
/// expert's and still count as right: a twentieth of the range.
pub const CONTINUOUS_TOLERANCE: f32 = 0.1;

/// Anything that gives next-token logits for every position of a sequence: the model, or
/// in tests a policy of known behaviour.
pub trait Scorer {
    /// `[sequence.len()][vocabulary size]`: row `i` predicts element `i + 1`.
    fn logits(&mut self, sequence: &Sequence) -> Result<Vec<Vec<f32>>, ActorError>;
}

impl Scorer for &Gatito {
    fn logits(&mut self, sequence: &Sequence) -> Result<Vec<Vec<f32>>, ActorError> {
        let mut cache = self.new_cache();
        Ok(rows(&self.forward(sequence, &mut cache)?)?)
    }
}

/// How many of some steps the model got right.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Tally {
    pub right: u32,
    pub total: u32,
}

impl Tally {
    fn add(&mut self, right: bool) {
        self.right += u32::from(right);
        self.total += 1;
    }

    /// The share right; `None` when there were no such steps.
    pub fn accuracy(&self) -> Option<f32> {
        (self.total > 0).then(|| self.right as f32 / self.total as f32)
    }
}

/// Teacher-forced figures over action tokens.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct TeacherForced {
    /// Every action token.
    pub all: Tally,
    /// Tokens where the expert's action equals the previous executed one.
    pub copy: Tally,
    /// Tokens where it does not.
    pub change: Tally,
    /// Tokens where the expert's action differs from its own previous choice. In games
    /// these are most change steps; with continuous actions, which DART's noise makes
    /// nearly all change steps, they are the few where the expert really acts anew.
    pub turn: Tally,
    /// Mean cross-entropy (nats) over the whole vocabulary, as training counts it.
    pub loss: f32,
}

/// One acting task's probe.
#[derive(Debug, serde::Serialize)]
pub struct ActingProbe {
    pub task: &'static str,
    pub kind: Kind,
    pub teacher_forced: TeacherForced,
    pub closed_loop: ClosedLoop,
}

/// A few capped episodes of the model, the expert and random play on the same seeds.
#[derive(Debug, serde::Serialize)]
pub struct ClosedLoop {
    /// The cap on each episode's length, in steps.
    pub steps: u32,
    pub model: Evaluation,
    pub expert: Evaluation,
    pub random: Evaluation,
    /// (model − random) / (expert − random).
    pub normalized: f32,
    /// For grid missions: the share of the model's episodes that ended in success.
    pub success: Option<f32>,
    /// For grid missions: the model's episodes and successes by the mission's first verb
    /// (where a learner fails shows here: at carrying, say, or at doors).
    pub missions: Vec<MissionSuccess>,
    /// The model's steps where it chose what the expert would have, in the states it
    /// reached itself: what teacher forcing cannot show.
    pub agreement: Tally,
    /// For discrete actions: how often the model chose each action in closed loop, beside
    /// how often the expert would have in the same states (a model that stands still
    /// shows here at once).
    pub choices: Vec<ChoiceCount>,
}

/// One discrete action's count in closed loop.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ChoiceCount {
    pub action: &'static str,
    pub model: u32,
    pub expert: u32,
}

/// The model's closed-loop grid episodes whose mission begins with one verb.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MissionSuccess {
    pub verb: &'static str,
    pub episodes: u32,
    pub successes: u32,
}

/// One text task's probe.
#[derive(Debug, serde::Serialize)]
pub struct TextProbe {
    pub task: &'static str,
    /// Teacher-forced: mean cross-entropy (nats) on target text, and the share of target
    /// tokens that are the argmax.
    pub loss: f32,
    pub tokens: Tally,
    /// The share of samples whose generated text is exactly the target.
    pub exact: f32,
    pub samples: usize,
}

/// How much of each task the probe plays.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Held-out episodes scored teacher-forced, per acting task.
    pub episodes: u32,
    /// Context windows scored per episode, spread over it.
    pub windows: usize,
    /// Episodes per policy in closed loop.
    pub closed_episodes: u32,
    /// The cap on a closed-loop episode's length.
    pub closed_steps: u32,
    /// Samples per text task.
    pub samples: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { episodes: 4, windows: 6, closed_episodes: 3, closed_steps: 300, samples: 30 }
    }
}

/// The token ids an action token of `spec` may take: the ids decoding chooses among.
fn allowed(spec: &ActionSpec, vocabulary: &Vocabulary) -> std::ops::Range<usize> {
    let bins = match spec {
        ActionSpec::Discrete { labels } => labels.len() as u32,
        ActionSpec::Continuous { .. } => crate::tokens::values::VALUE_BINS,
    };
    let first = vocabulary.value(0) as usize;
    first..first + bins as usize
}

/// Whether two action token ids stand for the same action (continuous: within the tolerance).
fn same_action(spec: &ActionSpec, vocabulary: &Vocabulary, a: u32, b: u32) -> bool {
    match (spec, vocabulary.bin_of(a), vocabulary.bin_of(b)) {
        (ActionSpec::Continuous { .. }, Some(a), Some(b)) => {
            let centre = |bin| unbin(ValueKind::Action, bin).unwrap_or(f32::NAN);
            (centre(a) - centre(b)).abs() <= CONTINUOUS_TOLERANCE
        }
        _ => a == b,
    }
}

/// `-log softmax(row)[target]`.
fn cross_entropy(row: &[f32], target: usize) -> f32 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = row.iter().map(|&x| (x - max).exp()).sum();
    max + sum.ln() - row[target]
}

/// Scores every action token of `sequence` into `into`, with the sum of their losses.
fn score_actions(
    scorer: &mut dyn Scorer,
    vocabulary: &Vocabulary,
    spec: &ActionSpec,
    sequence: &Sequence,
    into: &mut TeacherForced,
) -> Result<f64, ActorError> {
    let logits = scorer.logits(sequence)?;
    let range = allowed(spec, vocabulary);
    // The previous timestep's executed actions and expert choices, token by token.
    let (mut previous, mut current): (Vec<u32>, Vec<u32>) = (vec![], vec![]);
    let (mut previous_choices, mut choices): (Vec<u32>, Vec<u32>) = (vec![], vec![]);
    let mut loss = 0.0;
    for (i, element) in sequence.elements.iter().enumerate() {
        if element.modality == Modality::Separator && !current.is_empty() {
            previous = std::mem::take(&mut current);
            previous_choices = std::mem::take(&mut choices);
        }
        let (Modality::Action, Some(target), Some(row)) = (element.modality, element.target, i.checked_sub(1)) else {
            continue;
        };
        let row = &logits[row];
        let predicted = (range.start + argmax(&row[range.clone()])) as u32;
        let right = same_action(spec, vocabulary, predicted, target);
        into.all.add(right);
        if let Some(&executed) = previous.get(current.len()) {
            let split = if same_action(spec, vocabulary, target, executed) { &mut into.copy } else { &mut into.change };
            split.add(right);
        }
        if let Some(&choice) = previous_choices.get(current.len())
            && !same_action(spec, vocabulary, target, choice)
        {
            into.turn.add(right);
        }
        loss += f64::from(cross_entropy(row, target as usize));
        current.push(element.id);
        choices.push(target);
    }
    Ok(loss)
}

/// Teacher-forced figures on `episodes` held-out episodes of `world`, played with
/// training's noise, `windows` context windows of `context` tokens from each.
pub fn teacher_forced(
    scorer: &mut dyn Scorer,
    vocabulary: &Vocabulary,
    world: &mut dyn World,
    context: usize,
    episodes: u32,
    windows: usize,
) -> Result<TeacherForced, ActorError> {
    let spec = world.spec();
    let mut figures = TeacherForced::default();
    let mut loss = 0.0;
    for seed in (0..episodes).map(|i| rollout::episode_seed(0, i)) {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let episode = Episode::play(world, vocabulary, seed, &Noise::DART, &mut rng)?;
        for window in episode.spread(world, vocabulary, context, windows)? {
            loss += score_actions(scorer, vocabulary, &spec.action, &window, &mut figures)?;
        }
    }
    figures.loss = (loss / f64::from(figures.all.total.max(1))) as f32;
    Ok(figures)
}

/// Whether two actions are the same (continuous: every value within the tolerance).
fn agrees(a: &Action, b: &Action) -> bool {
    match (a, b) {
        (Action::Continuous(a), Action::Continuous(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= CONTINUOUS_TOLERANCE)
        }
        _ => a == b,
    }
}

/// An actor whose every choice is checked against the expert's in the same state.
struct Watched<'a> {
    actor: &'a mut dyn Actor,
    agreement: Tally,
    choices: Vec<ChoiceCount>,
    /// Each episode's mission verb (its first clause's), as read from the mission's text
    /// the model reads; `None` where the world gives no mission.
    verbs: Vec<Option<Verb>>,
}

impl Actor for Watched<'_> {
    fn begin(&mut self, world: &dyn World, seed: u64) -> Result<(), ActorError> {
        let mission = world.observe().text.as_deref().and_then(Mission::parse);
        self.verbs.push(mission.and_then(|m| m.clauses.first().map(Clause::verb)));
        self.actor.begin(world, seed)
    }

    fn act(&mut self, world: &dyn World) -> Result<Action, ActorError> {
        let (action, expert) = (self.actor.act(world)?, world.expert());
        self.agreement.add(agrees(&action, &expert));
        if let (Action::Discrete(model), Action::Discrete(expert)) = (&action, &expert) {
            if let Some(count) = model.first().and_then(|&c| self.choices.get_mut(c as usize)) {
                count.model += 1;
            }
            if let Some(count) = expert.first().and_then(|&c| self.choices.get_mut(c as usize)) {
                count.expert += 1;
            }
        }
        Ok(action)
    }
}

/// The scores of `episodes` episodes (seeds 0, 1, ...), each cut off after `steps` steps.
fn capped(world: &mut dyn World, actor: &mut dyn Actor, episodes: u32, steps: u32) -> Result<Evaluation, ActorError> {
    let scores = (0..episodes)
        .map(|i| {
            let mut rollout = Rollout::new(&mut *world, &mut *actor, rollout::episode_seed(0, i))?;
            while rollout.steps() < steps && rollout.step()?.is_some() {}
            Ok(rollout.world().score())
        })
        .collect::<Result<_, ActorError>>()?;
    Ok(Evaluation::of(scores))
}

/// Episodes scored `scores`, counted by the verb their mission begins with (`verbs`, one per
/// episode); success as [`eval::success`].
fn by_mission(verbs: &[Option<Verb>], scores: &[f32]) -> Vec<MissionSuccess> {
    let mut rows = Verb::ALL.map(|verb| MissionSuccess { verb: verb.words(), episodes: 0, successes: 0 });
    for (verb, &score) in verbs.iter().zip(scores) {
        let Some(row) = verb.and_then(|v| rows.iter_mut().find(|r| r.verb == v.words())) else { continue };
        row.episodes += 1;
        row.successes += u32::from(score > 0.0);
    }
    rows.into_iter().filter(|r| r.episodes > 0).collect()
}

/// `actor` beside the expert and random play, `episodes` capped episodes each.
pub fn closed_loop(
    world: &mut dyn World,
    actor: &mut dyn Actor,
    episodes: u32,
    steps: u32,
) -> Result<ClosedLoop, ActorError> {
    let expert = capped(world, &mut Expert, episodes, steps)?;
    let random = capped(world, &mut Random::new(), episodes, steps)?;
    let labels = match world.spec().action {
        ActionSpec::Discrete { labels } => labels,
        ActionSpec::Continuous { .. } => vec![],
    };
    let choices = labels.into_iter().map(|action| ChoiceCount { action, model: 0, expert: 0 }).collect();
    let mut watched = Watched { actor, agreement: Tally::default(), choices, verbs: vec![] };
    let model = capped(world, &mut watched, episodes, steps)?;
    let grid = world.spec().kind == Kind::Grid;
    Ok(ClosedLoop {
        steps,
        agreement: watched.agreement,
        choices: watched.choices,
        normalized: eval::normalized(&model, &expert, &random),
        success: grid.then(|| eval::success(&model)),
        missions: if grid { by_mission(&watched.verbs, &model.scores) } else { vec![] },
        model,
        expert,
        random,
    })
}

/// The probe of one world: teacher-forced, then in closed loop.
pub fn acting(agent: &mut Agent, name: &str, budget: &Budget) -> Result<ActingProbe, ActorError> {
    let mut world = envs::make(name).ok_or_else(|| format!("unknown world '{name}'"))?;
    let model = agent.model().clone();
    let context = model.config.context;
    let mut scorer = &*model;
    let teacher_forced =
        teacher_forced(&mut scorer, agent.vocabulary(), world.as_mut(), context, budget.episodes, budget.windows)?;
    let closed_loop = closed_loop(world.as_mut(), agent, budget.closed_episodes, budget.closed_steps)?;
    let spec = world.spec();
    Ok(ActingProbe { task: spec.name, kind: spec.kind, teacher_forced, closed_loop })
}

/// The probe of one text task on `samples`: teacher-forced on each sentence alone, then
/// generated.
pub fn text(agent: &mut Agent, task: &'static str, samples: Vec<Sample>) -> Result<TextProbe, ActorError> {
    let model = agent.model().clone();
    let mut scorer = &*model;
    let text_ids = 0..agent.vocabulary().text.size() as usize;
    let (mut loss, mut tokens) = (0.0, Tally::default());
    for sample in &samples {
        let mut builder = SequenceBuilder::new(agent.vocabulary(), PositionMode::Eval);
        builder.sentence(&sample.parts())?;
        let sentence = builder.finish();
        let logits = scorer.logits(&sentence)?;
        for (i, element) in sentence.elements.iter().enumerate().skip(1) {
            if let Some(target) = element.target {
                let row = &logits[i - 1];
                tokens.add(argmax(&row[text_ids.clone()]) == target as usize);
                loss += f64::from(cross_entropy(row, target as usize));
            }
        }
    }
    let exact = eval::accuracy(agent, task, samples.into_iter(), &|| {})?;
    Ok(TextProbe {
        task,
        loss: (loss / f64::from(tokens.total.max(1))) as f32,
        tokens,
        exact: exact.accuracy,
        samples: exact.samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::text::tests::shipped;

    /// The shipped vocabulary's size, and far beyond the few ids these scorers name.
    const VOCAB: usize = 8192;

    /// Puts all its weight on the previous action token: as executed (`Copier`, a model that
    /// copies), or as the expert chose it, which the sequence shows only through the noise
    /// (`Streak`, a model that follows the expert's streak and never reads its observations).
    enum Repeat {
        Copier,
        Streak,
    }

    impl Scorer for Repeat {
        fn logits(&mut self, sequence: &Sequence) -> Result<Vec<Vec<f32>>, ActorError> {
            let mut last = None;
            Ok(sequence
                .elements
                .iter()
                .map(|e| {
                    if e.modality == Modality::Action {
                        last = match self {
                            Repeat::Copier => Some(e.id),
                            Repeat::Streak => e.target,
                        };
                    }
                    one_hot(last)
                })
                .collect())
        }
    }

    /// Always the expert's choice: what a model that reads its observations perfectly does.
    struct Reader;

    impl Scorer for Reader {
        fn logits(&mut self, sequence: &Sequence) -> Result<Vec<Vec<f32>>, ActorError> {
            Ok((0..sequence.len()).map(|i| one_hot(sequence.elements.get(i + 1).and_then(|e| e.target))).collect())
        }
    }

    fn one_hot(id: Option<u32>) -> Vec<f32> {
        let mut row = vec![0.0; VOCAB];
        if let Some(id) = id {
            row[id as usize] = 30.0;
        }
        row
    }

    fn probe(scorer: &mut dyn Scorer, world: &str) -> TeacherForced {
        let vocabulary = Vocabulary::new(shipped());
        assert!(vocabulary.size() as usize <= VOCAB);
        let mut world = envs::make(world).unwrap();
        teacher_forced(scorer, &vocabulary, world.as_mut(), 256, 2, 3).unwrap()
    }

    #[test]
    fn it_tells_a_copying_model_from_one_that_reads_the_frame() {
        for world in ["pong", "grid"] {
            let copier = probe(&mut Repeat::Copier, world);
            let reader = probe(&mut Reader, world);
            assert_eq!(copier.all.total, reader.all.total, "{world}: the same steps");
            assert!(copier.copy.total > 5 && copier.change.total > 5, "{world}: both kinds of step: {copier:?}");
            assert_eq!(copier.copy.accuracy(), Some(1.0), "{world}");
            assert_eq!(copier.change.accuracy(), Some(0.0), "{world}");
            assert_eq!((reader.copy.accuracy(), reader.change.accuracy()), (Some(1.0), Some(1.0)), "{world}");
            assert_eq!(reader.turn.accuracy(), Some(1.0), "{world}");
            assert!(reader.loss < 0.01 && copier.loss > 1.0, "{world}: {} {}", reader.loss, copier.loss);
        }
    }

    #[test]
    fn turns_expose_a_model_that_follows_the_streak_through_the_noise() {
        let streak = probe(&mut Repeat::Streak, "pendulum_swingup");
        assert!(streak.turn.total > 5, "{streak:?}");
        assert_eq!(streak.turn.accuracy(), Some(0.0));
        // It passes most change steps all the same: the noise, not the expert, made them changes.
        assert!(streak.change.accuracy().unwrap() > 0.5, "{streak:?}");
    }

    #[test]
    fn continuous_actions_count_as_right_within_the_tolerance() {
        let reader = probe(&mut Reader, "pendulum_swingup");
        assert_eq!(reader.all.accuracy(), Some(1.0));
        let copier = probe(&mut Repeat::Copier, "pendulum_swingup");
        // The pendulum's one action token: DART's noise (sigma 0.2) makes most steps changes.
        assert!(copier.change.total > copier.copy.total, "{copier:?}");
        assert_eq!(copier.change.accuracy(), Some(0.0));
    }

    #[test]
    fn the_closed_loop_score_puts_the_expert_at_one_and_random_play_at_zero() {
        let mut world = envs::make("pong").unwrap();
        let expert = closed_loop(world.as_mut(), &mut Expert, 2, 400).unwrap();
        assert_eq!(expert.normalized, 1.0);
        assert_eq!((expert.agreement.accuracy(), expert.agreement.total), (Some(1.0), 800));
        assert!(expert.choices.iter().all(|c| c.model == c.expert), "{:?}", expert.choices);
        assert_eq!(expert.choices.iter().map(|c| c.model).sum::<u32>(), 800);
        assert!(expert.expert.mean > expert.random.mean, "{expert:?}");
        let random = closed_loop(world.as_mut(), &mut Random::new(), 2, 400).unwrap();
        assert_eq!(random.normalized, 0.0);
        assert_eq!(random.success, None);
        assert!(random.missions.is_empty());
        let agreement = random.agreement.accuracy().unwrap();
        assert!(agreement > 0.2 && agreement < 0.6, "random play agrees by chance: {agreement}");
        assert!(random.choices.iter().all(|c| c.model > 200), "every action about a third: {:?}", random.choices);
    }

    #[test]
    fn grid_successes_are_counted_by_the_missions_verb() {
        let mut world = envs::make("grid").unwrap();
        let expert = closed_loop(world.as_mut(), &mut Expert, 40, 64).unwrap();
        let verbs: Vec<&str> = expert.missions.iter().map(|m| m.verb).collect();
        assert_eq!(verbs, ["go to", "pick up", "open", "put next to"], "every verb in 40 missions");
        assert_eq!(expert.missions.iter().map(|m| m.episodes).sum::<u32>(), 40);
        assert!(expert.missions.iter().all(|m| m.successes == m.episodes), "{:?}", expert.missions);
        let random = closed_loop(world.as_mut(), &mut Random::new(), 40, 64).unwrap();
        let (episodes, successes) = random.missions.iter().fold((0, 0), |(e, s), m| (e + m.episodes, s + m.successes));
        assert_eq!(episodes, 40);
        assert_eq!(successes as f32 / 40.0, random.success.unwrap());
        assert!(successes < 20, "{:?}", random.missions);
    }
}

#[cfg(test)]
mod agent_tests {
    use super::*;
    use crate::model::ModelFiles;
    use crate::model::generate::Sampling;
    use candle_core::Device;
    use std::sync::Arc;

    /// Teacher forcing scores the sequence the acting agent sees: on the agent's own
    /// episode, the argmax of the scored logits is the action the agent chose.
    #[test]
    fn teacher_forcing_scores_what_the_agent_sees() {
        let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tiny"));
        let (model, vocabulary) = ModelFiles::read(dir).unwrap().load(&Device::Cpu).unwrap();
        let model = Arc::new(model);
        let mut agent = Agent::new(model.clone(), vocabulary.clone(), Sampling::Greedy, 0);
        let mut world = envs::make("pong").unwrap();
        world.reset(0);
        Actor::begin(&mut agent, world.as_ref(), 0).unwrap();
        let mut builder = SequenceBuilder::new(&vocabulary, PositionMode::Eval);
        let mut chosen = vec![];
        // Pong's timestep: 16 patches, the separator and one action.
        for _ in 0..model.config.context / 18 {
            let action = Actor::act(&mut agent, world.as_ref()).unwrap();
            builder.observation(&world.observe()).unwrap();
            builder.relabelled_action(&action, &world.expert()).unwrap();
            world.step(&action);
            chosen.push(action);
        }
        let sequence = builder.finish();
        let logits = (&*model).logits(&sequence).unwrap();
        let range = allowed(&world.spec().action, &vocabulary);
        let scored: Vec<usize> = sequence
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.modality == Modality::Action)
            .map(|(i, _)| argmax(&logits[i - 1][range.clone()]))
            .collect();
        let chosen: Vec<usize> =
            chosen.iter().map(|a| if let Action::Discrete(k) = a { k[0] as usize } else { unreachable!() }).collect();
        assert_eq!(scored, chosen);
    }
}
