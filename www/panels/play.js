// Play: a game from pixels, its score beside the expert's and random play's, and the keyboard
// for a visitor who takes over.

import { LivePanel, formatScore } from "../live.js";
import { $, drawDistribution, element } from "../view.js";

const KINDS = { atari: "Atari-like games", control: "Control tasks", grid: "Grid rooms" };

/// The keys a person plays with, and the words of action labels each one stands for.
const KEYS = [
  { key: "ArrowLeft", name: "←", words: ["left"] },
  { key: "ArrowRight", name: "→", words: ["right"] },
  { key: "ArrowUp", name: "↑", words: ["up", "forward"] },
  { key: "ArrowDown", name: "↓", words: ["down"] },
  { key: " ", name: "space", words: ["fire", "toggle"] },
];

/// For each discrete action, the keys that together choose it: arrows and space by the words
/// of its label, digits for labels no key names. The no-op is what holding nothing does.
export function keyMap(labels) {
  let digit = 1;
  return labels.map((label, index) => {
    if (label === "noop") return { index, label, keys: [] };
    const words = label.split(/[^a-z]+/).filter(Boolean);
    const keys = words.map((w) => KEYS.find((k) => k.words.includes(w)));
    if (keys.every(Boolean)) return { index, label, keys: [...new Set(keys)] };
    const key = String(digit++);
    return { index, label, keys: [{ key, name: key, words: [] }] };
  });
}

/// The action the held keys choose: the one whose keys are all held, the most specific first.
function chosenAction(map, held) {
  let best = map.find((m) => m.keys.length === 0) ?? null;
  for (const m of map) {
    if (m.keys.length > (best?.keys.length ?? 0) && m.keys.every((k) => held.has(k.key))) best = m;
  }
  return best;
}

/// Continuous worlds: the arrows drive the first two motors.
function continuousAction(dims, held) {
  const axis = (minus, plus) => (held.has(plus) ? 1 : 0) - (held.has(minus) ? 1 : 0);
  const values = [axis("ArrowLeft", "ArrowRight"), axis("ArrowDown", "ArrowUp")];
  return { continuous: Array.from({ length: dims }, (_, i) => values[i] ?? 0) };
}

export class PlayPanel extends LivePanel {
  constructor(app) {
    super(app, "play");
    this.held = new Set();
    this.takenOver = false;
    this.references = null;
    $("play-world").addEventListener("change", () => this.startWorld($("play-world").value));
    $("play-new").addEventListener("click", () => this.startWorld(this.world, this.seed + 1));
    $("play-takeover").addEventListener("click", () => this.takeOver(!this.takenOver));
    document.addEventListener("keydown", (e) => this.key(e, true));
    document.addEventListener("keyup", (e) => this.key(e, false));
    this.canvas.addEventListener("blur", () => this.released());
  }

  /// Offers the Atari-like games, or every world while no game is built in.
  offer(worlds) {
    const games = worlds.filter((w) => w.kind === "atari");
    $("play-fallback").hidden = games.length > 0;
    const offered = games.length ? games : worlds;
    const select = $("play-world");
    select.replaceChildren();
    for (const [kind, title] of Object.entries(KINDS)) {
      const ofKind = offered.filter((w) => w.kind === kind);
      if (!ofKind.length) continue;
      const group = document.createElement("optgroup");
      group.label = title;
      group.append(...ofKind.map((w) => new Option(w.name.replaceAll("_", " "), w.name)));
      select.append(group);
    }
    this.specs = new Map(worlds.map((w) => [w.name, w]));
    return offered[0]?.name;
  }

  async startWorld(name, seed = 0) {
    try {
      this.references = null;
      await this.start(name, seed);
      $("play-world").value = name;
      if (this.takenOver) await this.takeOver(true);
      this.loadReferences(name);
    } catch (error) {
      this.error(error);
    }
  }

  started(info) {
    const spec = info.spec;
    this.spec = spec;
    this.arcade = spec.action.type === "continuous" || spec.action.labels.includes("noop");
    this.map = spec.action.type === "discrete" ? keyMap(spec.action.labels) : null;
    $("play-description").textContent = spec.description;
    $("play-references").textContent = "Reference scores: computing…";
    this.showKeys();
    drawDistribution($("play-distribution"), this.labels(), null);
  }

  labels() {
    return this.spec.action.type === "discrete" ? this.spec.action.labels : [];
  }

  async loadReferences(name) {
    try {
      const references = await this.app.agent.references(name);
      if (this.world !== name) return;
      this.references = references;
      this.dirty = true;
    } catch (error) {
      $("play-references").textContent = `Reference scores unavailable: ${error.message}`;
    }
  }

  showKeys() {
    const list = $("play-keys");
    if (this.spec.action.type === "continuous") {
      const motors = this.spec.action.dims > 1 ? "← → drive the first motor, ↑ ↓ the second" : "← → drive the motor";
      list.replaceChildren(element("li", "", `${motors}; nothing held: motors idle.`));
    } else {
      list.replaceChildren(...this.map.map((m) => {
        const item = element("li");
        if (m.keys.length) item.append(element("kbd", "", m.keys.map((k) => k.name).join(" + ")), ` ${m.label}`);
        else item.append(`nothing held: ${m.label}`);
        return item;
      }));
    }
    if (!this.arcade) list.append(element("li", "hint", "One step per key press."));
  }

  async takeOver(on) {
    this.takenOver = on;
    $("play-takeover").setAttribute("aria-pressed", String(on));
    $("play-takeover").textContent = on ? "Hand back" : "Take over";
    $("play-actor").disabled = on;
    this.held.clear();
    if (!this.episode) return;
    const actor = on ? "you" : $("play-actor").value;
    this.actor = actor;
    const changes = { actor, held: on ? this.heldAction() : null };
    if (on && !this.arcade) changes.running = false;
    await this.episode.set(changes).catch((e) => this.error(e));
    if (on) this.canvas.focus();
  }

  heldAction() {
    if (this.spec.action.type === "continuous") return continuousAction(this.spec.action.dims, this.held);
    const chosen = chosenAction(this.map, this.held);
    return chosen ? { discrete: [chosen.index] } : null;
  }

  key(event, down) {
    if (!this.takenOver || this.app.active !== this.name || (!this.map && this.spec?.action.type !== "continuous")) return;
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    const known = KEYS.some((k) => k.key === event.key) || this.map?.some((m) => m.keys.some((k) => k.key === event.key));
    if (!known) return;
    event.preventDefault();
    if (this.arcade) {
      if (down) this.held.add(event.key);
      else this.held.delete(event.key);
      this.episode.set({ held: this.heldAction() }).catch((e) => this.error(e));
    } else if (down) {
      const chosen = chosenAction(this.map, new Set([event.key]));
      if (chosen) this.episode.step({ discrete: [chosen.index] }).catch((e) => this.error(e));
    }
  }

  released() {
    if (!this.held.size) return;
    this.held.clear();
    this.episode?.set({ held: this.heldAction() }).catch(() => {});
  }

  drawn({ report }) {
    drawDistribution($("play-distribution"), this.labels(), report);
    if (this.spec.action.type === "continuous" && report) {
      const values = report.action.values.map((v) => v.value.toFixed(2)).join(", ");
      $("play-choice").textContent = `${$("play-choice").textContent} Motors: ${values}.`;
    }
    this.drawReferences(report?.score ?? 0);
  }

  /// The score on a scale from random play's mean to the expert's.
  drawReferences(score) {
    const r = this.references;
    if (!r) return;
    const box = $("play-references");
    const text = element("p", "", `Expert ${formatScore(r.expert.mean)} ± ${formatScore(r.expert.std)}, ` +
      `random ${formatScore(r.random.mean)} ± ${formatScore(r.random.std)} ` +
      `(mean of ${r.episodes} episodes, seeds ${r.seed}–${r.seed + r.episodes - 1}).`);
    const scale = element("div", "scale");
    scale.setAttribute("role", "img");
    const low = Math.min(r.random.mean, r.expert.mean, score);
    const high = Math.max(r.random.mean, r.expert.mean, score, low + 1e-6);
    // Kept off the very ends, so that the labels centred on the marks stay readable.
    const at = (x) => `${5 + (90 * (x - low)) / (high - low)}%`;
    for (const [name, x] of [["random", r.random.mean], ["expert", r.expert.mean], ["now", score]]) {
      const mark = element("span", `mark ${name}`, name === "now" ? "▲ this episode" : name);
      mark.style.left = at(x);
      scale.append(mark);
    }
    scale.setAttribute("aria-label", `This episode scores ${formatScore(score)} so far`);
    box.replaceChildren(text, scale);
  }
}
