import { test, expect } from "@playwright/test";
import { ARTIFACTS, numberIn, openPage, openPanel } from "./helpers.js";

/// The control panel still plays: its step counter moves.
async function stillPlays(page) {
  await openPanel(page, "control");
  const step = await numberIn(page, "#control-step");
  await expect.poll(() => numberIn(page, "#control-step"), { timeout: 10_000 }).toBeGreaterThan(step);
}

test("a corrupt tokenizer fails its integrity check; the worlds still run", async ({ page }) => {
  await page.route("**/models/gatito-s/tokenizer.json", (route) => route.fulfill({ status: 200, body: '{"corrupt": true}' }));
  const problems = await openPage(page);
  await expect(page.locator("#status")).toContainText("tokenizer.json failed its integrity check");
  await expect(page.locator("#status")).toContainText("The worlds still run");
  await expect(page.locator("#status")).toHaveClass(/error/);
  await stillPlays(page);
  await openPanel(page, "tokens");
  await expect(page.locator("#tokens-source")).toContainText("The tokenizer is unavailable");
  await page.screenshot({ path: `${ARTIFACTS}/robust-corrupt-model.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("corrupt weights fail their integrity check; the experts play and captions are off", async ({ page }) => {
  await page.route("**/models/gatito-s/model.safetensors", (route) => route.fulfill({ status: 200, body: "not weights" }));
  const problems = await openPage(page);
  await expect(page.locator("#status")).toContainText("model.safetensors failed its integrity check");
  await expect(page.locator("#status")).toHaveClass(/error/);
  await expect(page.locator("#model-notice")).toContainText("played by their scripted experts");
  await expect(page.locator("#play-actor")).toHaveValue("expert");
  await page.selectOption("#play-actor", "model");
  await expect(page.locator("#play-error")).toContainText("the model could not be loaded");
  await expect(page.locator("#play-actor")).toHaveValue("expert");
  await openPanel(page, "see");
  await page.click("#sample-scene");
  await expect(page.locator("#patches li")).toHaveCount(16);
  await page.click("#caption");
  await expect(page.locator("#answer")).toContainText("the model could not be loaded");
  await stillPlays(page);
  await page.screenshot({ path: `${ARTIFACTS}/robust-corrupt-weights.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("a missing manifest is named; the worlds still run", async ({ page }) => {
  await page.route("**/models/gatito-s/manifest.json", (route) => route.fulfill({ status: 404, body: "" }));
  const problems = await openPage(page, { expected: /404/ });
  await expect(page.locator("#status")).toContainText("manifest.json could not be read (HTTP 404)");
  await stillPlays(page);
  expect(problems).toEqual([]);
});

test("a crashed worker is restarted and the page goes on", async ({ page }) => {
  const problems = await openPage(page, { expected: /a crash asked for from the diagnostics/ });
  await page.click("#diagnostics summary");
  await page.click("#crash-worker");
  await expect(page.locator("#status")).toContainText("The worker crashed");
  await expect(page.locator("#status")).toContainText("was restarted");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  await expect(page.locator("#status")).not.toHaveClass(/error/);
  await stillPlays(page);
  expect(problems).toEqual([]);
});

test("the model runs on WebGPU when asked, and a lost device hands the episode to the CPU", async ({ page }) => {
  const problems = await openPage(page);
  // SwiftShader's WebGPU computes on the CPU, slower than the CPU path: auto keeps the CPU and says why.
  await expect(page.locator("input[value=cpu]")).toBeChecked();
  await expect(page.locator("#backend-reason")).toContainText("computes on the CPU");
  await page.check("input[value=webgpu]");
  await expect(page.locator("#backend-reason")).toContainText("The model runs on WebGPU");
  // The model keeps playing, now through the WGSL engine.
  const onGpu = await numberIn(page, "#play-step");
  await expect.poll(() => numberIn(page, "#play-step"), { timeout: 20_000 }).toBeGreaterThan(onGpu);
  await page.check("input[value=cpu]");
  await expect(page.locator("#backend-reason")).toContainText("CPU chosen");
  await page.check("input[value=webgpu]");
  await expect(page.locator("#backend-reason")).toContainText("The model runs on WebGPU");

  await page.click("#diagnostics summary");
  await page.click("#lose-device");
  await expect(page.locator("#backend-reason")).toContainText("the GPU device was lost", { timeout: 20_000 });
  await expect(page.locator("input[value=cpu]")).toBeChecked();
  // The episode goes on from where it was.
  const lost = await numberIn(page, "#play-step");
  expect(lost).toBeGreaterThan(onGpu);
  await expect.poll(() => numberIn(page, "#play-step"), { timeout: 10_000 }).toBeGreaterThan(lost);
  await stillPlays(page);
  expect(problems).toEqual([]);
});
