"""Prints the benchmark reports that `./build.sh bench` wrote as one Markdown table.

Usage: python3 scripts/bench_table.py artifacts/bench-cpu.json artifacts/bench-vulkan.json artifacts/bench-browser.json
"""

import json
import sys


def rows(path):
    """The rows of one report file: a native report, or the browser's with several results."""
    with open(path) as f:
        report = json.load(f)
    for result in report.get("results", [report]):
        memory = result.get("memory_mb")
        download = report.get("wasm_download_mb")
        yield result, memory, download, report.get("model_download_mb") or result.get("model_download_mb")


def cell(x, digits):
    return "—" if x is None else f"{x:,.{digits}f}"


def main(paths):
    print("| backend | adapter | prefill tok/s | decode tok/s | step p50 / p95 ms | caption ms | memory MB | download MB (wasm + model) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    ready = None
    for path in paths:
        try:
            for r, memory, wasm, model in rows(path):
                if "error" in r:
                    print(f"| {r['backend']} | {r['error']} | | | | | | |")
                    continue
                print(f"| {r['backend']} | {r['adapter']} | {cell(r['prefill_tokens_per_s'], 0)} | "
                      f"{cell(r['decode_tokens_per_s'], 0)} | {cell(r['step_ms_p50'], 2)} / {cell(r['step_ms_p95'], 2)} | "
                      f"{cell(r['caption_ms'], 1)} | {cell(memory, 0)} | "
                      f"{cell(wasm, 1) + ' + ' if wasm else ''}{cell(model, 1)} |")
            with open(path) as f:
                ready = json.load(f).get("ready_ms_warm_cache", ready)
        except (OSError, ValueError) as error:
            print(f"| {path} | could not be read: {error} | | | | | | |")
    if ready is not None:
        print(f"\nWith a warm cache the page was ready to act {ready:.0f} ms after navigation.")


if __name__ == "__main__":
    main(sys.argv[1:])
