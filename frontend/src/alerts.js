// The Alerts view: the active alerts (firing, pending, acknowledged), each with
// its value and unit, since when, who acknowledged it, and Acknowledge and
// Snooze; below them the recent history. From GET /api/alerts, fetched when the
// view opens and again when the engine changes `alerts/...` in the state tree
// (the live connection says so; nothing is polled). `#alerts/17` opens the view
// with alert 17 in sight.

import { getJSON, sendJSON, serverNow } from "./api.js";
import { h } from "./dom.js";
import { formatDuration, formatFull, formatUntil, formatValue, formatWhen } from "./format.js";
import { allowed, errorText, present, READ_ONLY, severityBadge, stateBadge } from "./alerts-shared.js";

const TICK_MS = 30_000; // "5 min ago" stays true without asking the node again
const TOMORROW_HOUR = 8;

/** Epoch seconds of tomorrow at `hour`:00, local time. */
export function tomorrowAt(hour, now = new Date()) {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, hour, 0, 0);
  return d.getTime() / 1000;
}

function when(ts) {
  return h("time", { datetime: new Date(ts * 1000).toISOString(), title: formatFull(ts) }, formatWhen(ts, serverNow()));
}

function valueOf(alert) {
  if (alert.value === null || alert.value === undefined) return null;
  const { text, unit } = formatValue(alert.value, { unit: alert.unit || "" });
  return h("span", { class: "alert-value" }, h("span", { class: "num" }, text), unit ? h("span", { class: "unit" }, unit) : null);
}

function fact(term, ...detail) {
  return [h("dt", {}, term), h("dd", {}, ...detail)];
}

class AlertCard {
  constructor(alert, view) {
    this.view = view;
    this.id = alert.id;
    this.error = h("p", { class: "row-error", role: "alert", hidden: true });
    this.body = h("div", { class: "alert-body" });
    this.snoozeMenu = this.buildSnooze();
    this.el = h(
      "article",
      { class: "card alert-card", tabindex: "-1", "aria-labelledby": `alert-${alert.id}-title`, dataset: { alert: alert.id } },
      this.body,
      this.snoozeMenu,
      this.error,
    );
    this.update(alert);
  }

  buildSnooze() {
    const custom = h("input", { type: "datetime-local", id: `alert-${this.id}-until`, class: "snooze-until" });
    const button = (label, body, attrs = {}) =>
      h("button", { type: "button", class: "button", onclick: () => this.snooze(body()), ...attrs }, label);
    return h(
      "div",
      { class: "snooze-menu", id: `alert-${this.id}-snooze`, role: "group", "aria-label": "Snooze for", hidden: true },
      button("15 min", () => ({ minutes: 15 }), { dataset: { snooze: "15" } }),
      button("1 h", () => ({ minutes: 60 }), { dataset: { snooze: "60" } }),
      button(`Until tomorrow ${String(TOMORROW_HOUR).padStart(2, "0")}:00`, () => ({ until: tomorrowAt(TOMORROW_HOUR) }), { dataset: { snooze: "tomorrow" } }),
      h(
        "span",
        { class: "snooze-custom" },
        h("label", { for: custom.id }, "Until"),
        custom,
        button(
          "Snooze",
          () => {
            const ms = Date.parse(custom.value); // a datetime-local value is local time
            return Number.isNaN(ms) ? null : { until: ms / 1000 };
          },
          { dataset: { snooze: "custom" } },
        ),
      ),
    );
  }

  update(alert) {
    this.alert = alert;
    const a = alert;
    const now = serverNow();
    const control = allowed("control");
    const facts = [];
    // "12 min ago" says how long by itself; "today 10:24" needs the span beside it.
    if (a.since) facts.push(...fact("Since", when(a.since), now - a.since >= 3600 ? ` (${formatDuration(now - a.since)})` : ""));
    if (a.fired_at && a.state !== "pending") facts.push(...fact("Fired", when(a.fired_at)));
    if (a.state === "pending" && a.fires_at) {
      // A pending alert has sent nothing yet: say when it will, if the condition holds.
      const left = a.fires_at > now ? formatUntil(a.fires_at, now) : "any moment";
      facts.push(...fact("Fires", h("time", { title: formatFull(a.fires_at) }, `${left} if it holds`)));
    }
    if (a.acked_at) facts.push(...fact("Acknowledged", a.acked_by ? `by ${a.acked_by}, ` : "", when(a.acked_at)));
    if (a.snoozed_until && a.snoozed_until > now) {
      const left = formatUntil(a.snoozed_until, now); // "in 14 min" or "today 14:30"
      const text = left.startsWith("in ") ? `for ${left.slice(3)} more` : `until ${left}`;
      facts.push(...fact("Snoozed", h("time", { title: formatFull(a.snoozed_until) }, text)));
    }
    if (a.repeats) facts.push(...fact("Repeats", String(a.repeats)));
    const ack = h(
      "button",
      { type: "button", class: "button primary", dataset: { action: "ack" }, disabled: !control, title: control ? null : READ_ONLY.control, onclick: () => this.acknowledge() },
      "Acknowledge",
    );
    this.snoozeToggle = h(
      "button",
      {
        type: "button",
        class: "button",
        dataset: { action: "snooze" },
        "aria-expanded": String(!this.snoozeMenu.hidden),
        "aria-controls": this.snoozeMenu.id,
        disabled: !control,
        title: control ? null : READ_ONLY.control,
        onclick: () => this.toggleSnooze(),
      },
      "Snooze…",
    );
    this.el.dataset.state = a.state;
    this.el.dataset.severity = a.severity;
    this.body.replaceChildren(
      ...present(
      h("div", { class: "alert-head" }, severityBadge(a.severity), stateBadge(a.state), h("h3", { class: "alert-label", id: `alert-${a.id}-title` }, a.label || a.rule)),
      h("div", { class: "alert-reading" }, valueOf(a), a.path ? h("code", { class: "alert-path" }, a.path) : null),
      a.message ? h("p", { class: "alert-message" }, a.message) : null,
      facts.length ? h("dl", { class: "alert-facts" }, facts) : null,
      // Only a firing alert is acknowledged; a pending one has sent nothing to snooze.
      a.state === "pending" ? null : h("div", { class: "alert-actions" }, a.state === "firing" ? ack : null, this.snoozeToggle),
      ),
    );
    this.setBusy(this.busy);
  }

  setBusy(busy) {
    this.busy = busy;
    for (const b of this.el.querySelectorAll("button")) {
      if (allowed("control")) b.disabled = busy || !this.view.online;
    }
  }

  toggleSnooze(open = this.snoozeMenu.hidden) {
    this.snoozeMenu.hidden = !open;
    this.snoozeToggle.setAttribute("aria-expanded", String(open));
    if (open) this.snoozeMenu.querySelector("button").focus();
  }

  showError(message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
  }

  async acknowledge() {
    await this.post("ack", {});
  }

  async snooze(body) {
    if (!body) return this.showError("Choose a date and time to snooze until.");
    if (body.until !== undefined && body.until <= serverNow()) return this.showError("That time has passed: choose one ahead.");
    if (await this.post("snooze", body)) this.toggleSnooze(false);
  }

  async post(action, body) {
    this.showError(null);
    this.setBusy(true);
    try {
      this.update(await sendJSON("POST", `/api/alerts/${encodeURIComponent(this.id)}/${action}`, body));
      this.view.refreshSoon();
      return true;
    } catch (error) {
      this.showError(errorText(error));
      return false;
    } finally {
      this.setBusy(false);
    }
  }
}

function historyItem(a) {
  const end = a.resolved_at || null;
  const span = end && (a.fired_at || a.since) ? ` after ${formatDuration(end - (a.fired_at || a.since))}` : "";
  return h(
    "li",
    { class: "alert-past", tabindex: "-1", dataset: { alert: a.id, state: a.state } },
    h("div", { class: "alert-head" }, severityBadge(a.severity), h("span", { class: "alert-label" }, a.label || a.rule), valueOf(a)),
    h(
      "p",
      { class: "muted alert-past-when" },
      a.fired_at ? ["fired ", when(a.fired_at)] : a.since ? ["pending from ", when(a.since)] : null,
      end ? [", resolved ", when(end), span] : ` · ${a.state}`,
      a.acked_at ? [", acknowledged", a.acked_by ? ` by ${a.acked_by}` : ""] : null,
    ),
    a.message ? h("p", { class: "alert-message" }, a.message) : null,
  );
}

export class AlertsView {
  constructor(root) {
    this.root = root;
    this.online = true;
    this.shown = false;
    this.cards = new Map();
    this.activeList = h("div", { class: "alert-list" }, h("p", { class: "empty" }, "Loading alerts…"));
    this.history = h("ol", { class: "alert-history" });
    this.status = h("p", { class: "empty error", role: "alert", hidden: true });
    this.focusId = null;
    root.append(
      ...present(
      allowed("control") ? null : h("p", { class: "auth-readonly", role: "note" }, READ_ONLY.control),
      this.status,
      h("section", { class: "alert-section", "aria-labelledby": "alerts-active-title" }, h("h2", { class: "section-title", id: "alerts-active-title" }, "Active"), this.activeList),
      h("section", { class: "alert-section", "aria-labelledby": "alerts-history-title" }, h("h2", { class: "section-title", id: "alerts-history-title" }, "History"), this.history),
      ),
    );
  }

  setOnline(online) {
    this.online = online;
    for (const card of this.cards.values()) card.setBusy(card.busy);
  }

  show(param) {
    this.shown = true;
    this.focusId = param || null;
    this.refresh();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.render(), TICK_MS);
  }

  hide() {
    this.shown = false;
    clearInterval(this.ticker);
  }

  /** The engine changed alerts/...: fetch again if the view is open (several changes, one request). */
  changed() {
    if (this.shown) this.refreshSoon();
  }

  refreshSoon() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 150);
  }

  async refresh() {
    try {
      this.data = await getJSON("/api/alerts");
      this.status.hidden = true;
    } catch (error) {
      this.status.textContent = `Could not load the alerts: ${errorText(error)}`;
      this.status.hidden = false;
      if (!this.data) this.activeList.replaceChildren();
      return;
    }
    this.render();
  }

  render() {
    if (!this.data) return;
    const { active = [], recent = [] } = this.data;
    const seen = new Set();
    for (const alert of active) {
      seen.add(alert.id);
      const card = this.cards.get(alert.id);
      if (card) {
        if (!card.busy) card.update(alert);
      } else this.cards.set(alert.id, new AlertCard(alert, this));
    }
    for (const id of [...this.cards.keys()]) if (!seen.has(id)) this.cards.delete(id);
    this.activeList.replaceChildren(
      ...(active.length ? active.map((a) => this.cards.get(a.id).el) : [h("p", { class: "empty" }, "No active alerts: all is well.")]),
    );
    this.history.replaceChildren(...recent.map(historyItem));
    if (!recent.length) this.history.replaceChildren(h("li", { class: "empty" }, "Nothing has fired yet."));
    this.reveal();
  }

  /** Bring the alert named by the URL (#alerts/17) into sight, once. */
  reveal() {
    if (!this.focusId) return;
    const el = this.root.querySelector(`[data-alert="${CSS.escape(this.focusId)}"]`);
    if (!el) return;
    this.focusId = null;
    el.classList.add("highlight");
    el.focus({ preventScroll: true });
    el.scrollIntoView({ block: "center", behavior: "smooth" });
    setTimeout(() => el.classList.remove("highlight"), 2500);
  }
}
