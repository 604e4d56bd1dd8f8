// The QR signature scheme silktrace-qr-v1 (docs/qr-signature.md), checked in the browser:
// Ed25519 over "SilkTrace-QR-v1|" + canonical Digital Link path, with the issuer's key from the
// well-known key set, which is cached so that the check works offline.

import { config } from "./config.js";

const PREFIX = "SilkTrace-QR-v1|";
const CACHE_KEY = "silktrace.qrKeys";

export function b64urlToBytes(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error("not base64url");
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** {kid, enterpriseId, version, signature} or null when the parameter is malformed. */
export function parseSig(value) {
  if (typeof value !== "string") return null;
  const parts = value.split(".");
  if (parts.length !== 3 || !/^\d{1,9}$/.test(parts[0]) || !/^\d{1,9}$/.test(parts[1])) return null;
  let signature;
  try {
    signature = b64urlToBytes(parts[2]);
  } catch {
    return null;
  }
  if (signature.length !== 64) return null;
  const enterpriseId = Number(parts[0]);
  const version = Number(parts[1]);
  return { kid: `${enterpriseId}.${version}`, enterpriseId, version, signature };
}

// ------------------------------------------------------------------------------------ key set

function readCache() {
  try {
    const cached = JSON.parse(localStorage.getItem(CACHE_KEY) || "null");
    return cached && Array.isArray(cached.keys) ? cached : null;
  } catch {
    return null;
  }
}

let memory = readCache();
let inflight = null;

export function cachedKeySet() {
  return memory;
}

/** Fetch the key set (and cache it); resolves to the cached one, or null, when offline. */
export function refreshKeySet() {
  if (inflight) return inflight;
  inflight = (async () => {
    try {
      const res = await fetch(config.keysUrl, {
        headers: { Accept: "application/json" },
        cache: "no-cache",
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      if (!body || !Array.isArray(body.keys)) throw new Error("not a key set");
      memory = { ...body, fetched_at: new Date().toISOString() };
      try {
        localStorage.setItem(CACHE_KEY, JSON.stringify(memory));
      } catch {
        /* private mode: keep it in memory */
      }
    } catch {
      /* offline or server down: keep the cached one */
    } finally {
      inflight = null;
    }
    return memory;
  })();
  return inflight;
}

// ------------------------------------------------------------------------------------ Ed25519

async function ed25519Verify(publicKey, signature, message) {
  let key = null;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    key = null; // no Ed25519 in this WebCrypto, or no crypto.subtle (plain http)
  }
  if (key) {
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
    } catch {
      return false;
    }
  }
  // RFC 8032 in JS, strict like OpenSSL on the server (no ZIP-215 leniency).
  const { ed25519 } = await import("@noble/curves/ed25519.js");
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export async function subjectId(path) {
  const { keccak_256 } = await import("@noble/hashes/sha3.js");
  const digest = keccak_256(new TextEncoder().encode(path));
  return "0x" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Check a scanned Digital Link's signature offline. Returns {state, kid, key} with state one of
 * valid, invalid, missing, unknown_key, revoked_key, unavailable (no key set cached yet).
 */
export async function checkSignature(link, { refresh = true } = {}) {
  const raw = link.params.get("sig");
  if (raw === null || raw === "") return { state: "missing", kid: null, key: null };
  const sig = parseSig(raw);
  if (!sig) return { state: "invalid", kid: null, key: null, reason: "malformed" };
  let keySet = memory;
  let key = keySet?.keys.find((k) => k.kid === sig.kid);
  if (!key && refresh) {
    keySet = await refreshKeySet();
    key = keySet?.keys.find((k) => k.kid === sig.kid);
  }
  if (!keySet) return { state: "unavailable", kid: sig.kid, key: null };
  if (!key) return { state: "unknown_key", kid: sig.kid, key: null };
  if (key.status === "revoked") return { state: "revoked_key", kid: sig.kid, key };
  let publicKey;
  try {
    publicKey = b64urlToBytes(key.x);
  } catch {
    return { state: "invalid", kid: sig.kid, key };
  }
  if (publicKey.length !== 32) return { state: "invalid", kid: sig.kid, key };
  const prefix = keySet.message_prefix || PREFIX;
  const message = new TextEncoder().encode(prefix + link.path);
  const ok = await ed25519Verify(publicKey, sig.signature, message);
  return { state: ok ? "valid" : "invalid", kid: sig.kid, key };
}
