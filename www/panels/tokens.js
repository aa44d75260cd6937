// Tokens: the current step of the last active panel laid out in full, and the tokenizer to try.

import { $, census, drawPatchGrid, drawStrip, element, showError } from "../view.js";

const KIND = { observation: "observation (mu-law)", discrete: "discrete observation" };

export class TokensPanel {
  constructor(app) {
    this.app = app;
    this.name = "tokens";
    this.current = null;
    this.dirty = false;
    this.drawnAt = 0;
    $("text-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.text();
    });
    $("values-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.values();
    });
  }

  /// Keeps `tokens` as the current step of `source` (a panel); drawn when this panel shows.
  note(source, tokens, timing) {
    this.current = { source, tokens, timing };
    this.dirty = true;
  }

  draw(now) {
    if (!this.dirty || now - this.drawnAt < 200) return;
    this.dirty = false;
    this.drawnAt = now;
    const { source, tokens, timing } = this.current;
    const step = source.latest?.report?.step;
    const what = timing?.label ?? `${source.world?.replaceAll("_", " ")}, ${step ? `step ${step}: what the agent saw, then what it did` : "before the first step"}`;
    $("tokens-source").textContent = tokens
      ? `From ${$(`tab-${source.name}`).textContent}: ${what}.`
      : "The tokenizer is unavailable, so no tokens can be shown (see the status above).";
    this.drawStats(tokens, timing);
    drawStrip($("tokens-strip"), tokens);
    $("tokens-figure").hidden = !tokens?.rgb;
    if (tokens?.rgb) drawPatchGrid($("tokens-image"), tokens.rgb, { numbers: true });
    this.drawValues(tokens);
  }

  drawStats(tokens, timing) {
    const counts = census(tokens);
    const rows = [["backend", this.app.backendSummary()]];
    if (tokens) rows.push(["elements", `${tokens.elements.length} (${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ")})`]);
    if (timing?.elements) {
      const step = timing.model ? "the model's step, frame in to action out" : "world step";
      rows.push(["step latency", `${(timing.stepMs + timing.tokenMs).toFixed(2)} ms (${step} ${timing.stepMs.toFixed(2)} ms, tokens shown ${timing.tokenMs.toFixed(2)} ms)`]);
      const rate = (ms) => Math.round((1000 * timing.elements) / Math.max(ms, 1e-3)).toLocaleString("en");
      rows.push(["tokens/s", timing.model ? `${rate(timing.stepMs)} through the model` : `${rate(timing.tokenMs)} tokenized; the model is not acting`]);
    }
    $("tokens-stats").replaceChildren(...rows.map(([k, v]) => {
      const row = element("div");
      row.append(element("dt", "", k), element("dd", "", v));
      return row;
    }));
  }

  /// Every value and action token: the number, its bin, its id, and what the bin decodes back to.
  drawValues(tokens) {
    const values = (tokens?.elements ?? []).map((e, i) => [i, e]).filter(([, e]) => e.value);
    const table = $("tokens-values");
    table.hidden = !values.length;
    table.tBodies[0].replaceChildren(...values.map(([i, e]) => {
      const row = element("tr", e.modality);
      const v = e.value;
      const kind = e.modality === "action" ? `action${v.source === "discrete" ? " (discrete)" : ""}` : KIND[v.source];
      for (const cell of [i, kind, v.value.toPrecision(5), v.bin, e.id, v.decoded.toPrecision(5)]) {
        row.append(element("td", "", cell));
      }
      return row;
    }));
  }

  async text() {
    showError("text-error", null);
    try {
      const { ids, pieces } = await this.app.agent.tokens($("text-input").value);
      $("text-tokens").replaceChildren(...ids.map((id, i) => {
        const chip = element("li", "chip text");
        chip.append(element("span", "", pieces[i]), element("small", "", id));
        return chip;
      }));
    } catch (error) {
      showError("text-error", error);
    }
  }

  async values() {
    showError("values-error", null);
    const words = $("values-input").value.trim().split(/[\s,]+/).filter(Boolean);
    const values = words.map(Number);
    const bad = words.find((w, i) => Number.isNaN(values[i]));
    if (bad !== undefined) return showError("values-error", `"${bad}" is not a number`);
    try {
      const report = await this.app.agent.tokens({ values, action: $("values-action").checked });
      $("values-table").tBodies[0].replaceChildren(...values.map((v, i) => {
        const row = element("tr");
        for (const cell of [v, report.bins[i], report.ids[i], report.decoded[i].toPrecision(5)]) row.append(element("td", "", cell));
        return row;
      }));
      $("values-table").hidden = false;
    } catch (error) {
      showError("values-error", error);
    }
  }
}
