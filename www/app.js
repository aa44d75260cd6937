// The page: tabs, status, the backend switch and the panels. The agent does everything else:
// the page uses the gatito package (pkg/, served as gatito/) as any other page would.

import { GatitoError, load } from "./gatito/index.js";
import { ControlPanel } from "./panels/control.js";
import { InstructPanel } from "./panels/instruct.js";
import { PlayPanel } from "./panels/play.js";
import { SeePanel } from "./panels/see.js";
import { TokensPanel } from "./panels/tokens.js";
import { $ } from "./view.js";

const MODEL = "models/gatito-s/";
const capitalize = (text) => text.charAt(0).toUpperCase() + text.slice(1);
const TABS = ["play", "control", "instruct", "see", "tokens"];
const LIVE = ["play", "control", "instruct"];
/// How long without an animation frame before a timer draws instead.
const FRAME_WATCHDOG_MS = 250;

class App {
  #agent = null;

  constructor() {
    this.active = TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "play";
    this.source = this.active === "tokens" ? "play" : this.active;
    this.backend = { active: "cpu", reason: "" };
    /// Backend choices the visitor made, so that only the last one's answer is shown.
    this.backendsAsked = 0;
    this.panels = {
      play: new PlayPanel(this),
      control: new ControlPanel(this),
      instruct: new InstructPanel(this),
      see: new SeePanel(this),
      tokens: new TokensPanel(this),
    };
    /// Live panels paused because the visitor looked elsewhere, to resume when they come back.
    this.resume = new Set();
    this.tabs();
    this.show(this.active);
    for (const radio of document.querySelectorAll("input[name=backend]")) {
      radio.addEventListener("change", () => this.chooseBackend(radio.value));
    }
    $("crash-worker").addEventListener("click", () => this.diagnose("crash", "Asked the worker to crash…"));
    $("lose-device").addEventListener("click", () => this.diagnose("lose-device", "Asked the GPU device to go away…"));
    $("show-stats").addEventListener("click", () => this.showStats());
    // Animation frames draw the active panel. A browser may stop giving frames while the page
    // is in view (headless Chromium 156 does once the worker's WebGPU device is lost), so a
    // timer draws whenever no frame came for a while: the page never looks frozen.
    let lastFrame = performance.now();
    const frame = (now) => {
      lastFrame = now;
      this.panels[this.active].draw?.(now);
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    setInterval(() => {
      const now = performance.now();
      if (now - lastFrame > FRAME_WATCHDOG_MS) this.panels[this.active].draw?.(now);
    }, FRAME_WATCHDOG_MS);
    this.registerServiceWorker();
  }

  status(text, isError = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", isError);
  }

  /// Whether the agent has loaded (the model may still have failed to).
  get loaded() {
    return this.#agent !== null;
  }

  /// The loaded agent; until it loads, whatever needs it says so.
  get agent() {
    if (!this.#agent) throw new GatitoError("no_model", "the model is still loading");
    return this.#agent;
  }

  // --- Starting (and starting again after a crash) ----------------------------------------------

  async boot() {
    try {
      this.#agent = await load({ model: MODEL, backend: "auto", progress: (p) => this.progress(p) });
    } catch (error) {
      this.status(`The app could not start: ${error.message}`, true);
      return;
    }
    this.#agent.on("backend", (backend) => this.showBackend(backend));
    this.#agent.on("restart", (restart) => this.restarted(restart));
    await this.begin();
  }

  /// Shows what loaded and starts every panel's world.
  async begin() {
    const { loaded } = this.agent;
    const { weights } = loaded;
    const model = weights.ok
      ? ` The model (${(weights.parameters / 1e6).toFixed(1)}M weights) is verified and plays.`
      : ` ${capitalize(weights.reason)}.`;
    if (weights.ok) {
      const card = Object.assign(document.createElement("a"), { href: `${MODEL}MODEL_CARD.md`, textContent: "its model card" });
      $("model-notice").replaceChildren(
        "The agent is a small transformer distilled from scripted experts (programs that read the game's true state); " +
          "it sees only pixels, numbers and text. It is still weak at the games and the missions (",
        card,
        " has the numbers): switch any world to the expert or to random play to compare.",
      );
    } else {
      $("model-notice").textContent =
        `${capitalize(weights.reason)}. The worlds are played by their scripted experts or at random; captions and answers are off.`;
    }
    $("model-notice").classList.toggle("error", weights.shipped && !weights.ok);
    if (loaded.tokens.ok) {
      this.status(`Ready: the tokenizer is verified (${loaded.tokens.vocabularySize} token ids: text, then 1024 value bins).${model}`, weights.shipped && !weights.ok);
    } else {
      this.status(`Ready, but ${loaded.tokens.error}. The worlds still run; token views are off.${model}`, true);
    }
    for (const name of LIVE) this.panels[name].preferModel(weights.ok);
    const worlds = await this.agent.worlds();
    await Promise.all([
      this.panels.play.startWorld(this.panels.play.world ?? this.panels.play.offer(worlds), this.panels.play.seed),
      this.panels.control.startWorld(this.panels.control.world ?? this.panels.control.offer(worlds), this.panels.control.seed),
      this.panels.instruct.offer().then(() => this.panels.instruct.run($("mission-input").value)),
    ]);
    for (const name of LIVE) if (name !== this.active) this.resume.add(name);
    // WebGPU where a hardware adapter exists, otherwise the CPU; the agent says why.
    this.showBackend(this.agent.backend);
    document.body.dataset.ready = "true";
    // How long the page took to be ready to act, from navigation: the bench reads it.
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    this.panels.see.loaded(this.active === "see");
    if (loaded.tokens.ok && !this.triedTokenizer) {
      this.triedTokenizer = true;
      this.panels.tokens.text();
      this.panels.tokens.values();
    }
  }

  /// The agent replaced its crashed worker and loaded the model again; the episodes went with it.
  async restarted({ reason, error }) {
    const crashed = `The worker crashed (${reason}) and was restarted; everything was started again.`;
    this.status(crashed, true);
    $("diagnostics-out").textContent = `The worker was restarted after: ${reason}.`;
    delete document.body.dataset.ready;
    if (error) return this.status(`The app could not start: ${error.message}`, true);
    await this.begin();
    this.status(crashed);
  }

  progress({ file, loaded, total }) {
    const bar = $("progress");
    bar.hidden = loaded >= total;
    bar.max = total || 1;
    bar.value = loaded;
    if (loaded < total) this.status(`Downloading ${file}: ${(loaded / 1024).toFixed(0)} of ${(total / 1024).toFixed(0)} kB…`);
  }

  // --- Tabs ------------------------------------------------------------------------------------------

  tabs() {
    const buttons = TABS.map((name) => $(`tab-${name}`));
    buttons.forEach((button, i) => {
      button.addEventListener("click", () => this.show(TABS[i]));
      button.addEventListener("keydown", (e) => {
        const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
        if (next === undefined) return;
        e.preventDefault();
        const target = (next + TABS.length) % TABS.length;
        this.show(TABS[target]);
        buttons[target].focus();
      });
    });
  }

  /// Shows one panel. Leaving a live world for another activity pauses it until the visitor comes
  /// back; the Tokens tab keeps it running, since it shows that world's steps.
  show(name) {
    this.active = name;
    for (const tab of TABS) {
      const selected = tab === name;
      $(`tab-${tab}`).setAttribute("aria-selected", String(selected));
      $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
      $(tab).hidden = !selected;
    }
    history.replaceState(null, "", `#${name}`);
    if (name === "tokens") {
      this.panels.tokens.dirty = Boolean(this.panels.tokens.current);
      return;
    }
    this.source = name;
    if (name === "see" && document.body.dataset.ready) this.panels.see.shown();
    // Every other live world that runs pauses until the visitor comes back to it, the one the
    // Tokens tab kept running too (left through Tokens, it was paused and never resumed).
    for (const other of LIVE) {
      if (other === name || !this.panels[other].running) continue;
      this.resume.add(other);
      this.panels[other].setRunning(false);
    }
    if (this.resume.delete(name)) this.panels[name].setRunning(true);
    if (LIVE.includes(name) || name === "see") this.panels[name].dirty = true;
  }

  /// Called by a panel with the tokens of its current step; the Tokens tab shows the latest of
  /// the panel the visitor last used.
  noteTokens(panel, tokens, timing) {
    if (panel.name === this.source) this.panels.tokens.note(panel, tokens, timing);
  }

  // --- Backend -----------------------------------------------------------------------------------------

  /// Only the last choice's answer is shown: a visitor clicking fast keeps their last click,
  /// and the reason says "Switching…" (busy) until that choice is answered.
  async chooseBackend(want) {
    const asked = ++this.backendsAsked;
    const reason = $("backend-reason");
    reason.setAttribute("aria-busy", "true");
    reason.textContent = `Switching to ${want === "webgpu" ? "WebGPU" : "the CPU"}…`;
    let backend;
    try {
      backend = await this.agent.useBackend(want);
    } catch (error) {
      backend = { want, active: "cpu", reason: `The backend could not be set up (${error.message}); the CPU runs everything.` };
    }
    if (asked !== this.backendsAsked) return;
    reason.removeAttribute("aria-busy");
    this.showBackend(backend);
  }

  showBackend(backend) {
    this.backend = backend;
    for (const radio of document.querySelectorAll("input[name=backend]")) radio.checked = radio.value === backend.active;
    $("backend-reason").textContent = backend.reason;
    this.panels.tokens.dirty = Boolean(this.panels.tokens.current);
  }

  backendSummary() {
    return this.backend.active === "webgpu" ? `WebGPU (${this.backend.adapter}), the WGSL engine` : "CPU (wasm: candle, SIMD128)";
  }

  // --- Diagnostics and offline --------------------------------------------------------------------------

  async diagnose(what, text) {
    $("diagnostics-out").textContent = text;
    try {
      await this.agent.diagnose(what);
    } catch (error) {
      $("diagnostics-out").textContent = error.message;
    }
  }

  /// The worker's memory and the model's step times since the last look, in words and, for
  /// the soak (scripts drive the page through it), as JSON in `data-stats`.
  async showStats() {
    const out = $("diagnostics-out");
    try {
      const { wasmBytes, stepMs } = await this.agent.stats();
      const sorted = [...stepMs].sort((a, b) => a - b);
      const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      const heap = performance.memory?.usedJSHeapSize ?? 0;
      const stats = { wasmBytes, heapBytes: heap, steps: sorted.length, p50: at(0.5), p95: at(0.95) };
      out.dataset.stats = JSON.stringify(stats);
      out.textContent = `The worker's wasm memory is ${(wasmBytes / 2 ** 20).toFixed(1)} MB, the page's JS heap ${(heap / 2 ** 20).toFixed(1)} MB; ` +
        `${stats.steps} model steps since the last look, p50 ${stats.p50.toFixed(2)} ms, p95 ${stats.p95.toFixed(2)} ms.`;
    } catch (error) {
      out.textContent = error.message;
    }
  }

  registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register("sw.js", { type: "module" }).catch((error) => {
      $("diagnostics-out").textContent = `Offline use is off: ${error.message}`;
    });
  }
}

new App().boot();
