// The scanner app: camera or photo -> Digital Link -> signature checked here -> trace loaded from
// the resolver -> badges, recall, item, route and timeline.

import { config } from "./config.js";
import { DigitalLinkError, parseDigitalLink } from "./dl.js";
import { applyStatic, getLang, onLangChange, setLang, t } from "./i18n.js";
import { CameraError, CameraScanner, decodePhoto } from "./scanner.js";
import { cachedKeySet, checkSignature, refreshKeySet, subjectId } from "./sig.js";
import {
  fill, h, renderAlerts, renderBadges, renderItem, renderRoute, renderTech, renderTimeline,
} from "./view.js";

const $ = (id) => document.getElementById(id);

const ui = {
  scanView: $("scan-view"),
  resultView: $("result-view"),
  video: $("video"),
  viewfinder: $("viewfinder"),
  camStatus: $("cam-status"),
  camera: $("camera"),
  photoButton: $("photo-button"),
  photo: $("photo"),
  manual: $("manual"),
  link: $("link"),
  scanMessage: $("scan-message"),
  badges: $("badges"),
  alerts: $("alerts"),
  item: $("item"),
  route: $("route"),
  timeline: $("timeline"),
  tech: $("tech"),
  again: $("again"),
  lang: $("lang"),
  shareLocation: $("share-location"),
  net: $("net"),
  resultTitle: $("result-title"),
};

let scanner = null;
let camStatusKey = "";
let scanMessage = null; // {kind, text} shown under the scanner
let result = null; // the state of the result view
let loadRun = 0;
let abort = null;
let lastRejected = "";

// ------------------------------------------------------------------------------------ scanning

function setCamStatus(key) {
  camStatusKey = key;
  ui.camStatus.textContent = key ? t(key) : "";
  ui.viewfinder.dataset.state = key.startsWith("cam.") ? "error" : scanner && scanner.running
    ? "running" : "idle";
  ui.camera.textContent = scanner && scanner.running ? t("scan.stop") : t("scan.start");
}

async function startCamera() {
  if (!scanner) scanner = new CameraScanner(ui.video, onCodes);
  setCamStatus("scan.starting");
  try {
    await scanner.start();
    setCamStatus("scan.searching");
  } catch (err) {
    setCamStatus(err instanceof CameraError ? `cam.${err.code}` : "cam.failed");
  }
}

function stopCamera() {
  if (scanner) scanner.stop();
  setCamStatus("cam.off");
  ui.viewfinder.dataset.state = "idle";
}

function onCodes(texts) {
  for (const text of texts) {
    if (handleText(text, "camera")) return;
  }
}

function showScanMessage(kind, text) {
  scanMessage = kind ? { kind, text } : null;
  renderScanMessage();
  if (kind) ui.scanMessage.scrollIntoView({ block: "nearest" });
}

function renderScanMessage() {
  const box = ui.scanMessage;
  if (!scanMessage) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const { kind, text } = scanMessage;
  const titles = {
    notSilkTrace: ["code.notSilkTrace", "code.notSilkTraceBody"],
    otherGs1: ["code.otherGs1", "code.otherGs1Body"],
    unit: ["code.notSilkTrace", "code.unit"],
    noCode: [null, "scan.noCodeInPhoto"],
    unreadable: [null, "scan.unreadablePhoto"],
    reading: [null, "scan.readingPhoto"],
  }[kind];
  box.hidden = false;
  box.dataset.kind = kind;
  box.className = `notice ${kind === "reading" ? "notice-info" : "notice-warn"}`;
  fill(box,
    titles[0] ? h("h2", { text: t(titles[0]) }) : null,
    h("p", { text: t(titles[1]) }),
    text ? h("p", { class: "scanned" }, h("span", { text: t("code.content") + " " }),
      h("code", { text: text.length > 200 ? text.slice(0, 200) + "…" : text })) : null);
}

function isSilkTraceLink(link) {
  if (link.params.has("sig")) return true;
  if (!link.origin) return true;
  if (link.origin === location.origin || link.origin === new URL(config.resolver).origin) return true;
  const keys = cachedKeySet();
  try {
    return Boolean(keys && keys.resolver_base_url
      && new URL(keys.resolver_base_url).origin === link.origin);
  } catch {
    return false;
  }
}

/** Act on a decoded or typed text; true when it opened a result. */
function handleText(text, source) {
  let link;
  try {
    link = parseDigitalLink(text);
  } catch (err) {
    if (!(err instanceof DigitalLinkError)) throw err;
    if (source !== "camera" || text !== lastRejected) showScanMessage("notSilkTrace", text);
    lastRejected = text;
    return false;
  }
  link.raw = text.trim();
  if (link.kind === "unit") {
    showScanMessage("unit", text);
    lastRejected = text;
    return false;
  }
  if (!isSilkTraceLink(link)) {
    showScanMessage("otherGs1", text);
    lastRejected = text;
    return false;
  }
  if (navigator.vibrate && source === "camera") navigator.vibrate(60);
  openResult(link, { push: true });
  return true;
}

async function onPhoto() {
  const file = ui.photo.files && ui.photo.files[0];
  ui.photo.value = "";
  if (!file) return;
  showScanMessage("reading", "");
  let texts;
  try {
    texts = await decodePhoto(file);
  } catch {
    showScanMessage("unreadable", "");
    return;
  }
  if (!texts.length) {
    showScanMessage("noCode", "");
    return;
  }
  for (const text of texts) {
    if (handleText(text, "photo")) return;
  }
}

// ------------------------------------------------------------------------------------ result

function hashFor(link) {
  return "#code=" + encodeURIComponent(link.raw);
}

function openResult(link, { push }) {
  if (scanner) scanner.stop();
  showScanMessage(null);
  refreshPosition();
  if (push) history.pushState({ code: link.raw }, "", hashFor(link));
  result = { link, sig: null, subject: null, load: { phase: "loading", trace: null, seconds: 0 } };
  ui.scanView.hidden = true;
  ui.resultView.hidden = false;
  renderResult();
  window.scrollTo(0, 0);
  ui.resultTitle.focus({ preventScroll: true });
  const current = result;
  checkSignature(link).then((sig) => {
    if (result !== current) return;
    current.sig = sig;
    renderResult();
  });
  subjectId(link.path).then((id) => {
    if (result !== current) return;
    current.subject = id;
    renderResult();
  }).catch(() => {});
  loadTrace();
}

// ------------------------------------------------------------------------------------ location

// Opt-in: a coarse position (0.1 degree, about 10 km) sent with the scan lets the resolver notice
// one code scanned far apart in a short time (a copied code).
const LOCATION_KEY = "silktrace.shareLocation";
let position = null; // {lat, lon, at}

function refreshPosition() {
  if (!ui.shareLocation.checked || !navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      const round = (v) => Math.round(v * 10) / 10;
      position = { lat: round(pos.coords.latitude), lon: round(pos.coords.longitude),
        at: Date.now() };
    },
    () => {
      position = null;
    },
    { enableHighAccuracy: false, maximumAge: 10 * 60 * 1000, timeout: 8000 },
  );
}

function traceUrl(link) {
  const query = new URLSearchParams();
  const sig = link.params.get("sig");
  if (sig) query.set("sig", sig);
  if (ui.shareLocation.checked && position && Date.now() - position.at < 15 * 60 * 1000) {
    query.set("lat", String(position.lat));
    query.set("lon", String(position.lon));
  }
  const qs = query.toString();
  return config.resolver + link.path + (qs ? `?${qs}` : "");
}

async function loadTrace() {
  const current = result;
  if (!current) return;
  const run = ++loadRun;
  if (abort) abort.abort();
  const controller = new AbortController();
  abort = controller;
  const started = Date.now();
  let timedOut = false;
  current.load = { phase: "loading", trace: null, seconds: 0 };
  renderResult();
  const ticker = setInterval(() => {
    if (run !== loadRun) return;
    const ms = Date.now() - started;
    if (ms >= config.slowAfterMs) {
      const wasSlow = current.load.phase === "slow";
      current.load = { ...current.load, phase: "slow", seconds: Math.round(ms / 1000) };
      if (!wasSlow) {
        renderResult();
      } else {
        // only the counter changes: keep the Cancel button (and its focus) in place
        const text = t("load.slow", { s: current.load.seconds });
        const line = document.querySelector("#progress p");
        if (line) line.textContent = text;
        document.querySelector("#progress [role=progressbar]")?.setAttribute("aria-valuetext", text);
      }
    }
    if (ms >= config.traceTimeoutMs) {
      timedOut = true;
      controller.abort();
    }
  }, 1000);
  let next;
  try {
    const res = await fetch(traceUrl(current.link), {
      headers: { Accept: "application/json" },
      signal: controller.signal,
      cache: "no-store",
    });
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (res.ok && body && body.status && Array.isArray(body.steps)) {
      next = { phase: "done", trace: body };
    } else if (res.status === 404) {
      next = { phase: "unknown", trace: null, error: body && body.error && body.error.code };
    } else {
      const why = body && body.error ? body.error.message : `HTTP ${res.status}`;
      next = { phase: "failed", trace: null, error: why };
    }
  } catch (err) {
    if (err && err.name === "AbortError") {
      next = timedOut ? { phase: "failed", trace: null, error: t("load.timeout") }
        : { phase: "cancelled", trace: null };
    } else {
      next = { phase: navigator.onLine === false ? "offline" : "failed", trace: null,
        error: navigator.onLine === false ? "" : String((err && err.message) || err) };
      if (next.phase === "failed" && /fetch|network/i.test(next.error)) next.phase = "offline";
    }
  } finally {
    clearInterval(ticker);
  }
  if (run !== loadRun || result !== current) return;
  abort = null;
  current.load = next;
  renderResult();
}

function cancelLoad() {
  if (abort) abort.abort();
}

function renderResult() {
  if (!result) return;
  const handlers = { onRetry: loadTrace, onCancel: cancelLoad };
  ui.resultView.dataset.phase = result.load.phase;
  ui.resultView.setAttribute("aria-busy", String(["loading", "slow"].includes(result.load.phase)));
  renderBadges(ui.badges, result);
  renderAlerts(ui.alerts, result, handlers);
  renderItem(ui.item, result);
  renderRoute(ui.route, result);
  renderTimeline(ui.timeline, result);
  renderTech(ui.tech, result);
}

function showScanner({ push }) {
  if (abort) abort.abort();
  result = null;
  if (push) history.pushState({}, "", location.pathname + location.search);
  ui.resultView.hidden = true;
  ui.scanView.hidden = false;
  lastRejected = "";
  startCamera();
}

function codeFromHash() {
  const m = /^#code=(.+)$/.exec(location.hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

function route() {
  const code = codeFromHash();
  if (code) {
    let link;
    try {
      link = parseDigitalLink(code);
      link.raw = code;
    } catch {
      link = null;
    }
    if (link && link.kind !== "unit") {
      openResult(link, { push: false });
      return;
    }
  }
  showScanner({ push: false });
}

// ------------------------------------------------------------------------------------ wiring

function updateNet() {
  ui.net.hidden = navigator.onLine !== false;
}

function init() {
  applyStatic();
  setCamStatus("");
  updateNet();
  ui.lang.addEventListener("click", () => setLang(getLang() === "zh" ? "en" : "zh"));
  onLangChange(() => {
    setCamStatus(camStatusKey);
    renderScanMessage();
    renderResult();
  });
  ui.camera.addEventListener("click", () => {
    if (scanner && scanner.running) stopCamera();
    else startCamera();
  });
  ui.photoButton.addEventListener("click", () => ui.photo.click());
  ui.photo.addEventListener("change", onPhoto);
  ui.manual.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.link.value.trim();
    if (text) handleText(text, "manual");
  });
  ui.again.addEventListener("click", () => showScanner({ push: true }));
  try {
    ui.shareLocation.checked = localStorage.getItem(LOCATION_KEY) === "1";
  } catch {
    ui.shareLocation.checked = false;
  }
  if (!navigator.geolocation) ui.shareLocation.disabled = true;
  ui.shareLocation.addEventListener("change", () => {
    try {
      localStorage.setItem(LOCATION_KEY, ui.shareLocation.checked ? "1" : "0");
    } catch {
      /* storage blocked */
    }
    if (ui.shareLocation.checked) refreshPosition();
    else position = null;
  });
  refreshPosition();
  window.addEventListener("popstate", route);
  window.addEventListener("online", () => {
    updateNet();
    refreshKeySet();
    if (result && ["offline", "failed"].includes(result.load.phase)) loadTrace();
  });
  window.addEventListener("offline", updateNet);
  document.addEventListener("visibilitychange", () => {
    if (!scanner || ui.scanView.hidden) return;
    if (document.hidden) scanner.stop();
    else if (!scanner.running && camStatusKey === "scan.searching") startCamera();
  });
  refreshKeySet();
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("sw.js").catch(() => {});
  }
  route();
  document.documentElement.dataset.ready = "true";
}

init();
