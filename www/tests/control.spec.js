import { test, expect } from "@playwright/test";
import { ARTIFACTS, numberIn, openPage, openPanel, setSpeed } from "./helpers.js";

test("dragging across the pendulum pushes it off balance and the action tokens decode", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "control");
  await page.selectOption("#control-world", "pendulum_swingup");
  await page.selectOption("#control-actor", "expert");
  await setSpeed(page, "control-speed", 6); // 100 steps/s
  // The expert swings the pendulum up and holds it: a reward near 1 every step.
  await expect.poll(() => numberIn(page, "#control-reward"), { timeout: 15_000 }).toBeGreaterThan(0.98);
  await page.click("#control-run");
  await expect(page.locator("#control-run")).toHaveText("Run");

  await page.locator("#control-canvas").scrollIntoViewIfNeeded();
  const box = await page.locator("#control-canvas").boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.85, box.y + box.height * 0.3, { steps: 6 });
  await page.screenshot({ path: `${ARTIFACTS}/control-drag.png` });
  await page.mouse.up();
  await expect(page.locator("#control-pushed")).toContainText("Pushed →");
  // The push resumes the episode; the pendulum leaves the upright cone, and the reward falls.
  await expect(page.locator("#control-run")).toHaveText("Pause");
  await expect.poll(() => numberIn(page, "#control-reward"), { timeout: 5_000 }).toBeLessThan(0.9);

  // Each motor value, its bin and the bin's centre: actions are binned without mu-law.
  const cells = await page.locator("#control-actions tbody tr").first().locator("td").allTextContents();
  const [, value, bin, id, decoded] = cells.map(Number);
  expect(bin).toBe(Math.min(Math.floor((value + 1) * 512), 1023));
  expect(Math.abs(decoded - value)).toBeLessThanOrEqual(1 / 1024 + 1e-4);
  // Value ids follow the text ids: the status names the whole vocabulary, text then 1024 bins.
  const vocabulary = Number((await page.locator("#status").textContent()).match(/(\d+) token ids/)[1]);
  expect(id).toBe(vocabulary - 1024 + bin);
  await page.screenshot({ path: `${ARTIFACTS}/control-pushed.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("the push buttons work from the keyboard", async ({ page }) => {
  const problems = await openPage(page, { path: "/#control" });
  await expect.poll(() => numberIn(page, "#control-step")).toBeGreaterThan(0);
  await page.locator("[data-push='-1,0']").focus();
  await page.keyboard.press("Enter");
  await expect(page.locator("#control-pushed")).toContainText("Pushed ←");
  expect(problems).toEqual([]);
});

test("the model drives a control task and shows how sure it was of each action token", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "control");
  await expect(page.locator("#control-actor")).toHaveValue("model");
  await setSpeed(page, "control-speed", 6); // 100 steps/s
  await expect.poll(() => numberIn(page, "#control-step"), { timeout: 10_000 }).toBeGreaterThan(10);
  await expect(page.locator("#control-choice")).toContainText("The model's distribution");
  const cells = await page.locator("#control-actions tbody tr").first().locator("td").allTextContents();
  const p = Number(cells[5]);
  expect(p).toBeGreaterThan(0);
  expect(p).toBeLessThanOrEqual(1);
  expect(problems).toEqual([]);
});
