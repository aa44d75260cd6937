//! `gatito probe`: a model judged in minutes, task by task (see [`crate::probe`]).

use super::data::DatasetArgs;
use super::model::{SamplingArgs, agent};
use super::{Result, print};
use crate::envs;
use crate::envs::captions::scenes::Topic;
use crate::eval;
use crate::probe::{self, ActingProbe, Budget, ChoiceCount, TextProbe};
use std::path::Path;
use std::time::Instant;

/// The text tasks' names, as training's mix calls their sources.
const TEXT_TASKS: [&str; 3] = ["scenes", "mnist", "fashion_mnist"];
/// The scene questions' topics, each scored apart as well (the rows' names).
const TOPICS: [(Topic, &str); 8] = [
    (Topic::Count, "scene questions: count"),
    (Topic::Colour, "scene questions: colour"),
    (Topic::Shape, "scene questions: shape"),
    (Topic::Size, "scene questions: size"),
    (Topic::Extreme, "scene questions: extreme"),
    (Topic::Relation, "scene questions: relation"),
    (Topic::Existence, "scene questions: existence"),
    (Topic::Place, "scene questions: place"),
];

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// Only these tasks (comma-separated): world names, `scenes`, `mnist`, `fashion_mnist`.
    /// All of them by default, `grid_heldout` included.
    #[arg(long, value_delimiter = ',')]
    tasks: Vec<String>,
    /// Held-out episodes scored teacher-forced, per acting task.
    #[arg(long, default_value_t = Budget::default().episodes)]
    episodes: u32,
    /// Context windows scored per episode, spread over it.
    #[arg(long, default_value_t = Budget::default().windows)]
    windows: usize,
    /// Episodes per policy in closed loop.
    #[arg(long, default_value_t = Budget::default().closed_episodes)]
    closed_episodes: u32,
    /// The cap on a closed-loop episode's length, in steps.
    #[arg(long, default_value_t = Budget::default().closed_steps)]
    closed_steps: u32,
    /// Samples per text task.
    #[arg(long, default_value_t = Budget::default().samples)]
    samples: usize,
    #[command(flatten)]
    datasets: DatasetArgs,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    acting: Vec<ActingProbe>,
    text: Vec<TextProbe>,
    seconds: f32,
}

pub fn probe(args: ProbeArgs, dir: &Path) -> Result<()> {
    let started = Instant::now();
    let mut agent = agent(dir, &SamplingArgs::default())?;
    let worlds: Vec<String> = envs::all().iter().map(|w| w.spec().name.to_string()).collect();
    let tasks = if args.tasks.is_empty() {
        worlds.iter().cloned().chain(TEXT_TASKS.map(String::from)).collect()
    } else {
        args.tasks.clone()
    };
    if let Some(unknown) = tasks.iter().find(|t| !worlds.contains(t) && !TEXT_TASKS.contains(&t.as_str())) {
        let known = worlds.join(", ") + ", " + &TEXT_TASKS.join(", ");
        return Err(format!("unknown task '{unknown}'; the tasks are: {known}").into());
    }
    let budget = Budget {
        episodes: args.episodes,
        windows: args.windows,
        closed_episodes: args.closed_episodes,
        closed_steps: args.closed_steps,
        samples: args.samples,
    };
    let acting = tasks
        .iter()
        .filter(|t| worlds.contains(t))
        .map(|name| probe::acting(&mut agent, name, &budget))
        .collect::<std::result::Result<_, _>>()?;
    // Each data set is read only where a task asks for it.
    let wants = |task: &str| tasks.iter().any(|t| t == task);
    let mut text_tasks = vec![];
    if wants("scenes") {
        text_tasks.extend(eval::scene_tasks(budget.samples));
        text_tasks.extend(TOPICS.map(|(topic, task)| (task, eval::topic_questions(topic, budget.samples))));
    }
    if wants("mnist") {
        text_tasks.extend(eval::mnist_tasks(budget.samples, &args.datasets.mnist)?);
    }
    if wants("fashion_mnist") {
        text_tasks.extend(eval::fashion_tasks(budget.samples, &args.datasets.fashion)?);
    }
    let text = text_tasks
        .into_iter()
        .map(|(task, samples)| probe::text(&mut agent, task, samples))
        .collect::<std::result::Result<_, _>>()?;
    let report = Report { acting, text, seconds: started.elapsed().as_secs_f32() };
    print(&report, args.json, human)
}

fn percent(share: Option<f32>) -> String {
    share.map_or("–".into(), |s| format!("{:.0}%", 100.0 * s))
}

fn human(r: &Report) {
    if !r.acting.is_empty() {
        acting_table(&r.acting);
    }
    if !r.text.is_empty() {
        text_table(&r.text);
    }
    println!(
        "Teacher-forced on held-out episodes played with training's noise; closed loop normalized against the \
         expert (100%) and random play (0%) on the same capped episodes; agreement: the model's closed-loop \
         actions that the expert would have chosen; actions: how often the model chose each in closed loop, \
         beside how often the expert would have in the same states; turns: steps where the expert's choice \
         differs from its own previous one. {:.0} s.",
        r.seconds
    );
}

fn acting_table(acting: &[ActingProbe]) {
    println!(
        "| Task | Accuracy | Copy steps | Change steps | Turns | Action loss | Closed loop | Agreement | Success | \
         Actions, model / expert |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for a in acting {
        let t = &a.teacher_forced;
        println!(
            "| `{}` | {} | {} of {} | {} of {} | {} of {} | {:.3} | {:.0}% | {} | {} | {} |",
            a.task,
            percent(t.all.accuracy()),
            percent(t.copy.accuracy()),
            t.copy.total,
            percent(t.change.accuracy()),
            t.change.total,
            percent(t.turn.accuracy()),
            t.turn.total,
            t.loss,
            100.0 * a.closed_loop.normalized,
            percent(a.closed_loop.agreement.accuracy()),
            percent(a.closed_loop.success),
            choices(&a.closed_loop.choices),
        );
    }
    println!();
    let missions: Vec<String> = acting
        .iter()
        .filter(|a| !a.closed_loop.missions.is_empty())
        .map(|a| {
            let each: Vec<String> = a
                .closed_loop
                .missions
                .iter()
                .map(|m| format!("{} {} of {}", m.verb, m.successes, m.episodes))
                .collect();
            format!("`{}`, successes by the mission's first verb: {}.", a.task, each.join(", "))
        })
        .collect();
    if !missions.is_empty() {
        println!("{}\n", missions.join("\n"));
    }
}

/// "noop 90% / 40%, up 5% / 30%, ...": the model's share of each action, then the expert's.
fn choices(counts: &[ChoiceCount]) -> String {
    let total = counts.iter().map(|c| c.model).sum::<u32>().max(1) as f32;
    let share = |n: u32| format!("{:.0}%", 100.0 * n as f32 / total);
    let each: Vec<String> =
        counts.iter().map(|c| format!("{} {} / {}", c.action, share(c.model), share(c.expert))).collect();
    if each.is_empty() { "–".into() } else { each.join(", ") }
}

fn text_table(text: &[TextProbe]) {
    println!("| Task | Text loss | Token accuracy | Exact | Samples |");
    println!("|---|---:|---:|---:|---:|");
    for t in text {
        println!(
            "| {} | {:.3} | {} | {:.0}% | {} |",
            t.task,
            t.loss,
            percent(t.tokens.accuracy()),
            100.0 * t.exact,
            t.samples
        );
    }
    println!();
}
