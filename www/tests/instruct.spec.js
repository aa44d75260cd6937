import { test, expect } from "@playwright/test";
import { ARTIFACTS, openPage, openPanel, setSpeed } from "./helpers.js";

test("a typed mission is carried out to success", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "instruct");
  await page.selectOption("#instruct-actor", "expert");
  await setSpeed(page, "instruct-speed", 5); // 50 steps/s
  await page.fill("#mission-input", "  Pick up the GREEN key. ");
  await page.click("#mission-form button");
  await expect(page.locator("#instruct-mission")).toContainText("pick up the green key");
  await expect(page.locator("#instruct-outcome")).toContainText("Mission accomplished", { timeout: 10_000 });
  await expect(page.locator("#instruct-outcome")).toHaveClass(/success/);
  // The step's tokens: the mission as text, the room as 16 patches, the separator, the action.
  const strip = page.locator("#instruct-strip");
  await expect(strip.locator(".chip.text").first()).toContainText("pick");
  await expect(strip.locator(".chip.patch")).toHaveCount(16);
  await expect(strip.locator(".chip.action")).toHaveCount(1);
  await page.screenshot({ path: `${ARTIFACTS}/instruct-success.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("a mission outside the grammar gets a message with examples; held-out missions are marked", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "instruct");
  await page.fill("#mission-input", "fly to the moon");
  await page.click("#mission-form button");
  const error = page.locator("#mission-error");
  await expect(error).toContainText('"fly to the moon" is not a mission this room understands');
  await expect(error).toContainText('"pick up the green key"');
  await expect(error).toContainText("Colours: red, green, blue, purple, yellow, grey");

  const heldOut = page.locator("#mission-examples button", { hasText: "held out" }).first();
  await heldOut.click();
  await expect(error).toBeHidden();
  await expect(page.locator("#instruct-mission")).toContainText("held out: training never pairs");
  expect(problems).toEqual([]);
});
