import { test, expect } from "@playwright/test";
import { ARTIFACTS, openPage } from "./helpers.js";

test("a page built on the package alone captions a picture and plays a few steps", async ({ page }) => {
  const problems = await openPage(page, { path: "/examples/embed.html", ready: false });
  // The caption is written before the episode starts, so a moving step counter means it is whole.
  await expect(page.locator("#steps")).toHaveText(/^Step \d+/, { timeout: 20_000 });
  const step = async () => Number(/\d+/.exec(await page.locator("#steps").textContent())[0]);
  await expect.poll(step).toBeGreaterThanOrEqual(5);
  await expect(page.locator("#caption")).toHaveText(/\S/);
  await expect(page.locator("#status")).toHaveText("Playing Pong.");
  // The episode draws its frames on the page's canvas: Pong is not one colour.
  const colours = await page.evaluate(() => {
    const canvas = document.getElementById("world");
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    return new Set(Array.from({ length: pixels.length / 4 }, (_, i) => pixels.slice(4 * i, 4 * i + 3).join())).size;
  });
  expect(colours).toBeGreaterThan(1);
  await page.screenshot({ path: `${ARTIFACTS}/embed.png`, fullPage: true });
  expect(problems).toEqual([]);
});

test("the package's failures are GatitoErrors with codes, never hangs", async ({ page }) => {
  const problems = await openPage(page, { path: "/examples/embed.html", ready: false, expected: /404/ });
  const codes = await page.evaluate(async () => {
    const { load, GatitoError } = await import("/gatito/index.js");
    const code = (promise) => promise.then(() => "resolved", (e) => (e instanceof GatitoError ? e.code : `untyped: ${e}`));
    const picture = new OffscreenCanvas(32, 32);
    picture.getContext("2d").fillRect(0, 0, 16, 16);
    const codes = { noModel: await code(load({})), missingModel: await code(load({ model: "/nowhere/" }).then((a) => a.caption(picture))) };
    const agent = await load({ model: "/models/gatito-s/", backend: "cpu" });
    Object.assign(codes, {
      notAnImage: await code(agent.caption(new Blob(["hello"], { type: "text/plain" }))),
      notAnImageAtAll: await code(agent.caption(42)),
      missingImage: await code(agent.caption("/nowhere.png")),
      hugePrompt: await code(agent.tokens("go to the red ball ".repeat(300))),
      emptyQuestion: await code(agent.ask(picture, "  ")),
      unknownWorld: await code(agent.play("chess")),
      unknownBackend: await code(agent.useBackend("tpu")),
      caption: await code(agent.caption(picture)),
    });
    const pending = agent.caption(picture);
    agent.abort();
    codes.aborted = await code(pending);
    agent.dispose();
    codes.disposed = await code(agent.worlds());
    return codes;
  });
  expect(codes).toEqual({
    noModel: "bad_input",
    missingModel: "no_model",
    notAnImage: "bad_input",
    notAnImageAtAll: "bad_input",
    missingImage: "missing",
    hugePrompt: "bad_input",
    emptyQuestion: "bad_input",
    unknownWorld: "bad_input",
    unknownBackend: "bad_input",
    caption: "resolved",
    aborted: "aborted",
    disposed: "disposed",
  });
  expect(problems).toEqual([]);
});

test("the package takes every kind of image", async ({ page }) => {
  const problems = await openPage(page, { path: "/examples/embed.html", ready: false });
  const kinds = await page.evaluate(async () => {
    const { load } = await import("/gatito/index.js");
    const agent = await load({ model: "/models/gatito-s/", backend: "cpu" });
    const canvas = document.createElement("canvas");
    canvas.getContext("2d").fillRect(0, 0, 100, 50);
    const offscreen = new OffscreenCanvas(40, 40);
    offscreen.getContext("2d").fillRect(0, 0, 20, 20);
    const blob = await offscreen.convertToBlob();
    const img = Object.assign(new Image(), { src: "/icon.svg" });
    await img.decode();
    const images = { canvas, offscreen, blob, img, bitmap: await createImageBitmap(blob), url: "/models/gatito-s/training.png", picture: await agent.image(blob) };
    const kinds = {};
    for (const [kind, image] of Object.entries(images)) kinds[kind] = typeof (await agent.caption(image));
    kinds.stream = (await Array.fromAsync(agent.stream(blob, "what colour is the square?"))).length > 0;
    agent.dispose();
    return kinds;
  });
  expect(kinds).toEqual({ canvas: "string", offscreen: "string", blob: "string", img: "string", bitmap: "string", url: "string", picture: "string", stream: true });
  expect(problems).toEqual([]);
});

test("the package acts for a page's own body, in the action space the page declares", async ({ page }) => {
  const problems = await openPage(page, { path: "/examples/embed.html", ready: false });
  const result = await page.evaluate(async () => {
    const { load, GatitoError } = await import("/gatito/index.js");
    const code = (promise) => promise.then(() => "resolved", (e) => (e instanceof GatitoError ? e.code : `untyped: ${e}`));
    const agent = await load({ model: "/models/gatito-s/", backend: "cpu" });
    const frame = new OffscreenCanvas(64, 64);
    frame.getContext("2d").fillRect(30, 10, 4, 12);
    const paddle = await agent.control({ discrete: 3 });
    const first = await paddle.act({ image: frame });
    const second = await paddle.act({ image: frame });
    await paddle.reset();
    const arm = await agent.act({ values: [0.1, -0.2, 0.3] }, { continuous: 2 });
    const seen = await agent.tokens({ observation: { text: "go to the red ball", image: frame, values: [0.5], discrete: [2] } });
    const read = Object.groupBy(seen.elements, (e) => e.modality);
    await paddle.release();
    const failures = {
      noActions: await code(agent.control({ discrete: 0 })),
      tooManyValues: await code(agent.control({ continuous: 1000 })),
      unknownSpace: await code(agent.control({ buttons: 3 })),
      emptyObservation: await code(agent.act({}, { discrete: 3 })),
      notAnObservation: await code(agent.act(42, { discrete: 3 })),
      notANumber: await code(agent.act({ values: [Number.NaN] }, { discrete: 3 })),
      endlessText: await code(agent.act({ text: "go ".repeat(3000) }, { discrete: 3 })),
      endlessValues: await code(agent.act({ values: new Array(5000).fill(0.5) }, { discrete: 3 })),
      released: await code(paddle.act({ image: frame })),
    };
    agent.dispose();
    return { first, second, arm, read: Object.fromEntries(Object.entries(read).map(([m, es]) => [m, es.length])), failures };
  });
  for (const acted of [result.first, result.second]) {
    expect(acted.action.discrete).toHaveLength(1);
    expect(acted.action.discrete[0]).toBeGreaterThanOrEqual(0);
    expect(acted.action.discrete[0]).toBeLessThan(3);
    expect(acted.probabilities).toHaveLength(3);
    expect(acted.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 3);
    expect(acted.backend).toBe("cpu");
  }
  expect(result.arm.action.continuous).toHaveLength(2);
  for (const value of result.arm.action.continuous) expect(Math.abs(value)).toBeLessThanOrEqual(1);
  expect(result.arm.probabilities).toHaveLength(2);
  expect(result.read).toEqual({ text: expect.any(Number), patch: 16, value: 2, separator: 1 });
  expect(result.read.text).toBeGreaterThan(3);
  expect(result.failures).toEqual({
    noActions: "bad_input",
    tooManyValues: "bad_input",
    unknownSpace: "bad_input",
    emptyObservation: "bad_input",
    notAnObservation: "bad_input",
    notANumber: "bad_input",
    endlessText: "bad_input",
    endlessValues: "bad_input",
    released: "bad_input",
  });
  expect(problems).toEqual([]);
});
