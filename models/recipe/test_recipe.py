"""Tests of the training recipe: the schedule, learning, checkpoints, and the export's golden check."""

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
from tokenizers import Tokenizer

from conftest import RECIPE, ROOT
from dagger import Dagger
from export import export
from model import PATCH_LEN, Config, Gatito
from stream import ACTION, Batch, Stream
from train import (PRESETS, SpreadActions, TurnWeights, choose_precision, hide_actions, hl_gauss, learning_rate,
                   make_optimizer, native_bf16, save_checkpoint, sequence_losses, train)


def tiny_config(tokenizer_path):
    return Config(text_vocab=Tokenizer.from_file(str(tokenizer_path)).get_vocab_size(), **PRESETS["tiny"])


def fixed_batch(cfg, batch=4, seed=0):
    """A batch with the stream's layout: a patch run, then value tokens whose actions repeat a pattern."""
    g = torch.Generator().manual_seed(seed)
    n = cfg.context
    ids = torch.randint(cfg.text_vocab, cfg.vocab, (batch, n), generator=g)
    ids[:, 1::2] = cfg.text_vocab + (ids[:, 0::2] - cfg.text_vocab) % 7  # learnable: each odd token follows its even one
    is_patch = torch.zeros(batch, n, dtype=torch.bool)
    is_patch[:, :16] = True
    p = int(is_patch.sum())
    loss_mask = torch.zeros(batch, n, dtype=torch.bool)
    loss_mask[:, 17::2] = True
    return Batch(
        ids=ids,
        local=torch.arange(n).clamp(max=254).repeat(batch, 1),
        is_patch=is_patch,
        patches=(torch.rand(p, PATCH_LEN, generator=g) - 0.5) / 2,
        patch_rows=torch.randint(0, 128, (p,), generator=g),
        patch_cols=torch.randint(0, 128, (p,), generator=g),
        targets=ids.clone(),
        loss_mask=loss_mask,
        modality=torch.zeros(batch, n, dtype=torch.uint8),
        lengths=torch.full((batch,), n),
        task=torch.zeros(batch, dtype=torch.long),
    )


def test_the_schedule_warms_up_then_decays_to_a_tenth():
    assert learning_rate(0, 1.0, 10, 100) == 0.1
    assert learning_rate(9, 1.0, 10, 100) == 1.0
    assert abs(learning_rate(100, 1.0, 10, 100) - 0.1) < 1e-9
    assert learning_rate(50, 1.0, 10, 100) < learning_rate(20, 1.0, 10, 100)


def test_loss_falls_only_on_masked_targets(tokenizer_path):
    cfg = tiny_config(tokenizer_path)
    model = Gatito(cfg)
    batch = fixed_batch(cfg)
    logits = model(*batch.inputs())
    losses, counts = sequence_losses(logits, batch)
    assert counts.tolist() == [batch.loss_mask[0, 1:].sum().item()] * 4
    # Changing a target that carries no loss changes nothing; changing one that does, does.
    unmasked = batch.targets.clone()
    unmasked[:, 18] = cfg.text_vocab + (unmasked[:, 18] - cfg.text_vocab + 1) % 1024
    same, _ = sequence_losses(logits, dataclasses.replace(batch, targets=unmasked))
    assert torch.allclose(losses, same)
    relabelled = batch.targets.clone()
    relabelled[:, 17] = cfg.text_vocab + (relabelled[:, 17] - cfg.text_vocab + 1) % 1024
    changed, _ = sequence_losses(logits, dataclasses.replace(batch, targets=relabelled))
    assert not torch.allclose(losses, changed)


def test_a_tiny_model_learns_and_resumes(tmp_path, tokenizer_path):
    torch.manual_seed(0)
    cfg = tiny_config(tokenizer_path)
    model = Gatito(cfg)
    batch = fixed_batch(cfg)
    history = train(model, iter(lambda: batch, None), 60, tmp_path, lr=3e-3, warmup=5, checkpoint_every=30, quiet=True)
    first, last = history[0][1], sum(loss for _, loss in history[-5:]) / 5
    assert last < first * 0.6, f"loss {first:.3f} -> {last:.3f}"
    state = torch.load(tmp_path / "last.pt")
    assert state["step"] == 60 and Config(**state["config"]) == cfg
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0].startswith("step,loss,lr,tokens_per_s") and len(lines) == 61

    resumed = Gatito(cfg)
    resumed.load_state_dict(state["model"])
    optimizer = make_optimizer(resumed, 3e-3)
    optimizer.load_state_dict(state["optimizer"])
    more = train(resumed, iter(lambda: batch, None), 70, tmp_path, lr=3e-3, warmup=5, start=60, optimizer=optimizer,
                 quiet=True)
    assert [s for s, _ in more] == list(range(60, 70))
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 71


def test_bf16_autocast_trains_too(tmp_path, tokenizer_path):
    """The bf16 path that CPUs with AMX take must learn as well (slowly here, so briefly)."""
    torch.manual_seed(0)
    cfg = tiny_config(tokenizer_path)
    batch = fixed_batch(cfg)
    history = train(Gatito(cfg), iter(lambda: batch, None), 30, tmp_path, lr=3e-3, warmup=5, quiet=True, bf16=True)
    assert history[-1][1] < history[0][1] * 0.8


def test_the_precision_is_chosen_by_measurement(tokenizer_path):
    model = Gatito(tiny_config(tokenizer_path))
    batch = fixed_batch(model.cfg)
    assert choose_precision(model, batch, "f32") == (False, "f32, as asked")
    assert choose_precision(model, batch, "bf16")[0] is True
    bf16, why = choose_precision(model, batch)
    if native_bf16():
        assert "tokens/s in f32" in why and why.startswith("bf16" if bf16 else "f32"), why
    else:
        assert (bf16, why) == (False, "f32 (no native bf16 on this cpu)")
    assert all(p.grad is None for p in model.parameters()), "timing leaves no gradients behind"


def test_checkpoints_are_written_atomically(tmp_path, tokenizer_path):
    cfg = tiny_config(tokenizer_path)
    model = Gatito(cfg)
    save_checkpoint(tmp_path / "last.pt", model, make_optimizer(model, 1e-3), 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]


@pytest.mark.parametrize("patch_norm", [True, False])
def test_the_patch_stem_starts_at_the_scale_of_unit_pixels(tokenizer_path, patch_norm):
    """Pixels come in at a quarter of unit scale; the stem's init makes up for it, so its output
    (the residual that carries hue past the GroupNorms) starts as large as for unit pixels."""
    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config(tokenizer_path), patch_norm=patch_norm)
    stem = Gatito(cfg).embed.patch.stem
    pixels = (torch.rand(512, 3, 16, 16) - 0.5) / 2
    reference = torch.nn.Conv2d(3, cfg.patch_channels, kernel_size=4, stride=4)
    with torch.no_grad():
        ratio = stem(pixels).std() / reference(pixels).std()
    assert 3.0 < ratio < 5.0, ratio


@pytest.mark.parametrize("patch_norm", [False, True])
def test_the_export_passes_the_rust_golden_check(tmp_path, tokenizer_path, gatito_bin, patch_norm):
    torch.manual_seed(1)
    model = Gatito(dataclasses.replace(tiny_config(tokenizer_path), patch_norm=patch_norm))
    assert any("patch.norm1" in name for name in model.state_dict()) == patch_norm
    export(model, tokenizer_path, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"config.json", "model.safetensors", "tokenizer.json",
                                                    "golden.safetensors"}
    run = subprocess.run([gatito_bin, "verify", "--model", tmp_path, "--json"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    verdict = json.loads(run.stdout)
    assert verdict["max_abs_diff"] <= 1e-4

    # A weight changed after the golden logits were made must fail the check.
    from safetensors.torch import load_file, save_file
    weights = load_file(tmp_path / "model.safetensors")
    weights["head.weight"][0, 0] += 1.0
    save_file(weights, tmp_path / "model.safetensors")
    run = subprocess.run([gatito_bin, "verify", "--model", tmp_path], capture_output=True, text=True)
    assert run.returncode != 0 and "differ" in run.stderr


def test_a_tiny_model_learns_from_the_real_stream(tmp_path, tokenizer_path, gatito_bin):
    """The whole pipeline: Rust worlds and experts -> gatito data -> training -> lower loss."""
    torch.manual_seed(0)
    cfg = tiny_config(tokenizer_path)
    with Stream(context=cfg.context, seed=5, batch_size=8, binary=gatito_bin,
                tasks=["pong", "point_mass", "scenes"]) as stream:
        batches = [next(stream) for _ in range(4)]
    model = Gatito(cfg)
    history = train(model, iter(batches * 10), 40, tmp_path, lr=3e-3, warmup=5, quiet=True,
                    task_names=stream.task_names)
    first, last = history[0][1], sum(loss for _, loss in history[-4:]) / 4
    assert last < first * 0.7, f"loss {first:.3f} -> {last:.3f}"


def test_hl_gauss_targets_are_normals_over_the_bins():
    targets = hl_gauss(torch.tensor([500, 0, 1023]), sigma=4.0, size=1024)
    assert torch.allclose(targets.sum(1), torch.ones(3))
    assert targets.argmax(1).tolist() == [500, 0, 1023]
    middle = targets[0]
    assert torch.allclose(middle[490:500], middle[501:511].flip(0)), "symmetric about the target"
    assert middle[504] > middle[510] > middle[520] > 0 and middle[560] < 1e-12, "falling with the distance"
    assert targets[1, 0] > middle[500], "the mass past an edge is folded back into the bins"
    assert hl_gauss(torch.tensor([7]), sigma=0.05, size=16)[0, 7] > 0.999, "a narrow one is one-hot"


def test_spread_targets_reward_a_near_miss_on_continuous_actions_only(tokenizer_path):
    cfg = tiny_config(tokenizer_path)
    batch = fixed_batch(cfg)
    batch.modality[batch.loss_mask] = ACTION
    batch.task[:] = torch.tensor([0, 1, 0, 1])  # task 0's actions are continuous, task 1's discrete
    header = {"text_vocab": cfg.text_vocab, "vocab": cfg.vocab,
              "tasks": [{"name": "reacher", "continuous_actions": True}, {"name": "pong", "continuous_actions": False}]}
    spread = SpreadActions(4.0, header)
    target_bin = (batch.targets[:, 17] - cfg.text_vocab).unsqueeze(1)  # element 17's, a loss position
    bins = torch.arange(1024)

    def peaked_at(offset):
        logits = torch.zeros(4, cfg.context, cfg.vocab)
        peak = (target_bin + offset) % 1024
        logits[:, 16, cfg.text_vocab:] = 10.0 * (bins == peak)  # the prediction of element 17
        return sequence_losses(logits, batch, spread)[0] - sequence_losses(logits, batch)[0]

    near, far = peaked_at(2), peaked_at(300)
    assert (near[[1, 3]] == 0).all() and (far[[1, 3]] == 0).all(), "discrete actions keep one-hot targets"
    assert (near[[0, 2]] < far[[0, 2]]).all(), "a near miss costs less than a far one"


def test_turns_weigh_what_makes_them_carry_their_share_of_each_task_s_actions(tokenizer_path):
    cfg = tiny_config(tokenizer_path)
    batch = fixed_batch(cfg, batch=3)
    batch.modality[batch.loss_mask] = ACTION
    batch.task[:] = torch.tensor([0, 1, 2])
    header = {"tasks": [{"name": "pong", "continuous_actions": False},
                        {"name": "grid", "continuous_actions": False},
                        {"name": "reacher", "continuous_actions": True}]}
    acts = batch.loss_mask[0].nonzero().flatten()
    pong = [3, 3, 5, 5, 3] + [3] * (len(acts) - 5)  # two turns; the first action has no previous one
    batch.targets[0, acts] = cfg.text_vocab + torch.tensor(pong)
    batch.targets[1, acts] = cfg.text_vocab + torch.arange(len(acts)) % 2  # the grid's turn at every step
    weights = TurnWeights(0.5, header).of(batch)
    assert weights[0, acts[:5] - 1].tolist() == [1, 1, 11, 1, 11], "the 2 turns weigh as much as the 22 rest"
    assert (weights[0, acts[5:] - 1] == 1).all() and weights[0, acts - 1].sum() == 2 * 22, "half the weight each"
    assert (weights[1] == 1).all(), "turns that carry their share already weigh no more than the rest"
    assert (weights[2] == 1).all(), "continuous actions are never weighed"
    assert TurnWeights(0.2, header).of(batch)[0, acts[2] - 1] == 2.75, "a smaller share, a smaller weight"

    turns = TurnWeights(0.5, header)
    uniform = torch.zeros(3, cfg.context, cfg.vocab)
    losses, counts = sequence_losses(uniform, batch, turns=turns)
    plain, plain_counts = sequence_losses(uniform, batch)
    assert counts[0] > plain_counts[0] and (counts[1:] == plain_counts[1:]).all(), "turns count for more"
    assert torch.allclose(losses, plain), "a mean of equal losses stays what it was"


def test_hidden_actions_leave_their_targets_and_only_their_place_in_the_input(tokenizer_path):
    cfg = tiny_config(tokenizer_path)
    batch = fixed_batch(cfg, batch=2)
    batch.modality[batch.loss_mask] = ACTION
    assert (hide_actions(batch, 1.0, seed=0) == (batch.modality == ACTION)).all(), "every action, and nothing else"
    assert not hide_actions(batch, 0.0, seed=0).any()
    share = hide_actions(batch, 0.5, seed=0).sum() / (batch.modality == ACTION).sum()
    assert 0.35 < share < 0.65, f"about half: {share:.2f}"
    assert torch.equal(hide_actions(batch, 0.5, seed=1), hide_actions(batch, 0.5, seed=1)), "the seed decides"
    assert not torch.equal(hide_actions(batch, 0.5, seed=1), hide_actions(batch, 0.5, seed=2))

    model = Gatito(cfg).eval()
    hidden = torch.zeros_like(batch.loss_mask)
    first = batch.loss_mask[0].nonzero()[0, 0]
    hidden[0, first] = True
    other = batch.ids.clone()
    other[0, first] = cfg.text_vocab + (batch.ids[0, first] - cfg.text_vocab + 1) % 7
    with torch.no_grad():
        seen = model(*batch.inputs())
        unseen = model(*batch.inputs(), hidden)
        swapped = dataclasses.replace(batch, ids=other)
        unseen_swapped = model(*swapped.inputs(), hidden)
    assert torch.equal(seen[:, :first], unseen[:, :first]), "nothing before it changes"
    assert not torch.allclose(seen[0, first:], unseen[0, first:]), "what follows no longer sees it"
    assert torch.equal(unseen, unseen_swapped), "a hidden action says nothing of which it was"


def test_dagger_rounds_hand_the_models_so_far_to_the_data(tmp_path, tokenizer_path, gatito_bin):
    cfg = tiny_config(tokenizer_path)
    opened = []

    def open_stream(step, students):
        opened.append((step, list(students)))
        return Stream(context=cfg.context, seed=step, batch_size=2, binary=gatito_bin, tasks=["pong"],
                      students=students, student_share=1.0)

    rounds = Dagger(open_stream, tmp_path, tokenizer_path, every=3)
    train(Gatito(cfg), rounds, 7, tmp_path, warmup=1, quiet=True, after_step=rounds.after_step)
    rounds.close()
    first, second = tmp_path / "students" / "0000003", tmp_path / "students" / "0000006"
    assert opened == [(0, []), (3, [first]), (6, [first, second])], "experts first, then every round's students"
    run = subprocess.run([gatito_bin, "verify", "--model", second], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    # A run resumed after a round goes on with the rounds made before its step.
    Dagger(open_stream, tmp_path, tokenizer_path, every=3, start=5).close()
    assert opened[-1] == (5, [first])
    # A run that stopped on a round's step makes that round when it resumes.
    Dagger(open_stream, tmp_path, tokenizer_path, every=3, start=9, model=Gatito(cfg)).close()
    assert opened[-1] == (9, [first, second, tmp_path / "students" / "0000009"])
    # A checkpoint carried elsewhere without its rounds lets the model it holds drive for them.
    elsewhere = tmp_path / "elsewhere"
    Dagger(open_stream, elsewhere, tokenizer_path, every=3, start=5, model=Gatito(cfg)).close()
    assert opened[-1] == (5, [elsewhere / "students" / "0000005"])
    # Without aggregation the latest round drives alone, after a student from outside the run.
    Dagger(open_stream, tmp_path, tokenizer_path, every=3, student=tmp_path / "outside", start=8, aggregate=False).close()
    assert opened[-1] == (8, [second])
    Dagger(open_stream, tmp_path, tokenizer_path, every=3, student=second, start=0, aggregate=False).close()
    assert opened[-1] == (0, [second])


def test_a_run_stopped_by_its_budget_goes_on_exactly(tmp_path, gatito_bin):
    """--hours stops at a checkpoint; the same command then trains on what an unbroken run would
    have: the same data (the stream restarts at every checkpoint from the step's seed, here one
    that is no DAgger round), schedule, optimizer state, and the round after the stop."""
    def run(out, *extra):
        command = [sys.executable, RECIPE / "train.py", "--preset", "tiny", "--tasks", "pong", "--batch", "2",
                   "--steps", "6", "--warmup", "2", "--checkpoint-every", "2", "--dagger-every", "4",
                   "--precision", "f32", "--threads", "1", "--out", out, "--bin", gatito_bin, *extra]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "stopped at step 2 of 6" in run(tmp_path / "legs", "--hours", "1e-9")
    assert torch.load(tmp_path / "legs" / "last.pt")["step"] == 2
    run(tmp_path / "legs")
    assert [p.name for p in (tmp_path / "legs" / "students").iterdir()] == ["0000004"]
    run(tmp_path / "unbroken")
    legs, unbroken = (torch.load(tmp_path / name / "last.pt") for name in ("legs", "unbroken"))
    assert legs["step"] == unbroken["step"] == 6
    assert all(torch.equal(legs["model"][k], unbroken["model"][k]) for k in unbroken["model"]), "the same weights"
    losses = [[row.split(",")[1] for row in (tmp_path / name / "log.csv").read_text().splitlines()[1:]]
              for name in ("legs", "unbroken")]
    assert losses[0] == losses[1] and len(losses[0]) == 6
