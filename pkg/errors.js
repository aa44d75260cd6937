// The package's one error type. The worker throws it and the page side rebuilds it from the
// code and message that cross postMessage (an error's class does not survive the crossing).
//
// Codes: "no_model" (the weights are missing or failed to load), "no_tokens" (the tokenizer
// failed to load), "missing" (a file could not be fetched), "corrupt" (a file failed its
// integrity check), "bad_input", "crashed" (the worker died; it was restarted), "aborted"
// (agent.abort() cancelled the call), "disposed" (agent.dispose() was called).
export class GatitoError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "GatitoError";
    this.code = code;
  }
}
