//! The `gatito` command line.

mod bench;
mod data;
mod eval;
mod model;
mod probe;
mod progress;
mod tokens;
mod worlds;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "gatito", version, about = "A small Gato-style generalist agent")]
struct Cli {
    /// The model folder (config.json, model.safetensors, tokenizer.json).
    #[arg(long, global = true, default_value_os_t = default_model())]
    model: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show how observations and actions become tokens.
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
    /// List every world: its name, kind, actions and episode length.
    Worlds(worlds::ListArgs),
    /// Play episodes of a world with a policy and print the scores.
    Play(worlds::PlayArgs),
    /// Film one episode of a world as a contact sheet of frames.
    Render(worlds::RenderArgs),
    /// The expert's and random play's scores in every world.
    Scores(worlds::ScoresArgs),
    /// Stream training sequences to stdout in the GTS2 format, for models/recipe/stream.py.
    Data(data::DataArgs),
    /// Print the texts the worlds produce, one per line, for training the text tokenizer.
    Corpus(data::CorpusArgs),
    /// Caption an image with the model.
    Caption(model::DescribeArgs),
    /// Ask the model a question about an image.
    Ask(model::AskArgs),
    /// Score the model on held-out episodes, missions and test splits, beside the expert and random play.
    Eval(eval::EvalArgs),
    /// Judge a model in minutes, per task: teacher-forced action accuracy on steps that copy the previous action and steps that change it, losses, and a short closed-loop score.
    Probe(probe::ProbeArgs),
    /// Time the model on this machine (CPU or GPU): prefill, decode, agent steps, captions.
    Bench(bench::BenchArgs),
    /// Check that the model reproduces its golden logits (exported by the training recipe), on the CPU or the GPU.
    Verify(model::VerifyArgs),
}

/// The shipped model: `models/gatito-s` under the working folder, else beside the crate.
fn default_model() -> PathBuf {
    let local = PathBuf::from("models/gatito-s");
    if local.is_dir() { local } else { PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../models/gatito-s")) }
}

pub fn main() -> ExitCode {
    compute_on_this_thread();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tokens(command) => tokens::run(command, &cli.model),
        Command::Worlds(args) => worlds::list(args),
        Command::Play(args) => worlds::play(args, &cli.model),
        Command::Render(args) => worlds::render(args, &cli.model),
        Command::Scores(args) => worlds::scores(args),
        Command::Data(args) => data::data(args, &cli.model),
        Command::Corpus(args) => data::corpus(args),
        Command::Caption(args) => model::caption(args, &cli.model),
        Command::Ask(args) => model::ask(args, &cli.model),
        Command::Eval(args) => eval::eval(args, &cli.model),
        Command::Probe(args) => probe::probe(args, &cli.model),
        Command::Bench(args) => bench::bench(args, &cli.model),
        Command::Verify(args) => model::verify(args, &cli.model),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// candle spreads every operation over all cores, but one token's operations are so small
/// that waking another thread costs more than it saves: on 2 cores, `gatito bench` decoded
/// about 4x faster on the calling thread alone (~2,600 tokens/s against ~600). So the command
/// line computes on its own thread, unless `RAYON_NUM_THREADS` or `CANDLE_NUM_THREADS` ask
/// for more.
fn compute_on_this_thread() {
    if ["RAYON_NUM_THREADS", "CANDLE_NUM_THREADS"].iter().any(|name| std::env::var_os(name).is_some()) {
        return;
    }
    // SAFETY: nothing else runs yet; candle reads these when it first computes.
    unsafe {
        std::env::set_var("RAYON_NUM_THREADS", "1");
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    // Parallel loops run inline on this thread instead of being handed to a lone worker.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(1).use_current_thread().build_global();
}

/// Where the model runs.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Backend {
    /// candle on the CPU.
    Cpu,
    /// The WGSL engine on Vulkan (lavapipe emulates a GPU on the CPU where there is none).
    Gpu,
}

/// Errors end the program with one clear line; they never panic.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Prints a report as JSON, or through `human` as text.
fn print<T: serde::Serialize>(report: &T, json: bool, human: impl FnOnce(&T)) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?)
    } else {
        human(report)
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
