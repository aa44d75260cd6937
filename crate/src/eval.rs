//! Evaluation: the model on held-out seeds, held-out missions and test splits, beside the
//! expert and random play. Evaluation seeds count up from 0; training seeds always have
//! the top bit set (`data::seeds`), so no evaluated episode or scene was trained on.

use crate::agent::Agent;
use crate::data::episodes::{Episode, Noise};
use crate::data::seeds;
use crate::envs::captions::digits::{Dataset, Ink, Prompt, Split};
use crate::envs::captions::{Sample, scenes};
use crate::envs::rollout::{self, Actor, ActorError, Evaluation, Expert, Random};
use crate::envs::{self, Kind, World};
use crate::tokens::Action;
use rand::SeedableRng;
use rand_pcg::Pcg64Mcg;

/// One world's scores: mean episode score of each policy on the same seeds.
#[derive(Debug, serde::Serialize)]
pub struct WorldReport {
    pub world: &'static str,
    pub kind: Kind,
    pub expert: Evaluation,
    pub random: Evaluation,
    pub model: Evaluation,
    pub prompted: Evaluation,
    /// (model − random) / (expert − random), unprompted and prompted.
    pub normalized: f32,
    pub normalized_prompted: f32,
    /// For grid missions: the share of episodes that ended in success.
    pub success: Option<f32>,
    pub success_prompted: Option<f32>,
}

/// Exact-match accuracy of generated text.
#[derive(Debug, serde::Serialize)]
pub struct TextReport {
    pub task: &'static str,
    pub accuracy: f32,
    pub samples: usize,
}

/// Where the demonstration prompts come from: training-range seeds of a stream of their own.
const PROMPT_STREAM: u64 = 0x7072_6f6d_7074;

/// The agent after a demonstration of the same task: Gato's prompting.
struct Prompted<'a> {
    agent: &'a mut Agent,
    demonstrator: Box<dyn World>,
}

impl Actor for Prompted<'_> {
    fn begin(&mut self, _: &dyn World, seed: u64) -> Result<(), ActorError> {
        let demonstration = seeds::sequence_seed(PROMPT_STREAM, seed);
        let mut rng = Pcg64Mcg::seed_from_u64(demonstration);
        let budget = self.agent.model().config.context / 2;
        let world = self.demonstrator.as_mut();
        let vocabulary = self.agent.vocabulary();
        let episode = Episode::play(world, vocabulary, demonstration, &Noise::NONE, &mut rng)?;
        let prompt = episode.ending(world, vocabulary, budget)?;
        Ok(pollster::block_on(self.agent.begin_episode(Some(&prompt)))?)
    }

    fn act(&mut self, world: &dyn World) -> Result<Action, ActorError> {
        Actor::act(self.agent, world)
    }
}

pub(crate) fn normalized(model: &Evaluation, expert: &Evaluation, random: &Evaluation) -> f32 {
    (model.mean - random.mean) / (expert.mean - random.mean).max(1e-6)
}

pub(crate) fn success(e: &Evaluation) -> f32 {
    e.scores.iter().filter(|&&s| s > 0.0).count() as f32 / e.scores.len().max(1) as f32
}

/// The policies [`world`] plays each world with: the expert, random play, the model, and the
/// model after a demonstration.
pub const POLICIES: u32 = 4;

/// Plays `episodes` held-out episodes of one world with every policy, calling `done` after
/// each episode.
pub fn world(agent: &mut Agent, name: &str, episodes: u32, done: &dyn Fn()) -> Result<WorldReport, ActorError> {
    let mut world = envs::make(name).ok_or_else(|| format!("unknown world '{name}'"))?;
    let spec = world.spec();
    let expert = rollout::evaluate_reporting(world.as_mut(), &mut Expert, episodes, 0, done)?;
    let random = rollout::evaluate_reporting(world.as_mut(), &mut Random::new(), episodes, 0, done)?;
    let model = rollout::evaluate_reporting(world.as_mut(), agent, episodes, 0, done)?;
    let demonstrator = envs::make(name).ok_or("the world vanished")?;
    let mut prompted_agent = Prompted { agent, demonstrator };
    let prompted = rollout::evaluate_reporting(world.as_mut(), &mut prompted_agent, episodes, 0, done)?;
    let grid = spec.kind == Kind::Grid;
    Ok(WorldReport {
        world: spec.name,
        kind: spec.kind,
        normalized: normalized(&model, &expert, &random),
        normalized_prompted: normalized(&prompted, &expert, &random),
        success: grid.then(|| success(&model)),
        success_prompted: grid.then(|| success(&prompted)),
        expert,
        random,
        model,
        prompted,
    })
}

/// The share of samples whose generated text is exactly the target; `done` is called after
/// each sample.
pub fn accuracy(
    agent: &mut Agent,
    task: &'static str,
    samples: impl Iterator<Item = Sample>,
    done: &dyn Fn(),
) -> Result<TextReport, ActorError> {
    let (mut right, mut total) = (0, 0);
    for sample in samples {
        let said = pollster::block_on(agent.describe(&sample.image, sample.context.as_deref(), |_| {}))?;
        right += usize::from(said.trim() == sample.target.trim());
        total += 1;
        done();
    }
    Ok(TextReport { task, accuracy: right as f32 / total.max(1) as f32, samples: total })
}

/// The held-out scene tasks: captions and questions, one of each from scenes 0, 1, ...,
/// `samples` each.
pub fn scene_tasks(samples: usize) -> Vec<(&'static str, Vec<Sample>)> {
    let scenes = (0..samples as u64).map(|seed| (seed, scenes::Scene::generate(seed)));
    let captions = scenes.clone().map(|(_, scene)| Sample::caption(scene.image(), scene.caption())).collect();
    let questions = scenes
        .filter_map(|(seed, scene)| {
            let questions = scene.questions();
            let q = questions.get(seed as usize % questions.len().max(1))?;
            Some(Sample::question(scene.image(), q.text.clone(), q.answer.clone()))
        })
        .collect();
    vec![("scene captions", captions), ("scene questions", questions)]
}

/// The MNIST test digits in both ink polarities, since people bring both; `samples` each.
pub fn mnist_tasks(samples: usize, dir: &std::path::Path) -> Result<Vec<(&'static str, Vec<Sample>)>, ActorError> {
    let set = Dataset::mnist(dir, Split::Test)?;
    Ok(test_item_tasks(&set, ["mnist test digits, dark on light", "mnist test digits, as published"], samples))
}

/// The Fashion-MNIST test items in both ink polarities; `samples` each.
pub fn fashion_tasks(samples: usize, dir: &std::path::Path) -> Result<Vec<(&'static str, Vec<Sample>)>, ActorError> {
    let set = Dataset::fashion_mnist(dir, Split::Test)?;
    let names = ["fashion-mnist test items, dark on light", "fashion-mnist test items, as published"];
    Ok(test_item_tasks(&set, names, samples))
}

/// `samples` of a test split's items, evenly spread over it so every class is represented,
/// once in each ink: the first name's dark on light, the second's as published.
fn test_item_tasks(set: &Dataset, names: [&'static str; 2], samples: usize) -> Vec<(&'static str, Vec<Sample>)> {
    let step = (set.len() / samples.max(1)).max(1);
    let items =
        |ink| (0..set.len()).step_by(step).take(samples).filter_map(|i| set.sample(i, Prompt::Question, ink)).collect();
    vec![(names[0], items(Ink::DarkOnLight)), (names[1], items(Ink::AsPublished))]
}

/// Every held-out text task: the scenes', then MNIST's and Fashion-MNIST's.
pub fn text_tasks(
    samples: usize,
    mnist: &std::path::Path,
    fashion: &std::path::Path,
) -> Result<Vec<(&'static str, Vec<Sample>)>, ActorError> {
    let mut tasks = scene_tasks(samples);
    tasks.extend(mnist_tasks(samples, mnist)?);
    tasks.extend(fashion_tasks(samples, fashion)?);
    Ok(tasks)
}

/// Held-out scene questions on `topic` alone, one from each scene that has any (seeds 0,
/// 1, ...), `samples` of them: which kinds of question a model answers, and which not.
pub fn topic_questions(topic: scenes::Topic, samples: usize) -> Vec<Sample> {
    // Every topic but the rarest comes up in most scenes; the bound only stops a topic
    // that the generator stopped asking.
    (0..samples as u64 * 50)
        .filter_map(|seed| {
            let scene = scenes::Scene::generate(seed);
            let questions: Vec<_> = scene.questions().into_iter().filter(|q| q.topic == topic).collect();
            let q = questions.get(seed as usize % questions.len().max(1))?;
            Some(Sample::question(scene.image(), q.text.clone(), q.answer.clone()))
        })
        .take(samples)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::captions::scenes::Topic;

    #[test]
    fn topic_questions_ask_only_their_topic() {
        for topic in Topic::ALL {
            assert_eq!(topic_questions(topic, 20).len(), 20, "{topic:?}");
        }
        let yes_no = topic_questions(Topic::Existence, 20);
        assert!(yes_no.iter().all(|q| q.target == "yes." || q.target == "no."));
        let counts = topic_questions(Topic::Count, 20);
        assert!(counts.iter().all(|q| q.context.as_deref().is_some_and(|c| c.starts_with("how many"))));
        assert_ne!(counts[0].context, counts[1].context, "one question from each scene");
    }
}
