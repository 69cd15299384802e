// A switch row: a toggle that calls the switch's command, its power reading, its lock.
//
// The toggle always shows the state the tree confirms (what the device read
// back), never the click: a tap only starts the command, and the toggle moves
// when the change arrives. Until then it shows that it is busy.

import { h, icon, ICONS } from "./dom.js";
import { formatValue } from "./format.js";

const ERROR_SHOW_MS = 8000;

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
      this.toggle.setAttribute("aria-describedby", this.lockNote.id);
    } else {
      this.toggle.removeAttribute("aria-describedby");
    }

    const watts = this.meta.power ? leaves.get(this.meta.power) : undefined;
    if (watts === undefined || watts === null) {
      this.power.replaceChildren();
    } else {
      const { text, unit } = formatValue(watts, this.metaOf(this.meta.power));
      this.power.replaceChildren(h("span", { class: "num" }, text), unit ? h("span", { class: "unit" }, unit) : null);
    }
  }

  async flip() {
    if (this.pending) return;
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
