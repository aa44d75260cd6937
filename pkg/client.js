// The page's side of the worker protocol (documented at the top of worker.js): calls that
// resolve with a result or reject with a GatitoError carrying the worker's `code`, events
// passed to one handler, and a restart whenever the worker dies, so the page outlives it.

import { GatitoError } from "./errors.js";

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
    request.reject(new GatitoError(data.error.code, data.error.message));
  }

  /// `onPartial(partial)` sees what the worker streams before the result (a caption's text so far).
  call(op, args = {}, { transfer = [], onPartial = null } = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onPartial });
      this.worker.postMessage({ id, op, args }, transfer);
    });
  }

  /// Fails every call in flight with `error`; their answers, should they come, are dropped.
  failPending(error) {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  /// Replaces a dead or poisoned worker; calls in flight fail with code "crashed".
  restart(reason) {
    this.worker.terminate();
    this.failPending(new GatitoError("crashed", `the worker stopped (${reason}) and was restarted`));
    this.spawn();
    this.onRestart(reason);
  }

  /// Stops the worker for good; calls in flight fail with `error`.
  terminate(error) {
    this.worker.terminate();
    this.failPending(error);
  }
}
