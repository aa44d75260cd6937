"""Tests of stream.py against the real `gatito data` (pytest models/recipe/test_stream.py).

They build nothing: they run the release binary, target/release/gatito or $GATITO_BIN,
and fail, clearly, when it is missing. Run them from anywhere; the binary runs in the
repository root, where it finds models/gatito-s and data/mnist.
"""

import os

import pytest
import torch
import torch.nn.functional as F

from model import Config, Gatito
from stream import ACTION, DEFAULT_BINARY, PAD, PATCH, PATCH_LEN, ROOT, SEPARATOR, TEXT, Stream

CONTEXT = 256
BINARY = os.environ.get("GATITO_BIN", str(DEFAULT_BINARY))
CAPTION_TASKS = {"scenes", "mnist", "fashion_mnist"}


@pytest.fixture(scope="module", autouse=True)
def binary_exists():
    if not os.path.isfile(BINARY):
        pytest.fail(f"{BINARY} is missing: run `cargo build --release` first, or point GATITO_BIN at the binary")


def stream(**kwargs):
    return Stream(context=CONTEXT, binary=BINARY, **kwargs)


def read(**kwargs):
    """The header and every batch of a finite stream."""
    with stream(**kwargs) as s:
        return s.header, list(s)


def all_tasks():
    return [t["name"] for t in read(count=0)[0]["tasks"]]


def test_the_header_names_the_training_tasks():
    with stream(count=0) as s:
        assert s.header["context"] == CONTEXT and s.header["patch_len"] == PATCH_LEN
        assert s.vocab == s.header["text_vocab"] + 1024
        assert {"grid", "scenes", "mnist", "fashion_mnist", "cartpole_swingup"} <= set(s.task_names)
        assert "grid_heldout" not in s.task_names, "held-out missions never train"
        assert list(s) == [], "count=0 gives the header and no records"


@pytest.mark.parametrize("task", all_tasks())
def test_every_task_batches_as_the_model_expects(task):
    header, batches = read(seed=1, batch_size=4, count=10, tasks=[task])
    assert [b.ids.shape[0] for b in batches] == [4, 4, 2], "the last batch holds what is left"
    vocab = header["vocab"]
    for b in batches:
        n = b.ids.shape[1]
        assert n == CONTEXT
        for name in ["ids", "targets", "local", "is_patch", "loss_mask", "modality"]:
            assert getattr(b, name).shape == b.ids.shape, name
        assert b.ids.dtype == torch.int64 and b.is_patch.dtype == torch.bool and b.patches.dtype == torch.float32
        assert (b.task == b.task[0]).all()
        # Patches: one per patch element, in [-0.25, 0.25], positions within 128 bins.
        assert b.patches.shape == (int(b.is_patch.sum()), PATCH_LEN)
        assert b.patch_rows.shape == b.patch_cols.shape == (b.patches.shape[0],)
        if task in CAPTION_TASKS or task.startswith("grid"):
            assert b.patches.shape[0] > 0
        if b.patches.numel():
            assert b.patches.abs().max() <= 0.25
            assert b.patch_rows.max() < 128 and b.patch_cols.max() < 128
        # Padding only at the end: id 0, no loss.
        positions = torch.arange(n)
        padded = positions[None, :] >= b.lengths[:, None]
        assert torch.equal(padded, b.modality == PAD)
        assert (b.ids[padded] == 0).all() and not b.loss_mask[padded].any() and (b.lengths > 0).all()
        assert (b.lengths <= CONTEXT).all()
        # Loss falls only on text and actions: on every action for worlds, on target text for captions.
        lossy = b.modality[b.loss_mask]
        if task in CAPTION_TASKS:
            assert (lossy == TEXT).all()
            assert (b.loss_mask.sum(1) > 0).all()
            assert torch.equal(b.targets[b.loss_mask], b.ids[b.loss_mask]), "text targets are the text"
        else:
            assert torch.equal(b.loss_mask, b.modality == ACTION)
            # Actions are labelled with value bins; off the expert's course, with another than the one taken.
            assert (b.targets[b.loss_mask] >= header["text_vocab"]).all() and (b.targets[b.loss_mask] < vocab).all()
        assert (b.targets[~b.loss_mask] == 0).all()
        # Separators and actions share local position 255; observations count from 0.
        slot = (b.modality == SEPARATOR) | (b.modality == ACTION)
        assert (b.local[slot] == 255).all() and (b.local[~slot & ~padded] < 255).all()
        assert (b.ids[~b.is_patch] < vocab).all()


def test_a_batch_runs_through_the_model():
    header, [batch] = read(seed=2, batch_size=3, count=3, tasks=["grid", "scenes", "point_mass"])
    cfg = Config(text_vocab=header["text_vocab"], d_model=32, layers=1, heads=2, d_ff=64, patch_channels=8,
                 patch_groups=2, context=CONTEXT)
    logits = Gatito(cfg)(*batch.inputs())
    assert logits.shape == (3, CONTEXT, cfg.vocab)
    # Predict element t+1 from position t, where t+1 carries loss.
    targets, mask = batch.targets[:, 1:], batch.loss_mask[:, 1:]
    loss = F.cross_entropy(logits[:, :-1][mask], targets[mask])
    assert torch.isfinite(loss)


def test_a_seed_replays_its_stream():
    def take(seed):
        return read(seed=seed, batch_size=4, count=8, tasks=["grid", "reacher", "mnist"])[1]

    first, again, other = take(5), take(5), take(6)
    for a, b in zip(first, again):
        assert all(torch.equal(getattr(a, name), getattr(b, name)) for name in ["ids", "patches", "patch_rows", "task"])
    assert not all(torch.equal(a.ids, b.ids) for a, b in zip(first, other))


def test_closing_an_endless_stream_ends_the_writer_quietly():
    s = stream(seed=3, batch_size=2)
    next(s), next(s)
    s.close()
    assert s.process.returncode == 0, "a broken pipe is the end of the stream, not an error"


def test_errors_from_gatito_are_reported():
    with pytest.raises(RuntimeError, match="unknown task 'nonsense'"):
        stream(tasks=["nonsense"])
    with pytest.raises(FileNotFoundError, match="cargo build --release"):
        Stream(binary="/nonexistent/gatito")


def test_lapses_hold_an_action_against_the_experts_labels():
    def off_course(lapse):
        _, batches = read(seed=3, batch_size=8, count=8, tasks=["pong"], lapse=lapse)
        b = batches[0]
        actions = (b.modality == ACTION) & b.loss_mask
        return int((actions & (b.ids != b.targets)).sum()) / int(actions.sum())

    # DART alone executes a random action a quarter of the time, two thirds of them off course.
    assert off_course(0.0) < 0.3
    assert off_course(1.0) > off_course(0.0) + 0.2, "every step in a held random action"


def test_episodes_begun_astray_teach_the_grid_to_put_things_down():
    def drops(astray):
        header, batches = read(seed=3, batch_size=8, count=16, tasks=["grid"], astray=astray)
        drop = header["text_vocab"] + 4  # the grid's fifth action, a discrete value
        return sum(int(((b.modality == ACTION) & b.loss_mask & (b.targets == drop)).sum()) for b in batches)

    # On its own the expert drops only after one of DART's rare pickups, or beside an anchor.
    assert drops(1.0) >= drops(0.0) + 4


def test_a_student_drives_the_episodes_and_the_expert_labels_them():
    tiny = ROOT / "crate" / "tests" / "fixtures" / "tiny"
    _, (expert,) = read(seed=4, batch_size=4, count=4, tasks=["pong"])
    _, (student,) = read(seed=4, batch_size=4, count=4, tasks=["pong"], students=[tiny], student_share=1.0)
    assert not torch.equal(expert.ids, student.ids), "the tiny model plays otherwise than the expert"
    actions = (student.modality == ACTION) & student.loss_mask
    assert actions.any() and torch.equal(student.loss_mask, student.modality == ACTION), "loss on actions only"
    clean = read(seed=4, batch_size=4, count=4, tasks=["pong"], students=[tiny], student_share=1.0,
                 students_clean=True)[1][0]
    assert not torch.equal(clean.ids, student.ids), "without training's noise on the student's choices"
    unstudied = read(seed=4, batch_size=4, count=4, tasks=["pong"], students=[tiny], student_share=1.0,
                     unstudied=["pong"])[1][0]
    assert torch.equal(unstudied.ids, expert.ids), "the expert alone plays an unstudied task"
