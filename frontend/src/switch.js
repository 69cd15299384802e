// A switch row: a toggle that calls the switch's command, its power reading, its lock.
//
// The toggle always shows the state the tree confirms (what the device read
// back), never the click: a tap only starts the command, and the toggle moves
// when the change arrives. Until then it shows that it is busy.

import { h, icon, ICONS } from "./dom.js";
import { formatValue } from "./format.js";

const ERROR_SHOW_MS = 8000;
const VERBS = /^(switch|set|turn|toggle|enable)_/;
const SWITCHABLE_KINDS = new Set([undefined, "", "switch", "flag"]);

/**
 * Switches a program declares just by naming them: a command whose one required
 * argument is `on: bool` pairs with the boolean leaf its name points at.
 * `switch_doorbell(on: bool)` (or set_, turn_, toggle_, enable_, or no verb)
 * pairs with `doorbell`, `doorbell/on`, `doorbell/enabled`, `doorbell/state` or
 * `doorbell/active`, the first that holds a boolean; `switch_garage_door` also
 * looks at `garage/door`. A path that declares its own `command` keeps it.
 * Returns Map(path -> {command, command_args}).
 */
export function pairSwitches(commands, leaves, metaOf) {
  const pairs = new Map();
  for (const spec of commands || []) {
    const on = spec.args.find((a) => a.name === "on");
    if (!on || String(on.type) !== "bool" || spec.args.some((a) => a.required && a.name !== "on")) continue;
    const thing = spec.name.replace(VERBS, "");
    const bases = [thing, thing.replaceAll("_", "/")];
    const candidates = bases.flatMap((b) => [b, `${b}/on`, `${b}/enabled`, `${b}/state`, `${b}/active`]);
    const path = candidates.find((p) => {
      const m = metaOf(p);
      return typeof leaves.get(p) === "boolean" && !m.command && SWITCHABLE_KINDS.has(m.kind) && !pairs.has(p);
    });
    if (path) pairs.set(path, { command: spec.name, command_args: {} });
  }
  return pairs;
}

export class SwitchRow {
  /**
   * path: the switch's leaf (kind "switch"); meta: its PathMeta, with `command`,
   * `command_args`, `power` and `lock` paths; call(command, args) -> Promise.
   */
  constructor(path, meta, label, { call, metaOf }) {
    this.path = path;
    this.meta = meta;
    this.call = call;
    this.metaOf = metaOf;
    this.pending = false;
    this.locked = false;
    this.online = true;
    this.confirmed = null;
    this._errorTimer = null;

    const id = `sw-${path.replace(/[^a-zA-Z0-9_-]/g, "-")}`;
    this.toggle = h("button", {
      class: "toggle",
      type: "button",
      role: "switch",
      id,
      "aria-checked": "false",
      // Labelled, not <label for>: a tap on the name must not switch the TV off.
      "aria-labelledby": `${id}-label`,
      onclick: () => this.flip(),
    });
    this.power = h("span", { class: "power" });
    this.lockNote = h("span", { class: "lock-note", id: `${id}-lock`, hidden: true });
    this.age = h("span", { class: "age", hidden: true });
    this.error = h("p", { class: "row-error", role: "alert", hidden: true });
    this.labelEl = h("span", { class: "label", id: `${id}-label` }, label);
    this.el = h(
      "div",
      { class: "row switch-row", dataset: { path, kind: "switch" } },
      h("div", { class: "row-main" }, this.labelEl, this.lockNote, this.age),
      h("div", { class: "row-side" }, this.power, this.toggle),
      this.error,
    );
  }

  /** Paths whose changes concern this row. */
  get paths() {
    return [this.path, this.meta.power, this.meta.lock].filter(Boolean);
  }

  update(leaves) {
    const value = leaves.get(this.path);
    this.confirmed = typeof value === "boolean" ? value : null;
    this.toggle.setAttribute("aria-checked", this.confirmed ? "true" : "false");
    this.toggle.classList.toggle("unknown", this.confirmed === null);
    this.el.dataset.on = String(this.confirmed);

    const lockValue = this.meta.lock ? leaves.get(this.meta.lock) : undefined;
    this.locked = Boolean(lockValue);
    this.toggle.setAttribute("aria-disabled", String(this.locked));
    this.el.classList.toggle("locked", this.locked);
    this.lockNote.hidden = !this.locked;
    if (this.locked) {
      // A string lock is its own reason ("fridge, keeps food cold"); anything else truthy means always on.
      const reason = typeof lockValue === "string" ? lockValue : "always on";
      this.lockNote.replaceChildren(icon(ICONS.lock, "icon lock-icon"), reason);
    }
    this._describe();

    const watts = this.meta.power ? leaves.get(this.meta.power) : undefined;
    if (watts === undefined || watts === null) {
      this.power.replaceChildren();
    } else {
      const { text, unit } = formatValue(watts, this.metaOf(this.meta.power));
      this.power.replaceChildren(h("span", { class: "num" }, text), unit ? h("span", { class: "unit" }, unit) : null);
    }
  }

  /** Offline the toggle is disabled, described by the page's offline note. */
  setOnline(online) {
    this.online = online;
    this.toggle.disabled = !online;
    this._describe();
  }

  _describe() {
    const ids = [this.locked ? this.lockNote.id : null, this.online ? null : "offline-note"].filter(Boolean);
    if (ids.length) this.toggle.setAttribute("aria-describedby", ids.join(" "));
    else this.toggle.removeAttribute("aria-describedby");
  }

  async flip() {
    if (this.pending || !this.online) return;
    if (this.locked) {
      this.lockNote.animate?.([{ opacity: 0.3 }, { opacity: 1 }], { duration: 400, iterations: 2 });
      return;
    }
    const target = !this.confirmed;
    this.setPending(true);
    this.showError(null);
    try {
      await this.call(this.meta.command, { ...(this.meta.command_args || {}), on: target });
    } catch (error) {
      this.showError(error.message || String(error));
    } finally {
      this.setPending(false);
    }
  }

  setPending(pending) {
    this.pending = pending;
    this.toggle.classList.toggle("pending", pending);
    this.toggle.setAttribute("aria-busy", String(pending));
  }

  showError(message) {
    clearTimeout(this._errorTimer);
    this.error.hidden = !message;
    this.error.textContent = message || "";
    if (message) this._errorTimer = setTimeout(() => this.showError(null), ERROR_SHOW_MS);
  }
}
