"""The shipped model as the Hugging Face Hub and its standard readers see it."""

import json

import yaml
from safetensors import safe_open
from tokenizers import Tokenizer

from card import front_matter, with_front_matter
from conftest import ROOT
from model import Config

SHIPPED = ROOT / "models" / "gatito-s"


def card_metadata(card):
    assert card.startswith("---\n"), "the card opens with YAML front matter"
    return yaml.safe_load(card[4:card.index("\n---\n", 4)])


def test_the_card_s_front_matter_is_the_evaluation_s():
    report = json.loads((SHIPPED / "eval.json").read_text())
    metadata = card_metadata((SHIPPED / "MODEL_CARD.md").read_text())
    assert metadata == front_matter(report), "regenerate it: python3 models/recipe/card.py (see its usage)"
    results = metadata["model-index"][0]["results"]
    assert len(results) == len(report["worlds"]) + len(report["text"]), "every world and text task has its entry"
    for key in ("license", "library_name", "tags", "datasets", "pipeline_tag"):
        assert metadata[key], key


def test_the_front_matter_is_replaced_and_the_card_kept():
    report = {"episodes": 2, "text": [{"task": "mnist test digits, as published", "accuracy": 0.5, "samples": 4}],
              "worlds": [{"world": "grid", "kind": "grid", "normalized": 0.25, "normalized_prompted": 0.0,
                          "model": {"mean": 0.3}, "success": 0.5}]}
    body = "# a card\n\nits text\n"
    once = with_front_matter(body, front_matter(report))
    assert once.endswith(body) and card_metadata(once) == front_matter(report)
    report["worlds"][0]["success"] = 1.0
    twice = with_front_matter(once, front_matter(report))
    assert twice.endswith(body) and twice.count("---\n") == 2, "the old front matter is gone"
    grid, mnist = card_metadata(twice)["model-index"][0]["results"]
    assert {"type": "success_rate", "name": "missions completed", "value": 1.0} in grid["metrics"]
    assert mnist["dataset"]["type"] == "ylecun/mnist" and mnist["metrics"][0]["value"] == 0.5


def test_standard_readers_open_the_shipped_files():
    config = Config(**json.loads((SHIPPED / "config.json").read_text()))
    tokenizer = Tokenizer.from_file(str(SHIPPED / "tokenizer.json"))
    assert tokenizer.get_vocab_size() == config.text_vocab
    ids = tokenizer.encode("go to the red ball").ids
    assert ids and tokenizer.decode(ids) == "go to the red ball"
    with safe_open(SHIPPED / "model.safetensors", "np") as weights:
        assert weights.get_tensor("head.weight").shape == (config.vocab, config.d_model)
        assert len(list(weights.keys())) > 4 * config.layers
