"""Exports the shipped network to ONNX for the speed peer (ONNX Runtime, natively and in the
browser): one graph with an explicit KV cache that serves a prefill, a decoded token and an
agent step alike, as the crate's decoding contexts do.

Inputs: ids, local [n] (int64; patch elements' ids are ignored); slots [P] (which elements are
patches), patches [P, 768], rows, cols [P]; past_key_i, past_value_i [1, H, past, head_dim]
per layer (the batch of one that ONNX's attention wants). Outputs: logits [vocab] of the last element (a prefill skips the head for the others,
as candle's forward_last does), present_key_i, present_value_i [1, H, past + n, head_dim].
ALiBi is computed in the graph from the past length: biases are relative, so the caller slides
the window by dropping the oldest cache rows, as candle does.

Usage: python3 export_onnx.py [--model ../gatito-s] [--out ../../artifacts/gatito-s.onnx]
"""

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from model import PATCH_LEN, Config, Gatito

RECIPE = Path(__file__).resolve().parent


def load(model_dir):
    """The shipped network in float32, from its config.json and float16 model.safetensors."""
    model = Gatito(Config.load(Path(model_dir) / "config.json"))
    model.load_state_dict({k: v.float() for k, v in load_file(Path(model_dir) / "model.safetensors").items()})
    return model.eval()


class Cached(nn.Module):
    """model.py's network fed after a KV cache: its own layers, with the cache threaded through."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def with_patches(self, x, slots, patches, rows, cols):
        embed = self.model.embed
        return x.index_put((slots,), embed.patch(patches) + embed.patch_row(rows) + embed.patch_col(cols))

    def forward(self, ids, local, slots, patches, rows, cols, *past):
        m = self.model
        # A branch, as in model.py and candle: decoded tokens have no patches, and the patch
        # embedding's GroupNorm cannot take an empty batch.
        x = torch.cond(slots.shape[0] > 0, self.with_patches, lambda x, *_: x.clone(),
                       (m.embed.tokens(ids), slots, patches, rows, cols))
        x = x + m.embed.local(local)
        n, past_len = ids.shape[0], past[0].shape[2]
        query = torch.arange(n) + past_len
        distance = (query[:, None] - torch.arange(past_len + n)[None, :]).float()
        bias = (-m.slopes[:, None, None] * distance).masked_fill(distance < 0, -math.inf)
        present = []
        for block, past_k, past_v in zip(m.blocks, past[0::2], past[1::2]):
            attn = block.attn
            q, k, v = attn.qkv(block.norm1(x)).view(1, n, 3, attn.heads, -1).permute(2, 0, 3, 1, 4)
            k, v = torch.cat([past_k, k], 2), torch.cat([past_v, v], 2)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            x = x + attn.out(y[0].transpose(0, 1).reshape(n, -1))
            x = x + block.mlp(block.norm2(x))
            present += [k, v]
        return (m.head(m.norm(x[-1])), *present)


def names(cfg):
    cache = lambda prefix: [f"{prefix}_{kind}_{i}" for i in range(cfg.layers) for kind in ("key", "value")]
    inputs = ["ids", "local", "slots", "patches", "rows", "cols", *cache("past")]
    return inputs, ["logits", *cache("present")]


def export(model_dir, out):
    model = load(model_dir)
    cfg = model.cfg
    head_dim = cfg.d_model // cfg.heads
    n, p, past = 20, 16, 7
    example = (
        torch.zeros(n, dtype=torch.int64),
        torch.zeros(n, dtype=torch.int64),
        torch.arange(p),
        torch.zeros(p, PATCH_LEN),
        torch.zeros(p, dtype=torch.int64),
        torch.zeros(p, dtype=torch.int64),
        *[torch.zeros(1, cfg.heads, past, head_dim) for _ in range(2 * cfg.layers)],
    )
    dim = torch.export.Dim
    elements, patch_count, cache_len = dim("n", min=1), dim("p", min=0), dim("past", min=0)
    # The cache arrives as *past: one nested entry.
    shapes = ({0: elements}, {0: elements}, *[{0: patch_count}] * 4, ({2: cache_len},) * (2 * cfg.layers))
    inputs, outputs = names(cfg)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(Cached(model).eval(), example, out, input_names=inputs, output_names=outputs,
                      dynamic_shapes=shapes, dynamo=True, optimize=True, external_data=False)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=RECIPE.parent / "gatito-s")
    parser.add_argument("--out", type=Path, default=RECIPE.parents[1] / "artifacts" / "gatito-s.onnx")
    args = parser.parse_args()
    print(export(args.model, args.out))


if __name__ == "__main__":
    main()
