//! The corpus: the texts the worlds produce, one per line, for training the text tokenizer
//! (`models/recipe/tokenizer.py` reads it).
//!
//! Lines are drawn from the training mix at its weights, so subwords are merged in
//! proportion to how often training will meet them: scene captions, questions and
//! answers; MNIST and Fashion-MNIST captions, questions and answers; the missions of the
//! worlds that show text. A question and its answer are separate lines, because
//! contexts and targets are tokenized separately (a target starts without a space).
//! Worlds without text, the games and control tasks, take no part.

use super::mix::{DIGIT_CAPTION_SHARE, Family, StreamError, Task, available};
use super::seeds;
use crate::envs::captions::digits::Collection;
use crate::envs::captions::{Sample, scenes};
use crate::envs::{self, World};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use std::collections::VecDeque;

/// Labels in MNIST and in Fashion-MNIST alike.
const LABELS: u8 = 10;

/// What makes a task's texts.
enum Source {
    /// A world whose observations carry text.
    World(Box<dyn World>),
    Scenes,
    Labels(Collection),
}

/// An endless iterator over the corpus's lines.
pub struct Corpus {
    rng: Pcg64Mcg,
    sources: Vec<Source>,
    pick: WeightedIndex<f64>,
    pending: VecDeque<String>,
}

impl Corpus {
    pub fn new(seed: u64) -> Result<Corpus, StreamError> {
        let mut rng = Pcg64Mcg::seed_from_u64(seeds::sequence_seed(seed, 0));
        let mut tasks: Vec<(Task, Source)> = Vec::new();
        for task in available() {
            let source = match task.family {
                Family::Scenes => Some(Source::Scenes),
                Family::Mnist => Some(Source::Labels(Collection::Mnist)),
                Family::FashionMnist => Some(Source::Labels(Collection::FashionMnist)),
                // A world speaks if its first observation does (missions hold all episode).
                Family::Atari | Family::Control | Family::Grid => envs::make(task.name).and_then(|mut world| {
                    world.reset(seeds::draw(&mut rng));
                    world.observe().text.is_some().then_some(Source::World(world))
                }),
            };
            tasks.extend(source.map(|source| (task, source)));
        }
        let pick = WeightedIndex::new(tasks.iter().map(|(task, _)| task.weight)).map_err(|_| StreamError::NoTasks)?;
        let sources = tasks.into_iter().map(|(_, source)| source).collect();
        Ok(Corpus { rng, sources, pick, pending: VecDeque::new() })
    }

    /// Queues the texts of one draw from the mix.
    fn draw(&mut self) {
        let rng = &mut self.rng;
        let (context, target) = match &mut self.sources[self.pick.sample(rng)] {
            Source::World(world) => {
                world.reset(seeds::draw(rng));
                (world.observe().text, None)
            }
            Source::Scenes => {
                let Sample { context, target, .. } = scenes::sample(seeds::draw(rng));
                (context, Some(target))
            }
            Source::Labels(collection) => {
                let label = rng.random_range(0..LABELS);
                if rng.random_bool(DIGIT_CAPTION_SHARE) {
                    (None, Some(collection.caption(label)))
                } else {
                    (Some(collection.question().to_string()), Some(collection.answer(label)))
                }
            }
        };
        self.pending.extend(context.into_iter().chain(target));
    }
}

impl Iterator for Corpus {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        while self.pending.is_empty() {
            self.draw();
        }
        self.pending.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envs::grid::Mission;

    #[test]
    fn the_corpus_holds_every_kind_of_text_and_replays() {
        let lines: Vec<String> = Corpus::new(0).unwrap().take(3000).collect();
        assert_eq!(lines, Corpus::new(0).unwrap().take(3000).collect::<Vec<_>>());
        assert_ne!(lines, Corpus::new(1).unwrap().take(3000).collect::<Vec<_>>());
        let count = |f: &dyn Fn(&str) -> bool| lines.iter().filter(|l| f(l)).count();
        let missions = count(&|l| Mission::parse(l).is_some());
        assert!(missions > 100, "{missions} missions");
        assert_eq!(count(&|l| Mission::parse(l).is_some_and(|m| m.is_held_out())), 0, "held-out missions never train");
        assert!(count(&|l| l.starts_with("a handwritten digit ")) > 20);
        assert!(count(&|l| l == "which digit is this?") > 20 && count(&|l| l == "what is this?") > 20);
        assert!(count(&|l| l.starts_with("how many ") || l.starts_with("is the ")) > 50, "scene questions");
        assert!(count(&|l| l == "yes." || l == "no.") > 20, "scene answers");
        assert!(lines.iter().all(|l| !l.is_empty() && !l.contains('\n')));
    }
}
