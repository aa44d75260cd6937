"""Training batches for Gatito, read from the stream `gatito data` writes through a pipe.

Rust is the single source of observations, expert actions, tokens, loss masks and patch
positions (crate/src/data); this file only parses. The format, documented in
crate/src/data/format.rs and mirrored here exactly, is little-endian:

  header  one JSON line: {"format": "GTS2", "context", "vocab", "text_vocab", "patch_len",
          "tasks": [{"name", "weight", "continuous_actions"}, ...]}
  record  b"GTS2" | u16 task | u32 n | u32 p | u32 ids[n] | u32 targets[n] | u8 local[n]
          | u8 modality[n] | f32 pixels[p*768] | u8 rows[p] | u8 cols[p]

A target is the id to predict at its element (from the one before), NO_TARGET where the
element is not trained on; it differs from the id only for an action taken off the expert's
course, which the sequence shows as taken and labels with the expert's choice.

A batch pads every sequence to the context with id 0 and no loss (padding at the end is
harmless under the causal mask) and concatenates the patches in row-major order over
(batch, position), which is the order Gatito's `masked_scatter` fills them in.

Parsing runs on a background thread with a bounded queue, so training never waits on it.

    with Stream(context=256, seed=1, batch_size=32) as stream:
        for batch in stream:
            logits = model(*batch.inputs())
"""

import json
import os
import queue
import struct
import subprocess
import threading
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = ROOT / "target" / "release" / "gatito"

MAGIC = b"GTS2"
NO_TARGET = 0xFFFF_FFFF
RECORD_HEAD = struct.Struct("<4sHII")
PATCH_LEN = 768
# Modality codes, as crate/src/data/format.rs writes them; PAD marks padding in a batch.
TEXT, PATCH, VALUE, SEPARATOR, ACTION = range(5)
PAD = 255


@dataclass
class Record:
    """One sequence as the stream holds it (numpy arrays)."""

    task: int
    ids: np.ndarray  # uint32 [n]
    local: np.ndarray  # uint8 [n]
    modality: np.ndarray  # uint8 [n]
    targets: np.ndarray  # uint32 [n], NO_TARGET where there is no loss
    pixels: np.ndarray  # float32 [p, 768]
    rows: np.ndarray  # uint8 [p]
    cols: np.ndarray  # uint8 [p]


def read_exactly(f, size):
    """`size` bytes from `f`, b"" at a clean end of stream, an error on a cut one."""
    data = f.read(size)
    while 0 < len(data) < size:
        more = f.read(size - len(data))
        if not more:
            break
        data += more
    if 0 < len(data) < size:
        raise EOFError(f"the stream ended inside a record ({len(data)} of {size} bytes)")
    return data


def read_header(f):
    line = f.readline()
    if not line:
        raise EOFError("the stream is empty: no header line")
    header = json.loads(line)
    if header.get("format") != "GTS2":
        raise ValueError(f"not a GTS2 stream: {line[:80]!r}")
    if header["patch_len"] != PATCH_LEN:
        raise ValueError(f"patches of {header['patch_len']} floats; this reader expects {PATCH_LEN}")
    return header


def read_record(f):
    """The next record of `f`, or None at the end of the stream."""
    head = read_exactly(f, RECORD_HEAD.size)
    if not head:
        return None
    magic, task, n, p = RECORD_HEAD.unpack(head)
    if magic != MAGIC:
        raise ValueError(f"lost the record boundary: expected {MAGIC!r}, read {magic!r}")
    body = read_exactly(f, 10 * n + p * (4 * PATCH_LEN + 2))
    if not body and (n or p):
        raise EOFError("the stream ended after a record's head")
    pixels_at = 10 * n
    rows_at = pixels_at + 4 * PATCH_LEN * p
    u8 = lambda offset, count: np.frombuffer(body, np.uint8, count, offset)  # noqa: E731
    return Record(
        task=task,
        ids=np.frombuffer(body, "<u4", n, 0),
        targets=np.frombuffer(body, "<u4", n, 4 * n),
        local=u8(8 * n, n),
        modality=u8(9 * n, n),
        pixels=np.frombuffer(body, "<f4", p * PATCH_LEN, pixels_at).reshape(p, PATCH_LEN),
        rows=u8(rows_at, p),
        cols=u8(rows_at + p, p),
    )


@dataclass
class Batch:
    """Tensors for `Gatito.forward`, plus what training needs beside them."""

    ids: torch.Tensor  # int64 [B, N]; a patch element's id is its patch index (the model ignores it)
    local: torch.Tensor  # int64 [B, N]
    is_patch: torch.Tensor  # bool [B, N]
    patches: torch.Tensor  # float32 [P, 768], row-major over (batch, position)
    patch_rows: torch.Tensor  # int64 [P]
    patch_cols: torch.Tensor  # int64 [P]
    targets: torch.Tensor  # int64 [B, N]: the id to predict at each element, from the position before it (0 where none)
    loss_mask: torch.Tensor  # bool [B, N]: where there is a target
    modality: torch.Tensor  # uint8 [B, N], PAD where padded
    lengths: torch.Tensor  # int64 [B]: elements before the padding
    task: torch.Tensor  # int64 [B]: index into the header's tasks

    def inputs(self):
        """The arguments of `Gatito.forward`, in order."""
        return self.ids, self.local, self.is_patch, self.patches, self.patch_rows, self.patch_cols

    def to(self, device):
        return Batch(**{f.name: getattr(self, f.name).to(device, non_blocking=True) for f in fields(self)})


def collate(records, context):
    """Pads `records` to `context` elements and gathers their patches."""
    b = len(records)
    ids = np.zeros((b, context), np.int64)
    local = np.zeros((b, context), np.int64)
    modality = np.full((b, context), PAD, np.uint8)
    targets = np.full((b, context), NO_TARGET, np.int64)
    lengths = np.zeros(b, np.int64)
    for i, r in enumerate(records):
        n = len(r.ids)
        if n > context:
            raise ValueError(f"a sequence of {n} elements exceeds the context of {context}")
        ids[i, :n], targets[i, :n], local[i, :n], modality[i, :n] = r.ids, r.targets, r.local, r.modality
        lengths[i] = n

    def cat(parts, dtype, shape):
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(shape, dtype)

    return Batch(
        ids=torch.from_numpy(ids),
        local=torch.from_numpy(local),
        is_patch=torch.from_numpy(modality == PATCH),
        patches=torch.from_numpy(cat([r.pixels for r in records], np.float32, (0, PATCH_LEN))),
        patch_rows=torch.from_numpy(cat([r.rows for r in records], np.int64, (0,))),
        patch_cols=torch.from_numpy(cat([r.cols for r in records], np.int64, (0,))),
        targets=torch.from_numpy(np.where(targets == NO_TARGET, 0, targets)),
        loss_mask=torch.from_numpy(targets != NO_TARGET),
        modality=torch.from_numpy(modality),
        lengths=torch.from_numpy(lengths),
        task=torch.tensor([r.task for r in records], dtype=torch.int64),
    )


_END = object()


class Stream:
    """Batches from a `gatito data` subprocess, parsed ahead on a background thread.

    `tasks` restricts the mix to those names; `lapse` is the chance per step that a world
    starts holding one random action for a while (`gatito data --lapse`); `astray` the share
    of episodes begun in a state a learner's mistakes reach (`gatito data --astray`); `students` are
    exported models that drive `student_share` of the worlds' episodes, one drawn for each,
    labelled by the expert (DAgger, `gatito data --student`), with training's noise on their
    choices unless `students_clean`, and never in the `unstudied` tasks; `count` ends the
    stream after that many sequences (the last batch may be smaller), otherwise it never ends. The header is
    read at once: `tasks_names`, `vocab` and `header` are there before the first batch.
    """

    def __init__(self, context=256, seed=0, batch_size=32, tasks=None, lapse=0.0, astray=0.0, students=(),
                 unstudied=(), student_share=0.5, students_clean=False, count=None, binary=None, model=None,
                 prefetch=8, cwd=ROOT):
        binary = Path(binary or os.environ.get("GATITO_BIN", DEFAULT_BINARY))
        if not binary.is_file():
            raise FileNotFoundError(f"{binary} is missing: build it with `cargo build --release` or set GATITO_BIN")
        command = [str(binary), "data", "--context", str(context), "--seed", str(seed)]
        if tasks:
            command += ["--tasks", ",".join(tasks)]
        if lapse:
            command += ["--lapse", str(lapse)]
        if astray:
            command += ["--astray", str(astray)]
        for student in students:
            command += ["--student", str(student)]
        if students:
            command += ["--student-share", str(student_share)] + (["--students-clean"] if students_clean else [])
            command += ["--unstudied", ",".join(unstudied)] if unstudied else []
        if count is not None:
            command += ["--count", str(count)]
        if model is not None:
            command += ["--model", str(model)]
        self.context, self.batch_size = context, batch_size
        self.process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        bufsize=1 << 20)
        try:
            self.header = read_header(self.process.stdout)
        except (EOFError, ValueError) as error:
            raise RuntimeError(f"gatito data failed: {self._stderr() or error}") from None
        self.task_names = [t["name"] for t in self.header["tasks"]]
        self.vocab = self.header["vocab"]
        self._queue = queue.Queue(maxsize=prefetch)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="gatito-stream", daemon=True)
        self._thread.start()

    def _stderr(self):
        self.process.wait()
        return self.process.stderr.read().decode(errors="replace").strip()

    def _put(self, item):
        """Queues `item`; False once the stream is being closed."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def _produce(self):
        try:
            records = []
            while not self._stop.is_set():
                record = read_record(self.process.stdout)
                if record is None:
                    break
                records.append(record)
                if len(records) == self.batch_size:
                    if not self._put(collate(records, self.context)):
                        return
                    records = []
            if self._stop.is_set():
                return
            if records:
                self._put(collate(records, self.context))
            if self.process.wait() != 0:
                raise RuntimeError(f"gatito data failed: {self._stderr()}")
            self._put(_END)
        except Exception as error:  # handed to the consumer, which re-raises it
            self._put(error)
        finally:
            # Hanging up ends the writer: it exits quietly on the broken pipe.
            self.process.stdout.close()

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is _END:
            self._queue.put(_END)
            raise StopIteration
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        self._stop.set()
        self._thread.join(timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Streams:
    """Batches from several `gatito data` processes in turn, for machines whose accelerator
    outruns one process. Stream i is seeded `seed * 256 + i`, so no two share sequences."""

    def __init__(self, count, seed=0, **kwargs):
        if not 1 <= count <= 256:
            raise ValueError(f"between 1 and 256 streams, not {count}")
        self.streams = []
        try:
            for i in range(count):
                self.streams.append(Stream(seed=seed * 256 + i, **kwargs))
        except Exception:
            self.close()
            raise
        first = self.streams[0]
        self.header, self.task_names, self.vocab = first.header, first.task_names, first.vocab
        self._turn = 0

    def __iter__(self):
        return self

    def __next__(self):
        stream = self.streams[self._turn % len(self.streams)]
        self._turn += 1
        return next(stream)

    def close(self):
        for stream in self.streams:
            stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
