//! `gatito eval`: the shipped model on held-out seeds, missions and test splits.

use super::data::DatasetArgs;
use super::model::{SamplingArgs, agent};
use super::{Result, print};
use crate::envs;
use crate::eval::{self, TextReport, WorldReport};
use std::path::Path;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Episodes per world and policy (seeds 0, 1, ...; training never uses them).
    #[arg(long, default_value_t = 50)]
    episodes: u32,
    /// Images per captioning and question task.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Only these worlds (comma-separated names); all by default.
    #[arg(long, value_delimiter = ',')]
    worlds: Vec<String>,
    /// Skip the captioning and question tasks.
    #[arg(long)]
    no_text: bool,
    #[command(flatten)]
    datasets: DatasetArgs,
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Report {
    episodes: u32,
    worlds: Vec<WorldReport>,
    text: Vec<TextReport>,
}

pub fn eval(args: EvalArgs, dir: &Path) -> Result<()> {
    let mut agent = agent(dir, &SamplingArgs::default())?;
    let names: Vec<String> = if args.worlds.is_empty() {
        envs::all().iter().map(|w| w.spec().name.to_string()).collect()
    } else {
        args.worlds.clone()
    };
    let worlds =
        names.iter().map(|name| eval::world(&mut agent, name, args.episodes)).collect::<std::result::Result<_, _>>()?;
    let text = if args.no_text {
        vec![]
    } else {
        eval::text(&mut agent, args.samples, &args.datasets.mnist, &args.datasets.fashion)?
    };
    let report = Report { episodes: args.episodes, worlds, text };
    print(&report, args.json, |r| {
        println!("| World | Model | Prompted | Expert | Random | Normalized | Normalized, prompted |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for w in &r.worlds {
            println!(
                "| `{}` | {:.2} | {:.2} | {:.2} | {:.2} | {:.0}% | {:.0}% |",
                w.world,
                w.model.mean,
                w.prompted.mean,
                w.expert.mean,
                w.random.mean,
                100.0 * w.normalized,
                100.0 * w.normalized_prompted
            );
        }
        for w in r.worlds.iter().filter(|w| w.success.is_some()) {
            println!(
                "{}: success {:.0}% unprompted, {:.0}% prompted",
                w.world,
                100.0 * w.success.unwrap_or(0.0),
                100.0 * w.success_prompted.unwrap_or(0.0)
            );
        }
        if !r.text.is_empty() {
            println!();
            println!("| Task | Exact match | Samples |");
            println!("|---|---:|---:|");
            for t in &r.text {
                println!("| {} | {:.1}% | {} |", t.task, 100.0 * t.accuracy, t.samples);
            }
        }
        println!();
        println!("{} held-out episodes per world and policy (seeds 0..{}).", r.episodes, r.episodes);
    })
}
