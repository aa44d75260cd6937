// The model side of the package: a module Web Worker that owns the wasm module, so the page
// never freezes. index.js is its only caller; this is the protocol between them.
//
// Page -> worker: { id, op, args }. Worker -> page: { id, result } or { id, error: { message, code } },
// before those, for streaming calls, { id, partial }; and, unasked, { event, ... }. The codes are
// GatitoError's (errors.js).
//
//   load       { model: absolute URL of the model's folder }  -> { tokens: {ok, vocabularySize | error},
//                                                                 weights: {shipped, ok, parameters?, reason?} }
//   backend    { want: "auto" | "webgpu" | "cpu" } -> { want, active, reason, adapter? }
//   worlds     {}                              -> WorldSpec[] (name, kind, action, description, max_steps)
//   references { world }                       -> { expert: {mean, std}, random: {mean, std}, episodes, seed }
//   start      { episode, world | mission, seed, actor, speed, running } -> { info, frame, tokens }
//   set        { episode, actor?, speed?, running?, held? }  changes an episode's loop -> { running }
//   act        { episode, action }             one step with a person's action -> { done }, and a "step" event
//   push       { episode, x, y }               shove the world's body (x right, y up) -> {}
//   stop       { episode }                     ends an episode (nothing, if it is not playing) -> {}
//   control    { body, actions, seed }         the model acts for another page's own body from now on;
//                                              actions: { discrete: n } or { continuous: d } -> {}
//   decide     { body, observation }           observation { text?, values?, discrete?, image? } -> one
//                                              action: { action, probabilities, backend, fellBack? }
//   forget     { body } / release { body }     a new episode for that body / the body is let go -> {}
//   image      { image }                       -> patch report with the 64x64 `rgb`
//   sentence   { image, question }             -> the sequence of the image and the question
//   sample     { seed }                        -> { png, caption, questions }
//   missions   { count, seed }                 -> [{ text, held_out }] example missions (start takes typed ones)
//   text       { text } / values { values, action }  -> tokens of text or values
//   timestep   { observation }                 -> the tokens of an observation (as decide takes it)
//   caption    { image } / ask { image, question }  -> { text }, after partials { text } as each token comes
//   bench      { backend: "cpu" | "webgpu", steps } -> the benchmark's report (see crate/src/web/bench.rs)
//   stats      {}                              -> { wasmBytes, stepMs }: the wasm memory's size, and each model
//                                              step's time in ms since the last stats call
//   test:crash, test:lose-device               diagnostics: throw in the worker's global scope; destroy the GPU device
//
// An `image` is { bytes } (an encoded file: PNG, JPEG, WebP, GIF) or { rgb } (the 64x64 RGB
// input of an image report, so a picture is decoded once however often it is asked about).
//
// Events: { event: "progress", file, loaded, total }   model files downloading
//         { event: "step", episode, report, rewards, frame, tokens, timing, running }   once per tick per running episode
//         { event: "step-error", episode, message, code }   an episode's loop stopped on an error
//         { event: "backend", ... }    the backend changed on its own (a lost device)
//         { event: "fatal", message }  the wasm module trapped; the page restarts this worker
// Actors: "model" (the trained transformer, decoding from the episode's tokens), "expert",
// "random", and "you" (the person's held or pressed action).
import { GatitoError } from "./errors.js";

const NO_MODEL =
  "This build ships no trained model (models/gatito-s holds no model.safetensors); " +
  "the worlds are played by their scripted experts or at random.";
const REFERENCE_EPISODES = 5;
const REFERENCE_SEED = 1000;
const TICK_MS = 16;
/// Work per tick stays well under a frame, so the worker answers requests between ticks.
const BUDGET_MS = 10;

const state = {
  tokens: null,
  tokensError: "the tokenizer is not loaded yet",
  model: null,
  modelError: "the model is not loaded yet",
  references: new Map(),
};
/// The live worlds by episode id: { session, actor, speed, running, held, due }.
const episodes = new Map();

// --- Loading: the manifest, integrity, the Cache API ---------------------------------------------

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (bytes) => hex(await crypto.subtle.digest("SHA-256", bytes));

async function download(url, name, expected) {
  const response = await fetch(url);
  if (!response.ok) throw new GatitoError("missing", `${name} could not be fetched (HTTP ${response.status})`);
  const total = Number(response.headers.get("content-length")) || expected || 0;
  const reader = response.body.getReader();
  const chunks = [];
  let loaded = 0;
  let reported = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (performance.now() - reported > 50) {
      reported = performance.now();
      self.postMessage({ event: "progress", file: name, loaded, total });
    }
  }
  self.postMessage({ event: "progress", file: name, loaded, total: loaded });
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/// How often a download cut off by the network is started again, and the wait before the first
/// restart (doubled each time; coming back online ends a wait early).
const RESTARTS = 3;
const RESTART_WAIT_MS = 1000;

/// `download`, started again from the beginning when the network drops: a fetch that fails or
/// a body that stops short rejects with a TypeError, an HTTP error with a GatitoError.
async function downloadAgainWhenCut(url, name, expected) {
  for (let restart = 0; ; restart++) {
    try {
      return await download(url, name, expected);
    } catch (error) {
      if (!(error instanceof TypeError) || restart === RESTARTS) throw error;
      await new Promise((resolve) => {
        setTimeout(resolve, RESTART_WAIT_MS * 2 ** restart);
        self.addEventListener("online", resolve, { once: true });
      });
    }
  }
}

/// A model file as the manifest describes it, from the cache or the network, checked
/// against its sha256 before anything uses it. A cached copy that fails the check is dropped,
/// and so are copies an older build left under another sha256.
async function fetchVerified(base, name, entry) {
  const url = new URL(name, base);
  const key = `${url.href}?sha256=${entry.sha256}`;
  const cache = self.caches ? await caches.open("gatito-models") : null;
  const cached = await cache?.match(key);
  if (cached) {
    const bytes = new Uint8Array(await cached.arrayBuffer());
    if ((await sha256(bytes)) === entry.sha256) return bytes;
    await cache.delete(key);
  }
  for (const stale of (await cache?.keys()) ?? []) {
    if (stale.url.startsWith(`${url.href}?sha256=`) && stale.url !== key) await cache.delete(stale);
  }
  const bytes = await downloadAgainWhenCut(url, name, entry.bytes);
  const actual = await sha256(bytes);
  if (actual !== entry.sha256) {
    throw new GatitoError(
      "corrupt",
      `${name} failed its integrity check (sha256 ${actual.slice(0, 12)}…, the manifest says ${entry.sha256.slice(0, 12)}…); ` +
        "the download is corrupt or the build is stale",
    );
  }
  await cache?.put(key, new Response(bytes));
  return bytes;
}

/// A module whose one function uses f32x4.relaxed_madd: it validates where the browser has
/// relaxed SIMD.
const F32X4_ZERO = [0x43, 0, 0, 0, 0, 0xfd, 0x13];
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
  10, 28, 1, 26, 0, ...F32X4_ZERO, ...F32X4_ZERO, ...F32X4_ZERO, 0xfd, 0x85, 0x02, 0x0b,
]);

/// The wasm module's bindings, once `load` has imported them: the build with relaxed SIMD (its
/// matrix products use fused multiply-adds) where the browser validates it, the plain SIMD
/// build elsewhere. Each build has bindings of its own.
let wasm = null;
/// Its linear memory, which grows and never shrinks: a soak watches it for leaks.
let memory = null;
/// Each model step's time in ms since the last `stats` call (the most recent STEP_TIMES of them).
const stepTimes = [];
const STEP_TIMES = 100_000;

async function load({ model }) {
  wasm = await import(WebAssembly.validate(RELAXED_SIMD_PROBE) ? "./wasm/relaxed/gatito.js" : "./wasm/gatito.js");
  memory = (await wasm.default()).memory;
  const base = new URL(model, self.location.href);
  let manifest = null;
  let problem = null;
  try {
    const response = await fetch(new URL("manifest.json", base));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    manifest = await response.json();
  } catch (error) {
    problem = `${new URL("manifest.json", base)} could not be read (${error.message}); build.sh writes it beside the model files`;
  }
  const files = manifest?.files ?? {};
  let tokenizer = null;
  try {
    if (problem) throw new GatitoError("missing", problem);
    if (!files["tokenizer.json"]) throw new GatitoError("missing", "the manifest lists no tokenizer.json");
    tokenizer = await fetchVerified(base, "tokenizer.json", files["tokenizer.json"]);
    state.tokens?.free();
    state.tokens = new wasm.Tokens(tokenizer);
    state.tokensError = null;
  } catch (error) {
    state.tokens = null;
    state.tokensError = `the tokenizer is unavailable: ${error.message}`;
  }
  const shipped = Boolean(files["model.safetensors"] && files["config.json"]);
  await loadModel(base, files, shipped, tokenizer);
  return {
    tokens: state.tokens ? { ok: true, vocabularySize: state.tokens.vocabularySize } : { ok: false, error: state.tokensError },
    weights: state.model
      ? { shipped, ok: true, parameters: state.model.info().parameters }
      : { shipped, ok: false, reason: state.modelError },
  };
}

/// The weights, checked like every file, then parsed; any failure leaves the page running without them.
async function loadModel(base, files, shipped, tokenizer) {
  state.model?.free();
  state.model = null;
  if (!shipped) {
    state.modelError = NO_MODEL;
    return;
  }
  try {
    if (!tokenizer) throw new GatitoError("no_model", state.tokensError);
    const config = await fetchVerified(base, "config.json", files["config.json"]);
    const weights = await fetchVerified(base, "model.safetensors", files["model.safetensors"]);
    state.model = new wasm.Model(config, weights, tokenizer);
    state.modelError = null;
  } catch (error) {
    state.modelError = `the model could not be loaded: ${error.message}`;
  }
}

function model() {
  if (!state.model) throw new GatitoError("no_model", state.modelError);
  return state.model;
}

function tokens() {
  if (!state.tokens) throw new GatitoError("no_tokens", state.tokensError);
  return state.tokens;
}

// --- The backend ---------------------------------------------------------------------------------

/// Whether an adapter computes on the CPU itself (SwiftShader, lavapipe): there the WGSL
/// engine is much slower than the CPU path, so "auto" keeps the CPU.
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|basic render/i;

/// `want` is "auto" (WebGPU where a hardware adapter exists, else the CPU), "webgpu" or "cpu".
async function backend({ want }) {
  const m = state.model;
  if (!m) return { want, active: "cpu", reason: `The model is not loaded, so nothing computes yet (${state.modelError}).` };
  if (want === "cpu") {
    m.useCpu();
    return { want, active: "cpu", reason: "CPU chosen: the model runs in WebAssembly (candle, SIMD128)." };
  }
  const fallback = (why) => ({ want, active: "cpu", reason: `WebGPU is unavailable: ${why}. Fell back to the CPU.` });
  if (!self.navigator.gpu) return fallback("this browser has no navigator.gpu");
  // The browser describes its adapter better than the engine can see it from inside wasm.
  const offered = await navigator.gpu.requestAdapter().catch(() => null);
  if (!offered) return fallback("no WebGPU adapter was offered");
  const info = offered.info ?? {};
  const adapter = [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "an unnamed adapter";
  if (want === "auto" && (info.isFallbackAdapter || SOFTWARE_ADAPTER.test(adapter))) {
    m.useCpu();
    return {
      want,
      active: "cpu",
      reason: `The only WebGPU adapter is ${adapter}, which computes on the CPU and runs the model slower than the CPU path; the CPU runs it. Choose WebGPU to use it anyway.`,
    };
  }
  try {
    await m.useWebGpu();
  } catch (error) {
    return fallback(error.message);
  }
  return { want, active: "webgpu", adapter, reason: `The model runs on WebGPU (${adapter}), with the CPU as fallback.` };
}

/// The GPU failed under a decision: the agent carried on on the CPU; every later decision
/// starts there too, and the page is told why.
function fellBack(why) {
  state.model?.useCpu();
  self.postMessage({ event: "backend", want: "webgpu", active: "cpu", reason: `WebGPU failed (${why}). Fell back to the CPU; the episode goes on.` });
}

// --- Live worlds -----------------------------------------------------------------------------------

function episode(id) {
  const p = episodes.get(id);
  if (!p) throw new GatitoError("bad_input", `episode ${id} is not playing (it was stopped, or the worker restarted)`);
  return p;
}

function checkActor(actor) {
  if (actor === "model") model();
  else if (!["expert", "random", "you"].includes(actor)) throw new GatitoError("bad_input", `unknown actor ${actor}`);
}

/// The step argument for the episode's actor (`held` is what a person's keys choose, the no-op
/// when none is held); `null` while a person has not chosen yet, which waits for them.
function actorArgument(p) {
  if (p.actor !== "you") return { actor: p.actor };
  return p.held ? { actor: "chosen", action: p.held } : null;
}

function snapshot(p) {
  const frame = p.session.frame();
  let sequence = null;
  let tokenMs = 0;
  if (state.tokens) {
    const start = performance.now();
    sequence = p.session.tokens(state.tokens);
    tokenMs = performance.now() - start;
  }
  return { frame, sequence, tokenMs };
}

function publish(id, p, report, rewards, stepMs) {
  const { frame, sequence, tokenMs } = snapshot(p);
  const timing = {
    stepMs: stepMs / Math.max(rewards.length, 1),
    tokenMs,
    elements: sequence?.elements.length ?? 0,
    model: p.actor === "model",
  };
  const transfer = [frame.rgba.buffer, ...(sequence?.rgb ? [sequence.rgb.buffer] : [])];
  self.postMessage({ event: "step", episode: id, report, rewards, frame, tokens: sequence, timing, running: p.running }, transfer);
}

/// One step of the episode's actor; the model's decision may wait on the GPU.
async function stepOnce(p, actor) {
  if (p.actor !== "model") return p.session.step(actor);
  const decided = await p.session.decide(model());
  if (decided.fell_back) fellBack(decided.fell_back);
  return p.session.applyDecision();
}

async function advance(id, p, until) {
  const rewards = [];
  let report = null;
  let stepMs = 0;
  if (p.retired) return;
  p.busy = true;
  try {
    while (!p.retired && !p.session.done && (p.speed === Infinity || p.due >= 1) && performance.now() < until) {
      const actor = actorArgument(p);
      if (!actor) break;
      const start = performance.now();
      report = await stepOnce(p, actor);
      const ms = performance.now() - start;
      stepMs += ms;
      if (p.actor === "model" && stepTimes.push(ms) > STEP_TIMES) stepTimes.shift();
      rewards.push(report.reward);
      p.due -= 1;
    }
  } finally {
    p.busy = false;
  }
  // An episode stopped while it stepped is let go only now that nothing uses it.
  if (p.retired) return p.session.free();
  if (p.session.done) p.running = false;
  if (report) publish(id, p, report, rewards, stepMs);
}

let ticking = false;
let lastTick = 0;

function schedule() {
  if (ticking) return;
  ticking = true;
  lastTick = performance.now();
  setTimeout(tick, 0);
}

async function tick() {
  const now = performance.now();
  const seconds = (now - lastTick) / 1000;
  lastTick = now;
  const running = [...episodes].filter(([, p]) => p.running);
  for (const [id, p] of running) {
    // A stalled tick does not turn into a burst: at most a quarter second is made up.
    if (p.speed !== Infinity) p.due = Math.min(p.due + p.speed * seconds, p.speed / 4 + 1);
    try {
      await advance(id, p, now + BUDGET_MS / running.length);
    } catch (error) {
      p.running = false;
      report(error);
      self.postMessage({ event: "step-error", episode: id, message: error.message, code: error?.code ?? "bad_input" });
    }
  }
  if (running.length) setTimeout(tick, TICK_MS);
  else ticking = false;
}

function start({ episode: id, world, mission, seed = 0, actor = "expert", speed = 10, running = true }) {
  checkActor(actor);
  const session = mission !== undefined ? wasm.Session.withMission(mission, seed) : new wasm.Session(world, seed);
  const p = { session, actor, speed, running, held: null, due: 0 };
  episodes.set(id, p);
  if (running) schedule();
  const { frame, sequence } = snapshot(p);
  return { info: session.info(), frame, tokens: sequence };
}

/// Frees an episode's session, or, while a step is in flight, has the step free it; a tick
/// that still holds the episode skips it.
function retire(p) {
  if (!p) return;
  p.retired = true;
  if (!p.busy) p.session.free();
}

function set({ episode: id, actor, speed, running, held }) {
  if (actor !== undefined) checkActor(actor);
  const p = episode(id);
  if (actor !== undefined) p.actor = actor;
  if (speed !== undefined) {
    p.speed = speed;
    p.due = 0;
  }
  if (held !== undefined) p.held = held;
  if (running !== undefined) p.running = running && !p.session.done;
  if (p.running) schedule();
  return { running: p.running };
}

function stop({ episode: id }) {
  retire(episodes.get(id));
  episodes.delete(id);
}

function act({ episode: id, action }) {
  const p = episode(id);
  if (p.session.done) return { done: true };
  const start = performance.now();
  const report = p.session.step({ actor: "chosen", action });
  publish(id, p, report, [report.reward], performance.now() - start);
  return { done: report.done };
}

function references({ world }) {
  if (!state.references.has(world)) state.references.set(world, playReferences(world));
  return state.references.get(world);
}

/// The expert's and random play's episodes (as `gatito scores` plays them), one at a time so
/// that the live worlds keep ticking in between.
async function playReferences(world) {
  const scores = { expert: [], random: [] };
  for (let i = 0; i < REFERENCE_EPISODES; i++) {
    const episode = wasm.referenceScores(world, 1, REFERENCE_SEED + i);
    scores.expert.push(...episode.expert.scores);
    scores.random.push(...episode.random.scores);
    await new Promise((resolve) => setTimeout(resolve));
  }
  return { episodes: REFERENCE_EPISODES, seed: REFERENCE_SEED, expert: wasm.summarize(scores.expert), random: wasm.summarize(scores.random) };
}

// --- Other pages' bodies --------------------------------------------------------------------------

/// The model acting for another page's own game or body, by id: a Controller each, which keeps
/// the episode's observations so far.
const bodies = new Map();

function body(id) {
  const controller = bodies.get(id);
  if (!controller) throw new GatitoError("bad_input", `body ${id} is not controlled (it was released, or the worker restarted)`);
  return controller;
}

function control({ body: id, actions, seed = 0 }) {
  model();
  bodies.set(id, new wasm.Controller(actions, seed));
  return {};
}

async function decide({ body: id, observation: { image, ...values } = {} }) {
  const acted = await body(id).act(model(), values, image === undefined ? undefined : pixels(image));
  if (acted.fellBack) fellBack(acted.fellBack);
  return acted;
}

function release({ body: id }) {
  bodies.get(id)?.free();
  bodies.delete(id);
}

// --- Images and questions ------------------------------------------------------------------------

/// The 64x64 RGB input of an image (see the protocol above for its two forms).
function pixels({ bytes, rgb } = {}) {
  if (rgb) return new Uint8Array(rgb);
  if (bytes) return tokens().image(new Uint8Array(bytes)).rgb;
  throw new GatitoError("bad_input", "no image was given");
}

function image({ image: { bytes } = {} }) {
  if (!bytes) throw new GatitoError("bad_input", "no image file was given");
  return tokens().image(new Uint8Array(bytes));
}

/// Captions an image, or answers `question` about it, streaming the text as it grows.
async function describe(id, image, question) {
  if (question !== null && !question?.trim()) throw new GatitoError("bad_input", "type a question first");
  const text = await model().describe(pixels(image), question, (soFar) => self.postMessage({ id, partial: { text: soFar } }));
  return { text };
}

// --- The protocol ----------------------------------------------------------------------------------

const ops = {
  load,
  backend,
  worlds: () => wasm.worlds(),
  references,
  start,
  set,
  act,
  push: ({ episode: id, x, y }) => episode(id).session.push(x, y),
  stop,
  control,
  decide,
  forget: ({ body: id }) => body(id).reset(),
  release,
  image,
  sentence: ({ image, question = "" }) => tokens().sentence(pixels(image), question),
  sample: ({ seed }) => wasm.sampleScene(seed),
  missions: ({ count, seed }) => wasm.exampleMissions(count, seed),
  text: ({ text }) => tokens().text(text),
  values: ({ values, action }) => tokens().continuous(Float32Array.from(values), action),
  timestep: ({ observation: { image, ...parts } = {} }) => tokens().timestep(parts, image === undefined ? undefined : pixels(image)),
  caption: ({ image }, id) => describe(id, image, null),
  ask: ({ image, question = "" }, id) => describe(id, image, question),
  bench: ({ backend = "cpu", steps = 200 }) => model().bench(backend, steps),
  stats: () => ({ wasmBytes: memory?.buffer.byteLength ?? 0, stepMs: stepTimes.splice(0) }),
  "test:crash": () => {
    setTimeout(() => {
      throw new Error("a crash asked for from the diagnostics");
    });
  },
  "test:lose-device": () => {
    try {
      model().loseDevice();
    } catch (error) {
      throw new GatitoError("bad_input", `${error.message}; choose WebGPU first`);
    }
  },
};

/// A trap inside wasm leaves the module in an unknown state: say so, and let the page restart us.
function report(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    self.postMessage({ event: "fatal", message: `the wasm module trapped (${error.message})` });
  }
}

/// The pixel buffers of a result move to the page instead of being copied.
function transfers(result) {
  return [result?.rgb, result?.png, result?.frame?.rgba, result?.tokens?.rgb].filter(Boolean).map((a) => a.buffer);
}

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    if (!Object.hasOwn(ops, op)) throw new GatitoError("bad_input", `unknown operation ${op}`);
    const result = await ops[op](args ?? {}, id);
    self.postMessage({ id, result }, transfers(result));
  } catch (error) {
    report(error);
    const code = error instanceof WebAssembly.RuntimeError ? "crashed" : (error?.code ?? "bad_input");
    self.postMessage({ id, error: { message: error?.message ?? String(error), code } });
  }
};
