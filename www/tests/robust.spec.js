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

test("the backend switch falls back to the CPU when the GPU device is lost", async ({ page }) => {
  const problems = await openPage(page);
  // SwiftShader offers a WebGPU adapter, so WebGPU is chosen first; the CPU still computes.
  await expect(page.locator("input[value=webgpu]")).toBeChecked();
  await expect(page.locator("#backend-reason")).toContainText("WebGPU device ready");
  await expect(page.locator("#backend-reason")).toContainText("runs on the CPU");
  await page.check("input[value=cpu]");
  await expect(page.locator("#backend-reason")).toContainText("CPU chosen");
  await page.check("input[value=webgpu]");
  await expect(page.locator("#backend-reason")).toContainText("WebGPU device ready");

  await page.click("#diagnostics summary");
  await page.click("#lose-device");
  await expect(page.locator("#backend-reason")).toContainText("The WebGPU device was lost (destroyed");
  await expect(page.locator("input[value=cpu]")).toBeChecked();
  await stillPlays(page);
  expect(problems).toEqual([]);
});
