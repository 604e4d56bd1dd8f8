// GS1 Digital Link parsing, the same rules as silktrace/gs1.py: any host, any path prefix, the
// primary key 01 (GTIN) or 00 (SSCC), qualifiers 10 (lot) then 21 (serial), and the canonical
// path (uncompressed, every byte outside A-Z a-z 0-9 - . _ ~ percent-encoded in upper-case hex)
// that QR signatures and on-chain subject ids are computed from.

const CSET82 = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export class DigitalLinkError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export function checkDigit(body) {
  let total = 0;
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(body.length - 1 - i) - 48;
    total += d * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (total % 10)) % 10;
}

function checked(value, length, code) {
  if (!/^\d+$/.test(value) || value.length !== length) throw new DigitalLinkError(code, value);
  if (Number(value[value.length - 1]) !== checkDigit(value.slice(0, -1))) {
    throw new DigitalLinkError("invalid_check_digit", value);
  }
  return value;
}

export function normalizeGtin(gtin) {
  if (!/^\d+$/.test(gtin) || ![8, 12, 13, 14].includes(gtin.length)) {
    throw new DigitalLinkError("invalid_gtin", gtin);
  }
  return checked(gtin.padStart(14, "0"), 14, "invalid_gtin");
}

/** Percent-encode a lot or serial as Python's quote(value, safe="-._~") does (UTF-8, upper hex). */
export function encodeComponent(value) {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const ch = String.fromCharCode(byte);
    out += byte < 128 && UNRESERVED.test(ch)
      ? ch
      : "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function decodeComponent(value) {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new DigitalLinkError("invalid_digital_link", value);
  }
}

/**
 * Parse a Digital Link URI (or a bare path). Returns
 * {kind, gtin, lot, serial, sscc, path, lotPath, params, origin} or throws DigitalLinkError.
 */
export function parseDigitalLink(text) {
  const raw = String(text || "").trim();
  let url;
  try {
    url = new URL(raw, "https://relative.invalid");
  } catch {
    throw new DigitalLinkError("not_a_link", raw);
  }
  if (!/^https?:$/.test(url.protocol)) throw new DigitalLinkError("not_a_link", raw);
  const relative = url.origin === "https://relative.invalid";
  if (relative && !raw.startsWith("/")) throw new DigitalLinkError("not_a_link", raw);
  const segments = url.pathname.split("/").filter((s) => s !== "");
  const start = segments.findIndex((s) => s === "01" || s === "00");
  if (start < 0 || (segments.length - start) % 2) {
    throw new DigitalLinkError("not_a_digital_link", raw);
  }
  const pairs = [];
  for (let i = start; i < segments.length; i += 2) {
    pairs.push([segments[i], decodeComponent(segments[i + 1])]);
  }
  const params = new URLSearchParams(url.search);
  const origin = relative ? null : url.origin;
  const [primary, value] = pairs[0];
  if (primary === "00") {
    if (pairs.length > 1) throw new DigitalLinkError("invalid_digital_link", raw);
    const sscc = checked(value, 18, "invalid_sscc");
    return { kind: "unit", sscc, gtin: null, lot: null, serial: null, path: `/00/${sscc}`,
      lotPath: null, params, origin };
  }
  const allowed = ["10", "21"];
  const seen = {};
  let last = -1;
  for (const [ai, v] of pairs.slice(1)) {
    const idx = allowed.indexOf(ai);
    if (idx < 0) throw new DigitalLinkError("unsupported_qualifier", ai);
    if (idx <= last) throw new DigitalLinkError("qualifier_order", raw);
    last = idx;
    seen[ai] = v;
  }
  const gtin = normalizeGtin(value);
  const lot = seen["10"] ?? null;
  const serial = seen["21"] ?? null;
  if (lot !== null && !CSET82.test(lot)) throw new DigitalLinkError("invalid_lot", lot);
  if (serial !== null && !CSET82.test(serial)) throw new DigitalLinkError("invalid_serial", serial);
  if (serial !== null && lot === null) throw new DigitalLinkError("invalid_digital_link", raw);
  let path = `/01/${gtin}`;
  let lotPath = null;
  if (lot !== null) {
    path += `/10/${encodeComponent(lot)}`;
    lotPath = path;
  }
  if (serial !== null) path += `/21/${encodeComponent(serial)}`;
  const kind = serial !== null ? "item" : lot !== null ? "lot" : "product";
  return { kind, gtin, lot, serial, sscc: null, path, lotPath, params, origin };
}
