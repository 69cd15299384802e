// The dashboard: the state tree as cards, one per room (top-level key) or per
// `group` the program gives in the metadata, updated live.
//
// Cards are ordered: an explicit `order` first, then cards with switches (what a
// person comes to do), then single readings as tiles (two to a row on a phone),
// then lists; otherwise in the program's own order. A number or a boolean is a
// link to its history (#charts/<path>).
//
// The card layout is built when the set of leaves (or their metadata) changes;
// a change message otherwise touches only the rows of the paths it names, so a
// busy tree costs a few text updates per batch, not a re-render.

import { h, kindIcon } from "./dom.js";
import { formatFull, formatDuration, formatValue, formatWhen, humanize, parseTextTime } from "./format.js";
import { serverNow } from "./api.js";
import { pairSwitches, SwitchRow } from "./switch.js";

// Readings that arrive on a schedule go stale when they stop; event-like values
// (a doorbell's last ring, a counter) are written only when something happens.
const DEFAULT_STALE_AFTER_S = 15 * 60;
const MEASURED_KINDS = new Set(["temperature", "humidity", "power", "energy", "pressure", "voltage", "current", "flag", "switch"]);
const FLASH_MS = 1600;
const reducedMotion = window.matchMedia?.("(prefers-reduced-motion: reduce)");

/** Every leaf of the tree as [path, value], in the tree's order. */
export function flatten(tree, prefix = "", out = new Map()) {
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}/${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) flatten(value, path, out);
    else out.set(path, value);
  }
  return out;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The row's label: its metadata label, else its path below the card, in words. */
function rowLabel(path, meta, cardTitle, grouped) {
  const rest = path.split("/").slice(grouped ? 0 : 1);
  if (meta.label && meta.label.toLowerCase() !== cardTitle.toLowerCase()) return meta.label;
  if (meta.label) return humanize(rest[rest.length - 1] || path); // "Living room" in the card "Living room"
  let words = rest.join(" ") || path;
  // "power_w" with unit W reads as "Power"; the unit is shown beside the value anyway.
  if (meta.unit) words = words.replace(new RegExp(`[_ ]${escapeRegExp(meta.unit)}$`, "i"), "");
  return humanize(words);
}

function staleAfter(meta) {
  // app.meta(path, stale_after_s=120) sets it; 0 turns it off.
  if (typeof meta.stale_after_s === "number") return meta.stale_after_s > 0 ? meta.stale_after_s : null;
  return meta.unit || MEASURED_KINDS.has(meta.kind) ? DEFAULT_STALE_AFTER_S : null;
}

class ValueRow {
  constructor(path, meta, label, value) {
    this.path = path;
    this.meta = meta;
    this.num = h("span", { class: "num" });
    this.unit = h("span", { class: "unit" });
    this.age = h("span", { class: "age", hidden: true });
    // A number or a boolean the recorder keeps has a history: the value opens it.
    const charted =
      (typeof value === "number" || typeof value === "boolean") && meta.record !== false && meta.kind !== "timestamp";
    this.valueEl = charted
      ? h(
          "a",
          { class: "value", href: `#charts/${path}`, title: `History of ${label}` },
          this.num,
          this.unit,
          h("span", { class: "sr-only" }, ` · ${label}: history`),
        )
      : h("span", { class: "value" }, this.num, this.unit);
    this.el = h(
      "div",
      { class: "row", dataset: { path, kind: meta.kind || "" } },
      h("div", { class: "row-main" }, h("span", { class: "label" }, kindIcon(meta.kind), label), this.age),
      h("div", { class: "row-side" }, this.valueEl),
    );
    this.value = undefined;
  }

  get paths() {
    return [this.path];
  }

  update(leaves) {
    this.value = leaves.get(this.path);
    let { text, unit } = formatValue(this.value, this.meta);
    let title = null;
    const isText = typeof this.value === "string" || (this.value !== null && typeof this.value === "object");
    // A time written as text (raspend's "Tue Dec  1 05:52:07 2026") reads as one.
    const when = isText ? parseTextTime(this.value) : null;
    if (when !== null) {
      // "today 05:52 AM" may wrap before the time, never inside it.
      text = formatWhen(when, serverNow()).replace(/(\d) ([AP]M)$/i, "$1\u00a0$2");
      title = this.value;
    } else if (this.meta.kind === "timestamp" && typeof this.value === "number") {
      title = formatFull(this.value);
    } else if (isText && text.length > 24) {
      title = text;
    }
    this.num.textContent = text;
    this.unit.textContent = unit;
    if (title) this.num.title = title;
    else this.num.removeAttribute("title");
    // Text is set to fit, smaller than numbers, which stay the thing the eye finds first.
    this.valueEl.classList.toggle("text", isText && when === null);
    this.valueEl.classList.toggle("when", when !== null || this.meta.kind === "timestamp");
  }
}

export class Dashboard {
  constructor(root, { meta, call }) {
    this.root = root;
    this.meta = meta;
    this.call = call;
    this.rows = new Map(); // path -> rows showing it (a switch row shows its power and lock too)
    this.allRows = [];
    this.layoutKey = "";
    this.leaves = new Map();
    this.commands = [];
    this.pairs = new Map(); // path -> {command, command_args}: boolean commands paired by name
    this.online = true;
    this.firstValueShown = false;
    setInterval(() => this.tick(), 15_000);
  }

  /** Show the state after a snapshot or a change batch (info as roost-live.js gives it). */
  render(state, info) {
    this.leaves = flatten(state);
    if (info && !info.snapshot) {
      for (const path of Object.keys(info.changes || {})) this.meta.touch(path);
    }
    const key = this._layoutKey();
    if (key !== this.layoutKey) {
      this._build();
      this.layoutKey = key;
    } else if (info && !info.snapshot) {
      this._update(Object.keys(info.changes || {}));
    } else {
      for (const row of this.allRows) row.update(this.leaves);
    }
    if (info && !info.snapshot) this._flash(Object.keys(info.changes || {}));
    this.tick();
    if (!this.firstValueShown && this.leaves.size) {
      this.firstValueShown = true;
      performance.mark("roost:first-value");
    }
  }

  /** Metadata changed (labels, units, switches): rebuild with it. */
  metaChanged() {
    const key = this._layoutKey();
    if (key !== this.layoutKey) {
      this._build();
      this.layoutKey = key;
    }
    this.tick();
  }

  /** The node's commands (GET /api/commands): a boolean command with a matching path is a switch. */
  setCommands(commands) {
    this.commands = commands;
    this.metaChanged();
  }

  /** Offline, switches are disabled (and say why) until the connection is back. */
  setOnline(online) {
    this.online = online;
    for (const row of this.allRows) row.setOnline?.(online);
  }

  _layoutKey() {
    // Paths and the metadata version decide the layout; values do not.
    let unknown = false;
    for (const path of this.leaves.keys()) {
      if (this.meta.loaded && !this.meta.has(path)) unknown = true;
    }
    if (unknown) this.meta.refreshSoon();
    this.pairs = pairSwitches(this.commands, this.leaves, (p) => this.meta.get(p));
    return `${[...this.pairs.keys()].join(",")}:${this.meta.paths.size}:${this.meta.loaded}:${[...this.leaves.keys()].join("\n")}:${this._metaVersion()}`;
  }

  _metaVersion() {
    if (this._metaSeen === this.meta.paths) return this._metaStamp;
    this._metaSeen = this.meta.paths;
    this._metaStamp = JSON.stringify([...this.meta.paths]);
    return this._metaStamp;
  }

  /** A path's metadata, with the switch it is paired with by name, if any. */
  _metaOf(path) {
    const pair = this.pairs.get(path);
    const m = this.meta.get(path);
    return pair ? { ...m, kind: "switch", ...pair } : m;
  }

  /** A device's value beside its switch (online, today, status...): the Devices view shows those. */
  _shownInDevicesView(path) {
    const parts = path.split("/");
    if (parts.length !== 3 || parts[0] !== "devices" || parts[2] === "on") return false;
    return this.meta.get(`devices/${parts[1]}/on`).command === "switch_device";
  }

  _build() {
    const groups = new Map();
    for (const path of this.leaves.keys()) {
      // The alert engine's own paths: the banner and the Alerts tab show them, in words.
      if (path.startsWith("alerts/")) continue;
      // app.meta(path, group="Heating") puts a path in a card of the program's choosing.
      const group = this.meta.get(path).group;
      const key = typeof group === "string" && group ? `=${group}` : path.split("/")[0];
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(path);
    }
    // A switch shows its power reading and lock itself; they get no row of their own.
    const shownBySwitch = new Set();
    for (const path of this.leaves.keys()) {
      const m = this._metaOf(path);
      if (m.kind === "switch") {
        if (m.power) shownBySwitch.add(m.power);
        if (m.lock) shownBySwitch.add(m.lock);
      }
    }

    this.rows = new Map();
    this.allRows = [];
    const cards = [];
    for (const [key, paths] of groups) {
      const grouped = key.startsWith("=");
      const title = grouped ? key.slice(1) : humanize(key);
      const rows = [];
      let order = Infinity;
      for (const path of paths) {
        if (shownBySwitch.has(path) || this._shownInDevicesView(path)) continue;
        const m = this._metaOf(path);
        if (typeof m.order === "number") order = Math.min(order, m.order);
        const label = rowLabel(path, m, title, grouped);
        const row =
          m.kind === "switch" && m.command
            ? new SwitchRow(path, m, label, { call: this.call, metaOf: (p) => this.meta.get(p) })
            : new ValueRow(path, m, label, this.leaves.get(path));
        rows.push(row);
        this.allRows.push(row);
        for (const p of row.paths) {
          if (!this.rows.has(p)) this.rows.set(p, []);
          this.rows.get(p).push(row);
        }
        row.update(this.leaves);
        row.setOnline?.(this.online);
      }
      if (!rows.length) continue;
      const headingId = `card-${key.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
      // A group of one reading (a room's temperature) is a small tile: two fit side by side on a phone.
      const tile = rows.length === 1 && rows[0] instanceof ValueRow;
      const rank = rows.some((r) => r instanceof SwitchRow) ? 0 : tile ? 1 : 2;
      cards.push({
        order,
        rank,
        index: cards.length,
        el: h(
          "section",
          { class: tile ? "card tile" : "card", "aria-labelledby": headingId, dataset: { group: grouped ? title : key } },
          h("h2", { class: "card-title", id: headingId }, title),
          h("div", { class: "rows" }, rows.map((r) => r.el)),
          // Home keeps each device's switch and power; the rest is one tap away.
          !grouped && key === "devices" && paths.some((p) => this._shownInDevicesView(p))
            ? h("a", { class: "card-link", href: "#devices" }, "Devices: schedules, events, energy →")
            : null,
        ),
      });
    }
    cards.sort((a, b) => a.order - b.order || a.rank - b.rank || a.index - b.index);
    if (cards.length) this.root.replaceChildren(...cards.map((c) => c.el));
    else this.root.replaceChildren(h("p", { class: "empty" }, "The state tree is empty so far."));
  }

  _update(paths) {
    const touched = new Set();
    for (const path of paths) for (const row of this.rows.get(path) || []) touched.add(row);
    for (const row of touched) row.update(this.leaves);
  }

  _flash(paths) {
    if (document.hidden) return;
    const seen = new Set();
    for (const path of paths) {
      for (const row of this.rows.get(path) || []) {
        if (seen.has(row)) continue;
        seen.add(row);
        const target = row.el.querySelector(".row-side") || row.el;
        // Web Animations restart cleanly on every change, without forcing a layout.
        target.animate(
          [{ backgroundColor: "var(--flash)" }, { backgroundColor: "transparent" }],
          { duration: reducedMotion?.matches ? 1 : FLASH_MS, easing: "ease-out" },
        );
        row.el.dataset.changed = String(Date.now());
      }
    }
  }

  /** Mark stale readings and move relative times on. */
  tick() {
    const now = serverNow();
    for (const row of this.allRows) {
      if (row instanceof ValueRow && (row.meta.kind === "timestamp" || typeof row.value === "string")) row.update(this.leaves);
      const limit = staleAfter(row.meta);
      const seen = this.meta.lastSeen.get(row.path);
      const age = seen === undefined ? 0 : now - seen;
      const stale = limit !== null && age > limit;
      row.el.classList.toggle("stale", stale);
      if (row.age) {
        row.age.hidden = !stale;
        row.age.textContent = stale ? `not updated for ${formatDuration(age)}` : "";
      }
    }
  }
}
