//! `gatito verify`: checks that candle runs the exported model exactly as PyTorch trained it.

use super::{Result, print};
use crate::model::ModelFiles;
use crate::model::golden::{Golden, TOLERANCE};
use candle_core::Device;
use std::path::Path;

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct Verdict {
    max_abs_diff: f32,
    tolerance: f32,
    positions: usize,
}

pub fn verify(args: VerifyArgs, dir: &Path) -> Result<()> {
    let (model, _) = ModelFiles::read(dir)?.load(&Device::Cpu)?;
    let path = dir.join("golden.safetensors");
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let golden = Golden::from_bytes(&bytes, model.config.text_vocab)?;
    let verdict =
        Verdict { max_abs_diff: golden.max_abs_diff(&model)?, tolerance: TOLERANCE, positions: golden.logits.len() };
    print(&verdict, args.json, |v| {
        println!("{}: max |candle - pytorch| = {:.2e} over {} positions", dir.display(), v.max_abs_diff, v.positions)
    })?;
    if verdict.max_abs_diff > TOLERANCE {
        return Err(
            format!("the logits differ by {:.2e}; at most {TOLERANCE:.0e} is allowed", verdict.max_abs_diff).into()
        );
    }
    Ok(())
}
