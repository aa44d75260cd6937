// gatito for any page: load the agent, caption and question images, play its worlds, see
// their tokens. Everything computes in a module Web Worker (worker.js, which documents the
// protocol), so the page never freezes; this module turns that protocol into promises, events
// and episode handles. index.d.ts is the reference for every type.

import { WorkerClient } from "./client.js";
import { GatitoError } from "./errors.js";

export { GatitoError };

const BACKENDS = ["auto", "webgpu", "cpu"];
const DIAGNOSES = ["crash", "lose-device"];

function checkBackend(want) {
  if (!BACKENDS.includes(want)) throw new GatitoError("bad_input", `the backend is one of ${BACKENDS.join(", ")}, not ${want}`);
}

/// Loads the model in a new worker and chooses where it computes. Resolves even when the
/// weights are missing or corrupt (`agent.loaded` says why): the worlds still play with their
/// experts, and what needs the model rejects with code "no_model".
export async function load({ model, backend = "auto", progress = null } = {}) {
  if (typeof model !== "string" && !(model instanceof URL)) {
    throw new GatitoError("bad_input", 'load needs the model\'s folder, as in load({ model: "models/gatito-s/" })');
  }
  checkBackend(backend);
  // The worker lives beside this module, so a relative folder is resolved here, against the page.
  const folder = new URL(String(model).endsWith("/") ? model : `${model}/`, globalThis.location.href);
  const agent = new Agent(folder.href, backend);
  if (progress) agent.on("progress", progress);
  try {
    await agent.reload();
  } catch (error) {
    agent.dispose();
    throw error;
  }
  return agent;
}

/// One small canvas per frame size, reused from frame to frame.
const scratch = new Map();

/// Draws a frame `{width, height, rgba}` onto `canvas`, scaled up without smoothing. Returns
/// the frame at its own size, to draw parts of it elsewhere before the next call.
export function drawFrame(canvas, { width, height, rgba }) {
  const key = `${width}x${height}`;
  if (!scratch.has(key)) scratch.set(key, new OffscreenCanvas(width, height));
  const small = scratch.get(key);
  small.getContext("2d").putImageData(new ImageData(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, width * height * 4), width, height), 0, 0);
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  return small;
}

/// Listeners by event type.
class Listeners {
  #byType = new Map();

  on(type, listener) {
    if (!this.#byType.has(type)) this.#byType.set(type, new Set());
    this.#byType.get(type).add(listener);
    return () => this.#byType.get(type).delete(listener);
  }

  emit(type, value) {
    for (const listener of this.#byType.get(type) ?? []) listener(value);
  }
}

export class Agent {
  #client;
  #model;
  #want;
  #listeners = new Listeners();
  /// Each live episode's handler of its worker events, by id.
  #episodes = new Map();
  #nextEpisode = 0;
  #nextBody = 0;
  /// How many times abort() was called: a call still preparing its image when it is, fails too.
  #aborts = 0;
  #disposed = false;
  /// The last backend change asked for, settled or not, and how many were asked.
  #backendChanges = Promise.resolve();
  #backendsAsked = 0;

  /// Use `load()`, which also loads the model.
  constructor(model, backend) {
    this.#model = model;
    this.#want = backend;
    /// What the last load found: `{ tokens, weights }`.
    this.loaded = null;
    /// Where the model computes, and why: `{ want, active, reason, adapter? }`.
    this.backend = null;
    this.#client = new WorkerClient({ onEvent: (data) => this.#event(data), onRestart: (reason) => this.#restarted(reason) });
  }

  /// Loads the model into the worker and applies the chosen backend (again, after a restart).
  async reload() {
    this.loaded = await this.#call("load", { model: this.#model });
    this.backend = await this.#call("backend", { want: this.#want });
  }

  /// `type` is "progress" ({file, loaded, total}), "backend" (it changed on its own: a lost
  /// device) or "restart" ({reason, error?}: the worker died and was replaced, the model
  /// loaded again; every episode ended). Returns a function that unsubscribes.
  on(type, listener) {
    return this.#listeners.on(type, listener);
  }

  async useBackend(want) {
    checkBackend(want);
    this.#want = want;
    // One change at a time, in the order asked: the worker's answer to a quick change (the
    // CPU) would otherwise overtake a slow one (WebGPU's device) and the slow one would win.
    // A change superseded before its turn is skipped: it resolves with the backend as it is.
    const asked = ++this.#backendsAsked;
    const change = this.#backendChanges.then(() =>
      asked === this.#backendsAsked ? this.#call("backend", { want }).then((backend) => (this.backend = backend)) : this.backend,
    );
    this.#backendChanges = change.catch(() => {});
    return change;
  }

  // --- Images and text ------------------------------------------------------------------------------

  /// The image decoded, cropped, shrunk to 64x64 and cut into patches. Pass the result to
  /// `caption`, `ask` or `tokens` to use the picture without decoding it again.
  async image(image) {
    if (isPicture(image)) return image;
    return this.#withImage(image, (message, transfer) => this.#call("image", { image: message }, { transfer }));
  }

  caption(image, { onText = null } = {}) {
    return this.#describe("caption", image, {}, onText);
  }

  ask(image, question, { onText = null } = {}) {
    if (typeof question !== "string") return Promise.reject(new GatitoError("bad_input", "the question must be text"));
    return this.#describe("ask", image, { question }, onText);
  }

  /// The caption (or with a question, the answer) as an async iterator of the text so far.
  async *stream(image, question = null) {
    let unread = null;
    let settled = false;
    let wake = null;
    const nudge = () => wake?.();
    const onText = (text) => {
      unread = text;
      nudge();
    };
    const reply = question === null ? this.caption(image, { onText }) : this.ask(image, question, { onText });
    reply.finally(() => {
      settled = true;
      nudge();
    }).catch(() => {});
    let last = null;
    while (!settled || unread !== null) {
      if (unread === null) await new Promise((resolve) => (wake = resolve));
      if (unread === null) continue;
      last = unread;
      unread = null;
      yield last;
    }
    const text = await reply;
    if (text !== last) yield text;
  }

  /// Tokens of text, of values (`{values, action?}`: observations are mu-law companded, actions
  /// not), of an image sentence (`{image, question?}`: its patches, then the question), or of
  /// an observation as a controller takes it (`{observation}`: up to the separator).
  async tokens(input) {
    if (typeof input === "string") return this.#call("text", { text: input });
    if (input?.observation !== undefined) return this.#observe("timestep", input.observation);
    if (Array.isArray(input?.values)) return this.#call("values", { values: input.values.map(Number), action: Boolean(input.action) });
    if (input?.image !== undefined) {
      const question = input.question ?? "";
      return this.#withImage(input.image, (message, transfer) => this.#call("sentence", { image: message, question }, { transfer }));
    }
    throw new GatitoError("bad_input", "tokens takes text, { values, action? }, { image, question? } or { observation }");
  }

  // --- Worlds ----------------------------------------------------------------------------------------

  worlds() {
    return this.#call("worlds");
  }

  /// The expert's and random play's mean scores on `world`, over a few episodes.
  references(world) {
    return this.#call("references", { world });
  }

  /// `count` example missions for the grid room, some held out from training.
  missions({ count = 9, seed = 0 } = {}) {
    return this.#call("missions", { count, seed });
  }

  /// A generated scene: its PNG, what the generator knows of it, and questions with answers.
  sample(seed = 0) {
    return this.#call("sample", { seed });
  }

  /// Starts an episode of `world` (a name from `worlds()`, or `{mission}` for the grid room
  /// furnished for a typed mission), played live in the worker until it ends or is stopped.
  async play(world, { canvas = null, speed = 10, actor = this.loaded?.weights.ok ? "model" : "expert", seed = 0, running = true } = {}) {
    const what = typeof world === "string" ? { world } : typeof world?.mission === "string" ? { mission: world.mission } : null;
    if (!what) throw new GatitoError("bad_input", "play takes a world's name or { mission }");
    const id = this.#nextEpisode++;
    const started = await this.#call("start", { episode: id, ...what, seed, actor, speed, running });
    const call = (op, args = {}) => this.#call(op, { episode: id, ...args });
    return new Episode(started, { running, canvas, call, attach: (receive) => this.#episodes.set(id, receive), detach: () => this.#episodes.delete(id) });
  }

  /// The model acting for a game or body of the page's own: `actions` is `{ discrete: n }` (one
  /// of 0..n) or `{ continuous: d }` (d values in [-1, 1]). The controller keeps the episode's
  /// observations, as the model's own worlds do, until `reset()`.
  async control(actions, { seed = 0 } = {}) {
    const id = this.#nextBody++;
    const call = (op, args = {}) => this.#call(op, { body: id, ...args });
    await call("control", { actions, seed });
    const decide = (observation) => this.#observe("decide", observation, { body: id });
    return new Controller(call, decide);
  }

  /// One action for one observation, with no episode before it: `control`, `act`, `release`.
  async act(observation, actions) {
    const controller = await this.control(actions);
    try {
      return await controller.act(observation);
    } finally {
      controller.release().catch(() => {});
    }
  }

  // --- Measuring and breaking ---------------------------------------------------------------------------

  /// The benchmark of crate/src/web/bench.rs on one backend.
  bench({ backend = "cpu", steps = 200 } = {}) {
    return this.#call("bench", { backend, steps });
  }

  /// The worker's wasm memory in bytes (it grows and never shrinks) and each model step's time
  /// in ms since the last call: what a long run watches for leaks and slowdowns.
  stats() {
    return this.#call("stats");
  }

  /// Breaks something on purpose, to see the agent recover: "crash" throws in the worker
  /// (which is restarted), "lose-device" destroys the GPU device (the CPU takes over).
  diagnose(what) {
    if (!DIAGNOSES.includes(what)) return Promise.reject(new GatitoError("bad_input", `diagnose takes ${DIAGNOSES.join(" or ")}`));
    return this.#call(`test:${what}`);
  }

  // --- Ending --------------------------------------------------------------------------------------------

  /// Cancels every call in flight: each rejects with code "aborted", and its answer is dropped
  /// when it comes (the worker finishes a caption it started: 48 tokens at most). Episodes play on.
  abort() {
    this.#aborts++;
    this.#client.failPending(new GatitoError("aborted", "the call was aborted"));
  }

  /// Stops the worker and frees the model; every call after this rejects with code "disposed".
  dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#episodes.clear();
    this.#client.terminate(new GatitoError("disposed", "the agent was disposed"));
  }

  // --- The worker --------------------------------------------------------------------------------------

  #call(op, args, options) {
    if (this.#disposed) return Promise.reject(new GatitoError("disposed", "the agent was disposed; load another"));
    return this.#client.call(op, args, options);
  }

  /// Sends an image with `send(message, transfer)` once it is ready to cross to the worker.
  async #withImage(image, send) {
    const aborts = this.#aborts;
    const { message, transfer } = await imageMessage(image);
    if (aborts !== this.#aborts) throw new GatitoError("aborted", "the call was aborted");
    return send(message, transfer);
  }

  /// Sends an observation (`{ text?, image?, values?, discrete? }`) with `op`, its image made
  /// ready to cross.
  async #observe(op, observation, args = {}) {
    if (typeof observation !== "object" || observation === null) {
      throw new GatitoError("bad_input", "an observation is { text?, image?, values?, discrete? }");
    }
    const { image, ...parts } = observation;
    if (image === undefined) return this.#call(op, { ...args, observation: parts });
    return this.#withImage(image, (message, transfer) => this.#call(op, { ...args, observation: { ...parts, image: message } }, { transfer }));
  }

  async #describe(op, image, args, onText) {
    const onPartial = onText && (({ text }) => onText(text));
    const { text } = await this.#withImage(image, (message, transfer) => this.#call(op, { ...args, image: message }, { transfer, onPartial }));
    return text;
  }

  #event(data) {
    switch (data.event) {
      case "step":
      case "step-error":
        return this.#episodes.get(data.episode)?.(data);
      case "progress":
        return this.#listeners.emit("progress", { file: data.file, loaded: data.loaded, total: data.total });
      case "backend": {
        const { event, ...backend } = data;
        this.backend = backend;
        return this.#listeners.emit("backend", backend);
      }
    }
  }

  async #restarted(reason) {
    this.#episodes.clear();
    try {
      await this.reload();
      this.#listeners.emit("restart", { reason });
    } catch (error) {
      this.#listeners.emit("restart", { reason, error });
    }
  }
}

/// One live episode. Its fields always hold the latest step; "step" events say when one came.
export class Episode {
  #call;
  #detach;
  #canvas;
  #listeners = new Listeners();

  constructor({ info, frame, tokens }, { running, canvas, call, attach, detach }) {
    /// The world's spec, the seed and the typed mission, if any.
    this.info = info;
    this.frame = frame;
    this.tokens = tokens;
    /// The last step's report (null before the first step).
    this.report = null;
    this.running = running;
    this.#call = call;
    this.#detach = detach;
    this.#canvas = canvas;
    if (canvas) drawFrame(canvas, frame);
    attach((data) => this.#receive(data));
  }

  /// `type` is "step" ({report, rewards, frame, tokens, timing, running}: once per tick while
  /// it runs, or after `step`) or "error" (a GatitoError: the loop stopped on it).
  on(type, listener) {
    return this.#listeners.on(type, listener);
  }

  /// Changes how it plays: `{ actor?, speed?, running?, held? }`. Resolves with whether it runs.
  async set(changes) {
    ({ running: this.running } = await this.#call("set", changes));
    return this.running;
  }

  pause() {
    return this.set({ running: false });
  }

  resume() {
    return this.set({ running: true });
  }

  /// One step with an action chosen outside (`{discrete: [i]}` or `{continuous: [...]}`).
  step(action) {
    return this.#call("act", { action });
  }

  /// Shoves the world's body: `x` to the right, `y` up, each in [-1, 1] (control tasks).
  push(x, y) {
    return this.#call("push", { x, y });
  }

  /// Ends the episode and frees it in the worker; later calls on it reject.
  stop() {
    this.#detach();
    this.running = false;
    return this.#call("stop");
  }

  #receive({ event, episode, message, code, ...step }) {
    if (event === "step-error") {
      this.running = false;
      return this.#listeners.emit("error", new GatitoError(code, message));
    }
    Object.assign(this, { frame: step.frame, tokens: step.tokens, report: step.report, running: step.running });
    if (this.#canvas) drawFrame(this.#canvas, step.frame);
    this.#listeners.emit("step", step);
  }
}

/// The model acting for a game or body of the page's own (see `agent.control`).
export class Controller {
  #call;
  #decide;

  constructor(call, decide) {
    this.#call = call;
    this.#decide = decide;
  }

  /// Observes (`{ text?, image?, values?, discrete? }`: a mission or instruction, a picture,
  /// continuous values, integers in 0..1023) and decodes one action: resolves with
  /// `{ action, probabilities, backend }`.
  act(observation) {
    return this.#decide(observation);
  }

  /// Forgets the episode: the next observation begins a new one.
  reset() {
    return this.#call("forget");
  }

  /// Lets the body go; later calls on it reject.
  release() {
    return this.#call("release");
  }
}

// --- Images --------------------------------------------------------------------------------------------

/// A report of `agent.image()`: it carries the 64x64 model input.
const isPicture = (image) => image?.rgb instanceof Uint8Array && Array.isArray(image.patches);

/// What the worker needs of an image: a picture's 64x64 pixels (copied: the caller keeps
/// them), or encoded bytes it decodes (moved, not copied).
async function imageMessage(image) {
  if (isPicture(image)) return { message: { rgb: image.rgb.slice() }, transfer: [] };
  const bytes = await encoded(image);
  return { message: { bytes }, transfer: [bytes] };
}

/// The image as an encoded file: a Blob or a URL as it is, anything drawable as a PNG.
async function encoded(image) {
  if (image instanceof Blob) return image.arrayBuffer();
  if (typeof image === "string" || image instanceof URL) {
    const response = await fetch(new URL(image, globalThis.location.href)).catch((error) => {
      throw new GatitoError("missing", `${image} could not be fetched (${error.message})`);
    });
    if (!response.ok) throw new GatitoError("missing", `${image} could not be fetched (HTTP ${response.status})`);
    return response.arrayBuffer();
  }
  const drawable = ["ImageBitmap", "HTMLCanvasElement", "OffscreenCanvas", "HTMLImageElement", "VideoFrame"].some(
    (name) => globalThis[name] && image instanceof globalThis[name],
  );
  if (!drawable) {
    throw new GatitoError("bad_input", "an image is an ImageBitmap, a canvas, an <img>, a Blob, a URL or a picture from agent.image()");
  }
  const width = image.naturalWidth ?? image.displayWidth ?? image.width;
  const height = image.naturalHeight ?? image.displayHeight ?? image.height;
  if (!width || !height) throw new GatitoError("bad_input", "the image has no pixels (is it loaded?)");
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d").drawImage(image, 0, 0);
  return (await canvas.convertToBlob({ type: "image/png" })).arrayBuffer();
}
