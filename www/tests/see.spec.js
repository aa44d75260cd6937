import { test, expect } from "@playwright/test";
import { ARTIFACTS, halvesPng, openPage, openPanel } from "./helpers.js";

/// Watches `#answer` and resolves with every text it showed until the reply settled.
async function streamedAnswer(page, click) {
  await page.evaluate(() => {
    const answer = document.getElementById("answer");
    window.shown = [];
    new MutationObserver(() => window.shown.push(answer.textContent)).observe(answer, { childList: true, characterData: true, subtree: true });
  });
  await page.click(click);
  await expect(page.locator("#answer")).not.toHaveAttribute("aria-busy", "true");
  await expect(page.locator("#answer")).not.toHaveText("…");
  return page.evaluate(() => window.shown);
}

test("a sample scene is tokenized, then captioned and questioned, the text streaming in", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "see");
  await page.click("#sample-scene");
  await expect(page.locator("#sample-truth")).toContainText("the model never sees this");
  await expect(page.locator("#patches li")).toHaveCount(16);
  await expect(page.locator("#image-caption")).toHaveText("64×64 → 64×64 → 16 patches of 16×16");

  const shown = await streamedAnswer(page, "#caption");
  const caption = await page.locator("#answer").textContent();
  await expect(page.locator("#answer")).not.toHaveClass(/error|notice/);
  // The caption grew token by token before it settled, in the alphabet of the worlds' texts.
  expect(caption, caption).toMatch(/^[a-z][a-z ,.:?-]*$/);
  expect(shown.filter((t) => t.endsWith("…") && t !== "…").length).toBeGreaterThan(1);
  await page.fill("#question", "how many shapes are there?");
  await streamedAnswer(page, "#ask-form button");
  await expect(page.locator("#answer")).toHaveText(/^[a-z][a-z ,.:?-]*$/);
  // The question joins the sentence as text tokens after the patches.
  await expect(page.locator("#see-strip .chip.text").first()).toContainText("how");
  expect(problems).toEqual([]);
});

test("a digit drawn on the sketch pad is tokenized as dark ink on white", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "see");
  await expect(page.locator("#patches li")).toHaveCount(16);
  await page.locator("#sketch").scrollIntoViewIfNeeded();
  const pad = await page.locator("#sketch").boundingBox();
  // A "7": a bar across the top, then a stroke down to the bottom left.
  const at = (x, y) => [pad.x + x * pad.width, pad.y + y * pad.height];
  await page.mouse.move(...at(0.25, 0.2));
  await page.mouse.down();
  for (const [x, y] of [[0.5, 0.2], [0.75, 0.2], [0.6, 0.5], [0.45, 0.85]]) await page.mouse.move(...at(x, y), { steps: 8 });
  await page.mouse.up();
  await page.click("#sketch-use");
  await expect(page.locator("#image-busy")).toContainText("your drawing");
  await expect(page.locator("#image-caption")).toHaveText("280×280 → 64×64 → 16 patches of 16×16");
  // The sample scene's description went with it.
  await expect(page.locator("#sample-truth")).toBeHidden();
  // Paper stays white (255 -> 0.25) where nothing was drawn; the model input is dark under the bar.
  await expect(page.locator("#patches li").nth(12)).toContainText("0.250 0.250 0.250 0.250");
  const [ink, paper] = await page.evaluate(() => {
    const ctx = document.getElementById("image-input").getContext("2d");
    const shade = (x, y) => ctx.getImageData(x, y, 1, 1).data[0];
    return [shade(100, 51), shade(20, 240)]; // off the patch grid's lines
  });
  expect(ink).toBeLessThan(80);
  expect(paper).toBe(255);
  // The model names what it sees in a few words.
  await streamedAnswer(page, "#caption");
  await expect(page.locator("#answer")).toHaveText(/^[a-z][a-z ,.:?-]*$/);
  await page.screenshot({ path: `${ARTIFACTS}/see-drawing.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("a huge image is decoded in the worker without freezing the page; an oversized one is refused", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "see");
  await expect(page.locator("#patches li")).toHaveCount(16);
  await page.setInputFiles("#image-file", { name: "huge.png", mimeType: "image/png", buffer: halvesPng(8000, 8000) });
  await expect(page.locator("#image-busy")).toContainText("Decoding huge.png");
  // The page answers while the worker decodes: an animation frame comes promptly.
  const frameMs = await page.evaluate(() => new Promise((resolve) => {
    const start = performance.now();
    requestAnimationFrame(() => resolve(performance.now() - start));
  }));
  expect(frameMs).toBeLessThan(500);
  await expect(page.locator("#image-caption")).toHaveText("8000×8000 → 64×64 → 16 patches of 16×16", { timeout: 30_000 });
  await expect(page.locator("#patches li").nth(0)).toContainText("-0.250 -0.250");
  await expect(page.locator("#patches li").nth(3)).toContainText("0.250 0.250");

  await page.setInputFiles("#image-file", { name: "enormous.png", mimeType: "image/png", buffer: halvesPng(20000, 20000, { pixels: false }) });
  await expect(page.locator("#image-error")).toContainText("the largest side we accept is 16384 pixels");
  await expect(page.locator("#image-busy")).toHaveText("");
  expect(problems).toEqual([]);
});

test("a file that is not an image gets a clear message and the page keeps working", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "see");
  await expect(page.locator("#patches li")).toHaveCount(16);
  await page.setInputFiles("#image-file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
  await expect(page.locator("#image-error")).toContainText("not an image we can read");
  await page.click("#sample-scene");
  await expect(page.locator("#image-error")).toBeHidden();
  await expect(page.locator("#image-caption")).toHaveText("64×64 → 64×64 → 16 patches of 16×16");
  expect(problems).toEqual([]);
});
