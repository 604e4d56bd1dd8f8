// Where the app finds the resolver and the key set. Served by the API at /scan, both are on the
// same origin; a standalone build names the resolver in <meta name="silktrace-resolver">.

const meta = document.querySelector('meta[name="silktrace-resolver"]');
const resolver = (meta && meta.content.trim()) || location.origin;

export const config = {
  resolver: resolver.replace(/\/+$/, ""),
  keysUrl: resolver.replace(/\/+$/, "") + "/.well-known/silktrace/qr-keys.json",
  traceTimeoutMs: 30000,
  slowAfterMs: 4000,
};
