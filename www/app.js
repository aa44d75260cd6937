// The page: it draws, and asks the worker (worker.js) for everything else.

const $ = (id) => document.getElementById(id);

// --- The worker and its one-screen protocol -------------------------------------------------

const worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 0;

function call(op, args = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, op, args }, transfer);
  });
}

worker.onmessage = ({ data: { id, result, error } }) => {
  const request = pending.get(id);
  if (!request) return;
  pending.delete(id);
  if (error === undefined) request.resolve(result);
  else request.reject(new Error(error));
};

worker.onerror = (event) => {
  event.preventDefault();
  setStatus(`The model worker stopped (${event.message || "unknown error"}). Reload the page to start it again.`, true);
  for (const { reject } of pending.values()) reject(new Error("the model worker stopped"));
  pending.clear();
};

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function showError(id, error) {
  $(id).textContent = error ? String(error.message ?? error) : "";
  $(id).hidden = !error;
}

// --- Images: the 64x64 input and its 16 patches ------------------------------------------------

const modalityColour = (name) => getComputedStyle(document.documentElement).getPropertyValue(`--${name}`);

function drawInput(report) {
  const { input, patch_size: patch, grid } = report;
  const pixels = new ImageData(input, input);
  for (let i = 0; i < input * input; i++) {
    pixels.data.set(report.rgb.subarray(i * 3, i * 3 + 3), i * 4);
    pixels.data[i * 4 + 3] = 255;
  }
  const canvas = $("image-input");
  const ctx = canvas.getContext("2d");
  const small = new OffscreenCanvas(input, input);
  small.getContext("2d").putImageData(pixels, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  const scale = canvas.width / input;
  ctx.strokeStyle = modalityColour("patch");
  ctx.lineWidth = 2;
  for (let k = 1; k < grid[0]; k++) {
    const at = k * patch * scale;
    ctx.beginPath(); ctx.moveTo(at, 0); ctx.lineTo(at, canvas.height); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, at); ctx.lineTo(canvas.width, at); ctx.stroke();
  }
  return small;
}

function showPatches(report, small) {
  const list = $("patches");
  list.replaceChildren();
  for (const p of report.patches) {
    const item = document.createElement("li");
    item.className = "patch";
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 48;
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    const size = report.patch_size;
    ctx.drawImage(small, (p.index % report.grid[1]) * size, Math.floor(p.index / report.grid[1]) * size, size, size, 0, 0, 48, 48);
    const text = document.createElement("span");
    text.innerHTML = `<b>#${p.index}</b> row bin ${p.row_bin} <small>[${p.row.lo},${p.row.hi})</small><br>` +
      `col bin ${p.col_bin} <small>[${p.col.lo},${p.col.hi})</small><br>` +
      `<small>${p.first_values.map((v) => v.toFixed(3)).join(" ")} …</small>`;
    item.append(canvas, text);
    list.append(item);
  }
}

async function tokenizeImage(file) {
  showError("image-error", null);
  if (!file) return;
  try {
    const bytes = await file.arrayBuffer();
    const report = await call("image", { bytes }, [bytes]);
    const small = drawInput(report);
    $("image-caption").textContent =
      `${report.source[0]}×${report.source[1]} → ${report.input}×${report.input} → ${report.patches.length} patches of ${report.patch_size}×${report.patch_size}`;
    $("image-figure").hidden = false;
    showPatches(report, small);
  } catch (error) {
    showError("image-error", error);
  }
}

$("image-file").addEventListener("change", (e) => tokenizeImage(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  tokenizeImage(e.dataTransfer.files[0]);
});
document.addEventListener("paste", (e) => {
  const file = [...e.clipboardData.files].find((f) => f.type.startsWith("image/"));
  if (file) tokenizeImage(file);
});

// --- Text and values ----------------------------------------------------------------------------

$("text-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  showError("text-error", null);
  try {
    const { ids, pieces } = await call("text", { text: $("text-input").value });
    $("text-tokens").replaceChildren(...ids.map((id, i) => {
      const chip = document.createElement("li");
      chip.className = "chip text";
      chip.innerHTML = `<span></span><small>${id}</small>`;
      chip.firstChild.textContent = pieces[i];
      return chip;
    }));
  } catch (error) {
    showError("text-error", error);
  }
});

$("values-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  showError("values-error", null);
  const words = $("values-input").value.trim().split(/[\s,]+/).filter(Boolean);
  const values = words.map(Number);
  const bad = words.find((w, i) => Number.isNaN(values[i]));
  if (bad !== undefined) return showError("values-error", `"${bad}" is not a number`);
  try {
    const report = await call("values", { values, action: $("values-action").checked });
    const rows = values.map((v, i) => {
      const row = document.createElement("tr");
      for (const cell of [v, report.bins[i], report.ids[i], report.decoded[i].toPrecision(5)]) {
        const td = document.createElement("td");
        td.textContent = cell;
        row.append(td);
      }
      return row;
    });
    $("values-table").tBodies[0].replaceChildren(...rows);
    $("values-table").hidden = false;
  } catch (error) {
    showError("values-error", error);
  }
});

// --- Start --------------------------------------------------------------------------------------

call("load", { model: "models/gatito-s/" })
  .then(({ vocabularySize }) => {
    setStatus(`Ready: ${vocabularySize} token ids (text, then 1024 value bins).`);
    document.body.dataset.ready = "true";
    $("text-form").requestSubmit();
    $("values-form").requestSubmit();
  })
  .catch((error) => setStatus(`The model could not be loaded: ${error.message}`, true));
