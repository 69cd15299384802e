// "Found 3 plugs on the broker": the Tasmota, Shelly and zigbee2mqtt plugs the MQTT
// bridge has seen (GET /api/mqtt/found, admin) and no device uses yet, each with a
// name to give it and an Add button that posts its ready driver spec to /api/devices.
// Hidden when there is nothing to add, no broker, or the user is not an admin.

import { getJSON, sendJSON } from "./api.js";
import { h } from "./dom.js";

const EVERY_MS = 10000; // the list changes when a plug joins the broker: rarely

const KIND_NAMES = { tasmota: "Tasmota", shelly: "Shelly", zigbee2mqtt: "zigbee2mqtt" };

export class FoundPlugs {
  /** `onAdded` runs after a plug became a device (the view reloads its cards). */
  constructor(onAdded) {
    this.onAdded = onAdded;
    this.title = h("h2", { class: "card-title", id: "found-plugs-title" });
    this.list = h("ul", { class: "found-list" });
    this.el = h(
      "section",
      { class: "card found-plugs", "aria-labelledby": "found-plugs-title", hidden: true },
      this.title,
      this.list,
    );
    this.rows = new Map();
    this.loadedAt = 0;
  }

  /** Reload the list (at most every 10 s unless `force`). */
  async refresh(force = false) {
    if (!force && Date.now() - this.loadedAt < EVERY_MS) return;
    this.loadedAt = Date.now();
    let body;
    try {
      body = await getJSON("/api/mqtt/found");
    } catch {
      this.el.hidden = true; // not an admin, or the node is away: nothing to offer
      return;
    }
    const fresh = body.found.filter((plug) => !plug.added);
    this.el.hidden = fresh.length === 0;
    this.title.textContent = `Found ${fresh.length} ${fresh.length === 1 ? "plug" : "plugs"} on the broker`;
    const keep = new Set();
    for (const plug of fresh) {
      const id = `${plug.type}:${plug.key}`;
      keep.add(id);
      if (!this.rows.has(id)) this.rows.set(id, this.row(plug, this.rows.size));
      this.rows.get(id).status.textContent = describe(plug);
    }
    for (const id of [...this.rows.keys()]) if (!keep.has(id)) this.rows.delete(id);
    this.list.replaceChildren(...[...this.rows.values()].map((r) => r.el));
  }

  row(plug, n) {
    const inputId = `found-plug-${n}-${Date.now()}`;
    const name = h("input", { type: "text", id: inputId, value: plug.name, maxlength: "80", autocomplete: "off" });
    const status = h("span", { class: "found-status muted" });
    const error = h("p", { class: "row-error", role: "alert", hidden: true });
    const add = h("button", { class: "button primary", type: "submit" }, "Add");
    const form = h(
      "form",
      { class: "found-plug", onsubmit: (event) => this.add(event, plug, name, add, error) },
      h("label", { for: inputId, class: "found-name" }, `${KIND_NAMES[plug.type] || plug.type} ${plug.key}`),
      status,
      h("div", { class: "found-add" }, name, add),
      error,
    );
    return { el: h("li", {}, form), status };
  }

  async add(event, plug, name, button, error) {
    event.preventDefault();
    button.disabled = true;
    error.hidden = true;
    try {
      await sendJSON("POST", "/api/devices", {
        name: name.value.trim() || plug.name,
        location: "",
        category: "other",
        driver: plug.driver,
      });
      await this.refresh(true);
      this.onAdded();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }
}

function describe(plug) {
  const parts = [];
  if (plug.model && plug.model !== KIND_NAMES[plug.type]) parts.push(plug.model);
  if (plug.online === true) parts.push("online");
  else if (plug.online === false) parts.push("offline");
  if (plug.on !== null) parts.push(plug.on ? "on" : "off");
  if (plug.power_w !== null) parts.push(`${Number(plug.power_w).toFixed(1)} W`);
  return parts.join(" · ");
}
