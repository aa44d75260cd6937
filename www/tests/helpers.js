import { expect } from "@playwright/test";
import { mkdirSync } from "node:fs";

export const ARTIFACTS = new URL("../../artifacts/screenshots/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

/// Opens the page, fails on any console error (CSP violations included) or outside request.
export async function openPage(page) {
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith("http://127.0.0.1:")) problems.push(`outside request: ${r.url()}`);
  });
  await page.goto("/");
  await expect(page.locator("body[data-ready=true]")).toBeAttached();
  return problems;
}

/// A PNG drawn by the browser itself: four coloured quadrants on a wide canvas.
export async function quadrantsPng(page, width = 192, height = 128) {
  const bytes = await page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    const colours = ["#ff0000", "#00ff00", "#0000ff", "#ffff00"];
    colours.forEach((c, i) => {
      ctx.fillStyle = c;
      ctx.fillRect((i % 2) * w / 2, Math.floor(i / 2) * h / 2, w / 2, h / 2);
    });
    const blob = await canvas.convertToBlob({ type: "image/png" });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }, [width, height]);
  return Buffer.from(bytes);
}
