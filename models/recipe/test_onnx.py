"""The ONNX export (the speed peer's graph) computes the shipped model's golden logits, as
`gatito verify` checks candle does: in one pass, and element by element through the KV cache."""

import numpy as np
import pytest
from safetensors.numpy import load_file

from bench_onnx import Runner, cut, episode, tokens
from conftest import ROOT
from export_onnx import export

MODEL = ROOT / "models" / "gatito-s"
TOLERANCE = 1e-4  # crate/src/model/golden.rs


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    return Runner(export(MODEL, tmp_path_factory.mktemp("onnx") / "gatito-s.onnx"), MODEL)


@pytest.fixture(scope="module")
def golden():
    g = load_file(MODEL / "golden.safetensors")
    slots = np.flatnonzero(g["is_patch"])
    return tokens(g["ids"], g["local"], slots, g["patches"], g["rows"], g["cols"]), g["logits"]


def test_one_pass_gives_the_golden_logits_of_the_last_element(runner, golden):
    seq, logits = golden
    runner.clear()
    assert np.abs(runner.feed(seq) - logits[-1]).max() <= TOLERANCE


def test_element_by_element_through_the_cache_gives_every_golden_row(runner, golden):
    seq, logits = golden
    runner.clear()
    rows = [runner.feed(cut(seq, i, i + 1)) for i in range(len(logits))]
    assert np.abs(np.stack(rows) - logits).max() <= TOLERANCE


def test_the_sliding_window_drops_the_oldest_elements(runner):
    seq = episode(runner)
    runner.clear()
    runner.feed(seq)
    before = runner.cache[0]
    runner.feed(cut(seq, 0, 18))  # 252 + 18 overflow the window of 256: the 14 oldest drop out
    assert runner.cache[0].shape[2] == runner.config["context"]
    assert np.array_equal(runner.cache[0][:, :, :-18], before[:, :, 14:])
