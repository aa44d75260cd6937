"""The speed peer natively: ONNX Runtime (CPU EP, one thread) on export_onnx.py's graph, timed on
crate/src/bench.rs's workload and printed as `gatito bench --json` prints it. www/bench-ort.js is
the same in the browser.

The workload is bench.rs's, token for token: the same frames, the same episode (its latest whole
timesteps within the context), greedy choices among the same ids, and the same sliding window (the
oldest cache rows drop out when a chunk would overflow the context). As in the agent, a step's
time includes cutting the frame into patches.

Usage: python3 bench_onnx.py MODEL.onnx [--model ../gatito-s] [--steps 200]
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from safetensors import safe_open

PATCH_LEN = 768
ACTION_POSITION = 255
MAX_TEXT_TOKENS = 48


def tokens(ids, local, slots=(), patches=np.zeros((0, PATCH_LEN), np.float32), rows=(), cols=()):
    """Elements as the graph takes them: ids and local positions [n]; for the patch elements
    their indices (slots), pixels, row and column bins [P]."""
    i64 = lambda a: np.asarray(a, np.int64).reshape(-1)
    return dict(ids=i64(ids), local=i64(local), slots=i64(slots), patches=np.asarray(patches, np.float32),
                rows=i64(rows), cols=i64(cols))


def concat(*parts):
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    offsets = np.cumsum([0] + [len(p["ids"]) for p in parts[:-1]])
    out["slots"] = np.concatenate([p["slots"] + o for p, o in zip(parts, offsets)])
    return out


def cut(seq, start, end):
    """Elements start..end, as `Sequence::slice_elements`."""
    keep = (seq["slots"] >= start) & (seq["slots"] < end)
    per_element = {k: seq[k][start:end] for k in ("ids", "local")}
    return dict(per_element, slots=seq["slots"][keep] - start,
                **{k: seq[k][keep] for k in ("patches", "rows", "cols")})


def frame(t):
    """bench.rs's frame(t): 64x64 RGB, (4x, 4y, 7t as u8)."""
    y, x = np.mgrid[0:64, 0:64]
    return np.stack([x * 4, y * 4, np.full_like(x, t * 7 % 256)], -1).astype(np.uint8)


def patches(image):
    """Sixteen 16x16 patches in raster order, channel-first, on Gato's pixel scale."""
    pixels = (image.astype(np.float32) / np.float32(127.5) - np.float32(1.0)) / np.float32(4.0)
    return pixels.reshape(4, 16, 4, 16, 3).transpose(0, 2, 4, 1, 3).reshape(16, PATCH_LEN)


def image_tokens(image, then=()):
    """An image at the start of a timestep or sentence (bins: evaluation's interval means), then `then`."""
    bins = np.arange(16)
    return tokens([0] * 16 + list(then), [*range(16)] + [ACTION_POSITION] * len(then), bins, patches(image),
                  bins // 4 * 32 + 16, bins % 4 * 32 + 16)


class Runner:
    """The graph in one ONNX Runtime session, with its KV cache and sliding window."""

    def __init__(self, path, model_dir):
        self.config = json.loads((Path(model_dir) / "config.json").read_text())
        special = json.loads((Path(model_dir) / "tokenizer.json").read_text())["added_tokens"]
        self.special = {t["content"]: t["id"] for t in special}
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.past = [i.name for i in self.session.get_inputs() if i.name.startswith("past_")]
        self.clear()

    def clear(self):
        heads, d = self.config["heads"], self.config["d_model"]
        self.cache = [np.zeros((1, heads, 0, d // heads), np.float32)] * len(self.past)

    def feed(self, seq):
        """Feeds `seq` after the cache; the last element's logits."""
        n, kept = len(seq["ids"]), self.cache[0].shape[2]
        drop = kept - min(kept, self.config["context"] - n)
        feeds = dict(seq, **{name: c[:, :, drop:] for name, c in zip(self.past, self.cache)})
        logits, *self.cache = self.session.run(None, feeds)
        return logits


def text(id, position=0):
    return tokens([id], [position])


def episode(runner):
    """bench.rs's episode: (frame, separator, action t % 3) timesteps, the latest whole ones in the context."""
    first_value, context = runner.config["text_vocab"], runner.config["context"]
    steps = [image_tokens(frame(t), [runner.special["<|sep|>"], first_value + t % 3]) for t in range(context // 18 + 1)]
    while sum(len(s["ids"]) for s in steps) > context:
        steps.pop(0)
    return concat(*steps)


def prefill_and_decode(runner, seq, clock):
    repeats = 5
    start = clock()
    for _ in range(repeats):
        runner.clear()
        runner.feed(seq)
    prefill = clock() - start
    half = len(seq["ids"]) // 2
    runner.clear()
    runner.feed(cut(seq, 0, half))
    generated, token = len(seq["ids"]) - half, 0
    start = clock()
    for _ in range(generated):
        token = int(np.argmax(runner.feed(text(token))[: runner.config["text_vocab"]]))
    decode = clock() - start
    return repeats * len(seq["ids"]) / prefill, generated / decode


def agent_steps(runner, steps, clock):
    """Milliseconds per step, sorted: the last action token and a frame in, one of three actions out."""
    runner.clear()
    first, pending, times = runner.config["text_vocab"], [], []
    frames = [frame(t) for t in range(steps)]
    for image in frames:
        start = clock()
        chunk = image_tokens(image, [runner.special["<|sep|>"]])
        logits = runner.feed(concat(*pending, chunk))
        action = first + int(np.argmax(logits[first:first + 3]))
        times.append((clock() - start) * 1e3)
        pending = [tokens([action], [ACTION_POSITION])]
    return sorted(times)


def caption(runner, clock):
    """A greedy caption of frame(0), milliseconds: text ids but the separator, until end-of-text or the cap."""
    image, vocab = frame(0), runner.config["text_vocab"]
    start = clock()
    runner.clear()
    chunk = image_tokens(image)
    for position in range(16, 16 + MAX_TEXT_TOKENS):
        logits = runner.feed(chunk)[:vocab]
        logits[runner.special["<|sep|>"]] = -np.inf
        token = int(np.argmax(logits))
        if token == runner.special["<|eot|>"]:
            break
        chunk = text(token, min(position, ACTION_POSITION - 1))
    return (clock() - start) * 1e3


def percentile(sorted_values, p):
    return sorted_values[int((len(sorted_values) - 1) * p + 0.5)]  # Rust's round, half away from zero


def peak_memory_mb():
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:"))


def parameters(model_dir):
    with safe_open(Path(model_dir) / "model.safetensors", "np") as f:
        return sum(int(np.prod(f.get_slice(k).get_shape())) for k in f.keys())


def bench(path, model_dir, steps):
    runner = Runner(path, model_dir)
    clock = time.perf_counter
    prefill, decode = prefill_and_decode(runner, episode(runner), clock)
    times = agent_steps(runner, max(steps, 1), clock)
    return {
        "backend": "onnxruntime (cpu ep, native, 1 thread)",
        "adapter": f"onnxruntime {ort.__version__}",
        "parameters": parameters(model_dir),
        "context": runner.config["context"],
        "prefill_tokens_per_s": prefill,
        "decode_tokens_per_s": decode,
        "step_ms_p50": percentile(times, 0.5),
        "step_ms_p95": percentile(times, 0.95),
        "caption_ms": caption(runner, clock),
        "memory_mb": peak_memory_mb(),
        "gpu_memory_mb": None,
        "model_download_mb": os.path.getsize(path) / 1e6,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("onnx", type=Path)
    parser.add_argument("--model", type=Path, default=Path(__file__).resolve().parent.parent / "gatito-s")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(bench(args.onnx, args.model, args.steps), indent=2))


if __name__ == "__main__":
    main()
