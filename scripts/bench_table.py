"""Prints the benchmark reports that `./build.sh bench` wrote as Markdown: the machine and its
load, gatito's speed over its peer's (ONNX Runtime), then every engine's figures.

A file holds one report, or a browser's page of them ("results"), or alternating passes
("passes": lists of reports, gatito's first), whose figures are medians over the passes.
Ratios are taken within each pass, then their median: the noise a pass meets falls on both
sides of its ratio.

Usage: python3 scripts/bench_table.py artifacts/bench-native.json artifacts/bench-vulkan.json artifacts/bench-browser.json
"""

import json
import os
import statistics
import subprocess
import sys

FIGURES = ["prefill_tokens_per_s", "decode_tokens_per_s", "step_ms_p50", "step_ms_p95", "caption_ms", "memory_mb"]


def cell(x, digits):
    return "—" if x is None else f"{x:,.{digits}f}"


def median_report(runs):
    """One engine's runs as one report: each figure's median."""
    report = dict(runs[0])
    for key in FIGURES:
        values = [r[key] for r in runs if r.get(key) is not None]
        report[key] = statistics.median(values) if values else None
    return report


def sized(result, report):
    """A result with its downloads: its own (ONNX Runtime's page names its own), else its page's."""
    return dict(result, **{key: result.get(key) or report.get(key) for key in ("wasm_download_mb", "model_download_mb")})


def speedups(gatito, peer):
    """gatito's speed over the peer's in one pass: above 1, gatito is faster."""
    return [peer["step_ms_p50"] / gatito["step_ms_p50"],
            gatito["decode_tokens_per_s"] / peer["decode_tokens_per_s"],
            gatito["prefill_tokens_per_s"] / peer["prefill_tokens_per_s"]]


def machine():
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), "?")
    load = open("/proc/loadavg").read().split()[:3]
    return (f"Machine: {model} (lscpu), {os.cpu_count()} logical cores; load average {' / '.join(load)} "
            "(1 / 5 / 15 min) as the run ended.")


def main(paths):
    rows, ratios, notes = [], [], []
    for path in paths:
        try:
            with open(path) as f:
                report = json.load(f)
        except (OSError, ValueError) as error:
            rows.append({"backend": path, "error": f"could not be read: {error}"})
            continue
        passes = report.get("passes", [])
        if passes:
            notes.append(f"{path}: {len(passes)} alternating passes, medians.")
            engines = [median_report(list(runs)) for runs in zip(*passes)]
            rows += [sized(e, report) for e in engines]
            for i, peer in enumerate(engines[1:], 1):
                per_pass = [speedups(p[0], p[i]) for p in passes]
                ratios.append((engines[0]["backend"], peer, [statistics.median(r) for r in zip(*per_pass)]))
        for result in report.get("results", [report] if "backend" in report else []):
            rows.append(sized(result, report))
        if "ready_ms_warm_cache" in report:
            notes.append(f"With a warm cache the page was ready to act {report['ready_ms_warm_cache']:.0f} ms after navigation.")

    print(machine() + "\n")
    print("gatito's speed over ONNX Runtime's on the same model and workload (× its speed; above 1, gatito is faster):\n")
    print("| gatito | ONNX Runtime | version | agent step (p50) | decode | prefill |")
    print("|---|---|---|---:|---:|---:|")
    for gatito, peer, (step, decode, prefill) in ratios:
        print(f"| {gatito} | {peer['backend']} | {peer['adapter']} | {step:.2f}× | {decode:.2f}× | {prefill:.2f}× |")
    print("\n| backend | adapter | prefill tok/s | decode tok/s | step p50 / p95 ms | caption ms | memory MB | download MB (wasm + model) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "error" in r:
            print(f"| {r['backend']} | {r['error']} | | | | | | |")
            continue
        wasm, model = r.get("wasm_download_mb"), r.get("model_download_mb")
        print(f"| {r['backend']} | {r['adapter']} | {cell(r['prefill_tokens_per_s'], 0)} | "
              f"{cell(r['decode_tokens_per_s'], 0)} | {cell(r['step_ms_p50'], 2)} / {cell(r['step_ms_p95'], 2)} | "
              f"{cell(r['caption_ms'], 1)} | {cell(r.get('memory_mb'), 0)} | "
              f"{cell(wasm, 1) + ' + ' if wasm else ''}{cell(model, 1)} |")
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main(sys.argv[1:])
