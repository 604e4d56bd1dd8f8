// Service worker: the app shell and its vendored modules are cached at install, so that the app
// opens and checks signatures offline; the issuers' key set is network-first with a cached
// fallback; trace requests always go to the network (the history must be live).

/* @assets: the server (api/routes/scan.py) and build.mjs replace this block */
const VERSION = "dev";
const ASSETS = ["./", "index.html", "app.css", "js/app.js"];
/* @end */

const CACHE = `silktrace-scanner-${VERSION}`;
const KEYS_CACHE = "silktrace-qr-keys";
const KEYS_PATH = "/.well-known/silktrace/qr-keys.json";
const SCOPE = new URL(self.registration.scope);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((path) => new Request(new URL(path, SCOPE), { cache: "reload" })));
    try {
      const keys = await fetch(new URL(KEYS_PATH, SCOPE), { cache: "no-cache" });
      if (keys.ok) await (await caches.open(KEYS_CACHE)).put(KEYS_PATH, keys);
    } catch {
      /* offline at install: the page caches the key set itself too */
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("silktrace-scanner-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function keysNetworkFirst(request) {
  const cache = await caches.open(KEYS_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(KEYS_PATH, response.clone());
    return response;
  } catch (err) {
    const cached = await cache.match(KEYS_PATH);
    if (cached) return cached;
    throw err;
  }
}

async function shellCacheFirst(request) {
  const cache = await caches.open(CACHE);
  const url = new URL(request.url);
  const key = request.mode === "navigate" && url.pathname === SCOPE.pathname ? new URL("./", SCOPE)
    : url;
  key.search = "";
  key.hash = "";
  const cached = await cache.match(key.href);
  if (cached) return cached;
  try {
    return await fetch(request);
  } catch (err) {
    if (request.mode === "navigate") {
      const shell = await cache.match(new URL("./", SCOPE).href);
      if (shell) return shell;
    }
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin) return;
  if (url.pathname === KEYS_PATH) {
    event.respondWith(keysNetworkFirst(request));
  } else if (url.pathname.startsWith(SCOPE.pathname)) {
    event.respondWith(shellCacheFirst(request));
  }
});
