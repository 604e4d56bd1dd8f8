// Builds the scanner app on its own, for any static host: `npm run build:scanner [-- --resolver
// https://id.example.com]` writes scanner-app/dist/ with the app, the vendored modules it imports
// and a service worker listing every asset. The API does not need this: it serves scanner-app/
// and node_modules directly (api/routes/scan.py) and fills the same asset list in.
//
// A standalone build on another origin than the resolver needs the resolver to allow it (CORS),
// and the resolver's URL in <meta name="silktrace-resolver">, which --resolver sets.

import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";

const APP = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(APP);
const VENDOR = {
  "zxing-wasm": join(ROOT, "node_modules/zxing-wasm/dist"),
  "@noble/curves": join(ROOT, "node_modules/@noble/curves"),
  "@noble/hashes": join(ROOT, "node_modules/@noble/hashes"),
};
const ENTRIES = [
  "vendor/zxing-wasm/es/reader/index.js",
  "vendor/@noble/curves/ed25519.js",
  "vendor/@noble/hashes/sha3.js",
];
const EXTRA = ["vendor/zxing-wasm/reader/zxing_reader.wasm"];
const APP_SUFFIXES = [".html", ".css", ".js", ".mjs", ".svg", ".png", ".webmanifest", ".json"];
const IMPORT = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]*\s*from\s*)?["']([^"']+)["']/gm;

const args = process.argv.slice(2);
const resolverArg = args.indexOf("--resolver");
const resolver = resolverArg >= 0 ? args[resolverArg + 1] : "";
const outArg = args.indexOf("--out");
const DIST = outArg >= 0 ? args[outArg + 1] : join(APP, "dist");

function source(rel) {
  if (rel.startsWith("vendor/")) {
    const inner = rel.slice("vendor/".length);
    for (const [prefix, dir] of Object.entries(VENDOR)) {
      if (inner.startsWith(prefix + "/")) return join(dir, inner.slice(prefix.length + 1));
    }
    return null;
  }
  return join(APP, rel);
}

function exists(path) {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function closure(entry) {
  const seen = [];
  const todo = [entry];
  while (todo.length) {
    const rel = todo.pop();
    if (seen.includes(rel)) continue;
    const path = source(rel);
    if (!path || !exists(path)) {
      if (rel === entry) throw new Error(`${rel} is missing: run npm ci`);
      continue; // named in a doc comment only
    }
    seen.push(rel);
    if (!rel.endsWith(".js")) continue;
    for (const [, spec] of readFileSync(path, "utf8").matchAll(IMPORT)) {
      if (spec.startsWith("@noble/")) todo.push("vendor/" + spec);
      else if (spec.startsWith(".")) todo.push(posix.normalize(posix.join(posix.dirname(rel), spec)));
    }
  }
  return seen;
}

function ownFiles(dir = APP) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".") || name === "dist" || name === "node_modules") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...ownFiles(path));
    else if (APP_SUFFIXES.some((s) => name.endsWith(s)) && name !== "build.mjs" && name !== "sw.js") {
      out.push(relative(APP, path).split("\\").join("/"));
    }
  }
  return out.sort();
}

const own = ownFiles();
const vendor = [...new Set([...ENTRIES.flatMap(closure), ...EXTRA])].sort();
const assets = ["./", ...own, ...vendor];
const hash = createHash("sha256");
for (const rel of assets.slice(1)) hash.update(rel + "\0").update(readFileSync(source(rel))).update("\0");
const version = hash.digest("hex").slice(0, 16);

rmSync(DIST, { recursive: true, force: true });
for (const rel of [...own, ...vendor]) {
  const to = join(DIST, rel);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(source(rel), to);
}
const sw = readFileSync(join(APP, "sw.js"), "utf8").replace(
  /\/\* @assets[\s\S]*?\/\* @end \*\//,
  `const VERSION = ${JSON.stringify(version)};\nconst ASSETS = ${JSON.stringify(assets)};`,
);
writeFileSync(join(DIST, "sw.js"), sw);
if (resolver) {
  const index = join(DIST, "index.html");
  writeFileSync(index, readFileSync(index, "utf8").replace(
    '<meta name="silktrace-resolver" content="">',
    `<meta name="silktrace-resolver" content="${resolver.replace(/[^A-Za-z0-9:/._~%-]/g, "")}">`,
  ));
}
console.log(`${relative(ROOT, DIST) || DIST}: ${assets.length - 1} files, version ${version}`);
