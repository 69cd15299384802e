// On Home, a notice naming what is failing (workers, and change-stream consumers
// once /healthz lists them), so that a broken sensor read is seen without opening
// Health. Polled from /healthz only while Home is shown; hidden when all is well.

import { getJSON, serverNow } from "./api.js";
import { h } from "./dom.js";
import { formatAgo, formatCount, formatDuration } from "./format.js";

const POLL_MS = 5000;

/** `[kind, name, entry]` for every worker and consumer whose `ok` is false. */
export function failingParts(health) {
  const out = [];
  for (const kind of ["workers", "consumers"]) {
    let entries = health?.[kind] || {};
    // A list of `{name, ...}` or an object by name: take either.
    if (Array.isArray(entries)) entries = Object.fromEntries(entries.map((e) => [e.name, e]));
    for (const [name, entry] of Object.entries(entries)) {
      if (entry && entry.ok === false) out.push([kind === "workers" ? "worker" : "consumer", name, entry]);
    }
  }
  return out;
}

function item(kind, name, entry) {
  const times = entry.failing_runs || entry.errors;
  const since = typeof entry.failing_since === "number" ? `, since ${formatAgo(entry.failing_since, serverNow())}` : "";
  const error = entry.last_error || entry.error;
  return h(
    "li",
    { dataset: { [kind]: name } },
    h("strong", {}, name),
    h("span", { class: "muted" }, ` ${kind}`),
    entry.stuck
      ? ` is stuck: running for ${formatDuration(entry.running_for_s ?? 0)} (limit ${formatDuration(entry.stuck_after_s ?? 0)})`
      : times ? ` failed ${formatCount(times)} ${times === 1 ? "time" : "times"}${since}` : " is failing",
    error ? h("span", { class: "worker-error" }, `: ${error}`) : null,
  );
}

export class FailingNotice {
  /** Put the (hidden) notice before `anchor`, the Home view's cards. */
  constructor(anchor) {
    this.el = h("section", { id: "failing", class: "card failing", role: "status", "aria-live": "polite", hidden: true });
    anchor.before(this.el);
    this.timer = null;
    this.active = false;
  }

  show() {
    if (this.active) return;
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
    } catch {
      // The connection indicator already says the node is unreachable.
    }
    if (!this.active) return;
    if (!document.hidden) this.timer = setTimeout(() => this.poll(), POLL_MS);
    else document.addEventListener("visibilitychange", () => this.poll(), { once: true });
  }

  render(health) {
    const parts = failingParts(health);
    this.el.hidden = parts.length === 0;
    if (!parts.length) return this.el.replaceChildren();
    this.el.replaceChildren(
      h("h2", { class: "card-title" }, h("span", { class: "badge bad" }, "failing"), parts.length === 1 ? "1 part of this node" : `${parts.length} parts of this node`),
      h("ul", {}, parts.map(([kind, name, entry]) => item(kind, name, entry))),
      h("a", { href: "#health" }, "Details under Health"),
    );
  }
}
