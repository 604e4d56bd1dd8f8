// Renders a scan result from its state: {link, sig, load: {phase, trace, error, seconds}, subject}.
// Everything from the server goes in through textContent, never as HTML.

import { countryName, formatDate, formatTime, getLang, loc, t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children, skipping null/false ones (replaceChildren would print them). */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child);
  return el;
}

const ICONS = {
  ok: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4z",
  bad: "M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z",
  warn: "M1 21h22L12 2 1 21zm12-3h-2v-2h2v2zm0-4h-2v-4h2v4z",
  info: "M11 7h2v2h-2zm0 4h2v6h-2zm1-9a10 10 0 1 0 0 20 10 10 0 0 0 0-20z",
  wait: "M12 2a10 10 0 1 0 10 10h-2a8 8 0 1 1-8-8z",
};

function icon(kind) {
  return s("svg", { class: `icon icon-${kind}`, viewBox: "0 0 24 24", "aria-hidden": "true",
    focusable: "false" }, s("path", { d: ICONS[kind] }));
}

// ------------------------------------------------------------------------------------ state

/** The signature state to show: the browser's own check, made worse by what the server says. */
export function signatureState(state) {
  const local = state.sig ? state.sig.state : "checking";
  const trace = state.load.trace;
  const server = trace && trace.status && trace.status.signature ? trace.status.signature.state : null;
  if (local === "checking") return server || "checking";
  if (local === "valid" && server && server !== "valid") return server;
  if ((local === "unavailable" || local === "unknown_key") && server) return server;
  return local;
}

/** The item is not on the chain: a 404, or a trace whose status says it was never registered. */
export function isUnknown(state) {
  const trace = state.load.trace;
  return state.load.phase === "unknown" || Boolean(trace && trace.status
    && trace.status.registered === false);
}

export function isGenuine(state) {
  const sig = signatureState(state);
  if (sig !== "valid") return sig === "checking" || sig === "unavailable" ? null : false;
  const trace = state.load.trace;
  if (trace && trace.status && trace.status.registered === false) return false;
  if (state.load.phase === "unknown") return false;
  return true;
}

function issuerName(state) {
  const trace = state.load.trace;
  const fromTrace = trace && trace.status && trace.status.signature && trace.status.signature.issuer;
  if (fromTrace) return loc(fromTrace.name);
  return state.sig && state.sig.key && state.sig.key.issuer ? loc(state.sig.key.issuer) : "";
}

// ------------------------------------------------------------------------------------ badges

function badge(kind, id, title, body) {
  return h("li", { class: `badge badge-${kind}`, id, "data-state": kind },
    icon(kind === "good" ? "ok" : kind === "bad" ? "bad" : kind === "warn" ? "warn" : kind === "wait" ? "wait" : "info"),
    h("div", {}, h("strong", { class: "badge-title", text: title }),
      body ? h("span", { class: "badge-body", text: body }) : null));
}

export function renderBadges(ul, state) {
  fill(ul);
  const sig = signatureState(state);
  const genuine = isGenuine(state);
  const trace = state.load.trace;
  const status = trace && trace.status;
  // 1. genuine
  if (sig === "checking") {
    ul.append(badge("wait", "badge-genuine", t("badge.checking"), ""));
  } else if (genuine === true) {
    const issuer = issuerName(state);
    const body = (issuer ? t("badge.genuine.valid", { issuer }) : t("badge.genuine.validNoIssuer"))
      + (getLang() === "zh" ? "" : " ") + t("badge.checkedHere");
    ul.append(badge("good", "badge-genuine", t("badge.genuine"), body));
  } else if (genuine === null) {
    ul.append(badge("info", "badge-genuine", t("badge.unchecked"), t("badge.sig.unavailable")));
  } else {
    const reason = sig === "valid" ? "unregistered" : sig;
    ul.append(badge("bad", "badge-genuine", t("badge.notGenuine"), t(`badge.sig.${reason}`)));
  }
  // 2. verified against the chain
  const phase = state.load.phase;
  if (phase === "loading" || phase === "slow") {
    ul.append(badge("wait", "badge-verified", t("badge.loading"), ""));
  } else if (isUnknown(state)) {
    // nothing on the chain to verify: the unknown-item alert says so
  } else if (status && status.verified && genuine === false) {
    ul.append(badge("info", "badge-verified", t("badge.verifiedOther"),
      t("badge.verifiedOther.body", { block: status.mirror_block ?? "—" })));
  } else if (status && status.verified) {
    ul.append(badge("good", "badge-verified", t("badge.verified"),
      t("badge.verified.body", { block: status.mirror_block ?? "—" })));
  } else if (status) {
    ul.append(badge("warn", "badge-verified", t("badge.notVerified"), t("badge.notVerified.body")));
  } else if (phase !== "unknown") {
    ul.append(badge("info", "badge-verified", t("badge.noHistory"), t("badge.noHistory.body")));
  }
  // 3. recall
  if (status && status.recalled) {
    ul.append(badge("bad", "badge-recall", t("badge.recalled"), ""));
  } else if (status && !isUnknown(state)) {
    ul.append(badge("good", "badge-recall", t("badge.notRecalled"), t("badge.notRecalled.body")));
  }
  // 4. clone warning, delivered
  if (status && status.clone_warning && status.clone_warning.suspected) {
    ul.append(badge("warn", "badge-clone", t("clone.title"), ""));
  }
  if (status && status.delivered) {
    const delivery = [...(trace.steps || [])].reverse()
      .find((st) => st.step && st.step.name === "consumer_receipt");
    ul.append(badge("info", "badge-delivered", t("badge.delivered"),
      delivery ? formatTime(delivery.time) : ""));
  }
}

// ------------------------------------------------------------------------------------ alerts

function recallStep(trace) {
  return [...(trace.steps || [])].reverse().find((st) => st.action === "recall"
    || (st.step && st.step.name === "recall"));
}

function docLink(d) {
  const title = d.title || d.doc_type || d.sha256.slice(0, 12);
  return d.public && d.download_url ? h("a", { href: d.download_url, text: title })
    : h("span", { text: title });
}

/** What the consumer is told about why: the recall's own reason or document, else the failed
 * inspection before it. */
function recallReasonNodes(trace, step) {
  if (trace.recall && trace.recall.reason) return [loc(trace.recall.reason)];
  if (step && step.reason) return [loc(step.reason)];
  const docs = (step && step.documents) || [];
  if (docs.length) return docs.map((d, i) => [i ? " · " : "", docLink(d)]).flat();
  const failed = [...(trace.steps || [])].reverse()
    .find((st) => st.inspection === "non_conformant");
  if (failed) {
    return [t("recall.failedInspection", { who: failed.enterprise ? loc(failed.enterprise.name) : "",
      when: formatDate(failed.time) }),
    ...(failed.documents || []).map((d) => [" ", docLink(d)]).flat()];
  }
  return [t("recall.noReason")];
}

export function renderAlerts(div, state, { onRetry, onCancel }) {
  fill(div);
  const { phase, trace, error, seconds } = state.load;
  const status = trace && trace.status;
  const sigState = signatureState(state);
  if (isGenuine(state) === false && sigState !== "valid" && !isUnknown(state)) {
    div.append(h("section", { class: "alert alert-bad", id: "counterfeit", role: "alert",
      "aria-labelledby": "counterfeit-title" },
    h("h2", { id: "counterfeit-title" }, icon("bad"), t("fake.title")),
    h("p", { text: t("fake.body") }),
    h("ol", { class: "todo" }, h("li", { text: t("fake.todo1") }),
      h("li", { text: t("fake.todo2") }))));
  }
  if (status && status.recalled) {
    const step = recallStep(trace);
    const importer = trace.product && trace.product.owner ? loc(trace.product.owner.name) : "";
    div.append(h("section", { class: "alert alert-bad", id: "recall", role: "alert",
      "aria-labelledby": "recall-title" },
    h("h2", { id: "recall-title" }, icon("bad"), t("recall.title")),
    h("p", { class: "recall-reason" }, h("strong", { text: t("recall.reason") }),
      ...recallReasonNodes(trace, step)),
    step && step.enterprise ? h("p", { class: "muted-strong",
      text: t("recall.by", { who: loc(step.enterprise.name), when: formatTime(step.time) }) })
      : null,
    h("p", {}, h("strong", { text: t("recall.todo") })),
    h("ol", { class: "todo" },
      h("li", { text: t("recall.todo1") }),
      h("li", { text: t("recall.todo2", { importer: importer ? (getLang() === "zh" ? `（${importer}）` : ` (${importer})`) : "" }) }),
      h("li", { text: t("recall.todo3") }))));
  }
  if (status && status.clone_warning && status.clone_warning.suspected) {
    const cw = status.clone_warning;
    div.append(h("section", { class: "alert alert-warn", id: "clone", role: "alert",
      "aria-labelledby": "clone-title" },
    h("h2", { id: "clone-title" }, icon("warn"), t("clone.title")),
    cw.message ? h("p", { text: loc(cw.message) }) : null,
    h("ul", {}, ...(cw.reasons || []).map((r) => h("li", { text: t(`clone.${r}`) }))),
    h("p", { text: t("clone.todo") })));
  }
  if (isUnknown(state)) {
    div.append(h("section", { class: "alert alert-bad", id: "unknown", role: "alert" },
      h("h2", {}, icon("bad"), t("unknown.title")), h("p", { text: t("unknown.body") }),
      h("ol", { class: "todo" }, h("li", { text: t("fake.todo1") }),
        h("li", { text: t("fake.todo2") }))));
  }
  if (phase === "loading" || phase === "slow") {
    div.append(h("div", { class: "alert alert-info", id: "progress", "aria-live": "polite" },
      h("p", { text: phase === "slow" ? t("load.slow", { s: seconds }) : t("load.progress") }),
      h("div", { class: "progress", role: "progressbar", "aria-label": t("load.progress"),
        "aria-valuetext": phase === "slow" ? t("load.slow", { s: seconds }) : t("load.progress") },
      h("span", {})),
      h("button", { type: "button", class: "secondary", onclick: onCancel, text: t("load.cancel") })));
  }
  if (phase === "offline" || phase === "failed" || phase === "cancelled") {
    const title = phase === "offline" ? t("load.offline") : phase === "cancelled"
      ? t("load.cancelled") : t("load.failed");
    const body = phase === "offline" ? t("load.offline.body")
      : phase === "cancelled" ? "" : t("load.failed.body", { why: error || "" });
    div.append(h("section", { class: "alert alert-warn", id: "load-error", role: "alert" },
      h("h2", {}, icon("warn"), title), body ? h("p", { text: body }) : null,
      h("button", { type: "button", class: "primary", onclick: onRetry, text: t("load.retry") })));
  }
  if (trace && trace.kind === "lot") div.append(h("p", { class: "notice", text: t("lotOnly.body") }));
}

// ------------------------------------------------------------------------------------ item card

function row(label, value, extra) {
  if (value === null || value === undefined || value === "") return null;
  return [h("dt", { text: label }), h("dd", {}, value, extra || null)];
}

function isExpired(date) {
  return Boolean(date) && new Date(date + "T23:59:59Z").getTime() < Date.now();
}

export function renderItem(article, state) {
  const { link } = state;
  const trace = state.load.trace;
  const product = trace && trace.product;
  const lotInfo = trace && trace.lot_info;
  const status = trace && !isUnknown(state) ? trace.status : null;
  const name = product ? loc(product.name) : "";
  const expiry = lotInfo && lotInfo.expiry_date;
  fill(article,
    h("h2", { id: "item-title", class: "item-name", text: name || t("result.item") }),
    product && product.brand ? h("p", { class: "brand-line", text: product.brand }) : null,
    h("dl", { class: "facts" },
      row(t("result.origin"), product && countryName(product.country_of_origin)),
      row(t("result.lot"), link.lot),
      row(t("result.serial"), link.serial),
      row(t("result.production"), lotInfo && formatDate(lotInfo.production_date)),
      row(t("result.expiry"), expiry && formatDate(expiry),
        isExpired(expiry) ? h("span", { class: "chip chip-bad", text: t("result.expired") }) : null),
      row(t("result.code"), link.gtin),
      row(t("result.owner"), product && product.owner && loc(product.owner.name)),
      row(t("result.now"), status && status.disposition && loc(status.disposition.label)),
      row(status && status.custody_ended ? t("result.lastResponsible") : t("result.responsible"),
        status && status.responsible && loc(status.responsible.name)),
      row(t("result.pending"), status && status.pending_receiver
        && loc(status.pending_receiver.name))));
  article.setAttribute("aria-labelledby", "item-title");
}

// ------------------------------------------------------------------------------------ timeline

function stepTitle(st) {
  if (st.step && st.step.label) return loc(st.step.label);
  return t(`action.${st.action}`);
}

function viaText(via) {
  if (!via || via === "item") return "";
  if (via === "lot") return t("timeline.via.lot");
  if (via.startsWith("unit:")) return t("timeline.via.unit", { unit: via.slice(5) });
  return via;
}

function enterpriseText(e) {
  if (!e) return "";
  const country = e.country ? ` · ${countryName(e.country)}` : "";
  return loc(e.name) + country;
}

function placeText(p) {
  if (!p) return "";
  return p.name ? loc(p.name) : `GLN ${p.gln}`;
}

function shortHash(hash) {
  return hash && hash.length > 14 ? `${hash.slice(0, 8)}…${hash.slice(-6)}` : hash || "";
}

export function renderTimeline(section, state) {
  const trace = state.load.trace;
  if (!trace || isUnknown(state)) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const steps = trace.steps || [];
  const list = h("ol", { class: "timeline", id: "timeline-list" });
  for (const st of steps) {
    const authority = st.step && st.step.authority;
    const recall = st.action === "recall";
    const facts = h("dl", { class: "step-facts" },
      row(t("timeline.by"), enterpriseText(st.enterprise)),
      row(st.action === "accept" ? t("timeline.from") : t("timeline.to"),
        (st.action === "dispatch" || st.action === "accept") ? enterpriseText(st.counterparty) : ""),
      row(t("timeline.place"), placeText(st.place)));
    const docs = (st.documents || []).length ? h("div", { class: "docs" },
      h("span", { class: "docs-label", text: t("timeline.docs") }),
      h("ul", {}, ...st.documents.map((d) => h("li", {},
        docLink(d),
        d.public ? null : h("span", { class: "muted", text: ` (${t("timeline.docPrivate")})` })))))
      : null;
    list.append(h("li", { class: `step${authority ? " step-authority" : ""}${recall ? " step-recall" : ""}`,
      "data-step": st.step ? st.step.name : st.action, "data-action": st.action },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("div", { class: "step-body" },
      h("p", { class: "step-time" }, h("time", { datetime: st.time || "", text: formatTime(st.time) })),
      h("h3", { class: "step-title" }, stepTitle(st),
        authority ? h("span", { class: "chip chip-authority", text: t("timeline.authority") }) : null),
      st.inspection ? h("p", { class: `chip ${st.inspection === "conformant" ? "chip-good" : "chip-bad"}`,
        "data-inspection": st.inspection },
      icon(st.inspection === "conformant" ? "ok" : "bad"),
      st.inspection === "conformant" ? t("timeline.pass") : t("timeline.fail")) : null,
      st.disposition && !st.inspection ? h("p", { class: "muted", text: loc(st.disposition.label) }) : null,
      facts, docs,
      viaText(st.via) ? h("p", { class: "muted", text: viaText(st.via) }) : null,
      h("p", { class: "tx" }, h("span", { text: `${t("timeline.chain")} ` }),
        h("code", { title: st.tx_hash, text: shortHash(st.tx_hash) }),
        ` · ${t("timeline.block", { n: st.block_number })}`))));
  }
  fill(section,
    h("h2", { id: "timeline-title", text: t("timeline.title") }),
    steps.length ? list : h("p", { class: "muted", text: t("timeline.empty") }));
}

// ------------------------------------------------------------------------------------ route

/** The distinct places in order (consecutive repeats merged), each with its steps. */
export function routeStops(steps) {
  const stops = [];
  for (const st of steps || []) {
    if (!st.place) continue;
    const last = stops[stops.length - 1];
    if (last && last.place.gln === st.place.gln) {
      last.steps.push(st);
      continue;
    }
    stops.push({ place: st.place, steps: [st] });
  }
  return stops;
}

export function renderRoute(section, state) {
  const trace = state.load.trace;
  if (!trace || isUnknown(state)) {
    section.hidden = true;
    return;
  }
  const stops = routeStops(trace.steps);
  section.hidden = false;
  if (!stops.length) {
    fill(section, h("h2", { id: "route-title", text: t("route.title") }),
      h("p", { class: "muted", text: t("route.none") }));
    return;
  }
  // A strip of numbered stops, then the same stops as a list with their names, steps and dates.
  const gap = stops.length > 1 ? Math.min(64, 280 / (stops.length - 1)) : 0;
  const width = 40 + gap * (stops.length - 1);
  const svg = s("svg", { class: "route-svg", viewBox: `0 0 ${width} 40`, role: "img",
    "aria-labelledby": "route-title route-desc", width: "100%", height: 40,
    preserveAspectRatio: "xMinYMid meet" });
  svg.append(s("line", { x1: 20, y1: 20, x2: width - 20, y2: 20, class: "route-line" }));
  stops.forEach((stop, i) => {
    const x = 20 + i * gap;
    const last = i === stops.length - 1;
    svg.append(s("circle", { cx: x, cy: 20, r: 13, class: `route-node${last ? " route-node-last" : ""}` }));
    const num = s("text", { x, y: 25, class: `route-num${last ? " route-num-last" : ""}`,
      "text-anchor": "middle" });
    num.textContent = String(i + 1);
    svg.append(num);
  });
  const list = h("ol", { class: "route-list", id: "route-list" },
    ...stops.map((stop) => h("li", {},
      h("strong", { text: placeText(stop.place) }),
      h("span", { class: "muted", text: [
        stop.steps.map(stepTitle).filter((v, j, a) => a.indexOf(v) === j).join(" · "),
        formatDate(stop.steps[0].time)].filter(Boolean).join(" — ") }))));
  fill(section,
    h("h2", { id: "route-title", text: t("route.title") }),
    h("p", { id: "route-desc", class: "muted", text: t("route.desc") }),
    svg, list);
}

// ------------------------------------------------------------------------------------ tech

export function renderTech(details, state) {
  const { link, subject } = state;
  const trace = state.load.trace;
  const uri = trace ? trace.uri : link.raw;
  fill(details,
    h("summary", { text: t("tech.title") }),
    h("dl", { class: "facts mono" },
      row(t("tech.uri"), uri),
      row(t("tech.path"), link.path),
      row(t("tech.subject"), (trace && trace.subject_id) || subject || ""),
      row(t("tech.kid"), state.sig && state.sig.kid),
      row(t("tech.block"), trace && trace.status && trace.status.mirror_block)));
}
