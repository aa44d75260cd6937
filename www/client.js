// The page's side of the worker protocol (documented at the top of worker.js): calls that
// resolve with a result or reject with an Error carrying the worker's `code`, events passed to
// one handler, and a restart whenever the worker dies, so the page outlives it.

export class WorkerClient {
  /// `onEvent(data)` receives unasked events; `onRestart(reason)` runs after a crashed worker was replaced.
  constructor({ onEvent, onRestart }) {
    this.onEvent = onEvent;
    this.onRestart = onRestart;
    this.pending = new Map();
    this.nextId = 0;
    this.spawn();
  }

  spawn() {
    this.worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.restart(event.message || "an error escaped the worker");
    };
    this.worker.onmessageerror = () => this.restart("a message from the worker could not be read");
  }

  receive(data) {
    if (data.event === "fatal") return this.restart(data.message);
    if (data.event !== undefined) return this.onEvent(data);
    const request = this.pending.get(data.id);
    if (!request) return;
    if (data.partial !== undefined) return request.onPartial?.(data.partial);
    this.pending.delete(data.id);
    if (data.error === undefined) return request.resolve(data.result);
    const error = new Error(data.error.message);
    error.code = data.error.code;
    request.reject(error);
  }

  /// `onPartial(partial)` sees what the worker streams before the result (a caption's text so far).
  call(op, args = {}, { transfer = [], onPartial = null } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onPartial });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /// Replaces a dead or poisoned worker; calls in flight fail with code "crashed".
  restart(reason) {
    this.worker.terminate();
    for (const { reject } of this.pending.values()) {
      const error = new Error(`the worker stopped (${reason}) and was restarted`);
      error.code = "crashed";
      reject(error);
    }
    this.pending.clear();
    this.spawn();
    this.onRestart(reason);
  }
}
