// The browser bench page: runs crate/src/web/bench.rs through the gatito package on each
// backend and lays the reports out. `?backends=cpu,webgpu&steps=200&run` runs it at once; the report
// lands in `document.body.dataset.report` for `./build.sh bench`.

import { load } from "./gatito/index.js";
import { $, element } from "./view.js";

const MODEL = "models/gatito-s/";
const MODEL_FILES = ["config.json", "model.safetensors", "tokenizer.json"];
const params = new URLSearchParams(location.search);
const backends = (params.get("backends") ?? "cpu,webgpu").split(",");

/// The agent, once loaded.
let agent = null;

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

const fixed = (digits) => (x) => (x === null || x === undefined ? "—" : x.toFixed(digits));

function row(report) {
  if (report.error) return [report.backend, report.error, "", "", "", "", "", "", ""];
  return [
    report.backend,
    report.adapter,
    fixed(0)(report.prefill_tokens_per_s),
    fixed(0)(report.decode_tokens_per_s),
    fixed(2)(report.step_ms_p50),
    fixed(2)(report.step_ms_p95),
    fixed(1)(report.caption_ms),
    fixed(1)(report.memory_mb),
    fixed(1)(report.gpu_memory_mb),
  ];
}

async function adapterName() {
  const info = (await navigator.gpu?.requestAdapter())?.info ?? {};
  return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "an unnamed adapter";
}

/// Megabytes of a file the server would send (the wasm module is not in the model's manifest).
async function sizeOf(url) {
  const response = await fetch(url, { method: "HEAD" });
  return Number(response.headers.get("content-length")) / 1e6;
}

async function downloads() {
  const manifest = await (await fetch(`${MODEL}manifest.json`)).json();
  const model = MODEL_FILES.reduce((sum, name) => sum + (manifest.files[name]?.bytes ?? 0), 0) / 1e6;
  return { wasm_download_mb: await sizeOf("gatito/wasm/gatito_bg.wasm"), model_download_mb: model };
}

async function run() {
  $("run").disabled = true;
  const steps = Number($("steps").value);
  const results = [];
  const body = $("results").tBodies[0];
  body.replaceChildren();
  for (const backend of backends) {
    status(`Running on ${backend} (${steps} agent steps)…`);
    let report;
    try {
      report = await agent.bench({ backend, steps });
      // wgpu cannot see the browser's adapter from inside wasm; the browser can.
      if (backend === "webgpu") report.adapter = await adapterName();
    } catch (error) {
      report = { backend, error: error.message };
    }
    results.push(report);
    const tr = element("tr");
    tr.append(...row(report).map((cell) => element("td", "", cell)));
    body.append(tr);
  }
  const sizes = await downloads();
  $("downloads").textContent =
    `Downloads: the wasm module ${sizes.wasm_download_mb.toFixed(1)} MB, the model ${sizes.model_download_mb.toFixed(1)} MB ` +
    `(both cached after the first visit). ${navigator.hardwareConcurrency} logical cores; ${navigator.userAgent}.`;
  document.body.dataset.report = JSON.stringify({ results, ...sizes, cores: navigator.hardwareConcurrency, userAgent: navigator.userAgent });
  status("Done.");
  $("run").disabled = false;
}

async function boot() {
  if (params.has("steps")) $("steps").value = params.get("steps");
  $("run").addEventListener("click", run);
  try {
    // The bench sets up each backend itself; "cpu" keeps loading from setting up a GPU.
    agent = await load({ model: MODEL, backend: "cpu" });
    agent.on("restart", ({ reason }) => status(`The worker crashed (${reason}) and was restarted; run again.`, true));
    const { weights } = agent.loaded;
    if (!weights.ok) throw new Error(weights.reason);
    status(`Ready: ${(weights.parameters / 1e6).toFixed(2)}M parameters.`);
  } catch (error) {
    status(`The model could not be loaded: ${error.message}`, true);
    return;
  }
  if (params.has("run")) await run();
}

boot();
