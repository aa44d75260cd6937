"""The gatito network in PyTorch: a tensor-for-tensor mirror of crate/src/model.

Every parameter name here is the name in model.safetensors and in the candle code
(`vb.pp(...)`), so a reader can map weights to code by eye.

  embed.tokens        token table: T text ids, then 1024 value bins
  embed.local         local observation positions (index within a timestep; the last id is the action slot)
  embed.patch.*       ResNet-v2 patch embedding: a 4x4/stride-4 stem, one pre-activation
                      residual block (GroupNorm if patch_norm, GELU, 3x3 conv, twice), a linear
                      projection
  embed.patch_row/col patch position encodings, 128 bins each
  blocks.{i}.*        pre-LN decoder blocks: causal self-attention with ALiBi, GELU MLP
  norm, head          final LayerNorm and the output projection to the vocabulary
"""

import json
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

PATCH_SIZE = 16
PATCH_LEN = 3 * PATCH_SIZE * PATCH_SIZE


@dataclass
class Config:
    text_vocab: int
    value_bins: int = 1024
    d_model: int = 256
    layers: int = 6
    heads: int = 8
    d_ff: int = 1024
    context: int = 256
    local_positions: int = 256
    position_bins: int = 128
    patch_channels: int = 32
    patch_groups: int = 8
    # GroupNorm in the patch block, as Gato's. Without it the model names colours best, but
    # learns Pong slower (RUNS.md, `scenes-stem4`, `pong-stem4`).
    patch_norm: bool = True
    norm_eps: float = 1e-5

    @property
    def vocab(self):
        return self.text_vocab + self.value_bins

    def save(self, path):
        with open(path, "w") as f:
            json.dump(asdict(self), f, indent=2)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls(**json.load(f))


def alibi_slopes(heads):
    """ALiBi's geometric slopes, 2^(-8(h+1)/H): relative positions, so a sliding window needs no re-encoding."""
    return torch.tensor([2.0 ** (-8.0 * (h + 1) / heads) for h in range(heads)])


class PatchEmbedding(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        c = cfg.patch_channels
        self.stem = nn.Conv2d(3, c, kernel_size=4, stride=4)
        norm = (lambda: nn.GroupNorm(cfg.patch_groups, c, eps=cfg.norm_eps)) if cfg.patch_norm else nn.Identity
        self.norm1 = norm()
        self.conv1 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.norm2 = norm()
        self.conv2 = nn.Conv2d(c, c, kernel_size=3, padding=1)
        self.proj = nn.Linear(c * (PATCH_SIZE // 4) ** 2, cfg.d_model)
        # Pixels arrive at Gato's scale, within ±0.25, where PyTorch's default init leaves the
        # stem's output small. Four times that init undoes the quarter. Without the norms, the grid
        # never left its plateau at the default init (RUNS.md, `grid-nogn`); with them, the scaled
        # stem's residual carries the hue that the normalized branch drowns, and the model names
        # colours (`scenes-gnstem4`: colour words 77%, at the default init 18%).
        with torch.no_grad():
            self.stem.weight.mul_(4.0)

    def forward(self, pixels):
        """pixels: [P, 768] channel-first 3x16x16 patches, already scaled to [-0.25, 0.25]."""
        x = self.stem(pixels.view(-1, 3, PATCH_SIZE, PATCH_SIZE))
        h = self.conv1(F.gelu(self.norm1(x)))
        x = x + self.conv2(F.gelu(self.norm2(h)))
        return self.proj(x.flatten(1))


class Embedding(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tokens = nn.Embedding(cfg.vocab, cfg.d_model)
        self.local = nn.Embedding(cfg.local_positions, cfg.d_model)
        self.patch = PatchEmbedding(cfg)
        self.patch_row = nn.Embedding(cfg.position_bins, cfg.d_model)
        self.patch_col = nn.Embedding(cfg.position_bins, cfg.d_model)

    def forward(self, ids, local, is_patch, patches, patch_rows, patch_cols, hidden=None):
        """ids, local, is_patch: [B, N]. Patch elements (is_patch) take their embedding from
        patches [P, 768] in row-major order; their ids are ignored. Elements where `hidden`
        [B, N] keep only their local position: there is an element, but not which."""
        x = self.tokens(ids.masked_fill(is_patch, 0))
        if hidden is not None:
            x = x.masked_fill(hidden.unsqueeze(-1), 0.0)
        if patches.shape[0]:
            p = self.patch(patches) + self.patch_row(patch_rows) + self.patch_col(patch_cols)
            x = x.masked_scatter(is_patch.unsqueeze(-1), p.to(x.dtype))
        return x + self.local(local)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x, bias):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype))
        return self.out(y.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.d_ff)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model)

    def forward(self, x):
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.attn = Attention(cfg)
        self.norm2 = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.mlp = Mlp(cfg)

    def forward(self, x, bias):
        x = x + self.attn(self.norm1(x), bias)
        return x + self.mlp(self.norm2(x))


class Gatito(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = Embedding(cfg)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model, eps=cfg.norm_eps)
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)
        self.register_buffer("slopes", alibi_slopes(cfg.heads), persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def attention_bias(self, n, device):
        """[H, N, N]: -slope * distance below the diagonal, -inf above it."""
        pos = torch.arange(n, device=device)
        distance = (pos[:, None] - pos[None, :]).float()
        bias = -self.slopes.to(device)[:, None, None] * distance
        return bias.masked_fill(distance < 0, -math.inf)

    def forward(self, ids, local, is_patch, patches, patch_rows, patch_cols, hidden=None):
        x = self.embed(ids, local, is_patch, patches, patch_rows, patch_cols, hidden)
        bias = self.attention_bias(ids.shape[1], ids.device)
        for block in self.blocks:
            x = block(x, bias)
        return self.head(self.norm(x))
