import { test, expect } from "@playwright/test";
import { ARTIFACTS, openPage, openPanel, quadrantsPng } from "./helpers.js";

test("the server sends a strict Content-Security-Policy", async ({ request }) => {
  const response = await request.get("/");
  const csp = response.headers()["content-security-policy"];
  expect(csp).toContain("'wasm-unsafe-eval'");
  expect(csp).toContain("worker-src 'self'");
  expect(csp).not.toContain("'unsafe-eval'");
  expect(csp).not.toContain("'unsafe-inline'");
  const wasm = await request.get("/gatito/wasm/gatito_bg.wasm");
  expect(wasm.headers()["content-type"]).toBe("application/wasm");
});

test("the model manifest lists the tokenizer with its size and sha256", async ({ request }) => {
  const manifest = await (await request.get("/models/gatito-s/manifest.json")).json();
  const tokenizer = manifest.files["tokenizer.json"];
  const bytes = await (await request.get("/models/gatito-s/tokenizer.json")).body();
  expect(tokenizer.bytes).toBe(bytes.length);
  const { createHash } = await import("node:crypto");
  expect(tokenizer.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
});

test("an uploaded image shows its 16 patches and their position tokens", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "see");
  await expect(page.locator("#patches li")).toHaveCount(16); // the sample scene shown on arrival
  await page.setInputFiles("#image-file", { name: "quadrants.png", mimeType: "image/png", buffer: await quadrantsPng(page) });

  const patches = page.locator("#patches li");
  await expect(page.locator("#image-caption")).toHaveText("192×128 → 64×64 → 16 patches of 16×16");
  // Raster order: patch 5 is row 1, column 1; evaluation bins are the interval means.
  await expect(patches.nth(5)).toContainText("#5 row bin 48 [32,64)");
  await expect(patches.nth(5)).toContainText("col bin 48 [32,64)");
  await expect(patches.nth(15)).toContainText("row bin 112 [96,128)");
  // The wide image was centre-cropped: the top-left patch is red (255 -> 0.25).
  await expect(patches.nth(0)).toContainText("0.250 0.250 0.250 0.250");
  // The sentence the model reads: sixteen patches, then the question's text.
  await expect(page.locator("#see-strip .chip.patch")).toHaveCount(16);

  await page.screenshot({ path: `${ARTIFACTS}/see-image.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("text and values are tokenized on the page", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "tokens");
  await expect(page.locator("#text-tokens li").first()).toBeVisible();
  await page.fill("#values-input", "0 1 -1");
  await page.click("#values-form button");
  const bins = page.locator("#values-table tbody td:nth-child(2)");
  await expect(bins).toHaveText(["512", "744", "279"]);
  await page.check("#values-action");
  await page.fill("#values-input", "0.5");
  await page.click("#values-form button");
  await expect(bins).toHaveText(["768"]);
  expect(problems).toEqual([]);
});

test("the Tokens tab lays out the live step of the last panel", async ({ page }) => {
  const problems = await openPage(page, { path: "/#instruct" });
  await expect(page.locator("#instruct-strip .chip.patch")).toHaveCount(16);
  await openPanel(page, "tokens");
  await expect(page.locator("#tokens-source")).toContainText("From Instruct");
  const strip = page.locator("#tokens-strip");
  await expect(strip.locator(".chip.patch")).toHaveCount(16);
  await expect(strip.locator(".chip.separator")).toHaveCount(1);
  await expect(strip.locator(".chip.action")).toHaveCount(1);
  expect(await strip.locator(".chip.text").count()).toBeGreaterThan(3);
  await expect(page.locator("#tokens-figure")).toBeVisible();
  await expect(page.locator("#tokens-stats")).toContainText("step latency");
  await expect(page.locator("#tokens-stats")).toContainText("tokens/s");
  await expect(page.locator("#tokens-stats")).toContainText("backend");
  await page.screenshot({ path: `${ARTIFACTS}/tokens-grid.png`, fullPage: true });
  expect(problems).toEqual([]);
});
