//! `gatito eval`: the shipped model on held-out seeds, missions and test splits.

use super::data::DatasetArgs;
use super::model::{SamplingArgs, agent};
use super::worlds::side_by_side;
use super::{Result, print, progress};
use crate::agent::Agent;
use crate::envs::{
    self,
    rollout::{self, Expert},
};
use crate::eval::{self, TextReport, WorldReport};
use std::path::{Path, PathBuf};

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
    /// Write a contact sheet per world to this folder: the expert's first evaluated episode
    /// in the top row, the model's below it, so a score can be seen.
    #[arg(long)]
    sheets: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// Frames per episode on a sheet.
const SHEET_FRAMES: u32 = 8;

/// Films the first evaluated episode of `name` played by the expert and by `agent`, and
/// writes them one above the other to `dir/name.png`.
fn write_sheet(agent: &mut Agent, name: &str, dir: &Path) -> Result<PathBuf> {
    let mut world = envs::make(name).ok_or_else(|| format!("unknown world '{name}'"))?;
    let seed = rollout::episode_seed(0, 0);
    let expert = rollout::film(world.as_mut(), &mut Expert, seed, SHEET_FRAMES)?;
    let model = rollout::film(world.as_mut(), agent, seed, SHEET_FRAMES)?;
    let path = dir.join(format!("{name}.png"));
    side_by_side(&[&expert.frames, &model.frames])?
        .save_with_format(&path, image::ImageFormat::Png)
        .map_err(|e| format!("could not write {}: {e}", path.display()))?;
    Ok(path)
}

#[derive(serde::Serialize)]
struct Report {
    episodes: u32,
    worlds: Vec<WorldReport>,
    text: Vec<TextReport>,
    /// The contact sheets written, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sheets: Vec<PathBuf>,
}

pub fn eval(args: EvalArgs, dir: &Path) -> Result<()> {
    let mut agent = agent(dir, &SamplingArgs::default())?;
    let names: Vec<String> = if args.worlds.is_empty() {
        envs::all().iter().map(|w| w.spec().name.to_string()).collect()
    } else {
        args.worlds.clone()
    };
    // Before minutes of play: a misspelt world ends the command at once.
    if let Some(unknown) = names.iter().find(|name| envs::make(name).is_none()) {
        return Err(format!("unknown world '{unknown}'").into());
    }
    let text_tasks = if args.no_text {
        vec![]
    } else {
        eval::text_tasks(args.samples, &args.datasets.mnist, &args.datasets.fashion)?
    };
    let episodes = names.len() as u64 * u64::from(args.episodes * eval::POLICIES);
    let samples: usize = text_tasks.iter().map(|(_, items)| items.len()).sum();
    let bar = progress::bar(episodes + samples as u64, "episodes and samples", args.json);
    let done = || bar.inc(1);
    if let Some(dir) = &args.sheets {
        std::fs::create_dir_all(dir).map_err(|e| format!("could not make {}: {e}", dir.display()))?;
    }
    let mut sheets = vec![];
    let mut worlds = vec![];
    for name in &names {
        bar.set_message(name.clone());
        worlds.push(eval::world(&mut agent, name, args.episodes, &done)?);
        if let Some(dir) = &args.sheets {
            sheets.push(write_sheet(&mut agent, name, dir)?);
        }
    }
    let text = text_tasks
        .into_iter()
        .map(|(task, items)| {
            bar.set_message(task);
            eval::accuracy(&mut agent, task, items.into_iter(), &done)
        })
        .collect::<std::result::Result<_, _>>()?;
    bar.finish_and_clear();
    let report = Report { episodes: args.episodes, worlds, text, sheets };
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
        for sheet in &r.sheets {
            println!("wrote {} (top: the expert's first episode; below: the model's)", sheet.display());
        }
    })
}
