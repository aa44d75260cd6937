//! The mix: which tasks training draws, how often, and the stream of sequences.
//!
//! Every world of `envs::all()` trains, except those kept for evaluation alone
//! ([`EVALUATION_ONLY`]); worlds are grouped by their [`Kind`], so new games join the mix
//! the day they are added to `envs::all()`. Three captioning tasks join them: synthetic
//! scenes, MNIST and Fashion-MNIST (their training splits only).
//!
//! Each sequence draws its task with probability proportional to its weight. Almost every
//! sequence fills the context, so the weights are also the shares of tokens:
//!
//! | family        | tasks                       | weight each | why                                                |
//! |---------------|-----------------------------|------------:|----------------------------------------------------|
//! | Atari         | every `Kind::Atari` world   |           1 | the baseline: one share per game                   |
//! | control       | every `Kind::Control` world |           1 | low-dimensional states; one share is plenty        |
//! | grid          | `grid`                      |           3 | one world, but a language of missions to ground    |
//! | scenes        | `scenes`                    |           2 | seven kinds of questions about open-ended pictures |
//! | MNIST         | `mnist`                     |           1 | ten labels: more would only memorize the images    |
//! | Fashion-MNIST | `fashion_mnist`             |           1 | the same                                           |
//!
//! With six games and four control tasks that is 6 : 4 : 3 : 4 for games, control, grid and
//! captions: acting takes three quarters of training, as it does in Gato, while the
//! captions the page shows off still get a quarter.
//!
//! A stream is a function of its seed and its tasks alone (and of its student's weights,
//! where one drives), so it replays exactly. (Not of a sequence's index alone: a world's
//! episode is cut into several windows, see [`episodes`], so a sequence depends on the
//! ones before it.)

use super::episodes::{Noise, Player, Student};
use super::{DataError, captions, seeds};
use crate::envs::captions::digits::{self, Dataset, Ink, Prompt, Split};
use crate::envs::captions::{Sample, scenes};
use crate::envs::{self, ActionSpec, Kind, WorldSpec};
use crate::tokens::{Sequence, Vocabulary};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::path::PathBuf;
use thiserror::Error;

/// Worlds kept for evaluation alone: their missions are the ones training must never show.
pub const EVALUATION_ONLY: [&str; 1] = ["grid_heldout"];
/// The share of MNIST and Fashion-MNIST sentences that are captions rather than
/// questions: both name the label, and the page asks both ways.
pub(super) const DIGIT_CAPTION_SHARE: f64 = 0.5;

/// Groups of tasks that share a weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Atari,
    Control,
    Grid,
    Scenes,
    Mnist,
    FashionMnist,
}

impl Family {
    fn of(kind: Kind) -> Family {
        match kind {
            Kind::Atari => Family::Atari,
            Kind::Control => Family::Control,
            Kind::Grid => Family::Grid,
        }
    }

    /// The weight of each task of the family; the module notes say why.
    pub fn weight(self) -> f64 {
        match self {
            Family::Atari | Family::Control | Family::Mnist | Family::FashionMnist => 1.0,
            Family::Grid => 3.0,
            Family::Scenes => 2.0,
        }
    }
}

/// One task of the mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub name: &'static str,
    pub family: Family,
    pub weight: f64,
    /// Whether its actions are continuous values, whose bins are ordered (training can
    /// then spread a target over the neighbouring bins).
    pub continuous_actions: bool,
}

impl Task {
    fn new(name: &'static str, family: Family, continuous_actions: bool) -> Task {
        Task { name, family, weight: family.weight(), continuous_actions }
    }

    fn of_world(spec: WorldSpec) -> Task {
        let continuous = matches!(spec.action, ActionSpec::Continuous { .. });
        Task::new(spec.name, Family::of(spec.kind), continuous)
    }
}

/// Every training task, worlds first in the order of `envs::all()`.
pub fn available() -> Vec<Task> {
    let worlds = envs::all().into_iter().map(|w| w.spec()).filter(|s| !EVALUATION_ONLY.contains(&s.name));
    let mut tasks: Vec<Task> = worlds.map(Task::of_world).collect();
    tasks.push(Task::new("scenes", Family::Scenes, false));
    tasks.push(Task::new("mnist", Family::Mnist, false));
    tasks.push(Task::new("fashion_mnist", Family::FashionMnist, false));
    tasks
}

/// Where the image collections live.
#[derive(Clone, Debug)]
pub struct DataDirs {
    pub mnist: PathBuf,
    pub fashion: PathBuf,
}

impl Default for DataDirs {
    fn default() -> Self {
        DataDirs { mnist: digits::DEFAULT_MNIST_DIR.into(), fashion: digits::DEFAULT_FASHION_DIR.into() }
    }
}

#[derive(Debug, Error)]
pub enum StreamError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Dataset(#[from] digits::DataError),
    #[error("unknown task '{name}'; the tasks are: {known}")]
    UnknownTask { name: String, known: String },
    #[error("{0} has no training images")]
    EmptyDataset(&'static str),
    #[error("the context must hold at least one token")]
    NoContext,
    #[error("the mix has no task to draw")]
    NoTasks,
}

/// What makes a task's sequences.
enum Source {
    World(Player),
    Scenes,
    /// The training split of MNIST or Fashion-MNIST (never the test split).
    Images(Dataset),
}

impl Source {
    fn load(task: &Task, dirs: &DataDirs) -> Result<Source, StreamError> {
        let images = |set: Dataset| if set.is_empty() { Err(StreamError::EmptyDataset(task.name)) } else { Ok(set) };
        Ok(match task.family {
            Family::Scenes => Source::Scenes,
            Family::Mnist => Source::Images(images(Dataset::mnist(&dirs.mnist, Split::Train)?)?),
            Family::FashionMnist => Source::Images(images(Dataset::fashion_mnist(&dirs.fashion, Split::Train)?)?),
            Family::Atari | Family::Control | Family::Grid => {
                Source::World(Player::new(envs::make(task.name).ok_or_else(|| unknown(task.name))?))
            }
        })
    }
}

/// Whether every one of `names` is a training task.
fn known(names: &[String]) -> Result<(), StreamError> {
    let all = available();
    match names.iter().find(|name| !all.iter().any(|t| t.name == name.as_str())) {
        Some(name) => Err(unknown(name)),
        None => Ok(()),
    }
}

fn unknown(name: &str) -> StreamError {
    let known: Vec<&str> = available().iter().map(|t| t.name).collect();
    StreamError::UnknownTask { name: name.to_string(), known: known.join(", ") }
}

/// The training stream: sequence after sequence of the mix.
pub struct Stream<'v> {
    vocabulary: &'v Vocabulary,
    context: usize,
    seed: u64,
    noise: Noise,
    student: Option<Student>,
    /// The tasks whose episodes the student never drives.
    unstudied: Vec<String>,
    tasks: Vec<Task>,
    sources: Vec<Source>,
    pick: WeightedIndex<f64>,
    /// The index of the next sequence.
    index: u64,
}

impl<'v> Stream<'v> {
    /// The stream of the tasks named in `only` (all of them when it is empty), loading
    /// the image collections it needs from `dirs`.
    pub fn new(
        vocabulary: &'v Vocabulary,
        context: usize,
        seed: u64,
        only: &[String],
        dirs: &DataDirs,
    ) -> Result<Self, StreamError> {
        if context == 0 {
            return Err(StreamError::NoContext);
        }
        known(only)?;
        let tasks: Vec<Task> =
            available().into_iter().filter(|t| only.is_empty() || only.iter().any(|name| name == t.name)).collect();
        let sources = tasks.iter().map(|task| Source::load(task, dirs)).collect::<Result<_, _>>()?;
        let pick = WeightedIndex::new(tasks.iter().map(|t| t.weight)).map_err(|_| StreamError::NoTasks)?;
        Ok(Stream {
            vocabulary,
            context,
            seed,
            noise: Noise::DART,
            student: None,
            unstudied: vec![],
            tasks,
            sources,
            pick,
            index: 0,
        })
    }

    /// The same stream with the worlds' actions perturbed by `noise` instead of [`Noise::DART`].
    pub fn with_noise(self, noise: Noise) -> Self {
        Stream { noise, ..self }
    }

    /// The same stream with `student` driving its share of the worlds' episodes (DAgger),
    /// except those of the tasks named in `unstudied`: on the grid its rounds taught the model
    /// to spin (models/recipe/RUNS.md, `grid-ego-d`).
    pub fn with_student(self, student: Student, unstudied: &[String]) -> Result<Self, StreamError> {
        known(unstudied)?;
        Ok(Stream { student: Some(student), unstudied: unstudied.to_vec(), ..self })
    }

    /// The tasks a record's task index points into.
    pub fn tasks(&self) -> &[Task] {
        &self.tasks
    }

    /// The task of sequence `index`, and the generator that goes on to make it.
    fn draw_task(&self, index: u64) -> (usize, Pcg64Mcg) {
        let mut rng = Pcg64Mcg::seed_from_u64(seeds::sequence_seed(self.seed, index));
        (self.pick.sample(&mut rng), rng)
    }

    /// The next sequence of the stream, and its task's index in [`Stream::tasks`].
    pub fn next_sequence(&mut self) -> Result<(usize, Sequence), DataError> {
        let (task, mut rng) = self.draw_task(self.index);
        self.index += 1;
        let (name, vocabulary, context) = (self.tasks[task].name, self.vocabulary, self.context);
        let sequence = match &mut self.sources[task] {
            Source::World(player) => {
                let studied = !self.unstudied.iter().any(|t| t == name);
                let student = self.student.as_mut().filter(|_| studied);
                player.sequence(vocabulary, context, &self.noise, student, &mut rng)?
            }
            Source::Scenes => {
                captions::pack(name, vocabulary, context, &mut rng, |rng| Some(scenes::sample(seeds::draw(rng))))?
            }
            Source::Images(set) => captions::pack(name, vocabulary, context, &mut rng, |rng| image_sample(set, rng))?,
        };
        Ok((task, sequence))
    }
}

/// A uniformly drawn image of `set`, captioned or asked about, in either ink polarity:
/// people bring digits drawn dark on light (the sketch pad, a photo of paper) and the
/// collections as published (light on dark), and a model trained on one names the other
/// at random.
fn image_sample(set: &Dataset, rng: &mut impl Rng) -> Option<Sample> {
    let index = rng.random_range(0..set.len());
    let prompt = if rng.random_bool(DIGIT_CAPTION_SHARE) { Prompt::Caption } else { Prompt::Question };
    let ink = if rng.random_bool(0.5) { Ink::DarkOnLight } else { Ink::AsPublished };
    set.sample(index, prompt, ink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::format::{self, tests::assert_holds, tests::decode};
    use crate::envs::World;
    use crate::envs::rollout::{Actor, ActorError};
    use crate::tokens::text::tests::shipped;
    use crate::tokens::{Action, Modality};
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::path::Path;
    use std::rc::Rc;

    fn vocabulary() -> Vocabulary {
        Vocabulary::new(shipped())
    }

    fn dirs() -> DataDirs {
        let repo = |relative: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(relative);
        DataDirs { mnist: repo(digits::DEFAULT_MNIST_DIR), fashion: digits::DEFAULT_FASHION_DIR.into() }
    }

    fn names(tasks: &[&str]) -> Vec<String> {
        tasks.iter().map(|t| t.to_string()).collect()
    }

    fn stream<'v>(v: &'v Vocabulary, seed: u64, tasks: &[&str]) -> Stream<'v> {
        Stream::new(v, 256, seed, &names(tasks), &dirs())
            .unwrap_or_else(|e| panic!("{e}\n(the image tasks read the real data: run models/recipe/prepare_data.sh)"))
    }

    #[test]
    fn every_world_trains_but_those_kept_for_evaluation() {
        let tasks = available();
        let worlds: Vec<&str> = envs::all().iter().map(|w| w.spec().name).collect();
        for held in EVALUATION_ONLY {
            assert!(worlds.contains(&held), "{held} is no longer a world: update EVALUATION_ONLY");
            assert!(tasks.iter().all(|t| t.name != held));
        }
        for world in worlds.iter().filter(|w| !EVALUATION_ONLY.contains(w)) {
            assert!(tasks.iter().any(|t| t.name == *world), "{world} is missing from the mix");
        }
        for name in ["grid", "scenes", "mnist", "fashion_mnist"] {
            assert!(tasks.iter().any(|t| t.name == name), "{name}");
        }
        assert!(tasks.iter().all(|t| t.weight > 0.0));
        let continuous: Vec<&str> = tasks.iter().filter(|t| t.continuous_actions).map(|t| t.name).collect();
        assert_eq!(continuous, ["cartpole_swingup", "pendulum_swingup", "reacher", "point_mass"]);
    }

    #[test]
    fn tasks_are_drawn_at_their_weights() {
        let v = vocabulary();
        let s = stream(&v, 1, &["grid", "point_mass", "scenes"]);
        let mut counts = vec![0.0f64; s.tasks().len()];
        for index in 0..6000 {
            counts[s.draw_task(index).0] += 1.0;
        }
        for (task, count) in s.tasks().iter().zip(&counts) {
            let share = task.weight / 6.0;
            assert!((count / 6000.0 - share).abs() < 0.02, "{}: {count} of 6000", task.name);
        }
    }

    #[test]
    fn a_stream_replays_exactly_and_its_seed_changes_it() {
        let v = vocabulary();
        let tasks = ["grid", "cartpole_swingup", "scenes"];
        let take = |seed| {
            let mut s = stream(&v, seed, &tasks);
            (0..12).map(|_| s.next_sequence().unwrap()).collect::<Vec<_>>()
        };
        let first = take(5);
        assert_eq!(first, take(5));
        assert_ne!(first, take(6));
    }

    #[test]
    fn every_task_streams_records_that_keep_the_rules() {
        let v = vocabulary();
        for task in available() {
            let mut s = stream(&v, 3, &[task.name]);
            let mut bytes = Vec::new();
            let mut sequences = Vec::new();
            for _ in 0..3 {
                let (t, sequence) = s.next_sequence().unwrap();
                assert_eq!(s.tasks()[t].name, task.name);
                format::encode(t as u16, &sequence, &mut bytes).unwrap();
                sequences.push(sequence);
            }
            let mut at = 0;
            for sequence in &sequences {
                let (record, used) = decode(&bytes[at..]);
                at += used;
                assert_holds(&record, sequence);
                let name = task.name;
                assert!(!sequence.is_empty() && sequence.len() <= 256, "{name}: {} tokens", sequence.len());
                let patches = sequence.elements.iter().filter(|e| e.modality == Modality::Patch).count();
                assert_eq!(patches, sequence.patches.len(), "{name}");
                assert!(sequence.patches.iter().flat_map(|p| &p.pixels).all(|x| x.abs() <= 0.25), "{name}");
                for e in &sequence.elements {
                    match task.family {
                        Family::Scenes | Family::Mnist | Family::FashionMnist => {
                            assert!(e.target.is_none() || e.modality == Modality::Text, "{name}: {e:?}")
                        }
                        _ => assert_eq!(e.target.is_some(), e.modality == Modality::Action, "{name}: {e:?}"),
                    }
                    assert!(e.modality == Modality::Patch || e.id < v.size(), "{name}: {e:?}");
                }
            }
            assert_eq!(at, bytes.len());
        }
    }

    #[test]
    fn captions_use_the_training_splits_only() {
        let v = vocabulary();
        let s = stream(&v, 0, &["mnist", "fashion_mnist"]);
        let mnist_test = Dataset::mnist(&dirs().mnist, Split::Test).unwrap();
        let fashion_test = Dataset::fashion_mnist(&dirs().fashion, Split::Test).unwrap();
        for source in &s.sources {
            let Source::Images(set) = source else { panic!("only image tasks were asked for") };
            match set.collection() {
                digits::Collection::Mnist => {
                    // The test split is the last tenth of each digit's file: no image used comes from it.
                    for digit in 0..10u8 {
                        let of = |d: &Dataset| (0..d.len()).filter(|&i| d.label(i) == Some(digit)).collect::<Vec<_>>();
                        let (train, test) = (of(set), of(&mnist_test));
                        let test_range = digits::mnist_split(train.len() + test.len(), Split::Test);
                        assert!(train.iter().all(|&i| !test_range.contains(&(set.origin(i).unwrap() as usize))));
                    }
                }
                digits::Collection::FashionMnist => {
                    assert_eq!((set.len(), fashion_test.len()), (60_000, 10_000), "the published training file");
                }
            }
            let mut rng = Pcg64Mcg::seed_from_u64(1);
            let mut light_backgrounds = 0;
            for _ in 0..1000 {
                let sample = image_sample(set, &mut rng).unwrap();
                assert!(sample.target.ends_with('.'));
                // Both collections have their ink in the middle and the paper at the corners.
                light_backgrounds += usize::from(sample.image.get_pixel(0, 0).0[0] > 127);
            }
            assert!((400..600).contains(&light_backgrounds), "both polarities, half each: {light_backgrounds} of 1000");
        }
    }

    #[test]
    fn bad_requests_are_clear_errors() {
        let v = vocabulary();
        let e = Stream::new(&v, 256, 0, &names(&["pong_deluxe"]), &dirs()).err().unwrap();
        assert!(e.to_string().contains("unknown task 'pong_deluxe'") && e.to_string().contains("grid"), "{e}");
        let e = Stream::new(&v, 256, 0, &names(&["grid_heldout"]), &dirs()).err().unwrap();
        assert!(matches!(e, StreamError::UnknownTask { .. }), "held-out missions never train");
        assert!(matches!(Stream::new(&v, 0, 0, &[], &dirs()), Err(StreamError::NoContext)));
        let nowhere = DataDirs { mnist: "/nonexistent".into(), fashion: "/nonexistent".into() };
        assert!(matches!(Stream::new(&v, 256, 0, &names(&["mnist"]), &nowhere), Err(StreamError::Dataset(_))));
        assert!(Stream::new(&v, 256, 0, &names(&["grid"]), &nowhere).is_ok(), "worlds need no files");
        let mut tiny = Stream::new(&v, 8, 0, &names(&["grid"]), &nowhere).unwrap();
        assert!(matches!(tiny.next_sequence(), Err(DataError::ContextTooSmall { .. })));
        let nobody = Student::new(vec![], 1.0, 20);
        let e = stream(&v, 0, &["pong"]).with_student(nobody, &names(&["gird"])).err().unwrap();
        assert!(e.to_string().contains("unknown task 'gird'"), "{e}");
    }

    /// A student that always takes its world's first action and notes which worlds it drove.
    struct Noting(Rc<RefCell<Vec<&'static str>>>);

    impl Actor for Noting {
        fn begin(&mut self, world: &dyn World, _: u64) -> Result<(), ActorError> {
            self.0.borrow_mut().push(world.spec().name);
            Ok(())
        }
        fn act(&mut self, _: &dyn World) -> Result<Action, ActorError> {
            Ok(Action::Discrete(vec![0]))
        }
    }

    #[test]
    fn students_never_drive_the_unstudied_tasks() {
        let v = vocabulary();
        let driven = Rc::new(RefCell::new(vec![]));
        let student = Student::new(vec![Box::new(Noting(driven.clone()))], 1.0, 20);
        let mut s = stream(&v, 2, &["pong", "grid"]).with_student(student, &names(&["grid"])).unwrap();
        let streamed: HashSet<usize> = (0..40).map(|_| s.next_sequence().unwrap().0).collect();
        assert_eq!(streamed.len(), 2, "both tasks streamed");
        let driven = driven.borrow();
        assert!(!driven.is_empty() && driven.iter().all(|&w| w == "pong"), "{driven:?}");
    }
}
