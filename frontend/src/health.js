// Health: what /healthz says, readable. Polled only while this view is open.
//
// Workers get a table; each component (live push, the history recorder, and
// whatever a program adds) a card of its figures. Unknown figures are shown as
// they come, so a new component needs no change here.

import { getJSON, serverNow } from "./api.js";
import { h } from "./dom.js";
import { formatAgo, formatBytes, formatCount, formatDuration, formatFull, formatUntil, humanize } from "./format.js";

const POLL_MS = 5000;

// Nicer names for the figures of the components roost ships; the rest are humanized.
const LABELS = {
  clients: "Live clients",
  lagging: "Lagging clients",
  messages_sent: "Messages sent",
  updates_coalesced: "Updates coalesced",
  updates_dropped: "Updates dropped",
  buffered: "Samples waiting",
  written: "Samples written",
  dropped: "Samples dropped",
  series: "Series",
  committed_seq: "Committed up to seq",
  last_commit_ms: "Last commit took",
  last_commit_age_s: "Last commit",
  db_bytes: "Database size",
  bytes_written: "Written to disk",
};
const COMPONENT_TITLES = { live: "Live push", history: "History recorder", commands: "Commands", process: "Process" };

/** One figure as text, by what its name says it is. */
function figure(name, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (name.endsWith("_at") || name === "last_sent") return formatAgo(value, serverNow());
    if (name.endsWith("_bytes") || name.startsWith("bytes_")) return formatBytes(value);
    if (name.endsWith("_age_s")) return `${formatDuration(value)} ago`;
    if (name.endsWith("_ms")) return `${value.toLocaleString(undefined, { maximumFractionDigits: 1 })} ms`;
    if (name.endsWith("_s")) return formatDuration(value);
    return Number.isInteger(value) ? formatCount(value) : value.toLocaleString(undefined, { maximumFractionDigits: 2 });
  }
  if (typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return "none";
    // {"email": {"ok": false, "failures": 2, ...}, ...} (notification channels): a line
    // each, with the figures that say something (not zero, null or false).
    if (entries.some(([, v]) => v !== null && typeof v === "object")) {
      return entries
        .map(([k, v]) => {
          if (v === null || typeof v !== "object") return `${k} ${figure(k, v)}`;
          const said = Object.entries(v).filter(([, x]) => x !== null && x !== 0 && x !== false && x !== "");
          return `${k}: ${said.map(([kk, x]) => `${humanize(kk).toLowerCase()} ${figure(kk, x)}`).join(", ") || "—"}`;
        })
        .join("\n");
    }
    // {"ws": 2, "sse": 1} reads as "ws 2 · sse 1"
    return entries.map(([k, v]) => `${k} ${typeof v === "object" ? JSON.stringify(v) : figure(k, v)}`).join(" · ");
  }
  return String(value);
}

function badge(ok, yes = "ok", no = "failing") {
  return h("span", { class: `badge ${ok ? "ok" : "bad"}` }, ok ? yes : no);
}

function status(w) {
  // A run past its limit (a read with no timeout) is stuck, not merely running.
  if (w.stuck) {
    const title = typeof w.running_for_s === "number" ? `running for ${formatDuration(w.running_for_s)}, limit ${formatDuration(w.stuck_after_s)}` : null;
    return h("span", { class: "badge bad", title }, "stuck");
  }
  return w.running ? h("span", { class: "badge busy" }, "running") : badge(w.ok);
}

/** When the worker runs next: "in 42 s", "today 07:30", "after this run", or why there is none. */
function nextRun(w) {
  const now = serverNow();
  if (typeof w.next_due === "number" && w.next_due > now) return formatUntil(w.next_due, now);
  if (w.running) return "after this run";
  if (typeof w.next_due === "number") return "due now";
  return w.runs ? "no further run" : "not scheduled";
}

function workerRow(name, w) {
  const lastRun = typeof w.last_run === "number" ? formatAgo(w.last_run, serverNow()) : "not yet";
  const lastError = w.last_error
    ? h("span", { class: "worker-error", title: w.last_error_at ? formatFull(w.last_error_at) : null }, w.last_error)
    : h("span", { class: "muted" }, "none");
  return h(
    "tr",
    { dataset: { worker: name } },
    h("th", { scope: "row" }, h("span", { class: "worker-name" }, name), h("span", { class: "worker-schedule" }, w.schedule || "")),
    h("td", { "data-label": "Status" }, status(w)),
    h("td", { "data-label": "Last run", title: typeof w.last_run === "number" ? formatFull(w.last_run) : null }, lastRun),
    h("td", { "data-label": "Next run", title: typeof w.next_due === "number" ? formatFull(w.next_due) : null }, nextRun(w)),
    h("td", { "data-label": "Runs", class: "numeric" }, formatCount(w.runs ?? 0)),
    h("td", { "data-label": "Errors", class: `numeric ${w.errors ? "bad-text" : ""}` }, formatCount(w.errors ?? 0)),
    h("td", { "data-label": "Last error", class: "last-error" }, lastError),
  );
}

function componentCard(name, c) {
  const { ok, error, ...figures } = c;
  return h(
    "section",
    { class: "card", dataset: { component: name } },
    h("h2", { class: "card-title" }, COMPONENT_TITLES[name] || humanize(name), badge(ok !== false, "ok", figures.available === false ? "unavailable" : "failing")),
    error ? h("p", { class: "row-error" }, String(error)) : null,
    h(
      "dl",
      { class: "figures" },
      Object.entries(figures).flatMap(([k, v]) => [
        h("dt", {}, LABELS[k] || humanize(k)),
        h("dd", { dataset: { figure: k } }, figure(k, v)),
      ]),
    ),
  );
}

export class HealthView {
  constructor(root) {
    this.root = root;
    this.timer = null;
    this.active = false;
  }

  show() {
    this.active = true;
    this.poll();
  }

  hide() {
    this.active = false;
    clearTimeout(this.timer);
  }

  async poll() {
    clearTimeout(this.timer);
    if (!this.active) return;
    try {
      this.render(await getJSON("/healthz"));
    } catch (error) {
      this.root.querySelector(".health-summary")?.classList.add("unreachable");
      if (!this.root.firstChild) this.root.append(h("p", { class: "empty error" }, `No answer: ${error.message}`));
    }
    if (this.active && !document.hidden) this.timer = setTimeout(() => this.poll(), POLL_MS);
    else if (this.active) document.addEventListener("visibilitychange", () => this.poll(), { once: true });
  }

  render(health) {
    const ok = health.status === "ok";
    const workers = Object.entries(health.workers || {});
    // The node's own parts (command threads, the process's memory) read like components.
    const own = [["commands", health.commands], ["process", health.process]].filter(([, c]) => c && typeof c === "object");
    const components = [...own, ...Object.entries(health.components || {})];
    const failing = workers.filter(([, w]) => w.ok === false).length;
    const stat = (value, label, cls = "") => h("div", { class: `stat ${cls}` }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
    this.root.replaceChildren(
      h(
        "section",
        { class: "card health-summary", dataset: { status: health.status } },
        h("h2", { class: "card-title" }, `Node ${health.node}`, badge(ok, "ok", health.status)),
        h(
          "div",
          { class: "stats" },
          stat(formatDuration(health.uptime_s), "up"),
          stat(formatCount(health.seq), "state changes"),
          stat(formatCount(workers.length), workers.length === 1 ? "worker" : "workers"),
          stat(formatCount(failing), "failing", failing ? "bad-text" : ""),
        ),
      ),
      h(
        "section",
        { class: "card workers", "aria-labelledby": "workers-title" },
        h("h2", { class: "card-title", id: "workers-title" }, "Workers"),
        workers.length
          ? h(
              "table",
              { class: "table" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["Worker", "Status", "Last run", "Next run", "Runs", "Errors", "Last error"].map((t) =>
                    h("th", { scope: "col", class: t === "Runs" || t === "Errors" ? "numeric" : null }, t),
                  ),
                ),
              ),
              h("tbody", {}, workers.map(([name, w]) => workerRow(name, w))),
            )
          : h("p", { class: "muted" }, "No workers."),
      ),
      h("div", { class: "component-cards" }, components.map(([name, c]) => componentCard(name, c))),
    );
  }
}
