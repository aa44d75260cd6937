// Control: a continuous task animated live, its motor commands as value tokens, and pushes
// from the visitor (a drag across the picture, a click beside the body, or the push buttons).

import { LivePanel } from "../live.js";
import { $, element, modalityColour } from "../view.js";

const HISTORY = 300;
/// A drag shorter than this (CSS pixels) is a click.
const CLICK = 6;
/// A click pokes the body from the side clicked, this hard.
const POKE = 0.7;

export class ControlPanel extends LivePanel {
  constructor(app) {
    super(app, "control");
    this.rewards = [];
    this.drag = null;
    $("control-world").addEventListener("change", () => this.startWorld($("control-world").value));
    $("control-new").addEventListener("click", () => this.startWorld(this.world, this.seed + 1));
    for (const button of document.querySelectorAll("[data-push]")) {
      const [x, y] = button.dataset.push.split(",").map(Number);
      button.addEventListener("click", () => this.push(x, y));
    }
    this.canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    this.canvas.addEventListener("pointercancel", () => { this.drag = null; this.dirty = true; });
  }

  offer(worlds) {
    const tasks = worlds.filter((w) => w.kind === "control");
    $("control-world").replaceChildren(...tasks.map((w) => new Option(w.name.replaceAll("_", " "), w.name)));
    return tasks[0]?.name;
  }

  async startWorld(name, seed = 0) {
    try {
      this.rewards = [];
      await this.start(name, seed);
      $("control-world").value = name;
    } catch (error) {
      this.error(error);
    }
  }

  started(info) {
    $("control-description").textContent = info.spec.description;
    $("control-pushed").textContent = "";
  }

  stepped(event) {
    this.rewards.push(...event.rewards);
    if (this.rewards.length > HISTORY) this.rewards.splice(0, this.rewards.length - HISTORY);
  }

  async push(x, y) {
    if (!this.episode) return;
    try {
      await this.episode.push(x, y);
      const arrow = Math.abs(x) > Math.abs(y) ? (x > 0 ? "→" : "←") : y > 0 ? "↑" : "↓";
      $("control-pushed").textContent = `Pushed ${arrow} (${x.toFixed(2)}, ${y.toFixed(2)}). Watch it recover.`;
      if (!this.running) await this.setRunning(true);
    } catch (error) {
      this.error(error);
    }
  }

  /// A point on the canvas in CSS pixels, from its top-left corner.
  at(event) {
    const box = this.canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top, size: box.width };
  }

  pointerDown(event) {
    this.canvas.setPointerCapture(event.pointerId);
    this.drag = { from: this.at(event), to: this.at(event) };
  }

  pointerMove(event) {
    if (!this.drag) return;
    this.drag.to = this.at(event);
    this.dirty = true;
  }

  pointerUp(event) {
    if (!this.drag) return;
    const { from } = this.drag;
    const to = this.at(event);
    this.drag = null;
    this.dirty = true;
    let [dx, dy] = [to.x - from.x, from.y - to.y];
    if (Math.hypot(dx, dy) < CLICK) {
      // A click pokes from the side clicked, toward the middle of the picture.
      [dx, dy] = [to.size / 2 - to.x, to.y - to.size / 2];
      const length = Math.hypot(dx, dy) || 1;
      return this.push((POKE * dx) / length, (POKE * dy) / length);
    }
    const scale = Math.max(Math.hypot(dx, dy), to.size / 2);
    this.push(dx / scale, dy / scale);
  }

  /// The drag in progress, as an arrow over the frame.
  overlay() {
    if (!this.drag) return;
    const ctx = this.canvas.getContext("2d");
    const k = this.canvas.width / this.drag.from.size;
    const [x0, y0, x1, y1] = [this.drag.from.x * k, this.drag.from.y * k, this.drag.to.x * k, this.drag.to.y * k];
    ctx.strokeStyle = ctx.fillStyle = modalityColour("action");
    ctx.lineWidth = 5;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    const angle = Math.atan2(y1 - y0, x1 - x0);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - 16 * Math.cos(angle - 0.5), y1 - 16 * Math.sin(angle - 0.5));
    ctx.lineTo(x1 - 16 * Math.cos(angle + 0.5), y1 - 16 * Math.sin(angle + 0.5));
    ctx.fill();
  }

  drawn({ report, tokens }) {
    $("control-reward").textContent = report ? report.reward.toFixed(3) : "0";
    this.drawActions(report, tokens);
    this.drawRewards();
  }

  /// Each motor command: value → bin → token id → what the bin decodes to, and the
  /// probability the model gave that bin (when the model chose).
  drawActions(report, tokens) {
    const actions = (tokens?.elements ?? []).filter((e) => e.modality === "action");
    const confidence = report?.action.confidence;
    const rows = (report?.action.values ?? []).map((v, i) => {
      const row = document.createElement("tr");
      const p = confidence?.[i] === undefined ? "—" : confidence[i].toFixed(2);
      const cells = [i, v.value.toFixed(4), v.bin, actions[i]?.id ?? "—", v.decoded.toFixed(4), p];
      row.append(...cells.map((c) => element("td", "", c)));
      return row;
    });
    $("control-actions").tBodies[0].replaceChildren(...rows);
  }

  drawRewards() {
    const canvas = $("control-rewards");
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = modalityColour("line");
    ctx.strokeRect(0.5, 0.5, canvas.width - 1, canvas.height - 1);
    ctx.strokeStyle = modalityColour("value");
    ctx.lineWidth = 2;
    ctx.beginPath();
    this.rewards.forEach((r, i) => {
      const [x, y] = [(i / (HISTORY - 1)) * canvas.width, canvas.height - 2 - r * (canvas.height - 4)];
      if (i) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}
