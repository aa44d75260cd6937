import { test, expect } from "@playwright/test";
import { writeFileSync } from "node:fs";
import { openPage } from "./helpers.js";

const REPORT = new URL("../../artifacts/bench-browser.json", import.meta.url).pathname;

async function benchReport(page, timeout) {
  await expect(page.locator("body[data-report]")).toBeAttached({ timeout });
  return JSON.parse(await page.locator("body").getAttribute("data-report"));
}

test("the bench page times the model on CPU-wasm", async ({ page }) => {
  const problems = await openPage(page, { path: "/bench.html?backends=cpu&steps=10&run", ready: false });
  const report = await benchReport(page, 60_000);
  const [cpu] = report.results;
  expect(cpu.backend).toBe("cpu (candle, wasm)");
  for (const key of ["prefill_tokens_per_s", "decode_tokens_per_s", "step_ms_p50", "step_ms_p95", "caption_ms", "memory_mb"]) {
    expect(cpu[key], key).toBeGreaterThan(0);
  }
  expect(cpu.step_ms_p95).toBeGreaterThanOrEqual(cpu.step_ms_p50);
  expect(report.wasm_download_mb).toBeGreaterThan(1);
  expect(report.model_download_mb).toBeGreaterThan(1);
  await expect(page.locator("#results tbody tr")).toHaveCount(1);
  expect(problems).toEqual([]);
});

// `./build.sh bench` runs this one: gatito's CPU-wasm and its peer, ONNX Runtime Web with one
// and two threads, in alternating passes (each in a fresh page), so that the machine's noise
// falls on both sides of a ratio; WebGPU once; and how soon the page is ready to act when its
// files are cached.
test("the full browser bench", async ({ page }) => {
  test.skip(!process.env.GATITO_BENCH, "a benchmark, run by ./build.sh bench");
  test.setTimeout(1_800_000);
  await openPage(page);
  await page.reload();
  await expect(page.locator("body[data-ready=true]")).toBeAttached({ timeout: 20_000 });
  const readyMs = Number(await page.locator("body").getAttribute("data-ready-ms"));
  const steps = process.env.GATITO_BENCH_STEPS ?? 200;
  const engines = ["bench.html?backends=cpu", "bench-ort.html?threads=1", "bench-ort.html?threads=2"];
  const passes = [];
  for (let pass = 0; pass < Number(process.env.GATITO_BENCH_PASSES ?? 5); pass++) {
    const reports = [];
    for (const engine of engines) {
      const problems = await openPage(page, { path: `/${engine}&steps=${steps}&run`, ready: false });
      reports.push(...(await benchReport(page, 300_000)).results);
      expect(problems).toEqual([]);
    }
    passes.push(reports);
  }
  await page.goto(`/bench.html?backends=webgpu&steps=${steps}&run`);
  const webgpu = await benchReport(page, 880_000);
  writeFileSync(REPORT, JSON.stringify({ passes, ...webgpu, ready_ms_warm_cache: readyMs }, null, 2));
});
