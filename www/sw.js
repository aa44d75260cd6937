// The service worker: after the first visit the page works offline. Every same-origin GET goes
// to the network first, so an online visitor (and every test) always gets the current files;
// the copy kept in the cache answers only when the network fails. The cache is named after the
// build (build.js, written by build.sh), and older builds' caches are deleted on activation.
// Model weights are not kept here: the page's worker keeps them, checked, in its own cache.
import { BUILD } from "./build.js";

const CACHE = `gatito-shell-${BUILD}`;
const SHELL = [
  "./",
  "index.html",
  "style.css",
  "icon.svg",
  "app.js",
  "view.js",
  "live.js",
  "build.js",
  "panels/play.js",
  "panels/control.js",
  "panels/instruct.js",
  "panels/see.js",
  "panels/tokens.js",
  "gatito/index.js",
  "gatito/client.js",
  "gatito/errors.js",
  "gatito/worker.js",
  "gatito/wasm/gatito.js",
  "gatito/wasm/gatito_bg.wasm",
  "gatito/wasm/relaxed/gatito.js",
  "gatito/wasm/relaxed/gatito_bg.wasm",
  "models/gatito-s/manifest.json",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  const stale = (name) => name.startsWith("gatito-shell-") && name !== CACHE;
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter(stale).map((name) => caches.delete(name)))).then(() => self.clients.claim()),
  );
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.endsWith(".safetensors")) return;
  event.respondWith(networkFirst(event.request));
});
