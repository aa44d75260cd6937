// See & ask: an image from a file, the clipboard, a sample scene or the sketch pad, cut into
// patches; the model captions it, or answers a question about it, streaming the text as it comes.

import { $, census, drawPatchGrid, drawStrip, element, showError } from "../view.js";

/// Files beyond this are refused before they are read: no photo needs more.
const MAX_FILE_BYTES = 100 << 20;
const INK = "#111111";
const PAPER = "#ffffff";

export class SeePanel {
  constructor(app) {
    this.app = app;
    this.name = "see";
    /// The image shown, cut into patches: what captions and questions are about.
    this.picture = null;
    /// Each image request takes a ticket; only the latest one may show its result.
    this.ticket = 0;
    /// The question the last sample scene put in the question field.
    this.suggested = null;
    $("image-file").addEventListener("change", (e) => this.tokenize(e.target.files[0]));
    const drop = $("drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      this.tokenize(e.dataTransfer.files[0]);
    });
    document.addEventListener("paste", (e) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
      if (!file) return;
      app.show("see");
      this.tokenize(file);
    });
    $("sample-scene").addEventListener("click", () => this.sample());
    $("caption").addEventListener("click", () => this.caption());
    $("ask-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.ask($("question").value);
    });
    this.sketchPad();
  }

  sketchPad() {
    const pad = $("sketch");
    const ctx = pad.getContext("2d");
    const clear = () => {
      ctx.fillStyle = PAPER;
      ctx.fillRect(0, 0, pad.width, pad.height);
    };
    clear();
    let last = null;
    const point = (e) => {
      const box = pad.getBoundingClientRect();
      return [((e.clientX - box.left) * pad.width) / box.width, ((e.clientY - box.top) * pad.height) / box.height];
    };
    pad.addEventListener("pointerdown", (e) => {
      pad.setPointerCapture(e.pointerId);
      last = point(e);
      this.stroke(ctx, last, last);
    });
    pad.addEventListener("pointermove", (e) => {
      if (!last) return;
      const next = point(e);
      this.stroke(ctx, last, next);
      last = next;
    });
    const end = () => { last = null; };
    pad.addEventListener("pointerup", end);
    pad.addEventListener("pointercancel", end);
    $("sketch-clear").addEventListener("click", clear);
    $("sketch-use").addEventListener("click", async () => {
      const blob = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
      this.tokenize(blob, "your drawing");
    });
  }

  stroke(ctx, from, to) {
    ctx.strokeStyle = INK;
    ctx.lineWidth = 22;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
  }

  /// The first visit shows a sample scene, so the panel never opens empty.
  shown() {
    if (this.picture || this.ticket > 0) return;
    this.sample();
  }

  /// The agent has loaded. What was asked before it had could only say so: a sample scene
  /// replaces that message, and the panel in view gets its first one.
  loaded(inView) {
    if (!this.picture && (inView || this.ticket > 0)) this.sample();
  }

  /// Starts a new image request: clears the last message and takes a ticket.
  begin() {
    showError("image-error", null);
    return ++this.ticket;
  }

  async sample() {
    const ticket = this.begin();
    try {
      const scene = await this.app.agent.sample(Math.floor(Math.random() * 1e9));
      if (ticket !== this.ticket) return;
      const q = scene.questions[0];
      const truth = `What the scene generator knows (the model never sees this): “${scene.caption}”` +
        (q ? ` Ask, for example: “${q.question}” (answer: ${q.answer})` : "");
      // The scene's question replaces only another scene's, never one the visitor typed.
      const field = $("question");
      if (q && (!field.value || field.value === this.suggested)) field.value = this.suggested = q.question;
      await this.tokenize(new Blob([scene.png], { type: "image/png" }), "a sample scene", ticket, truth);
    } catch (error) {
      if (ticket === this.ticket) showError("image-error", error);
    }
  }

  /// Cuts `file` into patches and shows them; `truth` is what a sample scene's generator
  /// knows of it, and any other picture hides the last one's.
  async tokenize(file, name = file?.name, ticket = this.begin(), truth = null) {
    if (!file) return;
    if (file.size > MAX_FILE_BYTES) {
      return showError("image-error", `${name} is ${(file.size / 2 ** 20).toFixed(0)} MB; images up to ${MAX_FILE_BYTES >> 20} MB are accepted`);
    }
    const busy = $("image-busy");
    busy.textContent = `Decoding ${name} (${(file.size / 1024).toFixed(0)} kB)…`;
    try {
      const started = performance.now();
      const report = await this.app.agent.image(file);
      if (ticket !== this.ticket) return;
      const small = drawPatchGrid($("image-input"), report.rgb);
      $("image-caption").textContent =
        `${report.source[0]}×${report.source[1]} → ${report.input}×${report.input} → ${report.patches.length} patches of ${report.patch_size}×${report.patch_size}`;
      $("image-figure").hidden = false;
      this.showPatches(report, small);
      $("sample-truth").textContent = truth ?? "";
      $("sample-truth").hidden = !truth;
      busy.textContent = `Decoded ${name} in ${Math.round(performance.now() - started)} ms.`;
      this.picture = report;
      await this.showSentence();
    } catch (error) {
      if (ticket !== this.ticket) return;
      busy.textContent = "";
      showError("image-error", error);
    }
  }

  showPatches(report, small) {
    $("patches").replaceChildren(...report.patches.map((p) => {
      const item = element("li", "patch");
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 48;
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      const size = report.patch_size;
      ctx.drawImage(small, (p.index % report.grid[1]) * size, Math.floor(p.index / report.grid[1]) * size, size, size, 0, 0, 48, 48);
      const text = element("span");
      text.append(element("b", "", `#${p.index}`), ` row bin ${p.row_bin} `, element("small", "", `[${p.row.lo},${p.row.hi})`),
        element("br"), `col bin ${p.col_bin} `, element("small", "", `[${p.col.lo},${p.col.hi})`),
        element("br"), element("small", "", `${p.first_values.map((v) => v.toFixed(3)).join(" ")} …`));
      item.append(canvas, text);
      return item;
    }));
  }

  /// The sentence the model will read: the image's patches, then the question.
  async showSentence(question = $("question").value) {
    const started = performance.now();
    const tokens = await this.app.agent.tokens({ image: this.picture, question });
    const ms = performance.now() - started;
    drawStrip($("see-strip"), tokens);
    this.app.noteTokens(this, tokens, { stepMs: ms, tokenMs: ms, elements: tokens.elements.length, label: "the image sentence" });
    return census(tokens);
  }

  async caption() {
    await this.answer((onText) => this.app.agent.caption(this.picture, { onText }));
  }

  async ask(question) {
    if (this.picture) await this.showSentence(question).then(() => showError("image-error", null), (e) => showError("image-error", e));
    await this.answer((onText) => this.app.agent.ask(this.picture, question, { onText }));
  }

  async answer(request) {
    const out = $("answer");
    out.classList.remove("notice", "error");
    if (!this.picture) {
      out.textContent = this.app.loaded
        ? "Choose, draw or drop an image first."
        : "The model is still loading (the status line shows the download); ask again once it is ready.";
      out.classList.add("notice");
      return;
    }
    out.textContent = "…";
    out.setAttribute("aria-busy", "true");
    try {
      const text = await request((soFar) => {
        out.textContent = `${soFar}…`;
      });
      out.textContent = text || "(the model said nothing)";
    } catch (error) {
      out.textContent = error.message;
      out.classList.add(error.code === "no_model" ? "notice" : "error");
    } finally {
      out.removeAttribute("aria-busy");
    }
  }
}
