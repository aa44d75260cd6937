//! `gatito worlds`, `play`, `render` and `scores`: the worlds and their experts, from the
//! command line. Episodes are played by [`crate::envs::rollout`]; this file only formats.

use super::model::{SamplingArgs, actor};
use super::{Result, print, progress};
use crate::envs::rollout::{self, Evaluation, Expert, Policy, Random};
use crate::envs::{self, ActionSpec, World, WorldSpec};
use clap::Args;
use image::RgbaImage;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct PlayArgs {
    /// The world's name, as `gatito worlds` lists it.
    world: String,
    /// Who acts: expert, random, or model.
    #[arg(long, default_value = "expert")]
    policy: Policy,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// How many episodes to play.
    #[arg(long, default_value_t = 10)]
    episodes: u32,
    /// The first episode's seed; episode i uses seed + i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RenderArgs {
    /// The world's name, as `gatito worlds` lists it.
    world: String,
    /// How many frames the sheet shows, evenly spaced from the episode's start to its end.
    #[arg(long, default_value_t = 16)]
    frames: u32,
    /// The episode's seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Who acts: expert, random, or model.
    #[arg(long, default_value = "expert")]
    policy: Policy,
    #[command(flatten)]
    sampling: SamplingArgs,
    /// Where to write the contact sheet (PNG).
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
pub struct ScoresArgs {
    /// How many episodes each policy plays in each world.
    #[arg(long, default_value_t = 100)]
    episodes: u32,
    /// The first episode's seed; episode i uses seed + i.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print a Markdown table, as the README shows it.
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
    #[arg(long)]
    json: bool,
}

pub fn list(args: ListArgs) -> Result<()> {
    let specs: Vec<WorldSpec> = envs::all().iter().map(|w| w.spec()).collect();
    print(&specs, args.json, |specs| {
        for spec in specs {
            println!("{:<20} {:<8} {:<40} {:>5} steps", spec.name, kind(spec), action(&spec.action), spec.max_steps);
            println!("{:<20} {}", "", spec.description);
        }
    })
}

#[derive(serde::Serialize)]
struct PlayReport {
    world: &'static str,
    policy: Policy,
    seed: u64,
    episodes: u32,
    #[serde(flatten)]
    evaluation: Evaluation,
}

pub fn play(args: PlayArgs, model: &Path) -> Result<()> {
    let mut world = find(&args.world)?;
    at_least_one(args.episodes, "--episodes")?;
    let mut actor = actor(args.policy, model, &args.sampling)?;
    let bar = progress::bar(u64::from(args.episodes), "episodes", args.json);
    bar.set_message(world.spec().name);
    let evaluation =
        rollout::evaluate_reporting(world.as_mut(), actor.as_mut(), args.episodes, args.seed, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let report = PlayReport {
        world: world.spec().name,
        policy: args.policy,
        seed: args.seed,
        episodes: args.episodes,
        evaluation,
    };
    print(&report, args.json, |r| {
        println!("{}, {} policy, {} episodes from seed {}", r.world, r.policy, r.episodes, r.seed);
        println!("score {}", mean_and_std(&r.evaluation));
        for (i, score) in r.evaluation.scores.iter().enumerate() {
            println!("  seed {:>6}: {score:.1}", rollout::episode_seed(r.seed, i as u32));
        }
    })
}

/// Pixels between the frames of a contact sheet.
const GAP: u32 = 4;
const GAP_COLOUR: image::Rgba<u8> = image::Rgba([40, 44, 52, 255]);

pub fn render(args: RenderArgs, model: &Path) -> Result<()> {
    let mut world = find(&args.world)?;
    at_least_one(args.frames, "--frames")?;
    let mut actor = actor(args.policy, model, &args.sampling)?;
    let strip = rollout::film(world.as_mut(), actor.as_mut(), args.seed, args.frames)?;
    let sheet = contact_sheet(&strip.frames)?;
    sheet
        .save_with_format(&args.out, image::ImageFormat::Png)
        .map_err(|e| format!("could not write {}: {e}", args.out.display()))?;
    let steps: Vec<String> = strip.steps.iter().map(u32::to_string).collect();
    println!(
        "wrote {}: {} frames of {} ({} policy, seed {}, score {:.1}) at steps {}",
        args.out.display(),
        strip.frames.len(),
        world.spec().name,
        args.policy,
        args.seed,
        strip.score,
        steps.join(", ")
    );
    Ok(())
}

/// Frames laid out left to right, top to bottom, in a grid about as wide as it is tall.
fn contact_sheet(frames: &[RgbaImage]) -> Result<RgbaImage> {
    let columns = (frames.len() as f64).sqrt().ceil().max(1.0) as usize;
    let rows: Vec<&[RgbaImage]> = frames.chunks(columns).collect();
    strips(&rows, columns)
}

/// Episodes one above the other, each a row of its frames: the expert's above the model's.
pub(super) fn side_by_side(episodes: &[&[RgbaImage]]) -> Result<RgbaImage> {
    strips(episodes, episodes.iter().map(|e| e.len()).max().unwrap_or(0))
}

/// `rows` of frames on a sheet `columns` frames wide, the gaps between them drawn.
fn strips(rows: &[&[RgbaImage]], columns: usize) -> Result<RgbaImage> {
    let first = rows.iter().find_map(|row| row.first()).ok_or("the episode gave no frames")?;
    let (width, height) = first.dimensions();
    let (columns, count) = (columns as u32, rows.len() as u32);
    let mut sheet =
        RgbaImage::from_pixel(columns * width + (columns - 1) * GAP, count * height + (count - 1) * GAP, GAP_COLOUR);
    for (row, frames) in rows.iter().enumerate() {
        for (column, frame) in frames.iter().enumerate() {
            let (x, y) = (column as u32 * (width + GAP), row as u32 * (height + GAP));
            image::imageops::replace(&mut sheet, frame, i64::from(x), i64::from(y));
        }
    }
    Ok(sheet)
}

#[derive(serde::Serialize)]
struct ScoreRow {
    world: &'static str,
    expert: Evaluation,
    random: Evaluation,
}

pub fn scores(args: ScoresArgs) -> Result<()> {
    at_least_one(args.episodes, "--episodes")?;
    let worlds = envs::all();
    let bar = progress::bar(worlds.len() as u64 * 2 * u64::from(args.episodes), "episodes", args.json);
    let done = || bar.inc(1);
    let rows = worlds
        .into_iter()
        .map(|mut world| {
            bar.set_message(world.spec().name);
            Ok(ScoreRow {
                world: world.spec().name,
                expert: rollout::evaluate_reporting(world.as_mut(), &mut Expert, args.episodes, args.seed, &done)?,
                random: rollout::evaluate_reporting(
                    world.as_mut(),
                    &mut Random::new(),
                    args.episodes,
                    args.seed,
                    &done,
                )?,
            })
        })
        .collect::<Result<Vec<ScoreRow>>>()?;
    bar.finish_and_clear();
    let last_seed = rollout::episode_seed(args.seed, args.episodes - 1);
    print(&rows, args.json, |rows| {
        if args.markdown {
            println!("| World | Expert | Random |");
            println!("|---|---:|---:|");
            for row in rows {
                println!("| `{}` | {} | {} |", row.world, mean_and_std(&row.expert), mean_and_std(&row.random));
            }
            println!();
            println!(
                "Mean ± standard deviation of the episode score over {} episodes (seeds {}..={last_seed}).",
                args.episodes, args.seed
            );
        } else {
            println!("{:<20} {:>18} {:>18}", "world", "expert", "random");
            for row in rows {
                println!("{:<20} {:>18} {:>18}", row.world, mean_and_std(&row.expert), mean_and_std(&row.random));
            }
            println!("({} episodes each, seeds {}..={last_seed})", args.episodes, args.seed);
        }
    })
}

/// The world called `name`, or an error that lists the worlds there are.
fn find(name: &str) -> Result<Box<dyn World>> {
    envs::make(name).ok_or_else(|| {
        let names: Vec<_> = envs::all().iter().map(|w| w.spec().name).collect();
        format!("unknown world '{name}'; the worlds are: {}", names.join(", ")).into()
    })
}

fn at_least_one(count: u32, flag: &str) -> Result<()> {
    if count == 0 { Err(format!("{flag} must be at least 1").into()) } else { Ok(()) }
}

/// Mean ± standard deviation, with decimals suited to the world's score scale.
fn mean_and_std(e: &Evaluation) -> String {
    let decimals = match e.mean.abs().max(e.std) {
        x if x >= 1000.0 => 0,
        x if x >= 10.0 => 1,
        _ => 2,
    };
    format!("{:.*} ± {:.*}", decimals, e.mean, decimals, e.std)
}

fn kind(spec: &WorldSpec) -> String {
    serde_json::to_value(spec.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn action(spec: &ActionSpec) -> String {
    match spec {
        ActionSpec::Discrete { labels } => format!("discrete: {}", labels.join(" ")),
        ActionSpec::Continuous { dims } => format!("continuous: {dims} in [-1, 1]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_sheet_is_a_near_square_grid() {
        let frames: Vec<RgbaImage> =
            (0..5u8).map(|i| RgbaImage::from_pixel(3, 2, image::Rgba([i, 0, 0, 255]))).collect();
        let sheet = contact_sheet(&frames).unwrap();
        // Three columns, two rows.
        assert_eq!(sheet.dimensions(), (3 * 3 + 2 * GAP, 2 * 2 + GAP));
        assert_eq!(sheet.get_pixel(3 + GAP, 0).0[0], 1);
        assert_eq!(sheet.get_pixel(3 + GAP, 2 + GAP).0[0], 4);
        assert_eq!(*sheet.get_pixel(2 * (3 + GAP), 2 + GAP), GAP_COLOUR);
        assert!(contact_sheet(&[]).is_err());
    }

    #[test]
    fn episodes_side_by_side_take_a_row_each() {
        let frame = |shade| RgbaImage::from_pixel(3, 2, image::Rgba([shade, 0, 0, 255]));
        let (expert, model) = (vec![frame(1), frame(2), frame(3)], vec![frame(4), frame(5)]);
        let sheet = side_by_side(&[&expert, &model]).unwrap();
        assert_eq!(sheet.dimensions(), (3 * 3 + 2 * GAP, 2 * 2 + GAP));
        assert_eq!(sheet.get_pixel(2 * (3 + GAP), 0).0[0], 3, "the expert's last frame ends the first row");
        assert_eq!(sheet.get_pixel(3 + GAP, 2 + GAP).0[0], 5, "the model's below it");
        assert_eq!(*sheet.get_pixel(2 * (3 + GAP), 2 + GAP), GAP_COLOUR, "a shorter episode leaves a gap");
    }
}
