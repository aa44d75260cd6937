// The page misused on purpose, as people do: walls of text, impatience while the model
// downloads, frantic clicking, two tabs, a dropped network, a cache an older build left.
// Each gets a clear message or a sane result, and nothing the visitor had is lost.
import { test, expect } from "@playwright/test";
import { numberIn, openPage, openPanel } from "./helpers.js";

const MODEL = "**/models/gatito-s/model.safetensors";

/// A live panel's step counter moves.
async function plays(page, name) {
  await openPanel(page, name);
  const step = await numberIn(page, `#${name}-step`);
  await expect.poll(() => numberIn(page, `#${name}-step`), { timeout: 15_000 }).toBeGreaterThan(step);
}

/// The model cache's entries (URL and whether the bytes hash to the sha256 the key names), and
/// the manifest's sha256 of each file.
async function modelCache(page) {
  return page.evaluate(async () => {
    const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
    const cache = await caches.open("gatito-models");
    const entries = [];
    for (const request of await cache.keys()) {
      const bytes = await (await cache.match(request)).arrayBuffer();
      const named = new URL(request.url).searchParams.get("sha256");
      entries.push({ file: new URL(request.url).pathname.split("/").pop(), sha256: named, whole: hex(await crypto.subtle.digest("SHA-256", bytes)) === named });
    }
    const manifest = await (await fetch("models/gatito-s/manifest.json")).json();
    return { entries: entries.sort((a, b) => a.file.localeCompare(b.file)), manifest: manifest.files };
  });
}

/// Every model file is cached once, whole, under the sha256 the manifest names.
async function expectCacheMatchesManifest(page) {
  const { entries, manifest } = await modelCache(page);
  expect(entries.map((e) => e.file)).toEqual(["config.json", "model.safetensors", "tokenizer.json"]);
  for (const entry of entries) expect(entry).toEqual({ file: entry.file, sha256: manifest[entry.file].sha256, whole: true });
}

test("a 100,000-character mission or question gets a short, clear message and changes nothing else", async ({ page }) => {
  const problems = await openPage(page);
  await openPanel(page, "instruct");
  const mission = await page.locator("#instruct-mission").textContent();
  await page.fill("#mission-input", "go to the red ball ".repeat(5300).slice(0, 100_000));
  await page.press("#mission-input", "Enter");
  const error = page.locator("#mission-error");
  await expect(error).toContainText("is not a mission this room understands");
  await expect(error).toContainText("(99999 characters)");
  expect((await error.textContent()).length).toBeLessThan(600);
  await expect(page.locator("#instruct-mission")).toHaveText(mission);

  await openPanel(page, "see");
  await expect(page.locator("#patches li")).toHaveCount(16);
  await page.fill("#question", "what colour is the ball? ".repeat(4000));
  await page.press("#question", "Enter");
  await expect(page.locator("#answer")).toContainText("the text is 100000 characters long; at most 4096 are accepted");
  await expect(page.locator("#answer")).toHaveClass(/error/);
  await expect(page.locator("#answer")).not.toHaveAttribute("aria-busy", "true");
  // The picture stays, and a question of sensible length is answered.
  await expect(page.locator("#patches li")).toHaveCount(16);
  await page.fill("#question", "what colour is the ball?");
  await page.press("#question", "Enter");
  await expect(page.locator("#answer")).not.toHaveClass(/error/);
  await expect(page.locator("#answer")).not.toHaveText(/^(…)?$/);
  await expect(page.locator("#image-error")).toBeHidden();
  expect(problems).toEqual([]);
});

test("a caption asked for while the model downloads says so; the panel works, question kept, once it has loaded", async ({ page }) => {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  await page.route(MODEL, async (route) => {
    await held;
    await route.continue();
  });
  const problems = await openPage(page, { path: "/#see", ready: false });
  await page.click("#caption");
  await expect(page.locator("#answer")).toContainText("The model is still loading");
  await page.click("#sample-scene");
  await expect(page.locator("#image-error")).toContainText("the model is still loading");
  await page.fill("#question", "is there a red circle?");
  release();
  await expect(page.locator("body[data-ready=true]")).toBeAttached({ timeout: 20_000 });
  await expect(page.locator("#patches li")).toHaveCount(16);
  await expect(page.locator("#image-error")).toBeHidden();
  await expect(page.locator("#question")).toHaveValue("is there a red circle?");
  await page.click("#caption");
  await expect(page.locator("#answer")).not.toHaveClass(/error|notice/);
  await expect(page.locator("#answer")).not.toHaveText(/^(…)?$/);
  expect(problems).toEqual([]);
});

test("panels and backends switched rapidly while episodes run: nothing sticks, the last choice wins", async ({ page }) => {
  const problems = await openPage(page);
  const tabs = ["control", "tokens", "play", "see", "instruct"];
  for (let i = 0; i < 15; i++) {
    await page.click(`#tab-${tabs[i % tabs.length]}`);
    await page.click(`input[value=${i % 2 ? "webgpu" : "cpu"}]`);
  }
  // The last click chose the CPU (i = 14): the page says so once it has been answered.
  await expect(page.locator("#backend-reason")).not.toHaveAttribute("aria-busy", "true", { timeout: 30_000 });
  await expect(page.locator("#backend-reason")).toContainText("CPU chosen");
  await expect(page.locator("input[value=cpu]")).toBeChecked();
  await plays(page, "play");
  await expect(page.locator("#play-run")).toHaveText("Pause");
  await expect(page.locator("#play-error")).toBeHidden();
  await plays(page, "control");
  await expect(page.locator("#control-error")).toBeHidden();
  await expect(page.locator("input[value=cpu]")).toBeChecked();

  // Changes asked for together, the slow one (WebGPU's device) first: the last one wins, and the
  // model then decides where it said.
  const seen = await page.evaluate(async () => {
    const { load } = await import("/gatito/index.js");
    const agent = await load({ model: "models/gatito-s/", backend: "cpu" });
    const answers = await Promise.all(["webgpu", "cpu", "webgpu", "cpu"].map((want) => agent.useBackend(want)));
    const episode = await agent.play("pong", { actor: "model" });
    const step = await new Promise((resolve) => episode.on("step", resolve));
    agent.dispose();
    return { last: answers.at(-1).active, decided: step.report.action.backend };
  });
  expect(seen).toEqual({ last: "cpu", decided: "cpu" });
  expect(problems).toEqual([]);
});

test("the model download cut off by the network starts again; nothing half-written is cached", async ({ page, context }) => {
  let requests = 0;
  await page.route(MODEL, async (route) => {
    if (++requests === 1) {
      await context.setOffline(true);
      await route.abort("internetdisconnected");
      await context.setOffline(false);
      return;
    }
    await route.continue();
  });
  const problems = await openPage(page, { expected: /ERR_INTERNET_DISCONNECTED|model\.safetensors/ });
  await expect(page.locator("#status")).toContainText("is verified");
  expect(requests).toBe(2);
  await expectCacheMatchesManifest(page);
  await plays(page, "play");
  expect(problems).toEqual([]);
});

test("a cache an older build left is checked against this build's manifest and replaced", async ({ page }) => {
  const problems = await openPage(page);
  await expectCacheMatchesManifest(page);
  // An older build's weights under their own sha256, and different bytes under the sha256 this build names.
  await page.evaluate(async () => {
    const cache = await caches.open("gatito-models");
    const [current] = (await cache.keys()).filter((r) => r.url.includes("model.safetensors"));
    const older = current.url.replace(/sha256=.*/, `sha256=${"0".repeat(64)}`);
    await cache.put(older, new Response("the weights of an older build"));
    await cache.put(current, new Response("the weights of an older build"));
  });
  await page.reload();
  await expect(page.locator("body[data-ready=true]")).toBeAttached({ timeout: 20_000 });
  await expect(page.locator("#status")).toContainText("is verified");
  await expectCacheMatchesManifest(page);
  await plays(page, "play");
  expect(problems).toEqual([]);
});

test.describe("with the service worker", () => {
  test.use({ serviceWorkers: "allow" });

  test("two tabs at once share the caches; both play, and a reload of one is served from them", async ({ context }) => {
    const tabs = [await context.newPage(), await context.newPage()];
    const problems = await Promise.all(tabs.map((tab) => openPage(tab)));
    for (const tab of tabs) {
      await expect(tab.locator("#status")).toContainText("is verified");
      await plays(tab, "play");
    }
    await expectCacheMatchesManifest(tabs[0]);
    await tabs[1].evaluate(() => navigator.serviceWorker.ready);
    await tabs[1].reload();
    await expect(tabs[1].locator("body[data-ready=true]")).toBeAttached({ timeout: 20_000 });
    await plays(tabs[1], "control");
    await plays(tabs[0], "control");
    await expectCacheMatchesManifest(tabs[1]);
    expect(problems.flat()).toEqual([]);
  });
});
