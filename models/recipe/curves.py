"""Draws a run's training curves from its log.csv: the loss of each task family, smoothed.

Usage: python3 models/recipe/curves.py runs/s/log.csv --out models/gatito-s/training.png
"""

import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display here
import matplotlib.pyplot as plt  # noqa: E402

FAMILIES = {
    "Atari-like games": ["pong", "breakout", "space_invaders", "freeway", "asterix", "seaquest"],
    "continuous control": ["cartpole_swingup", "pendulum_swingup", "reacher", "point_mass"],
    "grid missions": ["grid"],
    "scene captions and answers": ["scenes"],
    "MNIST and Fashion-MNIST": ["mnist", "fashion_mnist"],
}


def smooth(points, window):
    """Means of `window` consecutive (step, loss) points, so the noise of one batch vanishes."""
    out = []
    for start in range(0, len(points) - window + 1, window):
        chunk = points[start:start + window]
        out.append((sum(s for s, _ in chunk) / window, sum(v for _, v in chunk) / window))
    return out


def read(path):
    """Per column: the (step, value) points where the column has a value."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {}
    for row in rows:
        for name, value in row.items():
            if name != "step" and value not in ("", None):
                columns.setdefault(name, []).append((int(row["step"]), float(value)))
    return columns


def draw(columns, out, window=100):
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    ax.plot(*zip(*smooth(columns["loss"], window)), color="black", linewidth=2, label="all tasks")
    for family, tasks in FAMILIES.items():
        points = sorted(p for t in tasks for p in columns.get(t, []))
        if len(points) >= window:
            ax.plot(*zip(*smooth(points, window)), label=family)
    ax.set_xlabel("step (16 sequences of 256 tokens each)")
    ax.set_ylabel(f"loss on targets, nats (mean of {window})")
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title("gatito-s training")
    fig.tight_layout()
    fig.savefig(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--out", type=Path, default=Path("models/gatito-s/training.png"))
    args = parser.parse_args()
    draw(read(args.log), args.out)
    print(args.out)


if __name__ == "__main__":
    main()
