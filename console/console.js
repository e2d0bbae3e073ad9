"use strict";
// The console's page. Task names, errors and spawn sites are the program's
// text: they are only ever set as text (textContent, dataset, title), never
// parsed as markup.
//
// A snapshot can hold 100,000 tasks, so the page never builds a node per
// task: siblings that share a name are grouped, a parent shows a bounded
// number of rows with "N more", and only the rows on screen are in the DOM
// (the list is virtual, rows have a fixed height).

const $ = (id) => document.getElementById(id);
const ROW = 24;          // px, as --row in console.css
const GROUP_MIN = 5;     // siblings sharing a name and group are grouped from this many
const PAGE = 100;        // rows shown under one parent (or in one group) before "N more"
const MAX_DEPTH = 200;   // deeper chains are cut (a task that starts its successor forever)
const OVERSCAN = 8;      // rows rendered above and below the visible ones

const ui = {
  snap: null, ix: null, rows: [], extras: new Map(),
  view: "tasks",
  expanded: new Set(),   // open groups, by key
  collapsed: new Set(),  // closed tasks, by id
  more: new Map(),       // rows allowed under a parent or group, by key
  selected: 0,
  tl: { live: true, span: 60000, end: 0 }, // timeline window: [end - span, end] in ms since the epoch
  timings: [],           // the last updates' costs, for the browser test and the curious
};

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmtMs(ms) {
  if (ms >= 60000) return (ms / 60000).toFixed(1) + " min";
  if (ms >= 1000) return (ms / 1000).toFixed(1) + " s";
  if (ms >= 1) return ms.toFixed(0) + " ms";
  return (ms * 1000).toFixed(0) + " µs";
}

function label(t, id) {
  if (!t) return "#" + id;
  return "#" + idOf(t) + (nameOf(t) ? " " + nameOf(t) : "");
}

// The server sends the tasks as one flat array of numbers (see the console
// package's Snapshot), W per task: id, name, state, parent, group, site,
// ageMs, durationMs; name, group and site index the snapshot's tables, and
// the few tasks with more to say (awaiting, errors...) have an object in
// "extra". One array of numbers parses fast and leaves the garbage
// collector one object per update, not a hundred thousand. The page calls a
// task by its handle, its position plus one (never 0, so a handle is true).
const W = 8;
const STATES = ["pending", "running", "blocked", "done", "failed"];
const NONE = {};
let T = [];
const idOf = (t) => T[(t - 1) * W];
const nameIx = (t) => T[(t - 1) * W + 1];
const stateIx = (t) => T[(t - 1) * W + 2];
const parentOf = (t) => T[(t - 1) * W + 3];
const groupIx = (t) => T[(t - 1) * W + 4];
const ageOf = (t) => T[(t - 1) * W + 6];
const durOf = (t) => T[(t - 1) * W + 7];
const nameOf = (t) => ui.snap.names[nameIx(t)] || "";
const stateOf = (t) => STATES[stateIx(t)] || "pending";
const groupOf = (t) => ui.snap.groups[groupIx(t)] || "";
const spawnOf = (t) => ui.snap.sites[T[(t - 1) * W + 5]] || "";
const extra = (t) => ui.extras.get(t) || NONE;
function settled(t) { return stateIx(t) >= 3; }

// index builds what every view needs from a snapshot, in one pass. The
// tasks come in order of id, and a parent is older than its children, so
// a task is found by binary search: no map of a hundred thousand entries.
function index(snap) {
  T = snap.tasks;
  const n = Math.floor(T.length / W), kids = new Map(), roots = [];
  ui.extras = new Map();
  for (const [i, x] of snap.extra || []) if (i >= 0 && i < n && x) ui.extras.set(i + 1, x);
  const find = (id) => {
    let lo = 0, hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, m = T[mid * W];
      if (m === id) return mid + 1;
      if (m < id) lo = mid + 1; else hi = mid - 1;
    }
    return 0;
  };
  const byId = { get: find, has: (id) => find(id) !== 0 };
  const c = [0, 0, 0, 0, 0];
  let lastParent = -1, lastKids = null;
  for (let i = 0; i < n; i++) {
    const t = i + 1, p = T[i * W + 3];
    c[T[i * W + 2]]++;
    if (p === 0) { roots.push(t); continue; }
    if (p === lastParent) { lastKids.push(t); continue; } // siblings often come together
    let k = kids.get(p);
    if (!k) {
      if (find(p) === 0) { roots.push(t); continue; }
      kids.set(p, k = []);
    }
    lastParent = p; lastKids = k;
    k.push(t);
  }
  const counts = {};
  STATES.forEach((s, i) => { counts[s] = c[i]; });
  return { byId, kids, roots, counts, n };
}

function matches(t, state, text) {
  if (state === "live" && settled(t)) return false;
  if (state && state !== "live" && stateOf(t) !== state) return false;
  if (text) {
    const hay = (nameOf(t) + " " + spawnOf(t) + " " + groupOf(t) + " #" + idOf(t)).toLowerCase();
    if (!hay.includes(text)) return false;
  }
  return true;
}

// visibleSet returns the ids to show under the filters (a match and its
// ancestors), or null when nothing is filtered.
function visibleSet(ix, state, text) {
  if (!state && !text) return null;
  const vis = new Set();
  for (let t = 1; t <= ix.n; t++) {
    if (!matches(t, state, text)) continue;
    for (let x = t; x && !vis.has(idOf(x)); x = parentOf(x) ? ix.byId.get(parentOf(x)) : 0) vis.add(idOf(x));
  }
  return vis;
}

function groupKey(parentKey, t) { return parentKey + "/" + nameIx(t) + "," + groupIx(t); }

// buildRows flattens the tree into the rows to show: tasks, groups of
// same-name siblings, and "N more" rows.
function buildRows(ix, vis) {
  const rows = [];
  const addTask = (t, depth) => {
    const k = ix.kids.get(idOf(t));
    const open = k && !ui.collapsed.has(idOf(t));
    rows.push({ kind: "task", depth, t, kids: !!k, open });
    if (open) {
      if (depth + 1 > MAX_DEPTH) rows.push({ kind: "deep", depth: depth + 1 });
      else addChildren(k, depth + 1, "t" + idOf(t));
    }
  };
  const addChildren = (list, depth, key) => {
    const shown = vis ? list.filter((t) => vis.has(idOf(t))) : list;
    const groups = new Map(), units = [];
    for (const t of shown) {
      const gk = nameIx(t) * 65536 + groupIx(t);
      let g = groups.get(gk);
      if (!g) { groups.set(gk, g = []); units.push(g); }
      g.push(t);
    }
    const limit = ui.more.get(key) || PAGE;
    let used = 0, left = shown.length;
    for (const g of units) {
      if (g.length >= GROUP_MIN) {
        if (used >= limit) break;
        const gkey = groupKey(key, g[0]);
        const open = ui.expanded.has(gkey);
        rows.push({ kind: "group", depth, key: gkey, tasks: g, open });
        used++; left -= g.length;
        if (open) {
          const glimit = ui.more.get(gkey) || PAGE;
          for (let i = 0; i < g.length && i < glimit; i++) addTask(g[i], depth + 1);
          if (g.length > glimit) rows.push({ kind: "more", depth: depth + 1, key: gkey, n: g.length - glimit, limit: glimit });
        }
      } else {
        for (const t of g) {
          if (used >= limit) break;
          addTask(t, depth);
          used++; left--;
        }
      }
    }
    if (left > 0) rows.push({ kind: "more", depth, key, n: left, limit });
  };
  addChildren(ix.roots, 0, "root");
  return rows;
}

// reveal opens whatever hides task id: its ancestors' groups and limits.
function reveal(id) {
  const ix = ui.ix;
  let t = ix.byId.get(id);
  const chain = [];
  while (t) { chain.unshift(t); t = parentOf(t) ? ix.byId.get(parentOf(t)) : 0; }
  let key = "root";
  for (const x of chain) {
    const parent = parentOf(x) ? ix.byId.get(parentOf(x)) : 0;
    const siblings = parent ? ix.kids.get(idOf(parent)) : ix.roots;
    const same = siblings.filter((s) => nameIx(s) === nameIx(x) && groupIx(s) === groupIx(x));
    if (same.length >= GROUP_MIN) {
      const gk = groupKey(key, x);
      ui.expanded.add(gk);
      const at = same.indexOf(x);
      if (at >= (ui.more.get(gk) || PAGE)) ui.more.set(gk, at + 1);
    } else {
      const at = siblings.indexOf(x);
      if (at >= (ui.more.get(key) || PAGE)) ui.more.set(key, at + 1);
    }
    if (parent) ui.collapsed.delete(idOf(parent));
    key = "t" + idOf(x);
  }
}

function select(id) {
  if (!ui.ix || !ui.ix.byId.has(id)) return;
  ui.selected = id;
  reveal(id);
  rebuild();
  const i = ui.rows.findIndex((r) => r.kind === "task" && idOf(r.t) === id);
  if (i >= 0) {
    const pane = $("pane");
    if (i * ROW < pane.scrollTop || (i + 1) * ROW > pane.scrollTop + pane.clientHeight) pane.scrollTop = Math.max(0, i * ROW - pane.clientHeight / 3);
  }
  paint();
  details();
}

function link(id, text) {
  const a = el("a", "", text === undefined ? label(ui.ix.byId.get(id), id) : text);
  a.href = "#task-" + id;
  a.dataset.goto = id;
  return a;
}

// ---- Rows ----

function stateMix(tasks) {
  const c = {};
  for (const t of tasks) c[stateOf(t)] = (c[stateOf(t)] || 0) + 1;
  return ["running", "blocked", "pending", "failed", "done"].filter((s) => c[s]).map((s) => c[s] + " " + s).join(", ");
}

function indent(row, depth) { row.style.paddingLeft = (6 + depth * 18) + "px"; }

function toggle(r) {
  const tg = el("span", "toggle", r.kids || r.kind === "group" ? (r.open ? "▾" : "▸") : "");
  return tg;
}

function taskRow(r) {
  const t = r.t, row = el("div", "row task" + (extra(t).inCycle ? " in-cycle" : "") + (idOf(t) === ui.selected ? " selected" : ""));
  row.id = "task-" + idOf(t);
  row.dataset.id = idOf(t); row.dataset.name = nameOf(t); row.dataset.state = stateOf(t); row.dataset.depth = r.depth;
  if (parentOf(t)) row.dataset.parent = parentOf(t);
  row.title = spawnOf(t) ? "started at " + spawnOf(t) : "";
  return row;
}

function taskCells(row, r) {
  const t = r.t, x = extra(t), name = nameOf(t), state = stateOf(t);
  row.append(toggle(r), el("span", "id", "#" + idOf(t)), el("span", "name" + (name ? "" : " unnamed"), name || "(unnamed)"),
    el("span", "state " + state, state), el("span", "dur", fmtMs(durOf(t))));
  if (state === "blocked" && (x.awaiting || x.waiting)) {
    const aw = el("span", "await", x.waiting ? "in " + x.waiting : "");
    if (x.awaiting) {
      aw.append((x.waiting ? ", " : "") + "awaits ");
      x.awaiting.forEach((id, i) => { if (i) aw.append(", "); aw.append(link(id)); });
    }
    aw.append(" for " + fmtMs(x.blockedMs || 0));
    row.append(aw);
    if (x.blockedMs > 1000) row.append(el("span", "slow", "blocked > 1 s"));
  }
  if (x.inCycle) row.append(el("span", "cycle-tag", "⟳ await cycle"));
  if (groupOf(t)) row.append(el("span", "group", "in " + groupOf(t)));
  if (parentOf(t) && !ui.ix.byId.has(parentOf(t))) row.append(el("span", "id", "parent #" + parentOf(t) + " gone"));
  if (x.err) row.append(el("span", "err", x.err));
}

function groupRow(r) {
  const g = r.tasks, row = el("div", "row grp"), name = nameOf(g[0]);
  row.dataset.key = r.key; row.dataset.name = name; row.dataset.count = g.length; row.dataset.depth = r.depth;
  row.append(toggle(r), el("span", "name" + (name ? "" : " unnamed"), name || "(unnamed)"), el("span", "count", "×" + g.length),
    el("span", "mix", stateMix(g)));
  if (groupOf(g[0])) row.append(el("span", "group", "in " + groupOf(g[0])));
  if (g.some((t) => extra(t).inCycle)) { row.classList.add("in-cycle"); row.append(el("span", "cycle-tag", "⟳ await cycle")); }
  return row;
}

function moreRow(r) {
  const row = el("div", "row more", r.n + " more…");
  row.dataset.more = r.key; row.dataset.limit = r.limit; row.dataset.depth = r.depth;
  return row;
}

function listRow(r) {
  let row;
  switch (r.kind) {
    case "task": row = taskRow(r); taskCells(row, r); break;
    case "group": row = groupRow(r); break;
    case "more": row = moreRow(r); break;
    default: row = el("div", "row empty", "deeper tasks are not shown");
  }
  indent(row, r.depth);
  return row;
}

// ---- Timeline ----

function startMs(t) { return ui.snapTime - ageOf(t); }
function endMs(t) { return settled(t) ? startMs(t) + durOf(t) : ui.snapTime; }

function tlWindow() {
  if (ui.tl.live) ui.tl.end = ui.snapTime;
  return [ui.tl.end - ui.tl.span, ui.tl.end];
}

function pct(x, w0, w1) { return ((x - w0) / (w1 - w0) * 100); }

function place(e, a, b, w0, w1) {
  const l = Math.max(pct(a, w0, w1), -1), r = Math.min(pct(b, w0, w1), 101);
  e.style.left = l + "%";
  e.style.width = Math.max(r - l, 0) + "%";
}

function bars(lane, t, w0, w1) {
  const s = startMs(t), e = endMs(t);
  if (e < w0 || s > w1) return;
  const x = extra(t);
  const bar = el("div", "bar " + stateOf(t));
  bar.dataset.id = idOf(t); bar.dataset.state = stateOf(t);
  bar.title = label(t, idOf(t)) + ": " + stateOf(t) + ", " + fmtMs(durOf(t));
  place(bar, s, e, w0, w1);
  lane.append(bar);
  for (const [at, ms, on, what] of x.waits || []) span(lane, t, s + at, s + at + ms, on, what, w0, w1);
  if (stateOf(t) === "blocked") span(lane, t, ui.snapTime - (x.blockedMs || 0), ui.snapTime, x.awaiting, x.waiting, w0, w1);
}

function span(lane, t, a, b, on, what, w0, w1) {
  if (b < w0 || a > w1) return;
  const sp = el("div", "span");
  sp.dataset.task = idOf(t);
  if (on && on.length) sp.dataset.goto = on[0];
  sp.title = "blocked " + fmtMs(b - a) + (what ? " in " + what : "") + (on && on.length ? " awaiting " + on.map((id) => label(ui.ix.byId.get(id), id)).join(", ") : "");
  place(sp, a, b, w0, w1);
  lane.append(sp);
}

function timelineRow(r, w0, w1) {
  if (r.kind !== "task" && r.kind !== "group") return listRow(r);
  const row = r.kind === "task" ? taskRow(r) : el("div", "row grp");
  row.classList.add("tl");
  const lab = el("div", "label");
  lab.style.paddingLeft = (r.depth * 14) + "px";
  const lane = el("div", "lane");
  if (r.kind === "task") {
    lab.append(toggle(r), el("span", "name" + (nameOf(r.t) ? "" : " unnamed"), nameOf(r.t) || "(unnamed)"), el("span", "id", "#" + idOf(r.t)));
    bars(lane, r.t, w0, w1);
  } else if (r.kind === "group") {
    const g = r.tasks;
    row.dataset.key = r.key; row.dataset.name = nameOf(g[0]); row.dataset.count = g.length;
    lab.append(toggle(r), el("span", "name", nameOf(g[0]) || "(unnamed)"), el("span", "count", "×" + g.length));
    // A group's bar spans its members, in the state most of them are in.
    let a = Infinity, b = -Infinity;
    for (const t of g) { a = Math.min(a, startMs(t)); b = Math.max(b, endMs(t)); }
    const bar = el("div", "bar " + (g.some((t) => !settled(t)) ? "running" : g.some((t) => stateIx(t) === 4) ? "failed" : "done"));
    bar.title = stateMix(g);
    if (b >= w0 && a <= w1) { place(bar, a, b, w0, w1); lane.append(bar); }
  }
  row.replaceChildren(lab, lane);
  return row;
}

function axis(w0, w1) {
  const pane = $("pane");
  $("axis").style.paddingRight = (6 + pane.offsetWidth - pane.clientWidth) + "px"; // lanes end where the scroll bar begins
  const ax = $("axis-lane");
  ax.replaceChildren();
  const span = w1 - w0;
  const steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000];
  const step = steps.find((s) => span / s <= 8) || 600000;
  for (let x = Math.ceil(w0 / step) * step; x <= w1; x += step) {
    const tick = el("span", "tick", "−" + fmtMs(ui.snapTime - x).replace(" ", ""));
    tick.style.left = pct(x, w0, w1) + "%";
    ax.append(tick);
  }
  const ago = ui.snapTime - w1;
  $("tl-range").textContent = "last " + fmtMs(span) + (ui.tl.live ? " (live)" : ago >= 0 ? ", ending " + fmtMs(ago) + " ago" : ", ending " + fmtMs(-ago) + " ahead");
}

// ---- Painting ----

function rebuild() {
  if (!ui.ix) return;
  const vis = visibleSet(ui.ix, $("filter-state").value, $("filter-name").value.trim().toLowerCase());
  ui.rows = buildRows(ui.ix, vis);
}

function paint() {
  const pane = $("pane"), rows = ui.rows;
  $("sizer").style.height = (rows.length * ROW) + "px";
  const first = Math.max(0, Math.floor(pane.scrollTop / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((pane.scrollTop + pane.clientHeight) / ROW) + OVERSCAN);
  const box = $("rows");
  box.style.transform = "translateY(" + (first * ROW) + "px)";
  const out = [];
  if (ui.view === "timeline") {
    const [w0, w1] = tlWindow();
    axis(w0, w1);
    for (let i = first; i < last; i++) out.push(timelineRow(rows[i], w0, w1));
  } else {
    for (let i = first; i < last; i++) out.push(listRow(rows[i]));
  }
  if (!rows.length) out.push(el("div", "empty", ui.ix && ui.ix.n ? "no task matches the filter" : "no tasks"));
  box.replaceChildren(...out);
}

let painting = false;
function schedulePaint() {
  if (painting) return;
  painting = true;
  requestAnimationFrame(() => { painting = false; paint(); });
}

function details() {
  const t = ui.ix && ui.ix.byId.get(ui.selected);
  $("details").hidden = !t;
  if (!t) return;
  const dl = $("details-body");
  dl.replaceChildren();
  const add = (k, v, cls) => { if (v === undefined || v === "" || v === null) return; const dd = el("dd", cls || ""); dd.append(v); dl.append(el("dt", "", k), dd); };
  const x = extra(t);
  add("task", label(t, idOf(t)));
  add("state", stateOf(t));
  add("started", new Date(startMs(t)).toLocaleTimeString() + ", " + fmtMs(durOf(t)) + (settled(t) ? " long" : " ago"));
  if (parentOf(t)) add("parent", ui.ix.byId.has(parentOf(t)) ? link(parentOf(t)) : "#" + parentOf(t) + " (gone)");
  add("in", groupOf(t));
  if (stateOf(t) === "blocked") add("blocked", (x.waiting ? "in " + x.waiting + " " : "") + "for " + fmtMs(x.blockedMs || 0));
  if (x.awaiting) { const f = document.createDocumentFragment(); x.awaiting.forEach((id, i) => { if (i) f.append(", "); f.append(link(id)); }); add("awaits", f); }
  add("error", x.err);
  add("started at", spawnOf(t), "mono");
  const kids = ui.ix.kids.get(idOf(t));
  if (kids) add("children", kids.length + " (" + stateMix(kids) + ")");
}

function header(snap, ix) {
  const c = $("counts");
  c.replaceChildren();
  for (const [k, v] of Object.entries(ix.counts)) {
    const s = el("span"); s.append(el("b", "", String(v)), " " + k); c.append(s);
  }
  $("debug-off").hidden = snap.debug;
  const cy = $("cycles");
  cy.replaceChildren();
  for (const cycle of snap.cycles) {
    const b = el("div", "cycle-banner");
    b.dataset.cycle = cycle.join(",");
    b.append("⟳ Await cycle (deadlock): ");
    [...cycle, cycle[0]].forEach((id, i) => { if (i) b.append(" → "); b.append(link(id)); });
    cy.append(b);
  }
  const tb = $("pools").tBodies[0];
  tb.replaceChildren();
  for (const p of snap.pools) {
    const tr = el("tr");
    tr.dataset.pool = p.name;
    [p.name || "#" + p.id, p.Workers, p.Running, p.Queued, p.Completed, p.Failed].forEach((v) => tr.append(el("td", "", String(v))));
    tb.append(tr);
  }
  if (!snap.pools.length) { const tr = el("tr"); const td = el("td", "empty", "no pools"); td.colSpan = 6; tr.append(td); tb.append(tr); }
}

function stats(snap) {
  const tb = $("stats-table").tBodies[0];
  tb.replaceChildren();
  for (const s of snap.stats || []) {
    const tr = el("tr");
    tr.dataset.name = s.name;
    const rate = s.settled ? (100 * s.failed / s.settled).toFixed(1) + " %" : "–";
    [s.name || "(unnamed)", s.live, s.settled, s.failed, rate, s.settled ? fmtMs(s.p50Ms) : "–", s.settled ? fmtMs(s.p99Ms) : "–"]
      .forEach((v) => tr.append(el("td", "", String(v))));
    tb.append(tr);
  }
}

function render(snap) {
  const t0 = performance.now();
  ui.snap = snap;
  ui.snapTime = Date.parse(snap.time);
  ui.ix = index(snap);
  const t1 = performance.now();
  header(snap, ui.ix);
  if (ui.view === "stats") stats(snap);
  rebuild();
  const t2 = performance.now();
  paint();
  details();
  document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
  return { indexMs: t1 - t0, rowsMs: t2 - t1, paintMs: performance.now() - t2 };
}

// update handles one snapshot's JSON and records what it cost.
function update(json) {
  const t0 = performance.now();
  const snap = JSON.parse(json);
  const t1 = performance.now();
  const parts = render(snap);
  const t2 = performance.now();
  ui.timings.push({ tasks: ui.ix.n, bytes: json.length, parseMs: t1 - t0, renderMs: t2 - t1, totalMs: t2 - t0, nodes: $("rows").childElementCount, view: ui.view, ...parts });
  if (ui.timings.length > 50) ui.timings.shift();
}
window.consoleTimings = ui.timings;

// ---- Interaction ----

function setView(v) {
  ui.view = v;
  for (const b of $("tabs").querySelectorAll("button")) b.classList.toggle("on", b.dataset.view === v);
  $("pane").hidden = v === "stats";
  $("stats").hidden = v !== "stats";
  document.querySelector(".filters").hidden = v === "stats";
  $("axis").hidden = v !== "timeline";
  $("tl-controls").hidden = v !== "timeline";
  document.body.dataset.view = v;
  if (ui.snap) { if (v === "stats") stats(ui.snap); paint(); }
}

$("tabs").addEventListener("click", (e) => { const v = e.target.dataset && e.target.dataset.view; if (v) setView(v); });
$("filter-state").addEventListener("change", () => { rebuild(); paint(); });
$("filter-name").addEventListener("input", () => { rebuild(); paint(); });
$("pane").addEventListener("scroll", schedulePaint);
window.addEventListener("resize", schedulePaint);

function onClick(e) {
  const goto = e.target.closest("[data-goto]");
  if (goto) { e.preventDefault(); select(Number(goto.dataset.goto)); return; }
  const row = e.target.closest(".row");
  if (!row) return;
  if (row.dataset.more) {
    ui.more.set(row.dataset.more, Number(row.dataset.limit) + 10 * PAGE);
  } else if (row.dataset.key) {
    if (ui.expanded.has(row.dataset.key)) ui.expanded.delete(row.dataset.key); else ui.expanded.add(row.dataset.key);
  } else if (row.dataset.id) {
    const id = Number(row.dataset.id);
    if (e.target.classList.contains("toggle") && ui.ix.kids.has(id)) {
      if (ui.collapsed.has(id)) ui.collapsed.delete(id); else ui.collapsed.add(id);
    } else { ui.selected = id; details(); }
  }
  rebuild();
  paint();
}
$("pane").addEventListener("click", onClick);
$("cycles").addEventListener("click", onClick);
$("details").addEventListener("click", onClick);

// Timeline zoom (wheel, buttons) and pan (drag).
function zoom(f, at) {
  const [w0, w1] = tlWindow();
  const x = at === undefined ? w1 : at;
  const span = Math.min(Math.max(ui.tl.span * f, 50), 24 * 3600 * 1000);
  const end = x + (w1 - x) * span / ui.tl.span;
  ui.tl.span = span;
  ui.tl.end = end;
  ui.tl.live = ui.tl.live && at === undefined;
  paint();
}
$("tl-in").addEventListener("click", () => zoom(0.5));
$("tl-out").addEventListener("click", () => zoom(2));
$("tl-live").addEventListener("click", () => { ui.tl = { live: true, span: 60000, end: 0 }; paint(); });
$("pane").addEventListener("wheel", (e) => {
  if (ui.view !== "timeline" || !e.target.closest(".lane")) return;
  e.preventDefault();
  const r = e.target.closest(".lane").getBoundingClientRect();
  const [w0, w1] = tlWindow();
  zoom(e.deltaY > 0 ? 1.25 : 0.8, w0 + (w1 - w0) * (e.clientX - r.left) / r.width);
}, { passive: false });
let drag = null;
$("pane").addEventListener("pointerdown", (e) => {
  const lane = ui.view === "timeline" && e.target.closest(".lane");
  if (!lane || e.target.dataset.goto) return;
  drag = { x: e.clientX, end: tlWindow()[1], width: lane.getBoundingClientRect().width };
});
window.addEventListener("pointermove", (e) => {
  if (!drag) return;
  ui.tl.live = false;
  ui.tl.end = drag.end - (e.clientX - drag.x) / drag.width * ui.tl.span;
  schedulePaint();
});
window.addEventListener("pointerup", () => { drag = null; });

// Live updates: server-sent events; polling if they are not available or
// the server has as many streams as it serves (503).
function poll() {
  fetch("api/tasks").then((r) => r.text()).then((s) => { $("status").textContent = "polling"; update(s); return ui.snap.intervalMs; })
    .catch(() => { $("status").textContent = "disconnected"; })
    .then((ms) => setTimeout(poll, Math.max(ms || 0, 1000)));
}
if (window.EventSource) {
  const es = new EventSource("api/events");
  es.addEventListener("snapshot", (e) => { $("status").className = "live"; $("status").textContent = "live"; update(e.data); });
  es.onerror = () => {
    $("status").className = "";
    if (es.readyState === EventSource.CLOSED) poll(); // refused: the browser will not retry
    else $("status").textContent = "reconnecting…";
  };
} else {
  poll();
}
setView("tasks");
