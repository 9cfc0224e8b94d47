// coordbot sandbox page: a small Slack workspace in one page.
// Polls GET /sandbox/state, renders sidebar, messages, threads, App Home, modals, the clock and the Web API log,
// and sends what the person does to the sandbox backend (POST /sandbox/...). Contract: sandbox-contract.md.
// Nothing the bot or a person wrote ever goes through innerHTML: everything is built as DOM nodes.

import { renderBlocks, renderMrkdwn, renderText, renderView, collectValues, emoji } from "./blockkit.js";

const POLL_MS = 500;
const FALLBACK_PERSON = "U_ALICE"; // asked for when the backend refuses the remembered (or a missing) ?as=
class Refusal extends Error {}
const HOME = "home";
const FOCUSABLE = 'button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])';

// ---------------------------------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (id) => document.getElementById(id);

function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "hidden") el.hidden = true;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  lock: [["path", { d: "M4.5 7V5.2a3.5 3.5 0 0 1 7 0V7h.8c.4 0 .7.3.7.7v6.1c0 .4-.3.7-.7.7H3.7a.7.7 0 0 1-.7-.7V7.7c0-.4.3-.7.7-.7h.8zm1.6 0h3.8V5.2a1.9 1.9 0 0 0-3.8 0V7z", fill: "currentColor" }]],
  home: [["path", { d: "M8 1.8 1.5 7.3l1 1.1.9-.8v6.2c0 .4.3.7.7.7h2.8v-4.2h2.2v4.2h2.8c.4 0 .7-.3.7-.7V7.6l.9.8 1-1.1z", fill: "currentColor" }]],
  hash: [["path", { d: "M6.5 2 5.6 14M10.4 2l-.9 12M2.5 5.8h11.2M2.2 10.2h11.2", fill: "none", stroke: "currentColor", "stroke-width": "1.5", "stroke-linecap": "round" }]],
  reaction: [
    ["circle", { cx: "7.5", cy: "8.5", r: "5.5", fill: "none", stroke: "currentColor", "stroke-width": "1.4" }],
    ["circle", { cx: "5.6", cy: "7.3", r: ".9", fill: "currentColor" }],
    ["circle", { cx: "9.4", cy: "7.3", r: ".9", fill: "currentColor" }],
    ["path", { d: "M5.2 10a2.7 2.7 0 0 0 4.6 0", fill: "none", stroke: "currentColor", "stroke-width": "1.3", "stroke-linecap": "round" }],
    ["path", { d: "M13.5 1v4M11.5 3h4", fill: "none", stroke: "currentColor", "stroke-width": "1.3", "stroke-linecap": "round" }],
  ],
  thread: [["path", { d: "M2.5 3.2c0-.4.3-.7.7-.7h9.6c.4 0 .7.3.7.7v6.6c0 .4-.3.7-.7.7H7.2L4.3 13.2v-2.7H3.2a.7.7 0 0 1-.7-.7z", fill: "none", stroke: "currentColor", "stroke-width": "1.4", "stroke-linejoin": "round" }]],
  more: [
    ["circle", { cx: "8", cy: "3.2", r: "1.4", fill: "currentColor" }],
    ["circle", { cx: "8", cy: "8", r: "1.4", fill: "currentColor" }],
    ["circle", { cx: "8", cy: "12.8", r: "1.4", fill: "currentColor" }],
  ],
  code: [["path", { d: "M5.5 3.5 1.8 8l3.7 4.5M10.5 3.5 14.2 8l-3.7 4.5", fill: "none", stroke: "currentColor", "stroke-width": "1.5", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
  eye: [
    ["path", { d: "M1.2 8S3.7 3.5 8 3.5 14.8 8 14.8 8 12.3 12.5 8 12.5 1.2 8 1.2 8z", fill: "none", stroke: "currentColor", "stroke-width": "1.3" }],
    ["circle", { cx: "8", cy: "8", r: "2", fill: "currentColor" }],
  ],
  send: [["path", { d: "M2 2.5 14.5 8 2 13.5l1.6-5.5zm1.6 5.5h5", fill: "currentColor", stroke: "currentColor", "stroke-width": "1", "stroke-linejoin": "round" }]],
  down: [["path", { d: "M8 3v10M3.5 8.5 8 13l4.5-4.5", fill: "none", stroke: "currentColor", "stroke-width": "1.6", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
};

function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", cls);
  for (const [tag, attrs] of ICONS[name] || []) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    svg.append(node);
  }
  return svg;
}

const srOnly = (text) => h("span", { class: "sr-only" }, text);

// Remember which control had the focus inside `root` (by its position), to put it back after a re-render.
function captureFocus(root) {
  const a = document.activeElement;
  if (!a || a === document.body || !root.contains(a)) return null;
  const item = a.closest("[data-key]");
  const scope = item && root.contains(item) ? item : root;
  const list = [...scope.querySelectorAll(FOCUSABLE)];
  const info = { key: item && scope === item ? item.dataset.key : null, index: list.indexOf(a), fk: a.dataset ? a.dataset.fk : null };
  try {
    if (typeof a.selectionStart === "number") info.sel = [a.selectionStart, a.selectionEnd];
  } catch { /* not a text control */ }
  return info;
}

function restoreFocus(root, info) {
  if (!info) return;
  const a = document.activeElement;
  if (a && a !== document.body && root.contains(a)) return; // still focused (element kept)
  let scope = root;
  if (info.key) scope = [...root.querySelectorAll("[data-key]")].find((e) => e.dataset.key === info.key) || null;
  if (!scope) return;
  const list = [...scope.querySelectorAll(FOCUSABLE)];
  const target = (info.fk && list.find((e) => e.dataset.fk === info.fk)) || list[info.index];
  if (!target) return;
  target.focus({ preventScroll: true });
  if (info.sel) {
    try { target.setSelectionRange(info.sel[0], info.sel[1]); } catch { /* not a text control */ }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Time formatting (always in the viewer's time zone)

const fmtCache = new Map();
function fmt(tz, opts, locale = "en-GB") {
  const key = `${locale}|${tz}|${JSON.stringify(opts)}`;
  let f = fmtCache.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: tz || "UTC" });
    } catch {
      f = new Intl.DateTimeFormat(locale, { ...opts, timeZone: "UTC" });
    }
    fmtCache.set(key, f);
  }
  return f;
}

function parts(date, tz, opts, locale) {
  const out = {};
  for (const p of fmt(tz, opts, locale).formatToParts(date)) out[p.type] = p.value;
  return out;
}

const CLOCK_OPTS = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
function clockText(date, tz) {
  const p = parts(date, tz, CLOCK_OPTS);
  return `${p.weekday} ${p.day} ${p.month} ${p.hour}:${p.minute}`;
}
function hhmm(date, tz) {
  const p = parts(date, tz, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `${p.hour}:${p.minute}`;
}
function hhmmss(date, tz) {
  const p = parts(date, tz, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  return `${p.hour}:${p.minute}:${p.second}`;
}
const YMD_OPTS = { year: "numeric", month: "2-digit", day: "2-digit" };
function dayKey(date, tz) {
  const p = parts(date, tz, YMD_OPTS, "en-CA");
  return `${p.year}-${p.month}-${p.day}`;
}
function localInputValue(date, tz) {
  const p = parts(date, tz, { ...YMD_OPTS, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, "en-CA");
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}
function fullDate(date, tz) {
  const p = parts(date, tz, { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  return `${p.weekday} ${p.day} ${p.month} ${p.year}, ${p.hour}:${p.minute} (${tz})`;
}
function dayLabel(date, tz, now) {
  const k = dayKey(date, tz);
  if (now) {
    if (k === dayKey(now, tz)) return "Today";
    if (k === dayKey(new Date(now.getTime() - 86400000), tz)) return "Yesterday";
  }
  const p = parts(date, tz, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const sameYear = now && parts(now, tz, { year: "numeric" }).year === p.year;
  return `${p.weekday}, ${p.day} ${p.month}${sameYear ? "" : " " + p.year}`;
}

const tsDate = (ts) => new Date(parseFloat(ts) * 1000);
function tsKey(ts) {
  const [s, f = ""] = String(ts).split(".");
  return s.padStart(12, "0") + "." + f.padEnd(6, "0");
}
const tsCompare = (a, b) => (tsKey(a) < tsKey(b) ? -1 : tsKey(a) > tsKey(b) ? 1 : 0);

function parseNow(s) {
  const d = new Date(s);
  return isNaN(d) ? null : d;
}

// ---------------------------------------------------------------------------------------------------------------
// Application state

const params = new URLSearchParams(location.search);
const store = {
  get(k) { try { return localStorage.getItem(k); } catch { return null; } },
  set(k, v) { try { localStorage.setItem(k, v); } catch { /* private mode */ } },
};

const app = {
  as: params.get("as") || store.get("coordbot-sandbox.as") || null,
  state: null,
  version: null,
  current: decodeURIComponent(location.hash.slice(1)) || null,
  thread: null, // {channel, ts}
  inflight: false,
  again: false,
  down: false,
  users: new Map(),
  convs: new Map(),
  ctxBase: null,
  ctxKey: "",
  lists: { main: new Map(), thread: new Map() }, // key -> {li, sig}
  openJson: new Set(), // `${scope}|${key}`
  popover: null, // {scope, key, kind}
  dismissed: new Set(),
  sigs: {},
  seen: null, // conversation id -> last seen ts (per viewer)
  homeOpenedFor: null,
  forceBottom: true,
  lastMainConv: null,
};

function viewer() {
  return (app.state && app.state.viewer) || { id: app.as, tz: "UTC", locale: "en-US" };
}
const viewerTz = () => viewer().tz || "UTC";

// ---------------------------------------------------------------------------------------------------------------
// Talking to the backend

function setDown(down) {
  if (down === app.down) return;
  app.down = down;
  $("banner").hidden = !down;
  document.body.classList.toggle("is-down", down);
  if (!down) app.version = null; // the backend may have restarted: take a full state next time
}

async function poll(force = false) {
  if (app.inflight) {
    if (force) app.again = true;
    return;
  }
  app.inflight = true;
  const as = app.as;
  let data = null;
  try {
    const q = new URLSearchParams();
    if (as) q.set("as", as);
    if (app.version != null) q.set("since", String(app.version));
    const r = await fetch("/sandbox/state?" + q, { cache: "no-store" });
    if (r.status === 400) {
      // the backend is up but refused: most likely an unknown or missing person (?as=)
      let err = null;
      try { err = await r.json(); } catch { err = null; }
      setDown(false);
      if (app.as !== FALLBACK_PERSON) {
        app.as = FALLBACK_PERSON;
        app.version = null;
        app.again = true;
      } else {
        setStatus((err && err.error) || "The sandbox refused to show the state", "error");
      }
      throw new Refusal();
    }
    if (!r.ok) throw new Error("HTTP " + r.status);
    data = await r.json();
    const wasDown = app.down;
    setDown(false);
    if (wasDown) { app.version = null; app.again = true; data = null; }
  } catch (e) {
    if (!(e instanceof Refusal)) setDown(true);
  }
  app.inflight = false;
  if (data && as === app.as && !data.unchanged && data.version !== undefined) {
    try {
      applyState(data);
    } catch (e) {
      console.error(e);
      setStatus("The page could not show the new state: " + e.message, "error");
    }
  }
  if (app.again) {
    app.again = false;
    poll();
  }
}

const pollNow = () => poll(true);

async function api(path, body) {
  let res;
  try {
    const r = await fetch("/sandbox/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ as: app.as, ...body }),
    });
    try {
      res = await r.json();
    } catch {
      res = null;
    }
    if (!res || typeof res !== "object") res = { ok: false, error: `The sandbox answered HTTP ${r.status}` };
  } catch {
    res = { ok: false, error: "The sandbox is not answering (stopped?)" };
    setDown(true);
  }
  pollNow();
  if (!res.ok) setStatus(res.error || "Something went wrong", "error");
  else if ($("status").classList.contains("is-error")) setStatus("");
  return res;
}

function setStatus(text, kind = "info") {
  const el = $("status");
  el.textContent = text || "";
  el.classList.toggle("is-error", kind === "error" && !!text);
  el.classList.toggle("is-empty", !text);
}

// ---------------------------------------------------------------------------------------------------------------
// State → page

function applyState(s) {
  const prevViewer = app.state && app.state.viewer;
  app.state = s;
  app.version = s.version;
  if (s.viewer && s.viewer.id && s.viewer.id !== app.as) {
    app.as = s.viewer.id;
  }
  if (!prevViewer || !s.viewer || prevViewer.id !== s.viewer.id) rememberViewer();
  app.users = new Map((s.users || []).map((u) => [u.id, u]));
  app.convs = new Map((s.conversations || []).map((c) => [c.id, c]));
  const v = viewer();
  const users = {};
  for (const u of s.users || []) users[u.id] = u;
  const channels = {};
  for (const c of s.conversations || []) channels[c.id] = { ...c, name: c.name };
  app.ctxBase = { viewer: { id: v.id, tz: v.tz, locale: v.locale }, users, channels };
  const ctxKey = JSON.stringify([app.ctxBase.viewer,
    (s.users || []).map((u) => [u.id, u.name, u.real_name, u.display_name]),
    (s.conversations || []).map((c) => [c.id, c.name]), s.bot, s.reaction_choices, s.shortcuts]);
  if (ctxKey !== app.ctxKey) {
    app.ctxKey = ctxKey;
    app.lists.main.clear();
    app.lists.thread.clear();
    app.sigs = {};
  }
  loadSeen();
  const steps = [renderTeam, renderWho, renderClock, ensureCurrent, renderMain, renderThread, renderSidebar, syncModal, renderCalls, maybeHomeOpened];
  for (const step of steps) {
    try {
      step();
    } catch (e) {
      console.error(step.name, e);
      setStatus(`The page failed in ${step.name}: ${e.message}`, "error");
    }
  }
}

function rememberViewer() {
  if (!app.as) return;
  store.set("coordbot-sandbox.as", app.as);
  const url = new URL(location.href);
  if (url.searchParams.get("as") !== app.as) {
    url.searchParams.set("as", app.as);
    history.replaceState(null, "", url);
  }
}

function changed(name, sig) {
  if (app.sigs[name] === sig) return false;
  app.sigs[name] = sig;
  return true;
}

// --- top bar

function renderTeam() {
  const team = app.state.team || {};
  if (!changed("team", JSON.stringify(team))) return;
  const name = team.name || "Sandbox";
  $("team-name").textContent = name;
  $("sidebar-team").textContent = name;
  $("team-logo").textContent = Array.from(name)[0] || "S";
}

function personLabel(u) {
  return `${u.real_name || u.name} (${u.locale || "?"}, ${u.tz || "UTC"})`;
}

function renderWho() {
  const people = (app.state.users || []).filter((u) => !u.is_bot && u.id !== (app.state.bot || {}).id);
  const sel = $("as-select");
  if (changed("who", JSON.stringify([people, app.as]))) {
    sel.replaceChildren(...people.map((u) => h("option", { value: u.id }, personLabel(u))));
  }
  if (sel.value !== app.as) sel.value = app.as;
}

function renderClock() {
  const now = parseNow(app.state.now);
  const tz = viewerTz();
  if (!now) return;
  $("clock-now").textContent = `${clockText(now, tz)} (${tz})`;
  $("clock-now").title = `The sandbox clock: ${fullDate(now, tz)}`;
  const pick = $("pick-input");
  const min = localInputValue(now, tz);
  pick.min = min;
  if (document.activeElement !== pick && (!pick.value || pick.value < min || pick.dataset.auto === "1")) {
    pick.value = min;
    pick.dataset.auto = "1";
  }
}

// --- conversations

const convList = () => app.state.conversations || [];
const isDm = (c) => c.kind === "dm" || c.kind === "im";
function convName(c) {
  if (!c) return "";
  if (isDm(c)) {
    const u = c.user && app.users.get(c.user);
    return c.name || (u && (u.real_name || u.name)) || "Direct message";
  }
  return c.name || c.id;
}
function convLabel(c) {
  if (!c) return "";
  return isDm(c) ? convName(c) : "#" + convName(c);
}
function dmIsBot(c) {
  const bot = app.state.bot || {};
  return isDm(c) && (!c.user || c.user === bot.id || (app.users.get(c.user) || {}).is_bot);
}

function defaultConversation() {
  const list = convList().filter((c) => c.is_member !== false);
  return (list.find((c) => c.name === "general" && !isDm(c)) || list.find((c) => !isDm(c)) || list[0] || { id: HOME }).id;
}

function ensureCurrent() {
  let cur = app.current;
  if (cur !== HOME && !app.convs.has(cur)) {
    const stored = store.get(`coordbot-sandbox.conv.${app.as}`);
    const wasDm = cur && (cur.startsWith("D") || app.lastWasDm);
    const dm = convList().find((c) => isDm(c) && dmIsBot(c));
    if (wasDm && dm) cur = dm.id;
    else if (stored && (stored === HOME || app.convs.has(stored))) cur = stored;
    else cur = defaultConversation();
  }
  if (cur !== app.current) setCurrent(cur, { replace: true, render: false });
}

function setCurrent(id, { replace = false, render = true } = {}) {
  const prev = app.current;
  if (prev && prev !== id) composers.main.saveDraft(prev);
  app.current = id;
  const c = app.convs.get(id);
  app.lastWasDm = !!(c && isDm(c));
  store.set(`coordbot-sandbox.conv.${app.as}`, id);
  const hash = "#" + encodeURIComponent(id);
  if (location.hash !== hash) {
    if (replace) history.replaceState(null, "", hash);
    else history.pushState(null, "", hash);
  }
  closePopover();
  if (prev !== id) {
    app.forceBottom = true;
    composers.main.loadDraft(id);
  }
  if (render && app.state) {
    renderMain();
    renderSidebar();
    maybeHomeOpened();
  }
}

function maybeHomeOpened() {
  if (app.current !== HOME) {
    app.homeOpenedFor = null;
    return;
  }
  if (app.homeOpenedFor === app.as) return;
  app.homeOpenedFor = app.as;
  api("home_opened", {});
}

// unread tracking, per viewer, in localStorage
function loadSeen() {
  if (app.seen && app.seen.__as === app.as) return;
  let stored = null;
  try { stored = JSON.parse(store.get(`coordbot-sandbox.seen.${app.as}`) || "null"); } catch { stored = null; }
  if (!stored) {
    stored = {};
    for (const m of app.state.messages || []) {
      if (!stored[m.channel] || tsCompare(m.ts, stored[m.channel]) > 0) stored[m.channel] = m.ts;
    }
    for (const c of convList()) if (!stored[c.id]) stored[c.id] = "0";
  }
  app.seen = stored;
  Object.defineProperty(app.seen, "__as", { value: app.as, enumerable: false, writable: true });
  saveSeen();
}
function saveSeen() {
  store.set(`coordbot-sandbox.seen.${app.as}`, JSON.stringify(app.seen));
}
const isTopLevel = (m) => !m.thread_ts || m.thread_ts === m.ts;

function unreadCounts() {
  const counts = {};
  const vid = viewer().id;
  for (const m of app.state.messages || []) {
    if (!isTopLevel(m) || m.user === vid) continue;
    const seen = app.seen[m.channel];
    if (seen === undefined || tsCompare(m.ts, seen) > 0) counts[m.channel] = (counts[m.channel] || 0) + 1;
  }
  return counts;
}

function markSeen(channel) {
  let last = app.seen[channel] || "0";
  for (const m of app.state.messages || []) if (m.channel === channel && tsCompare(m.ts, last) > 0) last = m.ts;
  if (app.seen[channel] !== last) {
    app.seen[channel] = last;
    saveSeen();
  }
}

// --- sidebar

function renderSidebar() {
  const convs = convList();
  const counts = unreadCounts();
  const visible = (c) => c.is_member !== false || c.id === app.current;
  const channels = convs.filter((c) => !isDm(c) && visible(c));
  const dms = convs.filter((c) => isDm(c) && visible(c));
  const sig = JSON.stringify([channels, dms, counts, app.current]);
  if (!changed("sidebar", sig)) return;
  const focus = captureFocus($("sidebar"));
  const entry = (id, iconNode, label, extra = {}) => {
    const n = counts[id] || 0;
    const current = id === app.current;
    return h("li", { dataset: { key: "side:" + id } },
      h("button", {
        type: "button",
        class: "side-item" + (current ? " is-current" : "") + (n ? " is-unread" : "") + (extra.cls ? " " + extra.cls : ""),
        "aria-current": current ? "page" : null,
        "aria-description": n ? `${n} unread` : null,
        dataset: { conversation: id },
        onclick: () => setCurrent(id),
      }, iconNode, h("span", { class: "side-name" }, label), extra.badge || null, n ? h("span", { class: "badge", "aria-hidden": "true" }, String(n)) : null));
  };
  $("side-top").replaceChildren(entry(HOME, icon("home", "icon side-icon"), "Home"));
  $("side-channels").replaceChildren(...channels.map((c) => entry(c.id,
    c.kind === "private" ? icon("lock", "icon side-icon") : h("span", { class: "side-icon side-hash", "aria-hidden": "true" }, "#"),
    convName(c), { cls: c.is_member === false ? "is-preview" : "" })));
  $("side-dms").replaceChildren(...dms.map((c) => {
    const bot = dmIsBot(c);
    const av = avatarNode(bot ? (app.state.bot || {}).id : c.user, convName(c), bot, "avatar-sm side-icon");
    return entry(c.id, av, convName(c), { badge: bot ? h("span", { class: "app-badge", "aria-hidden": "true" }, "APP") : null });
  }));
  $("channels-heading").hidden = false;
  $("dms-heading").hidden = dms.length === 0;
  restoreFocus($("sidebar"), focus);
}

// --- authors and avatars

const PALETTE = ["#e8912d", "#2bac76", "#1d9bd1", "#e01e5a", "#4a154b", "#7c3085", "#0b4c8c", "#b5651d", "#3c8d7e", "#9f3a38"];
function colorFor(id) {
  let x = 0;
  for (const ch of String(id || "")) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[x % PALETTE.length];
}
function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0])[0] || "?";
  if (/[\u3000-\u9fff\uac00-\ud7af\uf900-\ufaff]/.test(first)) return first;
  const second = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
  return (first + second).toUpperCase();
}
function avatarNode(id, name, bot, cls = "avatar") {
  const el = h("span", { class: cls + (bot ? " avatar-bot" : ""), "aria-hidden": "true" }, bot ? "cb" : initials(name));
  if (!bot) el.style.background = colorFor(id);
  return el;
}

function authorOf(msg, ephemeral) {
  const bot = app.state.bot || { id: "U_BOT", name: "coordbot" };
  const u = msg.user ? app.users.get(msg.user) : null;
  if (ephemeral || msg.bot_id || !msg.user || msg.user === bot.id || (u && u.is_bot)) {
    return { id: bot.id, name: bot.name || "coordbot", bot: true };
  }
  return { id: msg.user, name: (u && (u.real_name || u.display_name || u.name)) || msg.user, bot: false };
}

// ---------------------------------------------------------------------------------------------------------------
// Message lists (main pane and thread pane)

function messageCtx(channel, ts, ephemeral) {
  return {
    ...app.ctxBase,
    onAction(action) {
      api("action", { container: { type: "message", channel, ts, ephemeral: !!ephemeral }, action });
    },
    onDispatchInput() { /* only in views */ },
  };
}

function renderFiles(msg) {
  return (msg.files || []).map((f) =>
    h("figure", { class: "file" },
      h("img", { src: f.src, alt: f.alt || f.title, loading: "lazy" }),
      h("figcaption", { text: f.title })));
}

function renderContent(msg, ctx) {
  try {
    const files = renderFiles(msg);
    const body = Array.isArray(msg.blocks) && msg.blocks.length ? renderBlocks(msg.blocks, ctx)
      : (msg.text || !files.length) ? renderMrkdwn(msg.text || "", ctx) : null;
    if (!files.length) return body;
    return h("div", { class: "with-files" }, body, ...files);
  } catch (e) {
    console.error("render failed", e, msg);
    return h("div", { class: "render-error" }, `(could not render this message: ${e.message}) `, msg.text || "");
  }
}

function itemKey(kind, m) {
  return `${kind}:${m.channel}:${m.ts}`;
}

function mainItems() {
  const cur = app.current;
  const items = [];
  for (const m of app.state.messages || []) {
    if (m.channel === cur && isTopLevel(m)) items.push({ kind: "msg", msg: m, key: itemKey("msg", m) });
  }
  for (const e of app.state.ephemerals || []) {
    const k = itemKey("eph", e);
    if (e.channel === cur && (!e.thread_ts || e.thread_ts === e.ts) && !app.dismissed.has(k)) items.push({ kind: "eph", msg: e, key: k });
  }
  return items.sort((a, b) => tsCompare(a.msg.ts, b.msg.ts));
}

function threadItems() {
  const t = app.thread;
  const items = [];
  let parent = null;
  for (const m of app.state.messages || []) {
    if (m.channel !== t.channel) continue;
    if (m.ts === t.ts) parent = { kind: "msg", msg: m, key: itemKey("msg", m), parent: true };
    else if (m.thread_ts === t.ts) items.push({ kind: "msg", msg: m, key: itemKey("msg", m) });
  }
  for (const e of app.state.ephemerals || []) {
    const k = itemKey("eph", e);
    if (e.channel === t.channel && e.thread_ts === t.ts && e.ts !== t.ts && !app.dismissed.has(k)) items.push({ kind: "eph", msg: e, key: k });
  }
  items.sort((a, b) => tsCompare(a.msg.ts, b.msg.ts));
  return { parent, items };
}

function reconcile(ul, scope, items, opts = {}) {
  const cache = app.lists[scope];
  const next = new Map();
  const tz = viewerTz();
  const now = parseNow(app.state.now);
  const focus = captureFocus(ul);
  let prevDay = null;
  const nodes = [];
  for (const it of items) {
    const day = dayKey(tsDate(it.msg.ts), tz);
    const firstOfDay = opts.days !== false && day !== prevDay;
    prevDay = day;
    const dayText = firstOfDay ? dayLabel(tsDate(it.msg.ts), tz, now) : "";
    const sig = JSON.stringify(it.msg) + "|" + dayText + "|" + !!it.parent;
    let entry = cache.get(it.key);
    if (!entry || entry.sig !== sig) entry = { li: buildMessage(it, scope, { dayText, inThread: scope === "thread" }), sig, msg: it.msg };
    next.set(it.key, entry);
    nodes.push(entry.li);
  }
  nodes.forEach((node, i) => {
    if (ul.children[i] !== node) ul.insertBefore(node, ul.children[i] || null);
  });
  while (ul.children.length > nodes.length) ul.lastElementChild.remove();
  app.lists[scope] = next;
  restoreFocus(ul, focus);
}

function buildMessage(it, scope, { dayText, inThread }) {
  const { msg, key } = it;
  const eph = it.kind === "eph";
  const author = authorOf(msg, eph);
  const tz = viewerTz();
  const date = tsDate(msg.ts);
  const li = h("li", {
    class: "msg" + (eph ? " msg-eph" : "") + (it.parent ? " msg-parent" : ""),
    dataset: { key, ts: msg.ts, channel: msg.channel },
  });
  if (dayText) li.append(h("div", { class: "day-divider" }, h("span", {}, dayText)));

  const meta = h("div", { class: "msg-meta" },
    h("span", { class: "msg-author" }, author.name),
    author.bot ? h("span", { class: "app-badge" }, "APP") : null,
    h("time", { class: "msg-time", datetime: date.toISOString(), title: fullDate(date, tz) }, hhmm(date, tz)),
    msg.edited ? h("span", { class: "msg-edited" }, "(edited)") : null);

  const body = h("div", { class: "msg-body" });
  if (eph) {
    body.append(h("div", { class: "eph-note" }, icon("eye"), h("span", {}, "Only visible to you")));
  }
  body.append(meta, h("div", { class: "msg-content" }, renderContent(msg, messageCtx(msg.channel, msg.ts, eph))));

  if (!eph && Array.isArray(msg.reactions) && msg.reactions.length) {
    const vid = viewer().id;
    body.append(h("div", { class: "reactions" }, msg.reactions.map((r) => {
      const mine = (r.users || []).includes(vid);
      const who = (r.users || []).map((u) => (app.users.get(u) || {}).real_name || u).join(", ");
      return h("button", {
        type: "button",
        class: "reaction" + (mine ? " is-mine" : ""),
        "aria-pressed": mine ? "true" : "false",
        title: `${who} reacted with :${r.name}:`,
        onclick: () => react(msg, r.name, mine),
      }, h("span", { class: "reaction-emoji" }, emoji(r.name)), " ", h("span", { class: "reaction-count" }, String(r.count ?? (r.users || []).length)));
    })));
  }
  const replies = msg.reply_count || 0;
  if (!eph && !inThread && replies > 0) {
    body.append(h("button", { type: "button", class: "replies-link", onclick: () => openThread(msg.channel, msg.ts) },
      `${replies} ${replies === 1 ? "reply" : "replies"}`));
  }
  if (eph) {
    body.append(h("div", { class: "eph-foot" }, h("button", {
      type: "button", class: "link-button", onclick: () => dismiss(it, scope),
    }, "Dismiss")));
  }
  const jsonKey = `${scope}|${key}`;
  const jsonOpen = app.openJson.has(jsonKey);
  const pre = h("pre", { class: "json", hidden: !jsonOpen, tabindex: "0", "aria-label": "Message JSON" });
  if (jsonOpen) pre.textContent = JSON.stringify(msg, null, 2);
  body.append(pre);

  const tb = h("div", { class: "msg-toolbar", role: "group", "aria-label": "Message actions" });
  const tbButton = (iconName, label, onclick, extra = {}) =>
    h("button", { type: "button", class: "tb-icon", title: label, dataset: { fk: iconName }, onclick, ...extra }, icon(iconName), srOnly(label));
  if (!eph) {
    tb.append(tbButton("reaction", "Add reaction", (e) => togglePopover(scope, key, "react", e.currentTarget),
      { "aria-haspopup": "true", "aria-expanded": "false" }));
    if (!inThread) tb.append(tbButton("thread", "Reply in thread", () => openThread(msg.channel, msg.ts)));
    tb.append(tbButton("more", "More actions", (e) => togglePopover(scope, key, "more", e.currentTarget),
      { "aria-haspopup": "menu", "aria-expanded": "false" }));
  }
  tb.append(tbButton("code", "View JSON", (e) => {
    const open = pre.hidden;
    pre.hidden = !open;
    e.currentTarget.setAttribute("aria-expanded", String(open));
    e.currentTarget.classList.toggle("is-on", open);
    if (open) {
      pre.textContent = JSON.stringify(msg, null, 2);
      app.openJson.add(jsonKey);
    } else app.openJson.delete(jsonKey);
  }, { "aria-expanded": String(jsonOpen), class: "tb-icon" + (jsonOpen ? " is-on" : "") }));

  const inner = h("div", { class: "msg-inner" }, h("div", { class: "msg-row" }, avatarNode(author.id, author.name, author.bot), body), tb);
  li.append(inner);
  if (it.parent && replies > 0) {
    li.append(h("div", { class: "thread-count" }, h("span", {}, `${replies} ${replies === 1 ? "reply" : "replies"}`)));
  }
  const p = app.popover;
  if (p && p.scope === scope && p.key === key) {
    const trigger = tb.querySelector(`[data-fk="${p.kind === "react" ? "reaction" : "more"}"]`);
    if (trigger) attachPopover(li, trigger, p.kind, msg);
  }
  return li;
}

function react(msg, name, removed) {
  api("react", { channel: msg.channel, ts: msg.ts, name, removed: !!removed });
}

function dismiss(it, scope) {
  app.dismissed.add(it.key);
  const entry = app.lists[scope].get(it.key);
  const li = entry && entry.li;
  const list = li && li.parentElement;
  let next = li && (li.nextElementSibling || li.previousElementSibling);
  if (li) li.remove();
  app.lists[scope].delete(it.key);
  const target = next && next.querySelector(FOCUSABLE);
  if (target) target.focus();
  else if (list) (scope === "thread" ? composers.thread : composers.main).focus();
}

// --- popovers (reaction picker, "More actions" menu)

function togglePopover(scope, key, kind, trigger) {
  const p = app.popover;
  if (p && p.scope === scope && p.key === key && p.kind === kind) {
    closePopover(true);
    return;
  }
  closePopover();
  const entry = app.lists[scope].get(key);
  if (!entry) return;
  app.popover = { scope, key, kind };
  const pop = attachPopover(entry.li, trigger, kind, entry.msg);
  const first = pop.querySelector("button:not([disabled])");
  if (first) first.focus();
}

function attachPopover(li, trigger, kind, msg) {
  const close = () => closePopover(true);
  let pop;
  if (kind === "react") {
    const vid = viewer().id;
    pop = h("div", { class: "popover popover-react", role: "group", "aria-label": "Choose a reaction" },
      (app.state.reaction_choices || []).map((name) => {
        const mine = (msg.reactions || []).some((r) => r.name === name && (r.users || []).includes(vid));
        return h("button", {
          type: "button", class: "emoji-choice" + (mine ? " is-mine" : ""), title: `:${name}:`,
          onclick: () => { react(msg, name, mine); close(); },
        }, emoji(name));
      }));
  } else {
    const shortcuts = app.state.shortcuts || [];
    pop = h("div", { class: "popover popover-menu", role: "menu", "aria-label": "More actions" },
      shortcuts.length
        ? shortcuts.map((s) => h("button", {
          type: "button", role: "menuitem", class: "menu-item",
          onclick: () => { close(); api("shortcut", { channel: msg.channel, ts: msg.ts, callback_id: s.callback_id }); },
        }, s.name))
        : h("button", { type: "button", role: "menuitem", class: "menu-item", disabled: true }, "No message shortcuts"));
  }
  pop.addEventListener("keydown", (e) => {
    const items = [...pop.querySelectorAll("button:not([disabled])")];
    const i = items.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (["ArrowDown", "ArrowRight"].includes(e.key) && items.length) {
      e.preventDefault();
      items[(i + 1) % items.length].focus();
    } else if (["ArrowUp", "ArrowLeft"].includes(e.key) && items.length) {
      e.preventDefault();
      items[(i - 1 + items.length) % items.length].focus();
    } else if (e.key === "Tab") {
      closePopover(false);
    }
  });
  trigger.setAttribute("aria-expanded", "true");
  li.classList.add("has-popover");
  (li.querySelector(".msg-inner") || li).append(pop);
  return pop;
}

function closePopover(returnFocus = false) {
  const p = app.popover;
  if (!p) return;
  app.popover = null;
  const entry = app.lists[p.scope].get(p.key);
  if (!entry) return;
  const li = entry.li;
  li.classList.remove("has-popover");
  li.querySelectorAll(".popover").forEach((el) => el.remove());
  const trigger = li.querySelector(`.msg-toolbar [data-fk="${p.kind === "react" ? "reaction" : "more"}"]`);
  if (trigger) {
    trigger.setAttribute("aria-expanded", "false");
    if (returnFocus) trigger.focus();
  }
}

document.addEventListener("mousedown", (e) => {
  if (!app.popover) return;
  if (e.target.closest(".popover") || e.target.closest(".msg-toolbar [aria-expanded='true']")) return;
  closePopover();
});

// --- main pane

function renderMain() {
  const cur = app.current;
  const c = app.convs.get(cur);
  const home = cur === HOME;
  const title = $("conv-title");
  const label = home ? "Home" : convLabel(c);
  if (changed("header", JSON.stringify([cur, label, c && c.kind]))) {
    if (home) title.replaceChildren(icon("home", "icon conv-icon"), h("span", {}, "Home"));
    else if (c && isDm(c)) title.replaceChildren(avatarNode(c.user, convName(c), dmIsBot(c), "avatar-sm conv-icon"), h("span", {}, convName(c)), ...(dmIsBot(c) ? [h("span", { class: "app-badge" }, "APP")] : []));
    else if (c && c.kind === "private") title.replaceChildren(icon("lock", "icon conv-icon"), h("span", {}, convName(c)));
    else title.replaceChildren(h("span", { class: "conv-hash", "aria-hidden": "true" }, "#"), h("span", {}, convName(c)));
    title.setAttribute("aria-label", home ? "Home" : label);
    document.title = `${label} – ${(app.state.team || {}).name || "Sandbox"} (coordbot sandbox)`;
  }
  const ul = $("messages");
  const homeEl = $("home");
  ul.hidden = home;
  homeEl.hidden = !home;
  composers.main.setTarget(home ? null : { channel: cur, label: home ? "" : `Message ${label}` });
  if (home) {
    $("conv-intro").hidden = true;
    $("new-below").hidden = true;
    if (app.lastMainConv !== HOME) {
      app.lastMainConv = HOME;
      app.lists.main.clear();
      ul.replaceChildren();
      app.sigs.home = null;
      renderHome();
      $("scroller").scrollTop = 0;
    } else renderHome();
    return;
  }
  ul.setAttribute("aria-label", `Messages in ${label}`);
  const scroller = $("scroller");
  const switched = app.lastMainConv !== cur;
  if (switched) {
    app.lists.main.clear();
    ul.replaceChildren();
    app.lastMainConv = cur;
  }
  const items = mainItems();
  const lastKey = items.length ? items[items.length - 1].key : "";
  if (!changed("main", JSON.stringify([cur, app.version, app.dismissed.size])) && !switched) return;
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const stick = app.forceBottom || atBottom;
  const prevLast = app.sigs.mainLast;
  app.sigs.mainLast = lastKey;
  renderIntro(c, items.length);
  reconcile(ul, "main", items);
  if (stick) {
    scroller.scrollTop = scroller.scrollHeight;
    $("new-below").hidden = true;
  } else if (prevLast && lastKey !== prevLast) {
    $("new-below").hidden = false;
  }
  app.forceBottom = false;
  markSeen(cur);
}

function renderIntro(c, count) {
  const intro = $("conv-intro");
  if (!c) {
    intro.hidden = true;
    return;
  }
  intro.hidden = false;
  const name = convLabel(c);
  if (isDm(c)) {
    intro.replaceChildren(h("h2", {}, convName(c)),
      h("p", {}, `This is your direct message with ${convName(c)}. Type / for its commands.`));
  } else {
    intro.replaceChildren(h("h2", {}, c.kind === "private" ? icon("lock", "icon") : "# ", convName(c)),
      h("p", {}, `This is the very beginning of ${name}.` + (c.bot_is_member === false ? " coordbot is not a member of this channel." : "")),
      ...(count ? [] : [h("p", { class: "muted" }, "No messages yet.")]));
  }
}

function renderHome() {
  const home = app.state.home;
  const el = $("home");
  if (!changed("home", JSON.stringify([home, app.ctxKey])) && el.childElementCount) return;
  const focus = captureFocus(el);
  const scrollTop = $("scroller").scrollTop;
  if (!home) {
    el.replaceChildren(h("p", { class: "home-empty" }, "coordbot has not published a Home tab for you yet"));
    return;
  }
  const ctx = {
    ...app.ctxBase,
    onAction(action) { api("action", { container: { type: "view", view_id: home.id }, action }); },
    onDispatchInput(block_id, text) { api("view_type", { view_id: home.id, block_id, text, values: safeCollect(el) }); },
  };
  let content;
  try {
    content = renderBlocks(home.blocks || [], ctx);
  } catch (e) {
    console.error(e);
    content = h("div", { class: "render-error" }, `(could not render the Home tab: ${e.message})`);
  }
  const jsonOpen = app.openJson.has("home");
  const pre = h("pre", { class: "json", hidden: !jsonOpen, tabindex: "0", "aria-label": "Home view JSON" });
  if (jsonOpen) pre.textContent = JSON.stringify(home, null, 2);
  const toggle = h("button", {
    type: "button", class: "link-button home-json", "aria-expanded": String(jsonOpen), dataset: { fk: "home-json" },
    onclick: () => {
      const open = pre.hidden;
      pre.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) { pre.textContent = JSON.stringify(home, null, 2); app.openJson.add("home"); } else app.openJson.delete("home");
    },
  }, "View JSON");
  el.replaceChildren(h("div", { class: "home-card" }, content), h("div", { class: "home-tools" }, toggle), pre);
  $("scroller").scrollTop = scrollTop;
  restoreFocus(el, focus);
}

function safeCollect(root) {
  try {
    return collectValues(root) || {};
  } catch (e) {
    console.error("collectValues failed", e);
    return {};
  }
}

// --- thread pane

function openThread(channel, ts) {
  closePopover();
  const same = app.thread && app.thread.channel === channel && app.thread.ts === ts;
  if (!same) {
    composers.thread.saveDraft(threadDraftKey());
    app.thread = { channel, ts };
    app.lists.thread.clear();
    $("thread-messages").replaceChildren();
    app.sigs.thread = null;
    composers.thread.loadDraft(threadDraftKey());
  }
  renderThread(true);
  composers.thread.focus();
}

const threadDraftKey = () => (app.thread ? `${app.thread.channel}/${app.thread.ts}` : "");

function closeThread() {
  if (!app.thread) return;
  composers.thread.saveDraft(threadDraftKey());
  const { channel, ts } = app.thread;
  app.thread = null;
  renderThread();
  const entry = app.lists.main.get(itemKey("msg", { channel, ts }));
  const back = entry && (entry.li.querySelector(".replies-link") || entry.li.querySelector('[data-fk="thread"]'));
  if (back && back.isConnected) back.focus();
  else composers.main.focus();
}

function renderThread(scrollDown = false) {
  const aside = $("thread");
  const t = app.thread;
  if (t && !app.convs.has(t.channel)) app.thread = null;
  if (!app.thread) {
    aside.hidden = true;
    $("app").classList.remove("with-thread");
    app.lists.thread.clear();
    $("thread-messages").replaceChildren();
    app.sigs.thread = null;
    return;
  }
  aside.hidden = false;
  $("app").classList.add("with-thread");
  const c = app.convs.get(app.thread.channel);
  $("thread-where").textContent = convLabel(c);
  composers.thread.setTarget({ channel: app.thread.channel, thread_ts: app.thread.ts, label: "Reply to thread" });
  if (!changed("thread", JSON.stringify([app.thread, app.version, app.dismissed.size])) && !scrollDown) return;
  const { parent, items } = threadItems();
  const scroller = $("thread-scroller");
  const stick = scrollDown || scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const all = parent ? [parent, ...items] : items;
  const ul = $("thread-messages");
  ul.setAttribute("aria-label", `Thread in ${convLabel(c)}`);
  reconcile(ul, "thread", all, { days: false });
  if (!parent) {
    ul.prepend(h("li", { class: "msg msg-missing" }, "The thread's first message is gone."));
  }
  if (stick) scroller.scrollTop = scroller.scrollHeight;
}

// ---------------------------------------------------------------------------------------------------------------
// Composer (main and thread)

class Composer {
  constructor(slot, id) {
    this.id = id;
    this.target = null;
    this.drafts = new Map();
    this.active = 0;
    this.matches = [];
    this.textarea = h("textarea", { id, rows: "1", class: "composer-input", spellcheck: "true", "aria-autocomplete": "list", "aria-controls": id + "-cmds" });
    this.label = h("label", { for: id, class: "sr-only" }, "Message");
    this.list = h("ul", { class: "slash-list", id: id + "-cmds", hidden: true, "aria-label": "Slash commands" });
    this.send = h("button", { type: "submit", class: "send-button", title: "Send (Enter)" }, icon("send"), h("span", { class: "send-text" }, "Send"));
    this.form = h("form", { class: "composer", autocomplete: "off" },
      this.label,
      h("div", { class: "composer-box" }, this.list, this.textarea,
        h("div", { class: "composer-tools" },
          h("span", { class: "composer-hint", "aria-hidden": "true" }, "Enter to send · Shift+Enter for a new line · / for commands"),
          this.send)));
    slot.append(this.form);
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.submit(); });
    this.textarea.addEventListener("input", () => { this.autosize(); this.updateList(); });
    this.textarea.addEventListener("keydown", (e) => this.onKey(e));
    this.textarea.addEventListener("blur", () => setTimeout(() => {
      if (!this.form.contains(document.activeElement)) this.hideList();
    }, 150));
  }

  setTarget(target) {
    const key = JSON.stringify(target);
    if (key === this.targetKey) return;
    this.targetKey = key;
    this.target = target;
    const enabled = !!target;
    const text = enabled ? target.label : "Messages are off on the Home tab";
    this.label.textContent = enabled ? target.label : "Message";
    this.textarea.placeholder = text;
    this.textarea.disabled = !enabled;
    this.send.disabled = !enabled;
    this.form.classList.toggle("is-disabled", !enabled);
    if (!enabled) this.hideList();
  }

  saveDraft(key) { if (key != null) this.drafts.set(key, this.textarea.value); }
  loadDraft(key) {
    this.textarea.value = this.drafts.get(key) || "";
    this.autosize();
    this.hideList();
  }
  focus() { if (!this.textarea.disabled) this.textarea.focus(); }

  autosize() {
    const t = this.textarea;
    t.style.height = "auto";
    t.style.height = Math.min(t.scrollHeight, 220) + "px";
  }

  updateList() {
    const v = this.textarea.value;
    const cmds = (app.state && app.state.commands) || [];
    if (!/^\/\S*$/.test(v) || !cmds.length) return this.hideList();
    const q = v.toLowerCase();
    this.matches = cmds.filter((c) => c.command.toLowerCase().startsWith(q));
    if (!this.matches.length) return this.hideList();
    this.active = Math.min(this.active, this.matches.length - 1);
    this.list.replaceChildren(...this.matches.map((c, i) => h("li", {},
      h("button", {
        type: "button", class: "slash-item" + (i === this.active ? " is-active" : ""), tabindex: "-1",
        onmousedown: (e) => e.preventDefault(),
        onclick: () => this.pick(c),
      }, h("span", { class: "slash-cmd" }, c.command), c.usage_hint ? h("span", { class: "slash-hint" }, " " + c.usage_hint) : null,
      c.description ? h("span", { class: "slash-desc" }, c.description) : null))));
    this.list.hidden = false;
    this.textarea.setAttribute("aria-expanded", "true");
  }

  hideList() {
    this.list.hidden = true;
    this.matches = [];
    this.active = 0;
    this.textarea.setAttribute("aria-expanded", "false");
  }

  pick(c) {
    this.textarea.value = c.command + " ";
    this.hideList();
    this.textarea.focus();
    const n = this.textarea.value.length;
    this.textarea.setSelectionRange(n, n);
    this.autosize();
    if (c.usage_hint) setStatus(`${c.command} ${c.usage_hint}`);
  }

  onKey(e) {
    if (e.isComposing || e.keyCode === 229) return; // IME (Chinese, Japanese…) is composing
    if (!this.list.hidden && this.matches.length) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = this.matches.length;
        this.active = (this.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
        this.updateList();
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        e.stopPropagation();
        this.hideList();
        return;
      }
      const exact = this.matches.some((c) => c.command === this.textarea.value.trim());
      if ((e.key === "Tab" && !e.shiftKey) || (e.key === "Enter" && !e.shiftKey && !exact)) {
        e.preventDefault();
        this.pick(this.matches[this.active]);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.altKey) {
      e.preventDefault();
      this.submit();
    }
  }

  async submit() {
    const text = this.textarea.value;
    if (!this.target || !text.trim() || this.busy) return;
    this.busy = true;
    this.form.classList.add("is-busy");
    const body = { channel: this.target.channel, text };
    if (this.target.thread_ts) body.thread_ts = this.target.thread_ts;
    const res = await api("send", body);
    this.busy = false;
    this.form.classList.remove("is-busy");
    if (res.ok) {
      if (this.textarea.value === text) this.textarea.value = "";
      this.autosize();
      this.hideList();
      if (this === composers.main) app.forceBottom = true;
    }
    this.textarea.focus();
  }
}

const composers = {
  main: new Composer($("composer-slot"), "composer"),
  thread: new Composer($("thread-composer-slot"), "thread-composer"),
};

// ---------------------------------------------------------------------------------------------------------------
// Modals

const modal = {
  el: $("modal"),
  body: $("modal-body"),
  shownId: null,
  shownJson: null,
  view: null,
  errors: {},
  saved: new Map(), // view id -> values (views under a pushed one)
  closing: new Set(),
  expectClose: false,
  submitting: false,
};

function syncModal() {
  const stack = app.state.modals || [];
  const top = stack.length ? stack[stack.length - 1] : null;
  const ids = new Set(stack.map((v) => v.id));
  for (const id of [...modal.saved.keys()]) if (!ids.has(id)) modal.saved.delete(id);
  for (const id of [...modal.closing]) if (!ids.has(id)) modal.closing.delete(id);
  if (!top) {
    if (modal.el.open) {
      modal.expectClose = true;
      modal.el.close();
      modal.expectClose = false;
    }
    modal.shownId = modal.shownJson = modal.view = null;
    modal.errors = {};
    $("modal-json").hidden = true;
    $("modal-json-toggle").setAttribute("aria-expanded", "false");
    return;
  }
  const json = JSON.stringify(top) + app.ctxKey;
  if (modal.shownId === top.id && modal.shownJson === json && modal.el.open) return;
  let values;
  let errors = {};
  if (modal.shownId === top.id) {
    values = safeCollect(modal.body); // views.update underneath: keep what the person typed
    if (modal.shownJson === json) errors = modal.errors;
  } else {
    if (modal.shownId && ids.has(modal.shownId)) modal.saved.set(modal.shownId, safeCollect(modal.body));
    values = modal.saved.get(top.id) || {};
    modal.saved.delete(top.id);
  }
  renderModal(top, values, errors);
  modal.shownJson = json;
  if (!modal.el.open) {
    modal.el.showModal();
    const first = modal.body.querySelector("input, textarea, select, button");
    if (first) first.focus();
  }
}

function renderModal(view, values, errors) {
  const focus = captureFocus(modal.body);
  const scroll = modal.body.scrollTop;
  modal.view = view;
  modal.shownId = view.id;
  modal.errors = errors || {};
  const title = $("modal-title");
  try {
    title.replaceChildren(view.title ? renderText(view.title, app.ctxBase) : document.createTextNode("coordbot"));
  } catch {
    title.textContent = (view.title && view.title.text) || "coordbot";
  }
  const viewId = view.id;
  const ctx = {
    ...app.ctxBase,
    onAction(action) {
      api("action", { container: { type: "view", view_id: viewId }, action, values: safeCollect(modal.body) });
    },
    onDispatchInput(block_id, text) {
      api("view_type", { view_id: viewId, block_id, text, values: safeCollect(modal.body) });
    },
  };
  let content;
  try {
    content = renderView(view, ctx, { errors: modal.errors, values: values || {} });
  } catch (e) {
    console.error(e);
    content = h("div", { class: "render-error" }, `(could not render this view: ${e.message})`);
  }
  modal.body.replaceChildren(content);
  modal.body.scrollTop = scroll;
  restoreFocus(modal.body, focus);
  $("modal-close").textContent = (view.close && view.close.text) || "Cancel";
  const submit = $("modal-submit");
  submit.hidden = !view.submit;
  submit.textContent = (view.submit && view.submit.text) || "Submit";
  submit.disabled = false;
  const pre = $("modal-json");
  if (!pre.hidden) pre.textContent = JSON.stringify(view, null, 2);
}

async function submitModal() {
  const view = modal.view;
  if (!view || !view.submit || modal.submitting) return;
  const values = safeCollect(modal.body);
  modal.submitting = true;
  $("modal-submit").disabled = true;
  const res = await api("view_submit", { view_id: view.id, values });
  modal.submitting = false;
  $("modal-submit").disabled = false;
  if (res.ok && res.errors && Object.keys(res.errors).length && modal.view && modal.view.id === view.id) {
    renderModal(modal.view, values, res.errors);
    const firstError = Object.keys(res.errors)[0];
    const bad = [...modal.body.querySelectorAll("[role='alert']")][0];
    if (bad) bad.scrollIntoView({ block: "nearest" });
    setStatus(`The form has ${Object.keys(res.errors).length === 1 ? "an error" : "errors"}: ${res.errors[firstError]}`, "error");
  }
}

function requestModalClose() {
  const id = modal.shownId;
  if (!id || modal.closing.has(id)) return;
  modal.closing.add(id);
  api("view_close", { view_id: id }).then((res) => { if (!res.ok) modal.closing.delete(id); });
}

modal.el.addEventListener("cancel", (e) => {
  e.preventDefault();
  requestModalClose();
});
modal.el.addEventListener("close", () => {
  if (modal.expectClose || !modal.shownId) return;
  // closed by the browser (e.g. Escape pressed twice): tell the backend, and show it again if it stays open
  requestModalClose();
  modal.shownJson = null;
});
modal.el.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    submitModal();
  }
});
$("modal-close").addEventListener("click", requestModalClose);
$("modal-submit").addEventListener("click", submitModal);
$("modal-json-toggle").addEventListener("click", (e) => {
  const pre = $("modal-json");
  pre.hidden = !pre.hidden;
  e.currentTarget.setAttribute("aria-expanded", String(!pre.hidden));
  if (!pre.hidden && modal.view) pre.textContent = JSON.stringify(modal.view, null, 2);
});

// ---------------------------------------------------------------------------------------------------------------
// Developer panel: Web API calls

const dev = {
  open: store.get("coordbot-sandbox.devpanel") === "open",
  expanded: new Set(),
};

function renderCalls() {
  const calls = app.state.calls || [];
  const last = calls[calls.length - 1];
  const tz = viewerTz();
  $("devpanel-count").textContent = `(${calls.length})`;
  const lastEl = $("devpanel-last");
  if (last) {
    lastEl.replaceChildren("latest: ", h("code", {}, last.method), " ",
      h("span", { class: "call-badge " + (last.ok ? "is-ok" : "is-err") }, last.ok ? "ok" : last.error || "error"));
  } else lastEl.replaceChildren();
  if (!dev.open) return;
  const filter = $("calls-filter").value.trim().toLowerCase();
  const errorsOnly = $("calls-errors").checked;
  if (!changed("calls", JSON.stringify([last && last.seq, calls.length, filter, errorsOnly, tz]))) return;
  const ol = $("calls");
  const focus = captureFocus(ol);
  const shown = calls.filter((c) => (!filter || String(c.method).toLowerCase().includes(filter)) && (!errorsOnly || !c.ok)).reverse();
  ol.replaceChildren(...shown.map((c) => {
    const key = "call:" + c.seq;
    const open = dev.expanded.has(c.seq);
    const pre = h("pre", { class: "json", hidden: !open });
    if (open) pre.textContent = JSON.stringify(c.params, null, 2);
    const at = typeof c.at === "number" ? new Date(c.at * 1000) : null;
    const btn = h("button", {
      type: "button", class: "call-row", "aria-expanded": String(open),
      onclick: () => {
        const nowOpen = pre.hidden;
        pre.hidden = !nowOpen;
        btn.setAttribute("aria-expanded", String(nowOpen));
        if (nowOpen) { pre.textContent = JSON.stringify(c.params, null, 2); dev.expanded.add(c.seq); } else dev.expanded.delete(c.seq);
      },
    },
    h("span", { class: "call-seq" }, "#" + c.seq),
    h("code", { class: "call-method" }, c.method),
    h("span", { class: "call-badge " + (c.ok ? "is-ok" : "is-err") }, c.ok ? "ok" : c.error || "error"),
    h("span", { class: "call-summary", "aria-hidden": "true" }, callSummary(c.params)), // keeps the row's name short
    at ? h("time", { class: "call-time", datetime: at.toISOString() }, hhmmss(at, tz)) : null);
    return h("li", { class: "call" + (c.ok ? "" : " is-error"), dataset: { key } }, btn, pre);
  }));
  if (!shown.length) ol.append(h("li", { class: "call-empty" }, calls.length ? "No call matches the filter." : "coordbot has not called the Web API yet."));
  restoreFocus(ol, focus);
}

function shorten(text, n) {
  const t = String(text).replace(/\s+/g, " ").trim();
  return t.length > n ? t.slice(0, n - 1) + "…" : t;
}

// A one-line gist of a call's params: where, to whom, what.
function callSummary(params) {
  if (!params || typeof params !== "object") return "";
  const bits = [];
  if (typeof params.channel === "string") {
    const c = app.convs.get(params.channel);
    bits.push(c ? convLabel(c) : params.channel);
  }
  for (const key of ["user", "user_id"]) {
    if (typeof params[key] === "string") {
      const u = app.users.get(params[key]);
      bits.push(u ? "@" + (u.display_name || u.name) : params[key]);
    }
  }
  let view = params.view;
  if (typeof view === "string") {
    try { view = JSON.parse(view); } catch { view = null; }
  }
  if (view && view.title && typeof view.title.text === "string") bits.push(`“${shorten(view.title.text, 40)}”`);
  else if (view && view.type === "home") bits.push("Home tab");
  if (typeof params.name === "string") bits.push(`:${params.name}:`);
  if (typeof params.text === "string" && params.text.trim()) bits.push(shorten(params.text, 100));
  return bits.join(" · ");
}

function setDevOpen(open) {
  dev.open = open;
  store.set("coordbot-sandbox.devpanel", open ? "open" : "closed");
  $("devpanel-body").hidden = !open;
  $("devpanel-toggle").setAttribute("aria-expanded", String(open));
  $("devpanel").classList.toggle("is-open", open);
  app.sigs.calls = null;
  if (app.state) renderCalls();
}

// ---------------------------------------------------------------------------------------------------------------
// Clock

function deliveredText(n) {
  if (n === undefined || n === null) return "";
  return `; ${n} due message${n === 1 ? "" : "s"} sent`;
}

async function moveClock(body, button) {
  if (button) button.disabled = true;
  setStatus("Moving time…");
  const res = await api("clock", body);
  if (button) button.disabled = false;
  if (res.ok) {
    const now = parseNow(res.now);
    const tz = viewerTz();
    setStatus(now ? `Moved to ${clockText(now, tz)} (${tz})${deliveredText(res.delivered)}` : `Time moved${deliveredText(res.delivered)}`);
  }
  return res;
}

// ---------------------------------------------------------------------------------------------------------------
// Viewer switching and wiring

function switchViewer(id) {
  if (!id || id === app.as) return;
  composers.main.saveDraft(app.current);
  closePopover();
  setStatus(""); // what the last person did is not news to the next
  app.as = id;
  app.version = null;
  app.seen = null;
  app.homeOpenedFor = null;
  app.sigs = {};
  app.lists.main.clear();
  app.lists.thread.clear();
  $("messages").replaceChildren();
  app.lastMainConv = null;
  app.forceBottom = true;
  rememberViewer();
  pollNow();
}

function wire() {
  $("as-select").addEventListener("change", (e) => switchViewer(e.target.value));
  $("plus-hour").addEventListener("click", (e) => moveClock({ advance_minutes: 60 }, e.currentTarget));
  $("plus-day").addEventListener("click", (e) => moveClock({ advance_minutes: 1440 }, e.currentTarget));
  $("phrase-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("phrase-input");
    const phrase = input.value.trim();
    if (!phrase) {
      setStatus("Type when to move to, e.g. “tomorrow 09:00”", "error");
      input.focus();
      return;
    }
    const res = await moveClock({ phrase }, e.submitter);
    if (res.ok) input.value = "";
  });
  $("pick-input").addEventListener("input", (e) => { e.target.dataset.auto = "0"; });
  $("pick-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("pick-input").value;
    if (!v) {
      setStatus("Pick a date and time first", "error");
      return;
    }
    $("pick-input").dataset.auto = "1";
    moveClock({ to: v.slice(0, 16) }, e.submitter);
  });
  $("thread-close").addEventListener("click", closeThread);
  $("thread").addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !e.defaultPrevented && !app.popover) {
      e.preventDefault();
      closeThread();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && app.popover) closePopover(true);
  });
  $("devpanel-toggle").addEventListener("click", () => setDevOpen(!dev.open));
  $("calls-filter").addEventListener("input", () => { if (app.state) renderCalls(); });
  $("calls-errors").addEventListener("change", () => { if (app.state) renderCalls(); });
  // keep the lists pinned to the bottom when their box shrinks (the composer grows, the window resizes)
  for (const id of ["scroller", "thread-scroller"]) {
    const s = $(id);
    let pinned = true;
    s.addEventListener("scroll", () => {
      pinned = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
      if (pinned && id === "scroller") $("new-below").hidden = true;
    });
    new ResizeObserver(() => { if (pinned) s.scrollTop = s.scrollHeight; }).observe(s);
  }
  // #channel mentions rendered by blockkit.js (span.bk-channel[data-channel-id]) open the conversation
  document.addEventListener("click", (e) => {
    const el = e.target.closest && e.target.closest("[data-channel-id]");
    if (!el || modal.el.contains(el)) return;
    const id = el.dataset.channelId;
    if (id && app.convs.has(id)) setCurrent(id);
    else if (id) setStatus("You are not in that channel.", "error");
  });
  window.addEventListener("hashchange", () => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (!id || id === app.current) return;
    if (id === HOME || app.convs.has(id)) setCurrent(id, { replace: true });
  });
  window.addEventListener("popstate", () => {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id && id !== app.current && (id === HOME || app.convs.has(id))) setCurrent(id, { replace: true });
  });
  // "New messages" pill above the composer when scrolled up
  const pill = h("button", { type: "button", id: "new-below", class: "new-below", hidden: true, onclick: () => {
    const s = $("scroller");
    s.scrollTop = s.scrollHeight;
    pill.hidden = true;
  } }, icon("down"), " New messages");
  $("composer-slot").before(pill);
  setDevOpen(dev.open);
  setStatus("");
}

wire();
poll();
setInterval(() => { if (!document.hidden || app.down) poll(); }, POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) pollNow(); });
