// The banner of firing alerts, on every view. The rule engine writes
// `alerts/firing` (a list of {id, label, severity}) into the state tree, so the
// banner follows the live connection like any value: nothing is polled.
//
// Severity is said in words and by an icon, never by colour alone. The banner
// itself is no live region (it would be read out whole on every change); two
// hidden regions announce each newly firing alert once: a critical one as an
// alert (interrupting), the others as a status.

import { h, icon } from "./dom.js";

const RANK = { critical: 0, warning: 1, info: 2 };
const SHOWN = 3; // on a phone, more than three would push the view out of sight
export const BELL = "M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 20a2 2 0 0 0 4 0";

/** The firing alerts in a subtree `alerts` of the state, most severe first. */
export function firingAlerts(alerts) {
  const list = Array.isArray(alerts?.firing) ? alerts.firing : [];
  return list
    .filter((a) => a && typeof a === "object" && a.id !== undefined)
    .map((a) => ({ id: a.id, label: String(a.label || a.rule || `Alert ${a.id}`), severity: RANK[a.severity] === undefined ? "warning" : a.severity }))
    .sort((a, b) => RANK[a.severity] - RANK[b.severity] || a.id - b.id);
}

export class AlertBanner {
  /** Put the (hidden) banner, and its two announcers, after `anchor`. */
  constructor(anchor) {
    this.list = h("ul", { class: "alert-banner-list" });
    this.title = h("span", { class: "alert-banner-title", id: "alert-banner-title" });
    this.el = h(
      "section",
      { class: "alert-banner", id: "alert-banner", "aria-labelledby": "alert-banner-title", hidden: true },
      icon(BELL, "icon alert-banner-icon"),
      this.title,
      this.list,
    );
    this.urgent = h("div", { class: "sr-only", role: "alert", id: "alert-announce-urgent" });
    this.polite = h("div", { class: "sr-only", role: "status", id: "alert-announce" });
    anchor.after(this.el, this.urgent, this.polite);
    this.known = null; // the ids seen so far; null before the first state
    this.tab = null;
  }

  /** Show the count on the Alerts tab too (the tab is made after the banner). */
  setTab(tab) {
    this.tab = tab;
    this.count = h("span", { class: "tab-count", hidden: true });
    tab.append(this.count);
  }

  /** Render from the state's `alerts` subtree (undefined when the node has none). */
  update(alerts) {
    const firing = firingAlerts(alerts);
    this.el.hidden = firing.length === 0;
    this.el.dataset.severity = firing[0]?.severity || "";
    this.title.textContent = firing.length === 1 ? "1 alert firing" : `${firing.length} alerts firing`;
    const items = firing.slice(0, firing.length > SHOWN ? SHOWN - 1 : SHOWN).map((a) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `#alerts/${a.id}`, class: "alert-banner-item", dataset: { alert: a.id, severity: a.severity } },
          h("span", { class: `sev sev-${a.severity}` }, a.severity),
          h("span", { class: "alert-banner-label" }, a.label),
        ),
      ),
    );
    if (items.length < firing.length) {
      items.push(h("li", {}, h("a", { href: "#alerts", class: "alert-banner-more" }, `${firing.length - items.length} more`)));
    }
    this.list.replaceChildren(...items);
    if (this.count) {
      this.count.hidden = firing.length === 0;
      this.count.replaceChildren(String(firing.length), h("span", { class: "sr-only" }, " firing"));
    }
    this.announce(firing);
  }

  announce(firing) {
    const ids = new Set(firing.map((a) => a.id));
    if (this.known === null) {
      // At load: one short summary, not one message per alert.
      if (firing.length) this.polite.textContent = this.title.textContent;
    } else {
      const fresh = firing.filter((a) => !this.known.has(a.id));
      const say = (list) => list.map((a) => `${a.severity} alert: ${a.label}`).join(". ");
      const critical = fresh.filter((a) => a.severity === "critical");
      const other = fresh.filter((a) => a.severity !== "critical");
      if (critical.length) this.urgent.textContent = say(critical);
      if (other.length) this.polite.textContent = say(other);
    }
    this.known = ids;
  }
}
