// A world played live in one panel (Play, Control, Instruct): an episode of the agent's, whose
// loop runs in its worker and sends one "step" event per tick; the panel keeps the latest and
// draws it on the next animation frame, so the page stays smooth however fast the world runs.

import { drawFrame } from "./gatito/index.js";
import { $, describeChoice, drawStrip, showError, speedLabel, speedOf } from "./view.js";

const STRIP_INTERVAL_MS = 120;

export const ACTORS = [
  ["expert", "scripted expert"],
  ["random", "random"],
  ["model", "gatito model"],
];

export class LivePanel {
  /// `name` is the panel's id; its elements are `${name}-canvas`, `-score`, `-step`, `-strip`,
  /// `-error`, `-speed`, `-speed-out`, `-actor`, `-choice`, and optionally `-run`.
  constructor(app, name) {
    this.app = app;
    this.name = name;
    this.canvas = $(`${name}-canvas`);
    this.latest = null;
    this.dirty = false;
    this.stripDrawn = 0;
    this.running = false;
    /// Run and pause requests asked, and the last whose answer came (equal when none is on its way).
    this.asked = 0;
    this.answered = 0;
    this.world = null;
    this.seed = 0;
    this.actor = "expert";
    this.actorSelect = $(`${name}-actor`);
    this.speed = $(`${name}-speed`);
    this.speed.addEventListener("input", () => this.changeSpeed());
    this.showSpeed();
    this.actorSelect?.replaceChildren(...ACTORS.map(([value, text]) => new Option(text, value)));
    this.actorSelect?.addEventListener("change", () => this.chooseActor(this.actorSelect));
    $(`${name}-run`)?.addEventListener("click", () => this.setRunning(!this.running));
  }

  showSpeed() {
    $(`${this.name}-speed-out`).textContent = speedLabel(speedOf(this.speed));
  }

  error(error) {
    showError(`${this.name}-error`, error);
  }

  /// The model plays when it loaded, the expert otherwise; a visitor's own choice stays.
  preferModel(loaded) {
    if (this.chosenByVisitor) return;
    this.actor = loaded ? "model" : "expert";
    if (this.actorSelect) this.actorSelect.value = this.actor;
  }

  /// Starts a new episode of `world` (a name, or `{mission}`); the last one ends once it started.
  async start(world, seed = this.seed) {
    this.error(null);
    this.seed = seed;
    const episode = await this.app.agent.play(world, { seed, actor: this.actor, speed: speedOf(this.speed), running: this.autoRun() });
    this.episode?.stop().catch((e) => this.error(e));
    this.episode = episode;
    episode.on("step", (step) => this.onStep(step));
    episode.on("error", (error) => this.error(error));
    const { info, frame, tokens } = episode;
    this.info = info;
    this.world = info.spec.name;
    this.latest = { report: null, frame, tokens, timing: null };
    this.running = episode.running;
    // Answers about the last episode's running say nothing of this one.
    this.answered = ++this.asked;
    this.dirty = true;
    this.showRunning();
    this.app.noteTokens(this, tokens, null);
    this.started?.(info);
    return info;
  }

  /// Whether a new episode starts running at once (Play pauses for a person's turns).
  autoRun() {
    return this.app.active === this.name;
  }

  onStep(event) {
    this.latest = event;
    // A step sent before the latest run or pause was answered says nothing of it.
    if (this.asked === this.answered) this.running = event.running;
    this.dirty = true;
    this.showRunning();
    this.app.noteTokens(this, event.tokens, event.timing);
    this.stepped?.(event);
  }

  /// Runs or pauses the episode. The page goes by what it asked for, not by answers still on
  /// their way: a visitor who leaves a panel and comes back before the worker answered would
  /// otherwise find it paused for good (the answer to leaving arrives after the return).
  async setRunning(running) {
    if (!this.episode) return;
    this.running = running;
    const asked = ++this.asked;
    try {
      const answer = await this.episode.set({ running });
      if (asked === this.asked) this.running = answer;
    } catch (error) {
      this.error(error);
    }
    if (asked === this.asked) this.answered = asked;
    this.showRunning();
  }

  showRunning() {
    const button = $(`${this.name}-run`);
    if (button) button.textContent = this.running ? "Pause" : this.latest?.report?.done ? "Finished" : "Run";
    if (button) button.disabled = Boolean(this.latest?.report?.done);
  }

  async changeSpeed() {
    this.showSpeed();
    await this.episode?.set({ speed: speedOf(this.speed) }).catch((e) => this.error(e));
  }

  async chooseActor(select) {
    const previous = this.actor;
    try {
      await this.episode?.set({ actor: select.value });
      this.actor = select.value;
      this.chosenByVisitor = true;
      this.error(null);
    } catch (error) {
      select.value = previous;
      this.error(error);
    }
  }

  /// Draws the latest step, if it changed; called on animation frames while the panel shows.
  draw(now) {
    if (!this.dirty || !this.latest) return;
    this.dirty = false;
    const { report, frame, tokens } = this.latest;
    drawFrame(this.canvas, frame);
    this.overlay?.();
    if (report) {
      $(`${this.name}-score`).textContent = formatScore(report.score);
      $(`${this.name}-step`).textContent = report.done ? `${report.step} (over)` : report.step;
      $(`${this.name}-choice`).textContent = describeChoice(this.actor);
    } else {
      $(`${this.name}-score`).textContent = "0";
      $(`${this.name}-step`).textContent = "0";
    }
    if (now - this.stripDrawn > STRIP_INTERVAL_MS || !this.running) {
      this.stripDrawn = now;
      drawStrip($(`${this.name}-strip`), tokens);
    }
    this.drawn?.(this.latest);
  }
}

export function formatScore(score) {
  return Number.isInteger(score) ? String(score) : score.toFixed(2);
}
