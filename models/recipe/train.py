"""Trains gatito on sequences streamed from the Rust worlds (`gatito data`).

Usage:
  python3 models/recipe/train.py --out runs/s                           # starts, or resumes from runs/s/last.pt
  python3 models/recipe/export.py runs/s/last.pt --out models/gatito-s  # then ship it

It trains on the CPU, or on a CUDA GPU where one exists (`--device`); a GPU outruns one data
process, so give it several (`--streams 8`). `--tasks pong` trains one task alone, the first
question to ask of any change. Precision: bf16 autocast on a GPU; on a CPU with native bf16
(AMX or AVX512-BF16) whichever of bf16 and f32 a few timed steps show faster, since the flags
alone do not say (elsewhere bf16 is emulated and about 25x slower, so f32). AdamW with linear
warmup and a cosine schedule, gradient clipping. Loss falls on text targets and actions only
(the stream's targets); --hl-gauss spreads continuous actions' targets over neighbouring bins,
--turn-share weighs the actions where the expert changes its choice, and --hide-actions hides
input actions at random so that the state, not the last move, predicts the next; --astray
starts a share of episodes where a learner's mistakes lead (the grid: holding the wrong object).
DAgger in rounds: every --dagger-every steps the models so far drive --student-share of the
worlds' episodes, labelled by the expert (dagger.py). Checkpoints are written atomically every
--checkpoint-every steps; a run continues from its last one exactly as if it had never stopped,
and --hours stops it at the last checkpoint a wall-clock budget reaches. Under torchrun it trains
on several processes with DistributedDataParallel (distributed.py).
"""

import argparse
import csv
import itertools
import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from tqdm import tqdm

import distributed
from dagger import Dagger
from model import Config, Gatito
from stream import ACTION

PRESETS = {
    # For tests: trains in seconds.
    "tiny": dict(d_model=32, layers=2, heads=4, d_ff=64, context=64, patch_channels=8, patch_groups=4),
    # The shipped model: about 2.6M parameters, 5.2 MB in float16. Sized by measurement: on this 2-core
    # machine it trains at ~6k tokens/s in f32 (d256/6 layers: ~2.5k), so two hours see ~40M tokens.
    "s": dict(d_model=192, layers=4, heads=6, d_ff=768, context=256, patch_channels=32, patch_groups=8),
}


def native_bf16(device=torch.device("cpu")):
    """Whether `device` has bf16 matrix units at all: a CUDA GPU, or a CPU with AMX or AVX512-BF16."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def pass_seconds(model, batch, bf16):
    """The time of one forward and backward pass on `batch`; the gradients are left cleared."""
    tick = time.perf_counter()
    with torch.autocast(batch.ids.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = model(*batch.inputs())
    losses, counts = sequence_losses(logits, batch)
    (losses * counts).sum().backward()
    model.zero_grad(set_to_none=True)
    return time.perf_counter() - tick


def choose_precision(model, batch, choice="auto", repeats=5):
    """bf16 autocast or f32, and why. On a CPU, "auto" times both: flags say only that bf16 is
    native, not that it is faster (AVX512-BF16 without AMX ran at 0.75x f32 on the `s` preset).
    The two are timed in turn, pass by pass, so that a load that comes or goes on a shared
    machine meets both alike (timed one after the other beside a build, bf16 once looked 2.2x
    slower than f32 and f32 once 3.7x slower than bf16); the medians decide."""
    device = batch.ids.device
    if choice != "auto":
        return choice == "bf16", f"{choice}, as asked"
    if not native_bf16(device):
        return False, f"f32 (no native bf16 on this {device.type})"
    if device.type == "cuda":
        return True, "bf16 autocast"
    tokens = int(batch.lengths.sum())
    times = {False: [], True: []}
    for _ in range(repeats + 1):  # the first round warms up
        for bf16 in times:
            times[bf16].append(pass_seconds(model, batch, bf16))
    f32, bf16 = (tokens / sorted(times[bf16][1:])[repeats // 2] for bf16 in (False, True))
    chosen = "bf16 autocast" if bf16 > f32 else "f32"
    return bf16 > f32, f"{chosen}: measured {f32:,.0f} tokens/s in f32, {bf16:,.0f} in bf16 (forward and backward)"


def learning_rate(step, base, warmup, total):
    """Linear warmup, then a cosine down to a tenth of the base rate."""
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def hl_gauss(bins, sigma, size):
    """HL-Gauss targets (Imani & White 2018): the mass that a normal centred on each target bin,
    `sigma` bins wide, puts on each of `size` bins, renormalized over them: [K, size]."""
    edges = torch.arange(size + 1, device=bins.device, dtype=torch.float64)  # f32's CDF near 1 is too coarse
    cdf = torch.special.ndtr((edges - 0.5 - bins[:, None].double()) / sigma)
    mass = cdf[:, 1:] - cdf[:, :-1]
    return (mass / mass.sum(1, keepdim=True)).float()


class SpreadActions:
    """Continuous actions' targets spread over their neighbouring bins (HL-Gauss; Farebrother et al.
    2024 found it trains much faster than one-hot). A one-hot target over 1024 ordered bins counts
    the next bin as wrong as the far end; a discrete action's bins are unordered and stay one-hot.
    The stream's `header` says where the value bins are and which tasks' actions are continuous."""

    def __init__(self, sigma, header):
        self.sigma, self.first, self.bins = sigma, header["text_vocab"], header["vocab"] - header["text_vocab"]
        self.continuous = torch.tensor([t["continuous_actions"] for t in header["tasks"]], dtype=torch.bool)

    def where(self, batch):
        """Which targets to spread: [B, N-1], aligned with the next-token targets."""
        continuous = self.continuous.to(batch.task.device)[batch.task]
        return batch.loss_mask[:, 1:] & (batch.modality[:, 1:] == ACTION) & continuous[:, None]

    def losses(self, logits, targets):
        """Cross-entropy of `logits` [K, vocab] against the spread `targets` [K]."""
        log_p = logits.float().log_softmax(-1)[:, self.first:self.first + self.bins]
        return -(hl_gauss(targets - self.first, self.sigma, self.bins) * log_p).sum(-1)


class TurnWeights:
    """Keyframe weighting (Wen et al. 2021, "Keyframe-focused visual imitation learning"): a discrete
    action that differs from the expert's previous choice in the same sequence (a turn) weighs more.
    Between turns the previous action, and the motion it left in the frames, predict the next one, so
    an imitator can score well without reading the state; at a turn only the state tells. Each task's
    turns weigh what makes them carry `share` of its discrete actions' weight in the batch, and never
    less than the rest: Pong's turns (19% of its actions) weigh about 4 at a share of 0.5, the grid's
    (51%) stay at 1, so one setting suits both (RUNS.md). The stream's `header` says which tasks'
    actions are continuous (never weighted)."""

    def __init__(self, share, header):
        assert 0.0 <= share < 1.0, "a share of the weight, below 1"
        self.odds = share / (1.0 - share)
        self.discrete = ~torch.tensor([t["continuous_actions"] for t in header["tasks"]], dtype=torch.bool)

    def of(self, batch):
        """Each next-token target's weight: [B, N-1], aligned with the targets."""
        targets, mask = batch.targets[:, 1:], batch.loss_mask[:, 1:]
        discrete = self.discrete.to(batch.task.device)[batch.task]
        acts = mask & (batch.modality[:, 1:] == ACTION) & discrete[:, None]
        positions = torch.arange(acts.shape[1], device=acts.device).expand_as(acts)
        latest = torch.where(acts, positions, -1).cummax(1).values  # the last action at or before each
        previous = F.pad(latest[:, :-1], (1, 0), value=-1)
        turns = acts & (previous >= 0) & (targets != targets.gather(1, previous.clamp(min=0)))
        per_task = torch.zeros(len(self.discrete), 2, device=acts.device)
        per_task.index_add_(0, batch.task, torch.stack([acts.sum(1), turns.sum(1)], 1).float())
        per_task = distributed.total(per_task)  # under torchrun, the global batch's, as one process would
        rest, turned = per_task[:, 0] - per_task[:, 1], per_task[:, 1]
        weight = (self.odds * rest / turned.clamp(min=1)).clamp(min=1.0)
        return 1.0 + (weight[batch.task, None] - 1.0) * turns.float()


def hide_actions(batch, share, seed):
    """Which input actions to hide, each with chance `share`: [B, N]. Causal confusion (de Haan et
    al. 2019): the previous actions predict the next one well, so an imitator can lean on them and
    not read the state; with some hidden it must read the state to know what was done. Targets stay.
    Drawn from `seed` (the step's), so that a resumed run hides what an unbroken one would."""
    draw = torch.rand(batch.ids.shape, generator=torch.Generator().manual_seed(seed))
    return (batch.modality == ACTION) & (draw.to(batch.ids.device) < share)


def sequence_losses(logits, batch, spread=None, turns=None):
    """Mean next-token loss of each sequence over its loss-masked targets: [B] (0 where none), and the
    weight they carry. `spread` (a SpreadActions) replaces continuous actions' one-hot targets with
    HL-Gauss ones; `turns` (a TurnWeights) weighs the targets, which then count by their weights."""
    targets, mask = batch.targets[:, 1:], batch.loss_mask[:, 1:]
    per_token = F.cross_entropy(logits[:, :-1].float().transpose(1, 2), targets, reduction="none")
    if spread is not None:
        where = spread.where(batch)
        if where.any():
            per_token = per_token.masked_scatter(where, spread.losses(logits[:, :-1][where], targets[where]))
    weights = mask.float() if turns is None else turns.of(batch) * mask
    counts = weights.sum(1)
    return (per_token * weights).sum(1) / counts.clamp(min=1), counts


def make_optimizer(model, lr):
    """Weight decay on matrices only: norms, biases and embeddings' scales stay free."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95))


def save_checkpoint(path, model, optimizer, step):
    tmp = path.with_suffix(".tmp")
    torch.save({"config": vars(model.cfg), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "step": step}, tmp)
    os.replace(tmp, path)


def out_of_time(deadline, began, steps_done, ahead):
    """Whether `ahead` more steps at the pace so far would pass `deadline` (all time.monotonic())."""
    now = time.monotonic()
    return now + (now - began) / max(1, steps_done) * ahead > deadline


def train(model, batches, steps, out, lr=1e-3, warmup=200, clip=1.0, checkpoint_every=500, task_names=(),
          start=0, optimizer=None, quiet=False, bf16=False, after_step=None, spread=None, turns=None, deadline=None,
          hide=0.0):
    """Runs steps start..steps on the model's device; returns the list of (step, loss). Logs to out/log.csv.
    `after_step(steps_done, model)` is called after every step but the last (the data's restarts and
    DAgger's rounds); `spread` (a SpreadActions) gives continuous actions HL-Gauss targets and `turns` (a
    TurnWeights) weighs the discrete actions' turns; `hide` is the chance that an input action is hidden. `deadline`
    (a time.monotonic()) ends the run at the last checkpoint that the pace so far reaches before it;
    the same command then goes on from there. `model` may be wrapped in DistributedDataParallel:
    each process trains on its own batches towards the mean loss over all their targets, and the
    main process alone writes."""
    device = next(model.parameters()).device
    core = getattr(model, "module", model)
    writes = distributed.is_main()
    out.mkdir(parents=True, exist_ok=True)
    optimizer = optimizer or make_optimizer(model, lr)
    if writes:
        log_path = out / "log.csv"
        new_log = not log_path.exists() or start == 0
        log = open(log_path, "w" if new_log else "a", newline="")
        writer = csv.writer(log)
        if new_log:
            writer.writerow(["step", "loss", "lr", "tokens_per_s", *task_names])
    history = []
    began = time.monotonic()
    bar = tqdm(range(start, steps), initial=start, total=steps, disable=quiet or not writes, unit="step")
    model.train()
    for step in bar:
        batch = next(batches).to(device)
        tick = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, lr, warmup, steps)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            hidden = hide_actions(batch, hide, step * distributed.world() + distributed.rank()) if hide else None
            logits = model(*batch.inputs(), hidden)
        losses, counts = sequence_losses(logits, batch, spread, turns)
        # This process's share of the mean over every process's targets; DDP averages the
        # gradients over the processes, which the factor undoes.
        targets = distributed.total(counts.sum()).clamp(min=1)
        loss = (losses * counts).sum() / targets * distributed.world()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        # One copy back per step: a GPU waits at each small read.
        loss_value = distributed.total(loss.detach()).item() / distributed.world()
        losses, tasks = losses.detach().cpu(), batch.task.cpu()
        tokens_per_s = int(batch.lengths.sum()) * distributed.world() / (time.perf_counter() - tick)
        history.append((step, loss_value))
        if writes:
            per_task = [float(losses[tasks == t].mean()) if (tasks == t).any() else ""
                        for t in range(len(task_names))]
            writer.writerow([step, f"{loss_value:.4f}", f"{learning_rate(step, lr, warmup, steps):.2e}",
                             f"{tokens_per_s:.0f}", *per_task])
            bar.set_postfix(loss=f"{loss_value:.3f}", tok_s=f"{tokens_per_s:,.0f}")
        if (step + 1) % checkpoint_every == 0 or step + 1 == steps:
            if writes:
                log.flush()
                save_checkpoint(out / "last.pt", core, optimizer, step + 1)
            late = deadline is not None and out_of_time(deadline, began, step + 1 - start, checkpoint_every)
            if step + 1 < steps and distributed.total(torch.tensor(int(late), device=device)).item():
                break  # any process out of time stops them all, on the same step
        if after_step and step + 1 < steps:
            after_step(step + 1, model)
    if writes:
        log.close()
    return history


def main():
    from stream import Streams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=PRESETS, default="s")
    parser.add_argument("--steps", type=int, default=9000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/s"))
    parser.add_argument("--model-dir", type=Path, default=Path("models/gatito-s"), help="where tokenizer.json is")
    parser.add_argument("--bin", type=Path, default=None, help="the gatito binary (default: target/release/gatito)")
    parser.add_argument("--checkpoint-every", type=int, default=250)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--streams", type=int, default=1, help="parallel `gatito data` processes")
    parser.add_argument("--tasks", default="", help="only these tasks (comma-separated names), e.g. pong")
    parser.add_argument("--lapse", type=float, default=0.0,
                        help="the chance per step that a world starts holding one random action for a while "
                             "(the labels stay the expert's); off by default, see RUNS.md")
    parser.add_argument("--astray", type=float, default=0.5,
                        help="the share of episodes begun astray, in a state a learner's mistakes reach and the "
                             "expert's play seldom does (the grid: holding an object the mission does not need; "
                             "other worlds start as usual); see RUNS.md, grid-astray")
    parser.add_argument("--dagger-every", type=int, default=500,
                        help="DAgger: every this many steps the model so far drives a share of the worlds' episodes, "
                             "each step labelled by the expert (0: the experts alone; see RUNS.md)")
    parser.add_argument("--student", type=Path, default=None,
                        help="an exported model that drives from the start, as a round before this run "
                             "(default: the experts alone until the first round)")
    parser.add_argument("--student-share", type=float, default=0.5, help="the share of episodes students drive")
    parser.add_argument("--unstudied", default="grid",
                        help="tasks (comma-separated) whose episodes students never drive: the grid's rounds taught "
                             "it to spin (RUNS.md, grid-ego-d); '' lets them drive every world")
    parser.add_argument("--students-clean", action="store_true",
                        help="students drive without training's noise on their choices (see RUNS.md)")
    parser.add_argument("--dagger-aggregate", action=argparse.BooleanOptionalAction, default=True,
                        help="draw each driven episode's student from every round so far, not the latest alone")
    parser.add_argument("--hl-gauss", type=float, default=0.0, metavar="SIGMA",
                        help="spread continuous actions' targets over a normal SIGMA bins wide (0: one-hot; see RUNS.md)")
    parser.add_argument("--turn-share", type=float, default=0.5, metavar="S",
                        help="weigh the discrete actions that differ from the expert's previous one until they carry "
                             "S of each task's action weight (0: off; see RUNS.md)")
    parser.add_argument("--patch-norm", action=argparse.BooleanOptionalAction, default=True,
                        help="GroupNorm in the patch block (a new model's; a resumed one keeps its own). Without it "
                             "the model names colours best, and Pong learns slower (RUNS.md, `scenes-stem4`)")
    parser.add_argument("--hide-actions", type=float, default=0.5, metavar="P",
                        help="hide each input action from the model with chance P; its target stays (0: off; see RUNS.md)")
    parser.add_argument("--precision", choices=["auto", "f32", "bf16"], default="auto",
                        help="auto: bf16 on a GPU; on a CPU whichever a few timed steps show faster")
    parser.add_argument("--threads", type=int, default=None, help="torch's CPU threads (default: torch's own)")
    parser.add_argument("--hours", type=float, default=None,
                        help="stop at the last checkpoint this wall-clock budget reaches; the same command goes on")
    args = parser.parse_args()
    deadline = time.monotonic() + 3600 * args.hours if args.hours else None
    device = distributed.start(torch.device(args.device))
    rank, world = distributed.rank(), distributed.world()
    if args.batch % world:
        parser.error(f"--batch {args.batch} is the global batch: it must divide among {world} processes")
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(args.seed)
    checkpoint = args.out / "last.pt"
    state = torch.load(checkpoint, map_location="cpu") if checkpoint.exists() else None
    if state:
        cfg = Config(**state["config"])
    else:
        text_vocab = Tokenizer.from_file(str(args.model_dir / "tokenizer.json")).get_vocab_size()
        cfg = Config(text_vocab=text_vocab, patch_norm=args.patch_norm, **PRESETS[args.preset])
    model = Gatito(cfg)
    start = 0
    if state:
        model.load_state_dict(state["model"])
    model.to(device)
    optimizer = make_optimizer(model, args.lr)
    if state:
        optimizer.load_state_dict(state["optimizer"])
        start = state["step"]
        if distributed.is_main():
            print(f"resuming {checkpoint} at step {start}")
    tasks = [t for t in args.tasks.split(",") if t]

    def open_stream(step, students):
        # Seeded by the step (see dagger.py) and apart for each process.
        return Streams(args.streams, context=cfg.context, seed=(args.seed * 1_000_003 + step) * world + rank,
                       batch_size=args.batch // world, binary=args.bin, model=args.model_dir, tasks=tasks,
                       lapse=args.lapse, astray=args.astray, students=students, student_share=args.student_share,
                       unstudied=[t for t in args.unstudied.split(",") if t],
                       students_clean=args.students_clean)

    stream = Dagger(open_stream, args.out, args.model_dir / "tokenizer.json", args.dagger_every, student=args.student,
                    start=start, aggregate=args.dagger_aggregate, model=model, restart_every=args.checkpoint_every)
    batches = iter(stream)
    first = next(batches).to(device)
    bf16, precision = distributed.from_main(choose_precision(model, first, args.precision))
    if distributed.is_main():
        print(f"{sum(p.numel() for p in model.parameters()):,} parameters; context {cfg.context}; "
              f"batch {args.batch} over {world} process(es); {device}, {torch.get_num_threads()} threads; "
              f"{precision}; tasks: {', '.join(stream.task_names)}")
    spread = SpreadActions(args.hl_gauss, stream.header) if args.hl_gauss else None
    turns = TurnWeights(args.turn_share, stream.header) if args.turn_share else None
    replica = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    history = train(replica, itertools.chain([first], batches), args.steps, args.out, lr=args.lr,
                    warmup=args.warmup, checkpoint_every=args.checkpoint_every, task_names=stream.task_names,
                    start=start, optimizer=optimizer, bf16=bf16, after_step=stream.after_step, spread=spread,
                    turns=turns, deadline=deadline, hide=args.hide_actions)
    stream.close()
    if history and history[-1][0] + 1 < args.steps and distributed.is_main():
        print(f"stopped at step {history[-1][0] + 1} of {args.steps} for --hours {args.hours}: "
              "the same command goes on from there")
    distributed.stop()


if __name__ == "__main__":
    main()
