//! `gatito tokens`: the tokenizer, from the command line.

use super::{Result, print};
use crate::tokens::{TextTokenizer, ValueKind, Vocabulary, inspect};
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum TokensCommand {
    /// Bin continuous values: observations by default (mu-law), actions with --action.
    Continuous {
        #[arg(required = true, allow_negative_numbers = true)]
        values: Vec<f32>,
        /// Bin as actions: no companding.
        #[arg(long)]
        action: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cut an image into its 16x16 patches.
    Image {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Split text into subwords.
    Text {
        text: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: TokensCommand, model: &Path) -> Result<()> {
    match command {
        TokensCommand::Continuous { values, action, json } => {
            let kind = if action { ValueKind::Action } else { ValueKind::Observation };
            let report = inspect::values(&vocabulary(model)?, kind, &values)?;
            print(&report, json, |r| {
                for (i, x) in values.iter().enumerate() {
                    println!("{x:>12} -> bin {:>4} -> id {:>5} -> {:.6}", r.bins[i], r.ids[i], r.decoded[i]);
                }
            })
        }
        TokensCommand::Image { file, json } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let report = inspect::image(&bytes, 8)?;
            print(&report, json, |r| {
                println!(
                    "{}x{} -> {}x{} -> {}x{} patches of {}x{}",
                    r.source[0], r.source[1], r.input, r.input, r.grid[0], r.grid[1], r.patch_size, r.patch_size
                );
                for p in &r.patches {
                    println!(
                        "patch {:>2}: rows {:>3}..{:<3} (bin {:>3})  cols {:>3}..{:<3} (bin {:>3})",
                        p.index, p.row.lo, p.row.hi, p.row_bin, p.col.lo, p.col.hi, p.col_bin
                    );
                }
            })
        }
        TokensCommand::Text { text, json } => {
            let report = inspect::text(&vocabulary(model)?, &text)?;
            print(&report, json, |r| {
                for (id, piece) in r.ids.iter().zip(&r.pieces) {
                    println!("{id:>5} {piece:?}");
                }
            })
        }
    }
}

/// The vocabulary of the model in `model`, from its tokenizer.json.
pub(super) fn vocabulary(model: &Path) -> Result<Vocabulary> {
    let path = model.join("tokenizer.json");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Vocabulary::new(TextTokenizer::from_bytes(&bytes)?))
}
