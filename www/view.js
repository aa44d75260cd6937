// Drawing helpers every panel shares: token strips, patch grids, action distributions (frames:
// the package's drawFrame).

import { drawFrame } from "./gatito/index.js";

export const $ = (id) => document.getElementById(id);

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/// Shows `error` (an Error, a string, or nothing to hide) in the element `id`. Errors that
/// only say "the model isn't shipped yet" read as a notice, not as a failure.
export function showError(id, error) {
  const node = $(id);
  node.textContent = error ? String(error.message ?? error) : "";
  node.classList.toggle("notice", error?.code === "no_model");
  node.hidden = !error;
}

export const modalityColour = (name) => getComputedStyle(document.documentElement).getPropertyValue(`--${name}`).trim();

// --- Patch grids ------------------------------------------------------------------------------------

/// Draws a 64x64 RGB model input with its patch grid, the patches numbered if `numbers`.
export function drawPatchGrid(canvas, rgb, { size = 64, patch = 16, numbers = false } = {}) {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  const small = drawFrame(canvas, { width: size, height: size, rgba });
  const ctx = canvas.getContext("2d");
  const scale = canvas.width / size;
  ctx.strokeStyle = modalityColour("patch");
  ctx.lineWidth = 2;
  for (let k = 1; k < size / patch; k++) {
    const at = k * patch * scale;
    ctx.beginPath(); ctx.moveTo(at, 0); ctx.lineTo(at, canvas.height); ctx.stroke();
    ctx.beginPath(); ctx.moveTo(0, at); ctx.lineTo(canvas.width, at); ctx.stroke();
  }
  if (numbers) {
    ctx.font = `bold ${Math.round(scale * 4)}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    const side = size / patch;
    for (let i = 0; i < side * side; i++) {
      const [x, y] = [(i % side) * patch * scale + 4, Math.floor(i / side) * patch * scale + 3];
      ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
      ctx.fillRect(x - 2, y - 1, ctx.measureText(String(i)).width + 4, scale * 4 + 2);
      ctx.fillStyle = "#1d1b18";
      ctx.fillText(String(i), x, y);
    }
  }
  return small;
}

// --- Token strips -------------------------------------------------------------------------------------

/// A chip for one sequence element: what it stands for, and its id (or patch index) below.
function chip(e) {
  const item = element("li", `chip ${e.modality}`);
  item.append(element("span", "", e.label), element("small", "", e.modality === "patch" ? `patch ${e.id}` : e.id));
  const detail = e.value ? ` ${e.value.value} → bin ${e.value.bin} → decodes to ${e.value.decoded}` : "";
  item.title = `${e.modality}, position ${e.position}${e.loss ? ", trained on" : ""}${detail}`;
  return item;
}

/// Lays a sequence out as coloured chips in `list`.
export function drawStrip(list, sequence) {
  list.replaceChildren(...(sequence?.elements ?? []).map(chip));
}

/// Counts of each modality in a sequence.
export function census(sequence) {
  const counts = {};
  for (const e of sequence?.elements ?? []) counts[e.modality] = (counts[e.modality] ?? 0) + 1;
  return counts;
}

// --- How the agent chose -------------------------------------------------------------------------------

const CHOICE = {
  model: "The model's distribution: it decoded this action from the tokens below, greedily.",
  expert: "One-hot: the scripted expert puts all its probability on one action.",
  random: "Uniform: random play gives every action the same chance.",
  you: "One-hot: you chose this action.",
};

export const describeChoice = (actor) => CHOICE[actor] ?? "";

/// Bars for a discrete action distribution, the chosen action marked.
export function drawDistribution(list, labels, report) {
  const probabilities = report?.action.probabilities ?? labels.map(() => 0);
  list.replaceChildren(...labels.map((label, i) => {
    const item = element("li", label === report?.action.label ? "chosen" : "");
    const bar = element("span", "bar");
    bar.style.setProperty("--p", probabilities[i]);
    item.append(element("span", "label", label), bar, element("span", "p", probabilities[i].toFixed(2)));
    return item;
  }));
}

// --- Speed ------------------------------------------------------------------------------------------------

export const SPEEDS = [1, 2, 5, 10, 25, 50, 100, 250, Infinity];

export function speedOf(input) {
  return SPEEDS[Number(input.value)] ?? 10;
}

export function speedLabel(speed) {
  return speed === Infinity ? "as fast as it goes" : `${speed} steps/s`;
}
