import { test, expect } from "@playwright/test";
import { ARTIFACTS, openPage, quadrantsPng } from "./helpers.js";

test("the server sends a strict Content-Security-Policy", async ({ request }) => {
  const response = await request.get("/");
  const csp = response.headers()["content-security-policy"];
  expect(csp).toContain("'wasm-unsafe-eval'");
  expect(csp).not.toContain("'unsafe-eval'");
  expect(csp).not.toContain("'unsafe-inline'");
  const wasm = await request.get("/pkg/gatito_bg.wasm");
  expect(wasm.headers()["content-type"]).toBe("application/wasm");
});

test("an uploaded image shows its 16 patches and their position tokens", async ({ page }) => {
  const problems = await openPage(page);
  await page.setInputFiles("#image-file", { name: "quadrants.png", mimeType: "image/png", buffer: await quadrantsPng(page) });

  const patches = page.locator("#patches li");
  await expect(patches).toHaveCount(16);
  await expect(page.locator("#image-caption")).toHaveText("192×128 → 64×64 → 16 patches of 16×16");
  // Raster order: patch 5 is row 1, column 1; evaluation bins are the interval means.
  await expect(patches.nth(5)).toContainText("#5 row bin 48 [32,64)");
  await expect(patches.nth(5)).toContainText("col bin 48 [32,64)");
  await expect(patches.nth(15)).toContainText("row bin 112 [96,128)");

  // The wide image was centre-cropped: the top-left patch is red (255 -> 0.25), green and blue planes are -0.25.
  await expect(patches.nth(0)).toContainText("0.250 0.250 0.250 0.250");

  await page.screenshot({ path: `${ARTIFACTS}/tokens-image.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("text and values are tokenized on the page", async ({ page }) => {
  const problems = await openPage(page);
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

test("a file that is not an image gets a clear message and the page keeps working", async ({ page }) => {
  const problems = await openPage(page);
  await page.setInputFiles("#image-file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await expect(page.locator("#image-error")).toContainText("not an image we can read");
  await page.setInputFiles("#image-file", { name: "ok.png", mimeType: "image/png", buffer: await quadrantsPng(page, 64, 64) });
  await expect(page.locator("#patches li")).toHaveCount(16);
  await expect(page.locator("#image-error")).toBeHidden();
  expect(problems).toEqual([]);
});
