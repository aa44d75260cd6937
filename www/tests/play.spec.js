import { test, expect } from "@playwright/test";
import { ARTIFACTS, numberIn, openPage, setSpeed } from "./helpers.js";

/// Play offers the Atari-like games; until they are built in, it offers every world.
async function firstWorld(page) {
  const atari = await page.locator("#play-world optgroup[label='Atari-like games'] option").count();
  await expect(page.locator("#play-fallback")).toBeVisible({ visible: atari === 0 });
  return page.locator("#play-world").inputValue();
}

/// The probabilities the distribution bars show.
async function shownProbabilities(page) {
  return (await page.locator("#play-distribution .p").allTextContents()).map(Number);
}

test("the model plays a game live, its score moves, and the reference scores stand beside it", async ({ page }) => {
  const problems = await openPage(page);
  const world = await firstWorld(page);
  await expect(page.locator("#model-notice")).toContainText("distilled from scripted experts");
  // The notice links the model card, served as text.
  const card = await page.request.get(await page.locator("#model-notice a").getAttribute("href"));
  expect(card.headers()["content-type"]).toContain("text/plain");
  expect(await card.text()).toContain("## How good it is");
  await expect(page.locator("#play-actor")).toHaveValue("model");
  await setSpeed(page, "play-speed", 6); // 100 steps/s
  await expect.poll(() => numberIn(page, "#play-step"), { timeout: 10_000 }).toBeGreaterThan(20);
  const before = await numberIn(page, "#play-score");
  await expect.poll(() => numberIn(page, "#play-score"), { timeout: 20_000 }).not.toBe(before);
  await expect(page.locator("#play-references")).toContainText(/Expert -?[\d.]+ ± [\d.]+, random -?[\d.]+ ± [\d.]+ \(mean of 5 episodes/);
  // The model's own distribution over the game's actions: it sums to one, and it is not the
  // one-hot of a scripted choice.
  await expect(page.locator("#play-choice")).toContainText("The model's distribution");
  const model = await shownProbabilities(page);
  expect(Math.abs(model.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(0.02 * model.length);
  expect(model.filter((p) => p > 0 && p < 1).length).toBeGreaterThan(1);
  await page.screenshot({ path: `${ARTIFACTS}/play-${world}.png`, fullPage: true });

  await page.selectOption("#play-actor", "expert");
  await expect(page.locator("#play-choice")).toContainText("One-hot: the scripted expert");
  await page.selectOption("#play-actor", "random");
  await expect(page.locator("#play-choice")).toContainText("Uniform: random play");
  await page.click("#play-run");
  await expect(page.locator("#play-run")).toHaveText("Run");
  // Steps taken just before the pause may still be on their way to the screen: two frames show them.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const paused = await numberIn(page, "#play-step");
  await page.waitForTimeout(300);
  expect(await numberIn(page, "#play-step")).toBe(paused);
  expect(problems).toEqual([]);
});

test("a visitor takes over with the keyboard and hands control back", async ({ page }) => {
  const problems = await openPage(page);
  await firstWorld(page);
  await setSpeed(page, "play-speed", 5); // 50 steps/s
  await page.click("#play-takeover");
  await expect(page.locator("#play-takeover")).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("#play-keys")).toContainText(/[←→↑↓]/);
  await expect(page.locator("#play-canvas")).toBeFocused();
  // The first arrow key the key map lists, and the action it stands for (for continuous worlds
  // the right arrow drives the first motor fully).
  const ARROWS = { "←": "ArrowLeft", "→": "ArrowRight", "↑": "ArrowUp", "↓": "ArrowDown" };
  const entries = await page.locator("#play-keys li").allTextContents();
  const entry = entries.map((t) => t.match(/^([←→↑↓]) (\w+)$/)).find(Boolean);
  const [key, expected] = entry ? [ARROWS[entry[1]], entry[2]] : ["ArrowRight", "Motors: 1.00"];
  const start = await numberIn(page, "#play-step");
  await page.keyboard.down(key);
  await expect(page.locator("#play-choice")).toContainText("you chose");
  await expect.poll(() => numberIn(page, "#play-step")).toBeGreaterThan(start + 5);
  const shown = async () =>
    `${await page.locator("#play-choice").textContent()} ${(await page.locator("#play-distribution .chosen").allTextContents()).join(" ")}`;
  await expect.poll(shown).toContain(expected);
  await page.screenshot({ path: `${ARTIFACTS}/play-keyboard.png`, fullPage: true });
  await page.keyboard.up(key);
  await page.click("#play-takeover");
  await expect(page.locator("#play-takeover")).toHaveText("Take over");
  await expect(page.locator("#play-choice")).toContainText("The model's distribution");
  expect(problems).toEqual([]);
});
