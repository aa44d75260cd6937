"""Draws a soak's samples (artifacts/soak.json, written by www/tests/soak.spec.js): memory,
the model's step times and the errors, minute by minute, with the verdict in the title.

Usage: python3 scripts/soak_plot.py artifacts/soak.json --out artifacts/soak.png
"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")  # files only: no display here
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.report) as f:
        report = json.load(f)
    samples, verdict = report["samples"], report["verdict"]
    minutes = [s["minute"] for s in samples]
    figure, (memory, latency, errors) = plt.subplots(3, 1, sharex=True, figsize=(8, 8))
    memory.plot(minutes, [s["wasm_mb"] for s in samples], marker="o", label="worker's wasm memory")
    memory.plot(minutes, [s["heap_mb"] for s in samples], marker="o", label="JS heap")
    memory.set_ylabel("MB")
    memory.set_ylim(bottom=0)
    memory.legend()
    latency.plot(minutes, [s["p50_ms"] for s in samples], marker="o", label="model step p50")
    latency.plot(minutes, [s["p95_ms"] for s in samples], marker="o", label="model step p95")
    latency.set_ylabel("ms")
    latency.set_ylim(bottom=0)
    latency.legend()
    errors.step(minutes, [s["errors"] for s in samples], where="post")
    errors.set_ylabel("errors so far")
    errors.set_xlabel("minutes")
    late = verdict["worst_late_p95_ms"]
    latency_said = "not judged (5 minutes or less)" if late is None else f"worst later {late:.2f} ms"
    figure.suptitle(
        f"{report['minutes']}-minute soak: heap {verdict['heap_growth']:+.1%} from minute 5;\nstep p95 "
        f"{verdict['early_p95_ms']:.2f} ms in the first minutes, {latency_said}; "
        f"{verdict['errors']} errors: {'pass' if verdict['pass'] else 'FAIL'}",
        fontsize=9,
    )
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
