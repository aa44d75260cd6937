// The speed peer in the browser: ONNX Runtime Web (wasm EP) on models/recipe/export_onnx.py's graph,
// timed on crate/src/bench.rs's workload as models/recipe/bench_onnx.py times it natively (read
// that file for the workload's details). `?threads=2&steps=200&run` runs it at once; the report
// lands in `document.body.dataset.report`, shaped as the bench page's. ORT-Web copies every input
// into the wasm heap and every output out of it on each call, the KV cache included: that is its
// API, so the figures count it. ort/ is build.sh's copy of the npm package's files.

import * as ort from "./ort/ort.wasm.min.mjs";
import { $ } from "./view.js";

const MODEL = "models/gatito-s/";
const GRAPH = "ort/gatito-s.onnx";
const PATCH_LEN = 768;
const ACTION_POSITION = 255;
const MAX_TEXT_TOKENS = 48;
const params = new URLSearchParams(location.search);
const threads = Number(params.get("threads") ?? 1);

const status = (text) => ($("status").textContent = text);

/// Elements as the graph takes them: ids and local positions; the patch elements' indices
/// (slots), pixels, row and column bins.
const tokens = (ids, local, slots = [], patches = new Float32Array(0), rows = [], cols = []) => ({ ids, local, slots, patches, rows, cols });

function concat(...parts) {
  const out = tokens([], [], [], new Float32Array(parts.reduce((n, p) => n + p.patches.length, 0)));
  for (const p of parts) {
    out.patches.set(p.patches, out.slots.length * PATCH_LEN);
    out.slots.push(...p.slots.map((s) => s + out.ids.length));
    for (const key of ["ids", "local", "rows", "cols"]) out[key].push(...p[key]);
  }
  return out;
}

/// Elements start..end, as `Sequence::slice_elements`.
function cut(seq, start, end) {
  const kept = seq.slots.map((s, i) => [s, i]).filter(([s]) => s >= start && s < end);
  const pick = (values) => kept.map(([, i]) => values[i]);
  const patches = new Float32Array(kept.length * PATCH_LEN);
  kept.forEach(([, i], j) => patches.set(seq.patches.subarray(i * PATCH_LEN, (i + 1) * PATCH_LEN), j * PATCH_LEN));
  return tokens(seq.ids.slice(start, end), seq.local.slice(start, end), kept.map(([s]) => s - start), patches, pick(seq.rows), pick(seq.cols));
}

/// bench.rs's frame(t): 64x64 RGB, (4x, 4y, 7t as u8).
function frame(t) {
  const rgb = new Uint8Array(64 * 64 * 3);
  for (let i = 0; i < 64 * 64; i++) rgb.set([(i % 64) * 4, Math.floor(i / 64) * 4, (t * 7) % 256], i * 3);
  return rgb;
}

/// An image at the start of a timestep or sentence: sixteen 16x16 patches in raster order,
/// channel-first, on Gato's pixel scale, at evaluation's bins; then `then`.
function imageTokens(rgb, then = []) {
  const patches = new Float32Array(16 * PATCH_LEN);
  for (let p = 0, i = 0; p < 16; p++)
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 16; y++)
        for (let x = 0; x < 16; x++, i++) {
          const pixel = ((Math.floor(p / 4) * 16 + y) * 64 + (p % 4) * 16 + x) * 3 + c;
          patches[i] = (rgb[pixel] / 127.5 - 1) / 4;
        }
  const bins = [...Array(16).keys()];
  return tokens([...bins.map(() => 0), ...then], [...bins, ...then.map(() => ACTION_POSITION)], bins, patches,
    bins.map((b) => Math.floor(b / 4) * 32 + 16), bins.map((b) => (b % 4) * 32 + 16));
}

const text = (id, position = 0) => tokens([id], [position]);
const argmax = (values, from, to) => {
  let best = from;
  for (let i = from; i < to; i++) if (values[i] > values[best]) best = i;
  return best;
};

/// The graph in one session, with its KV cache and sliding window.
class Runner {
  static async load() {
    const [config, tokenizer] = await Promise.all(["config.json", "tokenizer.json"].map((f) => fetch(MODEL + f).then((r) => r.json())));
    ort.env.wasm.numThreads = threads;
    const graph = await (await fetch(GRAPH)).arrayBuffer();
    const session = await ort.InferenceSession.create(graph, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
    return new Runner(session, config, Object.fromEntries(tokenizer.added_tokens.map((t) => [t.content, t.id])), graph.byteLength);
  }

  constructor(session, config, special, bytes) {
    Object.assign(this, { session, config, special, bytes });
    this.past = session.inputNames.filter((name) => name.startsWith("past_"));
    this.clear();
  }

  clear() {
    const { heads, d_model } = this.config;
    this.cache = this.past.map(() => new ort.Tensor("float32", new Float32Array(0), [1, heads, 0, d_model / heads]));
  }

  /// The cache's rows from `drop` on, per head.
  static keep(tensor, drop) {
    const [, heads, rows, dim] = tensor.dims;
    if (drop === 0) return tensor;
    const out = new Float32Array(heads * (rows - drop) * dim);
    for (let h = 0; h < heads; h++) out.set(tensor.data.subarray((h * rows + drop) * dim, (h + 1) * rows * dim), h * (rows - drop) * dim);
    return new ort.Tensor("float32", out, [1, heads, rows - drop, dim]);
  }

  /// Feeds `seq` after the cache; the last element's logits.
  async feed(seq) {
    const n = seq.ids.length;
    const kept = this.cache[0].dims[2];
    const drop = kept - Math.min(kept, this.config.context - n);
    const i64 = (values) => new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [values.length]);
    const feeds = {
      ids: i64(seq.ids), local: i64(seq.local), slots: i64(seq.slots), rows: i64(seq.rows), cols: i64(seq.cols),
      patches: new ort.Tensor("float32", seq.patches, [seq.slots.length, PATCH_LEN]),
    };
    this.past.forEach((name, i) => (feeds[name] = Runner.keep(this.cache[i], drop)));
    const out = await this.session.run(feeds);
    this.cache = this.past.map((name) => out[name.replace("past_", "present_")]);
    return out.logits.data;
  }
}

function episode(runner) {
  const { text_vocab, context } = runner.config;
  const steps = [];
  for (let t = 0; t < Math.floor(context / 18) + 1; t++) steps.push(imageTokens(frame(t), [runner.special["<|sep|>"], text_vocab + (t % 3)]));
  while (steps.reduce((n, s) => n + s.ids.length, 0) > context) steps.shift();
  return concat(...steps);
}

async function prefillAndDecode(runner, seq) {
  const repeats = 5;
  let start = performance.now();
  for (let r = 0; r < repeats; r++) {
    runner.clear();
    await runner.feed(seq);
  }
  const prefill = (performance.now() - start) / 1e3;
  const half = Math.floor(seq.ids.length / 2);
  runner.clear();
  await runner.feed(cut(seq, 0, half));
  const generated = seq.ids.length - half;
  let token = 0;
  start = performance.now();
  for (let i = 0; i < generated; i++) token = argmax(await runner.feed(text(token)), 0, runner.config.text_vocab);
  const decode = (performance.now() - start) / 1e3;
  return [(repeats * seq.ids.length) / prefill, generated / decode];
}

async function agentSteps(runner, steps) {
  runner.clear();
  const first = runner.config.text_vocab;
  const frames = [...Array(steps).keys()].map(frame);
  const times = [];
  let pending = [];
  for (const rgb of frames) {
    const start = performance.now();
    const logits = await runner.feed(concat(...pending, imageTokens(rgb, [runner.special["<|sep|>"]])));
    const action = argmax(logits, first, first + 3);
    times.push(performance.now() - start);
    pending = [tokens([action], [ACTION_POSITION])];
  }
  return times.sort((a, b) => a - b);
}

async function caption(runner) {
  const rgb = frame(0);
  const start = performance.now();
  runner.clear();
  let chunk = imageTokens(rgb);
  for (let position = 16; position < 16 + MAX_TEXT_TOKENS; position++) {
    const logits = await runner.feed(chunk);
    logits[runner.special["<|sep|>"]] = -Infinity;
    const token = argmax(logits, 0, runner.config.text_vocab);
    if (token === runner.special["<|eot|>"]) break;
    chunk = text(token, Math.min(position, ACTION_POSITION - 1));
  }
  return performance.now() - start;
}

const percentile = (sorted, p) => sorted[Math.round((sorted.length - 1) * p)];

async function run() {
  const steps = Number(params.get("steps") ?? 200);
  status(`Loading ONNX Runtime Web with ${threads} thread(s)…`);
  const runner = await Runner.load();
  status(`Running (${steps} agent steps)…`);
  const [prefill, decode] = await prefillAndDecode(runner, episode(runner));
  const times = await agentSteps(runner, Math.max(steps, 1));
  const report = {
    backend: `onnxruntime-web (wasm, ${threads} thread${threads > 1 ? "s" : ""}, KV cache copied in and out each call)`,
    adapter: `onnxruntime-web ${ort.env.versions.web}`,
    context: runner.config.context,
    prefill_tokens_per_s: prefill,
    decode_tokens_per_s: decode,
    step_ms_p50: percentile(times, 0.5),
    step_ms_p95: percentile(times, 0.95),
    caption_ms: await caption(runner),
    memory_mb: null,
    wasm_download_mb: Number((await fetch("ort/ort-wasm-simd-threaded.wasm", { method: "HEAD" })).headers.get("content-length")) / 1e6,
    model_download_mb: runner.bytes / 1e6,
  };
  document.body.dataset.report = JSON.stringify({ results: [report], cores: navigator.hardwareConcurrency, userAgent: navigator.userAgent });
  status(`Done: a step in ${report.step_ms_p50.toFixed(2)} ms at p50, decode ${report.decode_tokens_per_s.toFixed(0)} tokens/s.`);
}

if (params.has("run")) run().catch((error) => status(`The bench failed: ${error.message}`));
else $("run").addEventListener("click", () => run());
