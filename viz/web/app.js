// The operator page of the Shoumen live twin (served by `shoumen serve`, twin/server.py).
//
// Data flow: sign in with a token (kept in sessionStorage, sent as `Authorization: Bearer`),
// GET /me and /site.geojson (the plan, in site metres), then the change stream GET /stream
// (Server-Sent Events). The stream is read with fetch() rather than EventSource because
// EventSource cannot send an Authorization header; the client follows the SSE rules itself:
// it remembers the last event id and, after a dropped connection, reconnects with
// `Last-Event-ID`, so the server replays every change it missed (or sends a fresh snapshot
// when it cannot). Plain modern JavaScript, no libraries.
"use strict";

const TOKEN_KEY = "shoumen.token";
const SEV_RANK = { red: 4, orange: 3, yellow: 2, blue: 1 };
const ALARM_STATES = new Set(["alarm", "forced", "high", "displaced", "sos", "fall", "intrusion", "thrown_object", "pressed"]);
const WARN_STATES = new Set(["open", "heart_rate_high", "heart_rate_low", "no_activity", "loitering", "crowding", "hazard_report"]);
const USE_COLORS = {
  residential_walkup: "#e9c89b", residential_highrise: "#9db4cc", kindergarten: "#f2a7c3",
  community_centre: "#b49ad6", garage: "#7d8c99", other: "#cfc6bd",
};
const WAY_COLORS = { road: "#5b5f66", fire_lane: "#a4543f", ramp: "#6f5b8c", walkway: "#e2d8c4" };
const OPEN_COLORS = { square: "#efe6d2", green: "#b9d89a", playground: "#d9e7a6", parking: "#c9c9c9", charging: "#b7d3e0", other: "#e2e2d5" };
const HOUSEHOLD_KINDS = new Set(["smoke_detector", "emergency_button", "wristband"]);
const SVGNS = "http://www.w3.org/2000/svg";
const ABBREV = { smoke_detector: "SD", heat_detector: "HD", emergency_button: "btn", wristband: "WB", door_sensor: "door",
  camera: "cam", water_level: "water", manhole: "manhole" };

const S = {
  token: null, me: null, site: null,
  devInfo: new Map(),        // device id -> {kind, building, level, unit, x, y}
  byBuilding: new Map(),     // building id -> [device ids]
  buildings: new Map(),      // building id -> feature properties
  devices: {},               // device id -> live record (snapshot / stream)
  alarms: new Map(),         // alarm id -> record
  zones: {}, patrols: {},
  feed: [], feedIds: new Set(),
  lastId: null, abort: null, paused: false, connected: false, retryTimer: null,
  selectedAlarm: null, selectedBuilding: null, errors: new Map(), resolving: null,
  // instrumentation read by the browser tests (tests/system/test_operator_page.py)
  received: [], snapshots: 0, alarmShownAt: {}, eventShownAt: {},
  geo: null, k: 1,
};

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, text) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const sv = (tag, attrs = {}, text) => {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const stateClass = (st) => !st ? "s-none" : ALARM_STATES.has(st) ? "s-alarm" : WARN_STATES.has(st) ? "s-warn" : "s-ok";
const levelName = (lv) => lv === null || lv === undefined ? "" : lv < 0 ? `B${-lv}` : `L${String(lv).padStart(2, "0")}`;
const hhmmss = (iso) => iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : "";
const fmtS = (s) => s === null || s === undefined ? "–" : `${Math.round(s)} s`;

// ---------------------------------------------------------------- HTTP
class ApiError extends Error {
  constructor(status, detail) { super(detail); this.status = status; }
}
async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${S.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) {
    let detail = `${r.status} ${r.statusText}`;
    try { const j = await r.json(); if (j.detail) detail = typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail); } catch (_) { /* not JSON */ }
    throw new ApiError(r.status, detail);
  }
  return r.status === 204 ? null : r.json();
}
function toast(msg) {
  const t = $("toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

// ---------------------------------------------------------------- login
function showLogin(err = "") {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = err;
  $("token").focus();
}
async function start(token) {
  S.token = token;
  try {
    S.me = await api("/me");
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(e.status === 401 ? "Unknown token." : e.status === 403 ? `Refused: ${e.message}` : `Cannot sign in: ${e.message}`);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("login").hidden = true;
  $("app").hidden = false;
  $("who").textContent = `${S.me.user} · ${S.me.role}`;
  $("forecast-btn").disabled = !S.me.may_forecast;
  if (!S.me.may_forecast) $("forecast-btn").title = `role ${S.me.role} may not run forecasts`;
  try {
    S.site = await api("/site.geojson");
  } catch (e) { toast(`site plan: ${e.message}`); return; }
  indexSite();
  drawMap();
  fillSelects();
  connect();
}
function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  disconnect();
  location.reload();
}

// ---------------------------------------------------------------- site plan
function indexSite() {
  $("site-name").textContent = S.site.name;
  for (const f of S.site.features) {
    const p = f.properties;
    if (p.layer === "device") {
      const [x, y] = f.geometry.coordinates;
      S.devInfo.set(f.id, { kind: p.kind, building: p.building, level: p.level, unit: p.unit, x, y });
      if (p.building) {
        if (!S.byBuilding.has(p.building)) S.byBuilding.set(p.building, []);
        S.byBuilding.get(p.building).push(f.id);
      }
    } else if (p.layer === "building") {
      S.buildings.set(f.id, { ...p, id: f.id, geometry: f.geometry });
    }
  }
}
function fillSelects() {
  for (const id of ["f-building", "b-select"]) {
    const s = $(id);
    for (const b of [...S.buildings.keys()].sort()) s.append(el("option", { value: b }, b));
  }
}

// map coordinates: x east as is; y north flipped into the SVG's y down within the same range
function tx(x) { return x; }
function ty(y) { const b = S.site.bounds; return b[1] + b[3] - y; }
function pathOf(geom) {
  const ring = (r) => r.map(([x, y], i) => `${i ? "L" : "M"}${tx(x).toFixed(2)} ${ty(y).toFixed(2)}`).join("") + "Z";
  if (geom.type === "Polygon") return geom.coordinates.map(ring).join("");
  if (geom.type === "LineString") return geom.coordinates.map(([x, y], i) => `${i ? "L" : "M"}${tx(x).toFixed(2)} ${ty(y).toFixed(2)}`).join("");
  return "";
}
function centroid(geom) {
  const r = geom.coordinates[0];
  let a = 0, cx = 0, cy = 0;
  for (let i = 0; i < r.length - 1; i++) {
    const [x0, y0] = r[i], [x1, y1] = r[i + 1];
    const c = x0 * y1 - x1 * y0;
    a += c; cx += (x0 + x1) * c; cy += (y0 + y1) * c;
  }
  if (Math.abs(a) < 1e-9) return r[0];
  return [cx / (3 * a), cy / (3 * a)];
}
function drawMap() {
  const svg = $("map");
  svg.replaceChildren();
  const [x0, y0, x1, y1] = S.site.bounds;
  const w = x1 - x0, h = y1 - y0, pad = 0.03 * Math.max(w, h);
  S.k = Math.max(w, h) / 300;  // label and marker sizes are tuned for a 300 m estate
  svg.setAttribute("viewBox", `${x0 - pad} ${y0 - pad} ${w + 2 * pad} ${h + 2 * pad}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  const layers = {};
  for (const name of ["open", "ways", "cones", "grids", "buildings", "boundary", "labels", "gates", "devices", "hot", "patrols", "zones"]) {
    layers[name] = svg.appendChild(sv("g", { id: `layer-${name}` }));
  }
  S.geo = { layers, buildingEls: new Map(), deviceEls: new Map(), hotEls: new Map() };
  const fs = (base) => `${(base * S.k).toFixed(2)}px`;
  const ways = S.site.features.filter((f) => f.properties.layer === "way");
  const order = { walkway: 0, road: 1, fire_lane: 2, ramp: 3 };
  ways.sort((a, b) => (order[a.properties.kind] ?? 0) - (order[b.properties.kind] ?? 0));
  for (const f of S.site.features) {
    const p = f.properties;
    if (p.layer === "boundary") {
      layers.boundary.append(sv("path", { d: pathOf(f.geometry), class: "boundary" }));
    } else if (p.layer === "open_space") {
      layers.open.append(sv("path", { d: pathOf(f.geometry), class: `open-space${p.assembly_point ? " assembly" : ""}`,
        fill: p.assembly_point ? null : (OPEN_COLORS[p.kind] || OPEN_COLORS.other) }));
    } else if (p.layer === "camera_cone") {
      layers.cones.append(sv("path", { d: pathOf(f.geometry), class: "cone" }));
    } else if (p.layer === "grid") {
      layers.grids.append(sv("path", { d: pathOf(f.geometry), class: "grid" }));
      const [gx0, , , gy1] = bbox(f.geometry);
      const t = sv("text", { x: tx(gx0) + 3 * S.k, y: ty(gy1) + 8 * S.k, class: "zone-count", "data-zone": f.id });
      t.style.fontSize = fs(4.6);
      t.textContent = f.id;
      layers.zones.append(t);
    } else if (p.layer === "building") {
      const cls = `building${p.underground ? " underground" : ""}`;
      const e = sv("path", { d: pathOf(f.geometry), class: cls, fill: p.underground ? null : (USE_COLORS[p.use] || USE_COLORS.other),
        "data-building": f.id });
      e.append(sv("title", {}, `${f.id} ${p.name || ""} · ${p.storeys} storeys${p.basement_levels ? ` + ${p.basement_levels} basement` : ""}`));
      e.addEventListener("click", () => selectBuilding(f.id, true));
      layers.buildings.append(e);
      S.geo.buildingEls.set(f.id, e);
      const [cx, cy] = centroid(f.geometry);
      const t = sv("text", { x: tx(cx), y: ty(cy), class: "b-label" }, p.underground ? `${f.id} (B${p.basement_levels})` : `${f.id}·${p.storeys}F`);
      t.style.fontSize = fs(5);
      layers.labels.append(t);
    } else if (p.layer === "gate") {
      const [gx, gy] = f.geometry.coordinates, r = 2.6 * S.k;
      layers.gates.append(sv("rect", { x: tx(gx) - r, y: ty(gy) - r, width: 2 * r, height: 2 * r, class: "gate" }));
      // labels point into the estate so they are not cut at the map's edge
      const east = gx > (x0 + x1) / 2 + 0.3 * w, north = gy > (y0 + y1) / 2;
      const t = sv("text", { x: tx(gx) + (east ? -1.5 : 1.5) * r, y: ty(gy) + (north ? 3 : -1.5) * r, class: "gate-label",
        "text-anchor": east ? "end" : "start" }, `${f.id} (${p.access})`);
      t.style.fontSize = fs(5.5);
      layers.gates.append(t);
    } else if (p.layer === "device" && !(HOUSEHOLD_KINDS.has(p.kind) && p.unit)) {
      const [dx, dy] = f.geometry.coordinates;
      const c = sv("circle", { cx: tx(dx), cy: ty(dy), r: (p.kind === "camera" ? 1.3 : 1.0) * S.k,
        class: `dev s-none${p.kind === "camera" ? " camera" : ""}`, "data-device": f.id });
      c.append(sv("title", {}, `${f.id} (${p.kind})`));
      if (p.building) c.addEventListener("click", () => selectBuilding(p.building, true));
      layers.devices.append(c);
      S.geo.deviceEls.set(f.id, c);
    }
  }
  for (const f of ways) {
    layers.ways.append(sv("path", { d: pathOf(f.geometry), class: "way", stroke: WAY_COLORS[f.properties.kind] || "#9e9e9e",
      "stroke-width": f.properties.width_m }));
  }
}
function bbox(geom) {
  let a = Infinity, b = Infinity, c = -Infinity, d = -Infinity;
  for (const [x, y] of geom.coordinates[0]) { a = Math.min(a, x); b = Math.min(b, y); c = Math.max(c, x); d = Math.max(d, y); }
  return [a, b, c, d];
}

// ---------------------------------------------------------------- live state -> map
function paintDevice(id) {
  const rec = S.devices[id];
  const st = rec ? rec.state : "";
  const info = S.devInfo.get(id);
  const cls = stateClass(st);
  const e = S.geo.deviceEls.get(id);
  if (e) e.setAttribute("class", `dev ${cls}${info && info.kind === "camera" ? " camera" : ""}`);
  // per-household devices are drawn only while they are not normal
  if (!e && info) {
    const hot = S.geo.hotEls.get(id);
    if (cls === "s-alarm" || cls === "s-warn") {
      if (!hot) {
        const c = sv("circle", { cx: tx(info.x), cy: ty(info.y), r: 2.2 * S.k, class: `dev hot ${cls}`, "data-device": id });
        c.append(sv("title", {}, `${id} (${info.kind}) ${st}`));
        if (info.building) c.addEventListener("click", () => selectBuilding(info.building, true));
        S.geo.layers.hot.append(c);
        S.geo.hotEls.set(id, c);
      } else hot.setAttribute("class", `dev hot ${cls}`);
    } else if (hot) { hot.remove(); S.geo.hotEls.delete(id); }
  }
  if (info && info.building) paintBuilding(info.building);
}
function buildingStatus(b) {
  let worst = 0;
  for (const id of S.byBuilding.get(b) || []) {
    const rec = S.devices[id];
    if (!rec) continue;
    const c = stateClass(rec.state);
    if (c === "s-alarm") return 2;
    if (c === "s-warn") worst = 1;
  }
  return worst;
}
function paintBuilding(b) {
  const e = S.geo.buildingEls.get(b);
  if (!e) return;
  const st = buildingStatus(b);
  e.classList.toggle("b-alarm", st === 2);
  e.classList.toggle("b-warn", st === 1);
  if (S.selectedBuilding === b) renderBuilding();
}
function paintZones() {
  for (const t of S.geo.layers.zones.querySelectorAll("text")) {
    const z = t.dataset.zone, rec = S.zones[z];
    if (!rec) { t.textContent = z; continue; }
    const gate = rec.gate_in || rec.gate_out ? ` · gates net ${rec.gate_net >= 0 ? "+" : ""}${rec.gate_net}` : "";
    t.textContent = `${z} · ${rec.camera_people} people seen${gate}`;
  }
}
function paintPatrols() {
  const g = S.geo.layers.patrols;
  g.replaceChildren();
  for (const [id, p] of Object.entries(S.patrols)) {
    if (p.x_m === null || p.x_m === undefined || p.y_m === null || p.y_m === undefined) continue;
    g.append(sv("circle", { cx: tx(p.x_m), cy: ty(p.y_m), r: 2.4 * S.k, class: "patrol", "data-patrol": id }));
    const t = sv("text", { x: tx(p.x_m) + 3 * S.k, y: ty(p.y_m) - 2 * S.k, class: "patrol-label" }, id);
    t.style.fontSize = `${(5 * S.k).toFixed(2)}px`;
    g.append(t);
  }
}
function paintCounts() {
  let alarm = 0, warn = 0, ok = 0;
  for (const rec of Object.values(S.devices)) {
    const c = stateClass(rec.state);
    if (c === "s-alarm") alarm++; else if (c === "s-warn") warn++; else if (c === "s-ok") ok++;
  }
  $("counts").textContent = `${S.devInfo.size} devices · ${Object.keys(S.devices).length} reporting · ${alarm} in alarm · ${warn} warning`;
}

// ---------------------------------------------------------------- alarms
function sortedAlarms() {
  return [...S.alarms.values()].sort((a, b) =>
    (SEV_RANK[b.severity] || 0) - (SEV_RANK[a.severity] || 0)
    || (a.state === "open" ? 0 : 1) - (b.state === "open" ? 0 : 1)
    || String(b.raised || "").localeCompare(String(a.raised || "")));
}
function renderAlarms() {
  const ul = $("alarms");
  ul.replaceChildren();
  const now = Date.now();
  for (const a of sortedAlarms()) {
    const li = el("li", { class: `alarm sev-${a.severity}${S.selectedAlarm === a.id ? " selected" : ""}`, "data-alarm": a.id,
      "data-device": a.device, "data-state": a.state });
    li.append(el("span", { class: "sev" }));
    const title = el("div", { class: "title" });
    title.append(el("span", { class: `sev-chip ${a.severity}` }, a.severity), " ", a.title || a.rule, " ",
      el("span", { class: `state-chip ${a.state}` }, a.state));
    li.append(title);
    const acts = el("div", { class: "acts" });
    if (a.state === "open") {
      const ack = el("button", { class: "ack", "data-action": "ack", title: "acknowledge" }, "Ack");
      ack.addEventListener("click", (ev) => { ev.stopPropagation(); act(a.id, "ack"); });
      acts.append(ack);
    }
    const res = el("button", { class: "res", "data-action": "resolve", title: "resolve (with a note)" }, "Resolve");
    res.addEventListener("click", (ev) => { ev.stopPropagation(); S.resolving = a.id; renderAlarms(); });
    acts.append(res);
    li.append(acts);
    const where = [a.building, a.storey !== null && a.storey !== undefined ? levelName(a.storey) : null, a.unit, a.zone].filter(Boolean).join(" · ");
    const by = a.acknowledged_by ? ` · ack by ${a.acknowledged_by}` : "";
    li.append(el("div", { class: "meta" }, `${a.id} · ${where || a.device || ""} · level ${a.level} · ${hhmmss(a.raised)}${a.count > 1 ? ` · ×${a.count}` : ""}${by}`));
    if (S.resolving === a.id) {
      const form = el("form", { class: "resolve-form" });
      const note = el("input", { name: "note", placeholder: "what was done", required: "" });
      form.append(note, el("button", { type: "submit", class: "res" }, "Done"));
      form.addEventListener("submit", (ev) => { ev.preventDefault(); act(a.id, "resolve", note.value); });
      form.addEventListener("click", (ev) => ev.stopPropagation());
      li.append(form);
      setTimeout(() => note.focus(), 0);
    }
    if (S.errors.has(a.id)) li.append(el("div", { class: "err", role: "alert" }, S.errors.get(a.id)));
    li.addEventListener("click", () => { S.selectedAlarm = S.selectedAlarm === a.id ? null : a.id; if (a.building) selectBuilding(a.building, false); renderAlarms(); });
    ul.append(li);
    if (!(a.id in S.alarmShownAt)) S.alarmShownAt[a.id] = now;
  }
  $("alarm-count").textContent = String(S.alarms.size);
}
async function act(id, action, note) {
  S.errors.delete(id);
  try {
    const a = await api(`/alarms/${encodeURIComponent(id)}/${action}`, { method: "POST", body: action === "resolve" ? { note } : undefined });
    S.resolving = null;
    if (a.state === "resolved") S.alarms.delete(id); else S.alarms.set(id, { ...S.alarms.get(id), ...a });
  } catch (e) {
    S.errors.set(id, e.status === 403 ? `Not allowed: ${e.message}` : e.message);
    toast(`${action} ${id}: ${e.message}`);
  }
  renderAlarms();
}

// ---------------------------------------------------------------- event feed
function feedItem(ev) {
  if (!ev.id || S.feedIds.has(ev.id)) return false;
  S.feedIds.add(ev.id);
  S.feed.push(ev);
  if (S.feed.length > 600) { const old = S.feed.splice(0, S.feed.length - 500); for (const o of old) S.feedIds.delete(o.id); }
  const s = $("f-type");
  const short = (ev.type || "").replace("cn.shoumen.", "");
  if (short && ![...s.options].some((o) => o.value === short)) s.append(el("option", { value: short }, short));
  return true;
}
function renderFeed(fresh) {
  const ft = $("f-type").value, fb = $("f-building").value;
  const ul = $("feed");
  ul.replaceChildren();
  const now = Date.now();
  let n = 0;
  const items = [...S.feed].sort((a, b) => String(b.time).localeCompare(String(a.time)));
  for (const ev of items) {
    const short = (ev.type || "").replace("cn.shoumen.", "");
    if (ft && short !== ft) continue;
    if (fb && ev.building !== fb) continue;
    const li = el("li", { "data-event": ev.id, class: fresh && fresh.has(ev.id) ? "fresh" : null });
    li.append(el("span", { class: "t" }, hhmmss(ev.time)));
    const body = el("span");
    const where = [ev.building, levelName(ev.level), ev.unit && ev.unit.split("-").pop()].filter(Boolean).join(" ");
    body.append(el("span", { class: "ty" }, short || ev.state), ` ${ev.device}`, where ? ` · ${where}` : "",
      ev.value !== null && ev.value !== undefined ? ` · ${+Number(ev.value).toFixed(2)}` : "", ` → ${ev.state}`);
    li.append(body);
    ul.append(li);
    if (!(ev.id in S.eventShownAt)) S.eventShownAt[ev.id] = now;
    if (++n >= 300) break;
  }
}
async function loadHistory() {
  const since = new Date(Date.now() - 3600e3).toISOString();
  try {
    const r = await api(`/events?since=${encodeURIComponent(since)}&limit=1000`);
    for (const se of r.events) {
      const e = se.event, info = S.devInfo.get(e.subject) || {};
      feedItem({ id: e.id, type: e.type, device: e.subject, state: e.type.split(".").pop(), time: e.time,
        building: info.building, level: info.level, unit: info.unit, value: null });
    }
    renderFeed();
  } catch (e) { toast(`event history: ${e.message}`); }
}

// ---------------------------------------------------------------- building drill-down
function selectBuilding(b, showTab) {
  S.selectedBuilding = b || null;
  $("b-select").value = b || "";
  for (const [id, e] of S.geo.buildingEls) e.classList.toggle("selected", id === b);
  if (showTab) showTabName("building");
  renderBuilding();
  const hot = document.querySelector("#building tr.hot");
  if (hot) hot.scrollIntoView({ block: "center" });
}
function renderBuilding() {
  const box = $("building");
  box.replaceChildren();
  const b = S.selectedBuilding && S.buildings.get(S.selectedBuilding);
  if (!b) { box.append(el("p", { class: "muted" }, "Click a building on the map.")); return; }
  const head = el("div", { class: "bhead" });
  head.append(el("b", {}, `${b.id} ${b.name || ""}`), ` · ${b.use.replace(/_/g, " ")} · ${b.storeys} storeys` +
    (b.basement_levels ? ` + ${b.basement_levels} basement` : "") + (b.households_per_storey ? ` · ${b.households_per_storey} flats per storey` : ""));
  box.append(head);
  const perLevel = new Map();
  for (const id of S.byBuilding.get(b.id) || []) {
    const info = S.devInfo.get(id);
    const lv = info.level ?? 0;
    if (!perLevel.has(lv)) perLevel.set(lv, []);
    perLevel.get(lv).push(id);
  }
  const table = el("table", { class: "storeys" });
  const hr = el("tr");
  for (const h of ["storey", "flats", "devices (not normal in red)"]) hr.append(el("th", {}, h));
  table.append(hr);
  const levels = [...b.levels].sort((x, y) => y - x);
  for (const lv of levels) {
    const ids = perLevel.get(lv) || [];
    const tr = el("tr", { "data-level": lv });
    tr.append(el("td", {}, levelName(lv)));
    const units = new Map();
    for (let u = 1; u <= (lv >= 0 ? b.households_per_storey : 0); u++) units.set(`${b.id}-L${String(lv).padStart(2, "0")}-U${String(u).padStart(2, "0")}`, "s-none");
    const odd = [];
    const rankOf = { "s-none": 0, "s-ok": 1, "s-warn": 2, "s-alarm": 3 };
    for (const id of ids) {
      const rec = S.devices[id], info = S.devInfo.get(id);
      const c = stateClass(rec && rec.state);
      if (info.unit && units.has(info.unit) && rankOf[c] > rankOf[units.get(info.unit)]) units.set(info.unit, c);
      if (c === "s-alarm" || c === "s-warn") odd.push(`${id}: ${rec.state}`);
    }
    const ucell = el("td");
    const uw = el("div", { class: "units" });
    for (const [u, c] of units) uw.append(el("span", { class: `unit ${c}`, title: u, "data-unit": u }));
    ucell.append(uw);
    tr.append(ucell);
    const kinds = {};
    for (const id of ids) { const k = S.devInfo.get(id).kind; kinds[k] = (kinds[k] || 0) + 1; }
    const kc = el("td", { class: "kinds" }, Object.entries(kinds).map(([k, n]) => `${n} ${ABBREV[k] || k}`).join(" · "));
    if (odd.length) kc.append(el("div", { class: "odd" }, odd.join("; ")));
    tr.append(kc);
    if (odd.length) tr.classList.add("hot");
    table.append(tr);
  }
  box.append(table);
  box.append(el("p", { class: "muted" }, "SD smoke detector · HD heat detector · btn emergency button · WB wristband; a square per flat, coloured by its worst device state."));
}

// ---------------------------------------------------------------- forecast
async function forecast() {
  showTabName("forecast");
  const box = $("forecast");
  const a = S.selectedAlarm && S.alarms.get(S.selectedAlarm);
  const body = a && a.unit ? { alarm_id: a.id } : {};
  box.replaceChildren(el("p", { class: "muted" }, `Running the forecast${a && a.unit ? ` for ${a.unit}` : ""} (fire and evacuation, a few seconds)…`));
  $("forecast-btn").disabled = true;
  try {
    const f = await api("/forecast", { method: "POST", body });
    const d = el("div", { class: "fc", "data-forecast": f.id });
    d.append(el("div", {}, `${f.id}: fire in ${f.unit} (${f.building}), ${f.fire_params.growth} t² to ${f.fire_params.peak_kw} kW, residents as at ${f.time_of_day}; ${f.model} model, ${f.wall_s} s`));
    const grid = el("div", { class: "fc-grid" });
    const card = (k, v, cls, key) => { const c = el("div", { class: `fc-card ${cls || ""}`, "data-k": key }); c.append(el("div", { class: "k" }, k), el("div", { class: "v" }, v)); grid.append(c); };
    card("ASET (escape route)", fmtS(f.aset_s), "", "aset");
    card("RSET 95 %", fmtS(f.rset_95_s), "", "rset95");
    card("margin 95 %", fmtS(f.margin_95_s), f.margin_95_s === null ? "" : f.margin_95_s < 0 ? "bad" : "good", "margin95");
    card("RSET 100 %", fmtS(f.rset_100_s), "", "rset100");
    card("margin 100 %", fmtS(f.margin_100_s), f.margin_100_s === null ? "" : f.margin_100_s < 0 ? "bad" : "good", "margin100");
    card("escape route left now", fmtS(f.aset_remaining_s), f.aset_remaining_s === null ? "" : f.aset_remaining_s < 0 ? "bad" : "", "remaining");
    d.append(grid);
    if (f.first_untenable && f.first_untenable.length) {
      d.append(el("div", {}, "First untenable: " + f.first_untenable.slice(0, 5).map((u) => `${u.compartment} at ${fmtS(u.aset_s ?? u.t_s)}`).join(", ")));
    }
    if (f.live && f.live.other_units_in_alarm && f.live.other_units_in_alarm.length) d.append(el("div", {}, `Other flats in alarm: ${f.live.other_units_in_alarm.join(", ")}`));
    box.replaceChildren(d);
  } catch (e) {
    box.replaceChildren(el("p", { class: "error", role: "alert" }, `Forecast refused: ${e.message}`));
  } finally {
    $("forecast-btn").disabled = !S.me.may_forecast;
  }
}

// ---------------------------------------------------------------- change stream (SSE over fetch)
function setConn(on, text) {
  S.connected = on;
  const c = $("conn");
  c.className = `conn ${on ? "conn-on" : "conn-off"}`;
  c.textContent = text;
}
function connect() {
  S.paused = false;
  clearTimeout(S.retryTimer);
  if (S.abort) return;
  const ctl = new AbortController();
  S.abort = ctl;
  const headers = { Authorization: `Bearer ${S.token}`, Accept: "text/event-stream" };
  if (S.lastId !== null) headers["Last-Event-ID"] = String(S.lastId);
  setConn(false, "connecting");
  let retry = 1000;
  (async () => {
    try {
      const r = await fetch("/stream", { headers, signal: ctl.signal, cache: "no-store" });
      if (r.status === 401 || r.status === 403) { S.abort = null; showLogin("Your token is no longer accepted."); return; }
      if (!r.ok) throw new Error(`stream: ${r.status}`);
      setConn(true, "live");
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "", data = [], name = "message", id = null;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
          if (line === "") {  // dispatch
            if (data.length) handle(name, data.join("\n"), id);
            data = []; name = "message"; id = null;
            continue;
          }
          if (line.startsWith(":")) continue;
          const c = line.indexOf(":");
          const field = c < 0 ? line : line.slice(0, c);
          let val = c < 0 ? "" : line.slice(c + 1);
          if (val.startsWith(" ")) val = val.slice(1);
          if (field === "data") data.push(val);
          else if (field === "event") name = val;
          else if (field === "id") id = val;
          else if (field === "retry" && /^\d+$/.test(val)) retry = +val;
        }
      }
    } catch (e) {
      if (e.name === "AbortError") return;
    } finally {
      if (S.abort === ctl) S.abort = null;
    }
    setConn(false, S.paused ? "paused" : "reconnecting");
    if (!S.paused) S.retryTimer = setTimeout(connect, retry);
  })();
}
function disconnect() {
  S.paused = true;
  clearTimeout(S.retryTimer);
  if (S.abort) { S.abort.abort(); S.abort = null; }
  setConn(false, "paused");
}
function handle(name, text, id) {
  const d = JSON.parse(text);
  if (id !== null) { S.lastId = Number(id); S.received.push({ id: Number(id), name }); }
  if (name === "snapshot") {
    S.snapshots++;
    S.devices = d.devices;
    S.alarms = new Map(d.alarms.map((a) => [a.id, a]));
    S.zones = d.zones; S.patrols = d.patrols;
    for (const id2 of S.devInfo.keys()) if (S.geo.deviceEls.has(id2) || S.geo.hotEls.has(id2) || S.devices[id2]) paintDevice(id2);
    for (const b of S.buildings.keys()) paintBuilding(b);
    paintZones(); paintPatrols(); paintCounts(); renderAlarms();
    if (S.snapshots === 1) loadHistory();
  } else if (name === "device") {
    if (d.device) S.devices[d.device_id] = d.device;
    paintDevice(d.device_id);
    paintCounts();
    if (feedItem(d.event)) renderFeed(new Set([d.event.id]));
  } else if (name === "alarm") {
    const a = d.alarm;
    if (a.state === "resolved") S.alarms.delete(a.id); else S.alarms.set(a.id, { ...S.alarms.get(a.id), ...a });
    renderAlarms();
  } else if (name === "zone") {
    S.zones[d.zone] = d.record; paintZones();
  } else if (name === "patrol") {
    S.patrols[d.patrol] = { ...S.patrols[d.patrol], ...d.record }; paintPatrols();
  }
}

// ---------------------------------------------------------------- tabs and wiring
function showTabName(name) {
  for (const t of document.querySelectorAll(".tab")) t.classList.toggle("active", t.dataset.tab === name);
  for (const b of document.querySelectorAll(".tab-body")) b.hidden = b.id !== `tab-${name}`;
}
document.addEventListener("DOMContentLoaded", () => {
  for (const t of document.querySelectorAll(".tab")) t.addEventListener("click", () => showTabName(t.dataset.tab));
  $("login-form").addEventListener("submit", (ev) => { ev.preventDefault(); start($("token").value.trim()); });
  $("logout").addEventListener("click", logout);
  $("forecast-btn").addEventListener("click", forecast);
  $("f-type").addEventListener("change", () => renderFeed());
  $("f-building").addEventListener("change", () => renderFeed());
  $("b-select").addEventListener("change", (ev) => selectBuilding(ev.target.value, false));
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) start(saved); else showLogin();
});
// for operators' scripts and the browser tests: pause / resume the stream, read the state
window.shoumen = { state: S, connect, disconnect };
