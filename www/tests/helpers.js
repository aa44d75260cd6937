import { expect } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";

export const ARTIFACTS = new URL("../../artifacts/screenshots/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

/// Opens the page, fails on any console error (CSP violations included) or outside request.
/// Messages matching `expected` (a RegExp, tried on the message and its source's URL) are
/// errors a test provokes on purpose.
export async function openPage(page, { path = "/", expected = null, ready = true } = {}) {
  const problems = [];
  page.on("console", (m) => {
    const text = `${m.text()} (${m.location().url})`;
    if (m.type() === "error" && !expected?.test(text)) problems.push(text);
  });
  page.on("pageerror", (e) => !expected?.test(e.message) && problems.push(e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith("http://127.0.0.1:")) problems.push(`outside request: ${r.url()}`);
  });
  await page.goto(path);
  if (ready) await expect(page.locator("body[data-ready=true]")).toBeAttached({ timeout: 20_000 });
  return problems;
}

/// Clicks a panel's tab and waits for the panel to show.
export async function openPanel(page, name) {
  await page.click(`#tab-${name}`);
  await expect(page.locator(`#${name}`)).toBeVisible();
}

/// The number shown in an element (a score, a step).
export async function numberIn(page, selector) {
  return parseFloat(await page.locator(selector).textContent());
}

/// Sets a speed slider to one of its stops (0 = 1 step/s ... 8 = as fast as it goes).
export async function setSpeed(page, id, stop) {
  await page.locator(`#${id}`).fill(String(stop));
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

function pngChunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/// A two-colour PNG of any size, cheap to make however large: 1 bit a pixel, the left half
/// black and the right half white. With `pixels: false` only the header is real, for sizes
/// that must be refused before any pixel is read.
export function halvesPng(width, height, { pixels = true } = {}) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([1, 3, 0, 0, 0], 8); // bit depth 1, palette colour, deflate, no filter, no interlace
  const palette = Buffer.from([0, 0, 0, 255, 255, 255]);
  let data = Buffer.alloc(0);
  if (pixels) {
    const row = Buffer.alloc(1 + Math.ceil(width / 8));
    for (let x = Math.floor(width / 2); x < width; x++) row[1 + (x >> 3)] |= 0x80 >> (x & 7);
    data = deflateSync(Buffer.concat(Array(height).fill(row)), { level: 1 });
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("PLTE", palette),
    pngChunk("IDAT", data),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}
