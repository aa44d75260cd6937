"""Exports a trained network for the crate: config.json, model.safetensors, tokenizer.json
and golden.safetensors (fixed inputs and their logits, which `gatito verify` checks candle against).

Weights ship as float16 to halve the download; candle computes in float32. The golden
logits are computed from the float16-rounded weights, so the check compares like with like.
"""

import argparse
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file

from model import PATCH_LEN, Config, Gatito


def golden_inputs(cfg, n=48, seed=0):
    """A fixed, valid sequence: text and value tokens with 16 patches in the middle."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, cfg.vocab, (n,), generator=g)
    local = torch.randint(0, cfg.local_positions, (n,), generator=g)
    is_patch = torch.zeros(n, dtype=torch.bool)
    is_patch[8:24] = True
    p = int(is_patch.sum())
    patches = (torch.rand(p, PATCH_LEN, generator=g) - 0.5) / 2
    rows = torch.randint(0, cfg.position_bins, (p,), generator=g)
    cols = torch.randint(0, cfg.position_bins, (p,), generator=g)
    ids[is_patch] = torch.arange(p)  # patch elements carry their patch index, as in the crate
    return ids, local, is_patch, patches, rows, cols


def export(model, tokenizer, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    cfg.save(out / "config.json")
    weights = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(weights, out / "model.safetensors")
    if Path(tokenizer).resolve() != (out / "tokenizer.json").resolve():
        shutil.copy(tokenizer, out / "tokenizer.json")

    rounded = Gatito(cfg)
    rounded.load_state_dict({k: v.float() for k, v in weights.items()})
    rounded.eval()
    ids, local, is_patch, patches, rows, cols = golden_inputs(cfg)
    with torch.no_grad():
        logits = rounded(ids[None], local[None], is_patch[None], patches, rows, cols)[0]
    save_file(
        {
            "ids": ids.to(torch.int64),
            "local": local.to(torch.int64),
            "is_patch": is_patch.to(torch.uint8),
            "patches": patches.contiguous(),
            "rows": rows.to(torch.int64),
            "cols": cols.to(torch.int64),
            "logits": logits.contiguous(),
        },
        out / "golden.safetensors",
    )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="a training checkpoint (train.py) or 'random'")
    parser.add_argument("--tokenizer", type=Path, default=Path("models/gatito-s/tokenizer.json"))
    parser.add_argument("--out", type=Path, default=Path("models/gatito-s"))
    args = parser.parse_args()
    state = torch.load(args.checkpoint, map_location="cpu")
    model = Gatito(Config(**state["config"]))
    model.load_state_dict(state["model"])
    print(export(model, args.tokenizer, args.out))


if __name__ == "__main__":
    main()
