// The model side of the page. It runs in a Web Worker so the page never freezes.
//
// Protocol (page -> worker):  { id, op, args }
//   op "load"     args { model: "models/gatito-s/" }      -> result { vocabularySize }
//   op "image"    args { bytes: ArrayBuffer }              -> result: patch report (see tokens::inspect)
//   op "text"     args { text }                            -> result { ids, pieces }
//   op "values"   args { values: number[], action: bool }  -> result { kind, bins, ids, decoded }
// Protocol (worker -> page):  { id, result } on success, { id, error } with a readable message on failure.
import init, { Tokens } from "./pkg/gatito.js";

let tokens = null;

async function load({ model }) {
  await init();
  const response = await fetch(new URL("tokenizer.json", new URL(model, self.location.href)));
  if (!response.ok) throw new Error(`the tokenizer could not be fetched (HTTP ${response.status})`);
  tokens = new Tokens(new Uint8Array(await response.arrayBuffer()));
  return { vocabularySize: tokens.vocabularySize };
}

function loaded() {
  if (!tokens) throw new Error("the model is not loaded yet");
  return tokens;
}

const ops = {
  load,
  image: ({ bytes }) => loaded().image(new Uint8Array(bytes)),
  text: ({ text }) => loaded().text(text),
  values: ({ values, action }) => loaded().continuous(Float32Array.from(values), action),
};

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    if (!(op in ops)) throw new Error(`unknown operation ${op}`);
    const result = await ops[op](args);
    const transfer = result?.rgb ? [result.rgb.buffer] : [];
    self.postMessage({ id, result }, transfer);
  } catch (error) {
    self.postMessage({ id, error: error?.message ?? String(error) });
  }
};
