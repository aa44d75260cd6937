"""torchrun and DistributedDataParallel: two CPU processes (gloo) train as one process does on
the same global batch. Run by pytest, this file starts torchrun on itself; each process it
starts trains its half of every batch and saves what it ended with."""

import subprocess
import sys
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

import distributed
from conftest import RECIPE, ROOT
from model import Gatito
from test_recipe import fixed_batch, tiny_config
from train import train

STEPS = 6
GLOBAL_BATCH = 4


def global_batches(cfg):
    return [fixed_batch(cfg, batch=GLOBAL_BATCH, seed=step) for step in range(STEPS)]


def rows(batch, lo, hi):
    """Sequences lo..hi of `batch`, with their patches (stored row-major over the batch)."""
    per_row = batch.is_patch.sum(1).cumsum(0).tolist()
    first, last = ([0] + per_row)[lo], per_row[hi - 1]
    cut = {name: getattr(batch, name)[lo:hi] for name in
           ("ids", "local", "is_patch", "targets", "loss_mask", "modality", "lengths", "task")}
    return type(batch)(**cut, patches=batch.patches[first:last], patch_rows=batch.patch_rows[first:last],
                       patch_cols=batch.patch_cols[first:last])


def trained(out, batches, model):
    history = train(model, iter(batches), STEPS, out, lr=3e-3, warmup=2, checkpoint_every=STEPS, quiet=True)
    return [loss for _, loss in history]


def replica(out):
    """One torchrun process: its half of each global batch, through DDP."""
    distributed.start(torch.device("cpu"))
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Gatito(tiny_config(ROOT / "models" / "gatito-s" / "tokenizer.json"))
    share = GLOBAL_BATCH // distributed.world()
    lo = distributed.rank() * share
    batches = [rows(batch, lo, lo + share) for batch in global_batches(model.cfg)]
    losses = trained(out / "run", batches, DistributedDataParallel(model))
    torch.save({"model": model.state_dict(), "losses": losses}, out / f"rank{distributed.rank()}.pt")
    distributed.stop()


def torchrun(*args):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_processes_train_as_one_with_the_same_global_batch(tmp_path, tokenizer_path):
    torchrun(__file__, tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    assert all(torch.equal(ranks[0]["model"][k], ranks[1]["model"][k]) for k in ranks[0]["model"]), \
        "the replicas hold identical weights"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["last.pt", "log.csv"], "one process writes"

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Gatito(tiny_config(tokenizer_path))
    alone = trained(tmp_path / "alone", global_batches(model.cfg), model)
    assert torch.allclose(torch.tensor(ranks[0]["losses"]), torch.tensor(alone), rtol=1e-4), (ranks[0]["losses"], alone)
    assert alone[-1] < alone[0], "and they learn"
    for name, weight in model.state_dict().items():
        assert torch.allclose(ranks[0]["model"][name], weight, atol=1e-5), name


def test_torchrun_runs_the_recipe(tmp_path, gatito_bin):
    """The real command: each process its own `gatito data`, one writer, a DAgger round exported once."""
    torchrun(RECIPE / "train.py", "--preset", "tiny", "--tasks", "pong", "--batch", "4", "--steps", "4",
             "--warmup", "1", "--checkpoint-every", "2", "--dagger-every", "2", "--precision", "f32", "--threads", "1",
             "--out", tmp_path, "--bin", gatito_bin)
    assert torch.load(tmp_path / "last.pt")["step"] == 4
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 5
    assert [p.name for p in (tmp_path / "students").iterdir()] == ["0000002"]


if __name__ == "__main__":
    replica(Path(sys.argv[1]))
