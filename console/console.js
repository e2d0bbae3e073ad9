"use strict";
const $ = (id) => document.getElementById(id);
let last = null;

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
  return "#" + t.id + (t.name ? " " + t.name : "");
}

function matches(t, state, text) {
  if (state === "live" && (t.state === "done" || t.state === "failed")) return false;
  if (state && state !== "live" && t.state !== state) return false;
  if (text) {
    const hay = (t.name + " " + (t.spawn || "") + " " + (t.group || "") + " #" + t.id).toLowerCase();
    if (!hay.includes(text)) return false;
  }
  return true;
}

function render(snap) {
  last = snap;
  for (const t of snap.tasks) t.spawn = t.site ? snap.sites[t.site - 1] : "";
  const byId = new Map(snap.tasks.map((t) => [t.id, t]));
  const counts = { pending: 0, running: 0, blocked: 0, done: 0, failed: 0 };
  snap.tasks.forEach((t) => counts[t.state]++);
  const c = $("counts");
  c.replaceChildren();
  for (const [k, v] of Object.entries(counts)) {
    const s = el("span"); s.append(el("b", "", String(v)), " " + k); c.append(s);
  }
  $("debug-off").hidden = snap.debug;

  // Await cycles.
  const cy = $("cycles");
  cy.replaceChildren();
  for (const cycle of snap.cycles) {
    const b = el("div", "cycle-banner");
    b.dataset.cycle = cycle.join(",");
    b.append("⟳ Await cycle (deadlock): ");
    [...cycle, cycle[0]].forEach((id, i) => {
      if (i) b.append(" → ");
      const a = el("a", "", label(byId.get(id), id)); a.href = "#task-" + id; b.append(a);
    });
    cy.append(b);
  }

  // The tree, filtered: a task is shown if it or a descendant matches.
  const state = $("filter-state").value, text = $("filter-name").value.trim().toLowerCase();
  const kids = new Map();
  const roots = [];
  for (const t of snap.tasks) {
    if (t.parent && byId.has(t.parent)) {
      if (!kids.has(t.parent)) kids.set(t.parent, []);
      kids.get(t.parent).push(t);
    } else roots.push(t);
  }
  const visible = new Map();
  const vis = (t) => {
    if (visible.has(t.id)) return visible.get(t.id);
    let v = matches(t, state, text);
    for (const k of kids.get(t.id) || []) if (vis(k)) v = true;
    visible.set(t.id, v);
    return v;
  };
  const build = (t) => {
    const li = el("li", "task" + (t.inCycle ? " in-cycle" : ""));
    li.id = "task-" + t.id;
    li.dataset.id = t.id; li.dataset.name = t.name; li.dataset.state = t.state;
    const row = el("div", "row");
    row.append(el("span", "id", "#" + t.id), el("span", "name" + (t.name ? "" : " unnamed"), t.name || "(unnamed)"),
      el("span", "state " + t.state, t.state), el("span", "dur", fmtMs(t.durationMs)));
    if (t.state === "blocked" && (t.awaiting || t.waiting)) {
      const aw = el("span", "await", t.waiting ? "in " + t.waiting : "");
      if (t.awaiting) {
        aw.append((t.waiting ? ", " : "") + "awaits ");
        t.awaiting.forEach((id, i) => {
          if (i) aw.append(", ");
          const a = el("a", "", label(byId.get(id), id)); a.href = "#task-" + id; aw.append(a);
        });
      }
      aw.append(" for " + fmtMs(t.blockedMs));
      row.append(aw);
      if (t.blockedMs > 1000) row.append(el("span", "slow", "blocked > 1 s"));
    }
    if (t.inCycle) row.append(el("span", "cycle-tag", "⟳ await cycle"));
    if (t.group) row.append(el("span", "group", "in " + t.group));
    if (t.parent && !byId.has(t.parent)) row.append(el("span", "id", "parent #" + t.parent + " gone"));
    if (t.err) row.append(el("div", "err", t.err));
    if (t.spawn) row.append(el("div", "spawn", "started at " + t.spawn));
    li.append(row);
    const ks = (kids.get(t.id) || []).filter(vis);
    if (ks.length) {
      const ul = el("ul");
      ks.forEach((k) => ul.append(build(k)));
      li.append(ul);
    }
    return li;
  };
  const tree = $("tree");
  tree.replaceChildren();
  const shown = roots.filter(vis);
  shown.forEach((t) => tree.append(build(t)));
  if (!shown.length) tree.append(el("li", "empty", snap.tasks.length ? "no task matches the filter" : "no tasks"));

  // Pools.
  const tb = $("pools").tBodies[0];
  tb.replaceChildren();
  for (const p of snap.pools) {
    const tr = el("tr");
    tr.dataset.pool = p.name;
    [p.name || "#" + p.id, p.Workers, p.Running, p.Queued, p.Completed, p.Failed].forEach((v) => tr.append(el("td", "", String(v))));
    tb.append(tr);
  }
  if (!snap.pools.length) { const tr = el("tr"); const td = el("td", "empty", "no pools"); td.colSpan = 6; tr.append(td); tb.append(tr); }
  document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
}

$("filter-state").addEventListener("change", () => last && render(last));
$("filter-name").addEventListener("input", () => last && render(last));

// Live updates: server-sent events; polling if they are not available or
// the server has as many streams as it serves (503).
function poll() {
  fetch("api/tasks").then((r) => r.json()).then((s) => { $("status").textContent = "polling"; render(s); return s.intervalMs; })
    .catch(() => { $("status").textContent = "disconnected"; })
    .then((ms) => setTimeout(poll, Math.max(ms || 0, 1000)));
}
if (window.EventSource) {
  const es = new EventSource("api/events");
  es.addEventListener("snapshot", (e) => { $("status").className = "live"; $("status").textContent = "live"; render(JSON.parse(e.data)); });
  es.onerror = () => {
    $("status").className = "";
    if (es.readyState === EventSource.CLOSED) poll(); // refused: the browser will not retry
    else $("status").textContent = "reconnecting…";
  };
} else {
  poll();
}
