"""Writes the model card's YAML front matter, as the Hugging Face Hub reads it, from `gatito eval --json`.

Usage:
  ./target/release/gatito eval --episodes 10 --samples 200 --json > models/gatito-s/eval.json
  python3 models/recipe/card.py models/gatito-s/eval.json models/gatito-s/MODEL_CARD.md

The front matter's `model-index` carries every figure of the evaluation (expert-normalized scores,
grid success, exact-match accuracy), so the card's numbers are the command's and never drift: a test
regenerates it from the committed eval.json. Everything after the front matter is left as it is. On
the Hub the card goes up as the repository's README.md.
"""

import argparse
import json
from pathlib import Path

import yaml

DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}


def world_results(world, episodes):
    """The model-index entries of one world: its expert-normalized score, prompted or not, and the
    grid's success rate."""
    task = {"type": "reinforcement-learning", "name": f"{world['kind']}: {world['world']}"}
    dataset = {"type": world["world"], "name": f"{world['world']}, {episodes} held-out episodes"}
    metrics = [
        {"type": "expert_normalized_score", "name": "expert-normalized score", "value": round(world["normalized"], 4)},
        {"type": "expert_normalized_score_prompted", "name": "expert-normalized score after a demonstration",
         "value": round(world["normalized_prompted"], 4)},
        {"type": "mean_reward", "name": "mean episode score", "value": round(world["model"]["mean"], 4)},
    ]
    if world.get("success") is not None:
        metrics.append({"type": "success_rate", "name": "missions completed", "value": round(world["success"], 4)})
    return {"task": task, "dataset": dataset, "metrics": metrics}


def text_result(report):
    """The model-index entry of one text task: exact-match accuracy on held-out samples."""
    source = next((hub for name, hub in DATASETS.items() if report["task"].startswith(name)), None)
    dataset = {"type": source or "synthetic-scenes", "name": f"{report['task']}, {report['samples']} held out"}
    metric = {"type": "exact_match", "name": "exact match", "value": round(report["accuracy"], 4)}
    return {"task": {"type": "image-to-text", "name": report["task"]}, "dataset": dataset, "metrics": [metric]}


def front_matter(report, name="gatito-s"):
    """The card's metadata from an `eval --json` report."""
    results = [world_results(w, report["episodes"]) for w in report["worlds"]]
    results += [text_result(t) for t in report["text"]]
    return {
        "license": "other",
        "license_name": "mit-or-apache-2.0",
        "library_name": "candle",
        "pipeline_tag": "reinforcement-learning",
        "tags": ["gato", "generalist-agent", "imitation-learning", "dagger", "multimodal", "webgpu", "wasm",
                 "atari", "continuous-control", "babyai", "image-to-text"],
        "datasets": sorted(DATASETS.values()),
        "model-index": [{"name": name, "results": results}],
    }


def with_front_matter(card, metadata):
    """`card` (Markdown) with its front matter replaced by, or opened with, `metadata`."""
    if card.startswith("---\n"):
        card = card[card.index("\n---\n", 4) + len("\n---\n"):]
    return "---\n" + yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=120) + "---\n" + card


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eval", type=Path, help="the output of `gatito eval --json`")
    parser.add_argument("card", type=Path, help="the model card to rewrite (MODEL_CARD.md)")
    args = parser.parse_args()
    metadata = front_matter(json.loads(args.eval.read_text()), name=args.card.parent.name)
    args.card.write_text(with_front_matter(args.card.read_text(), metadata))


if __name__ == "__main__":
    main()
