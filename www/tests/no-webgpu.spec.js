import { test, expect } from "@playwright/test";
import { numberIn, openPage, openPanel } from "./helpers.js";

// A browser of its own, launched without the flags that give the others a WebGPU adapter.
test.use({
  launchOptions: { executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-features=WebGPU,Vulkan"] },
});

test("without WebGPU the CPU runs everything and the page says why", async ({ page }) => {
  const problems = await openPage(page);
  await expect(page.locator("#backend-reason")).toContainText("WebGPU is unavailable");
  await expect(page.locator("#backend-reason")).toContainText("Fell back to the CPU");
  await expect(page.locator("input[value=cpu]")).toBeChecked();
  await openPanel(page, "control");
  const step = await numberIn(page, "#control-step");
  await expect.poll(() => numberIn(page, "#control-step")).toBeGreaterThan(step);
  expect(problems).toEqual([]);
});
