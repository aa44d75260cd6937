//! `gatito data` and `gatito corpus`: what the PyTorch recipe trains on.
//!
//! `data` writes the training stream (see [`crate::data::format`]) to stdout for
//! `models/recipe/stream.py` to read through a pipe; `corpus` prints the texts the
//! tokenizer is trained on. Both stop quietly when the reader hangs up.

use super::model::{SamplingArgs, agent};
use super::tokens::vocabulary;
use super::{Result, progress};
use crate::data::corpus::Corpus;
use crate::data::episodes::{Noise, Student};
use crate::data::format::{self, TaskEntry};
use crate::data::mix::{DataDirs, Stream};
use crate::envs::captions::digits;
use crate::envs::rollout::Actor;
use clap::Args;
use indicatif::ProgressBar;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct DataArgs {
    /// Tokens per sequence: the model's context.
    #[arg(long, default_value_t = 256)]
    context: usize,
    /// The stream's seed. Training seeds derived from it never meet evaluation's.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How many sequences to write; without it the stream never ends.
    #[arg(long)]
    count: Option<u64>,
    /// Only these tasks (comma-separated), at their usual relative weights.
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// The chance at each step that a lapse begins: the world then holds one random
    /// discrete action for several steps while the labels stay the expert's.
    #[arg(long, default_value_t = 0.0)]
    lapse: f64,
    /// The share of episodes that start astray, in a state a learner's mistakes reach and
    /// the expert's play seldom does (in the grid: holding an object the mission does not need).
    #[arg(long, default_value_t = 0.0)]
    astray: f64,
    /// DAgger: a trained model (a folder as `export.py` writes it) that drives a share of
    /// the worlds' episodes; the expert still labels every step. Repeated, each driven
    /// episode draws one of them (every DAgger round's student).
    #[arg(long)]
    student: Vec<PathBuf>,
    /// The share of the worlds' training episodes the students drive.
    #[arg(long, default_value_t = 0.5, requires = "student")]
    student_share: f64,
    /// The cap on the length of an episode the student drives, in steps.
    #[arg(long, default_value_t = 300, requires = "student")]
    student_steps: u32,
    /// Tasks (comma-separated) whose episodes the students never drive: the expert alone plays them.
    #[arg(long, value_delimiter = ',', requires = "student")]
    unstudied: Vec<String>,
    /// The world executes the students' choices as they are, without training's noise on top.
    #[arg(long, requires = "student")]
    students_clean: bool,
    #[command(flatten)]
    datasets: DatasetArgs,
}

/// Where MNIST and Fashion-MNIST are (models/recipe/prepare_data.sh puts them there).
#[derive(Args)]
pub struct DatasetArgs {
    /// MNIST's folder of digit files.
    #[arg(long, default_value = digits::DEFAULT_MNIST_DIR)]
    pub mnist: PathBuf,
    /// Fashion-MNIST's folder of IDX files.
    #[arg(long, default_value = digits::DEFAULT_FASHION_DIR)]
    pub fashion: PathBuf,
}

#[derive(Args)]
pub struct CorpusArgs {
    /// How many lines to print.
    #[arg(long, default_value_t = 200_000)]
    lines: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn data(args: DataArgs, model: &Path) -> Result<()> {
    let vocabulary = vocabulary(model)?;
    let dirs = DataDirs { mnist: args.datasets.mnist, fashion: args.datasets.fashion };
    let noise = Noise::DART.with_lapses(args.lapse).with_astray(args.astray);
    let mut stream = Stream::new(&vocabulary, args.context, args.seed, &args.tasks, &dirs)?.with_noise(noise);
    if !args.student.is_empty() {
        let actors =
            args.student.iter().map(|dir| Ok(Box::new(agent(dir, &SamplingArgs::default())?) as Box<dyn Actor>));
        let actors = actors.collect::<Result<Vec<_>>>()?;
        let student = Student::new(actors, args.student_share, args.student_steps);
        let student = if args.students_clean { student.without_noise() } else { student };
        stream = stream.with_student(student, &args.unstudied)?;
    }
    let entries: Vec<TaskEntry> = stream
        .tasks()
        .iter()
        .map(|t| TaskEntry { name: t.name, weight: t.weight, continuous_actions: t.continuous_actions })
        .collect();
    let header = format::header(args.context, &vocabulary, &entries);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    until_hung_up(|| {
        out.write_all(header.as_bytes())?;
        let mut record = Vec::new();
        let mut written = 0;
        // An endless stream feeds training, which shows its own progress.
        let bar = args.count.map_or_else(ProgressBar::hidden, |count| progress::bar(count, "sequences", false));
        while args.count.is_none_or(|count| written < count) {
            let (task, sequence) = stream.next_sequence()?;
            record.clear();
            format::encode(u16::try_from(task)?, &sequence, &mut record)?;
            out.write_all(&record)?;
            written += 1;
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(out.flush()?)
    })
}

pub fn corpus(args: CorpusArgs) -> Result<()> {
    let mut out = BufWriter::new(io::stdout().lock());
    let corpus = Corpus::new(args.seed)?;
    until_hung_up(|| {
        for line in corpus.take(args.lines) {
            writeln!(out, "{line}")?;
        }
        Ok(out.flush()?)
    })
}

/// Runs `write`, taking a reader that hangs up (a broken pipe) as the end, not an error.
fn until_hung_up(write: impl FnOnce() -> Result<()>) -> Result<()> {
    match write() {
        Err(error) if error.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) => {
            Ok(())
        }
        result => result,
    }
}
