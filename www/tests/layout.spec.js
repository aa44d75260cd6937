import { test, expect } from "@playwright/test";
import { ARTIFACTS, openPage, openPanel } from "./helpers.js";

test("the tabs work from the keyboard and the status is announced", async ({ page }) => {
  const problems = await openPage(page);
  await expect(page.locator("#status")).toHaveAttribute("aria-live", "polite");
  await page.locator("#tab-play").focus();
  await page.keyboard.press("ArrowRight");
  await expect(page.locator("#tab-control")).toBeFocused();
  await expect(page.locator("#tab-control")).toHaveAttribute("aria-selected", "true");
  await expect(page.locator("#control")).toBeVisible();
  await page.keyboard.press("End");
  await expect(page.locator("#tokens")).toBeVisible();
  await page.keyboard.press("ArrowRight");
  await expect(page.locator("#play")).toBeVisible();
  // Tab leaves the tab list for the panel's first control.
  await page.keyboard.press("Tab");
  await expect(page.locator("#play-world")).toBeFocused();
  // Every form control has a label.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select")].filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label")).map((e) => e.id));
  expect(unlabelled).toEqual([]);
  expect(problems).toEqual([]);
});

test("every panel fits a phone's width", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const problems = await openPage(page);
  for (const name of ["play", "control", "instruct", "see", "tokens"]) {
    await openPanel(page, name);
    await page.waitForTimeout(300);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, `${name} overflows`).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${ARTIFACTS}/phone-${name}.png`, fullPage: true });
  }
  expect(problems).toEqual([]);
});

test.describe("with the service worker", () => {
  test.use({ serviceWorkers: "allow" });

  test("after the first visit the page works offline", async ({ page, context }) => {
    const problems = await openPage(page, { expected: /never-fetched\.txt/ });
    await page.evaluate(() => navigator.serviceWorker.ready);
    await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
    await context.setOffline(true);
    // Offline for real: a file never fetched before cannot be had.
    expect(await page.evaluate(() => fetch("/never-fetched.txt").then(() => "fetched", () => "failed"))).toBe("failed");
    await page.reload();
    await expect(page.locator("body[data-ready=true]")).toBeAttached({ timeout: 20_000 });
    await expect(page.locator("#status")).toContainText("the tokenizer is verified");
    await openPanel(page, "control");
    await expect(page.locator("#control-step")).not.toHaveText("0");
    await context.setOffline(false);
    expect(problems).toEqual([]);
  });
});
