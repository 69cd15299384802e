// The Devices view: a card per device, as Plugwise-2-py had them, from GET /api/devices.
//
// Each card shows the category's icon, name and location, the switch (the state the
// device confirmed, never the click), a lock for always-on devices, live power and
// today's energy, the schedule with a toggle, and chips such as "on by hand until
// 19:45" or "standby killer armed (< 8 W)". Switching posts to /api/devices/{id}/switch
// (it holds until the schedule's next change); the toggle patches schedule_enabled.
// A card's name opens the device's own view (#devices/ID, device.js, loaded then),
// and "Add a device" posts a driver spec and settings to /api/devices.

import { getJSON, sendJSON } from "./api.js";
import { h, icon, ICONS } from "./dom.js";
import { FoundPlugs } from "./found-plugs.js";
import { markField, numberOrText } from "./forms.js";

const REFRESH_MS = 3000;

// Line icons by category (stroked, as the kind icons on Home).
const CATEGORY_ICONS = {
  light: "M9 18h6M10 21h4M12 3a6 6 0 0 0-4 10.5c.7.7 1 1.5 1 2.5h6c0-1 .3-1.8 1-2.5A6 6 0 0 0 12 3z",
  media: "M3 5h18v12H3zM8 21h8M12 17v4",
  kitchen: "M6 3h12v18H6zM6 10h12M9 6v2M9 13v4",
  heating: "M12 3s5 5 5 10a5 5 0 0 1-10 0c0-2 1-3.5 2-4.5 0 2 1 3 2 3 0-3-1-5.5 1-8.5z",
  solar: "M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v2M12 20v2M2 12h2M20 12h2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4",
  other: "M9 2v6M15 2v6M6 8h12v4a6 6 0 0 1-12 0zM12 18v4",
};

function fmt(value, digits, unit) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(digits)} ${unit}`;
}

class DeviceCard {
  constructor(device, view) {
    this.view = view;
    this.id = device.id;
    const base = `dev-${device.id}`;
    this.toggle = h("button", {
      class: "toggle",
      type: "button",
      role: "switch",
      "aria-checked": "false",
      "aria-labelledby": `${base}-name`,
      onclick: () => this.flip(),
    });
    this.scheduleToggle = h("input", {
      type: "checkbox",
      id: `${base}-sched`,
      onchange: () => this.setSchedule(this.scheduleToggle.checked),
    });
    this.scheduleLabel = h("label", { for: `${base}-sched`, class: "schedule-label" });
    this.scheduleEdit = h("a", { class: "schedule-edit" }, "Edit"); // opens the schedule editor
    this.name = h("a", { class: "device-name", id: `${base}-name`, href: `#devices/${encodeURIComponent(device.id)}` });
    this.where = h("span", { class: "device-where" });
    this.lock = h("span", { class: "lock-note", hidden: true }, icon(ICONS.lock, "icon lock-icon"), "always on");
    this.power = h("span", { class: "device-power" });
    this.today = h("span", { class: "device-today" });
    this.chips = h("ul", { class: "chips device-chips" });
    this.error = h("p", { class: "row-error", role: "alert", hidden: true });
    this.iconBox = h("span", { class: "device-icon" });
    this.el = h(
      "article",
      { class: "card device-card", dataset: { device: device.id } },
      h("div", { class: "device-head" }, this.iconBox, h("div", { class: "device-title" }, this.name, this.where), this.toggle),
      h("div", { class: "device-values" }, this.power, this.today, this.lock),
      h("div", { class: "device-schedule" }, this.scheduleToggle, this.scheduleLabel, this.scheduleEdit),
      this.chips,
      this.error,
    );
    this.update(device);
  }

  update(d) {
    this.device = d;
    this.iconBox.replaceChildren(icon(CATEGORY_ICONS[d.category] || CATEGORY_ICONS.other, "icon kind-icon"));
    this.el.dataset.category = d.category;
    this.name.textContent = d.name || d.id;
    this.where.textContent = d.location;
    const on = d.state.on === true;
    this.toggle.setAttribute("aria-checked", String(on));
    this.toggle.classList.toggle("unknown", d.state.on === null);
    this.el.dataset.on = String(d.state.on);
    this.el.dataset.online = String(d.state.online);
    this.toggle.setAttribute("aria-disabled", String(d.always_on));
    this.lock.hidden = !d.always_on;
    this.power.textContent = d.state.online ? fmt(d.state.power_w, 1, "W") : "offline";
    this.today.textContent = `today ${fmt(d.state.energy_today_kwh, 2, "kWh")}`;
    this.scheduleToggle.checked = Boolean(d.schedule_enabled);
    this.scheduleToggle.disabled = !d.schedule || d.always_on;
    this.scheduleLabel.textContent = d.schedule ? `schedule ${d.schedule}` : "no schedule";
    this.scheduleEdit.hidden = !d.schedule;
    this.scheduleEdit.href = `#schedules/${encodeURIComponent(d.schedule || "")}`;
    this.scheduleEdit.setAttribute("aria-label", `Edit schedule ${d.schedule}`);
    // The lock says "always on" already; an empty list takes no room.
    const chips = d.chips.filter((c) => !(d.always_on && c === "always on"));
    this.chips.replaceChildren(...chips.map((text) => h("li", { class: "chip" }, text)));
    this.chips.hidden = chips.length === 0;
  }

  showError(error) {
    this.error.textContent = error.message;
    this.error.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => (this.error.hidden = true), 8000);
  }

  async flip() {
    if (this.device.always_on || this.busy) return;
    this.busy = true;
    this.toggle.classList.add("busy");
    try {
      this.update(await sendJSON("POST", `/api/devices/${encodeURIComponent(this.id)}/switch`, { on: this.device.state.on !== true }));
    } catch (error) {
      this.showError(error);
    } finally {
      this.busy = false;
      this.toggle.classList.remove("busy");
    }
  }

  async setSchedule(enabled) {
    try {
      this.update(await sendJSON("PATCH", `/api/devices/${encodeURIComponent(this.id)}`, { schedule_enabled: enabled }));
    } catch (error) {
      this.scheduleToggle.checked = !enabled;
      this.showError(error);
    }
  }
}

const CATEGORIES = Object.keys(CATEGORY_ICONS);

/** "Add a device": a name, where and what it is, and a driver type with its spec's fields. */
class AddForm {
  constructor(onAdded) {
    this.onAdded = onAdded;
    this.fields = new Map();
    this.drivers = [];
    const text = (name, label, attrs = {}) => this.field(name, label, h("input", { type: "text", name, autocomplete: "off", ...attrs }));
    this.driverSelect = h("select", { name: "driver", onchange: () => this.showDriverFields() });
    this.driverFields = h("div", { class: "fields driver-fields" });
    this.button = h("button", { type: "submit", class: "button primary" }, "Add");
    this.output = h("output", { class: "result", "aria-live": "polite", hidden: true });
    this.el = h(
      "details",
      { class: "card add-device" },
      h("summary", { class: "card-title" }, "Add a device"),
      h(
        "form",
        { novalidate: true, "aria-label": "Add a device", onsubmit: (e) => this.submit(e) },
        h(
          "div",
          { class: "fields" },
          text("name", "Name", { required: true }),
          text("location", "Location"),
          this.field("category", "Category", h("select", { name: "category" }, CATEGORIES.map((c) => h("option", { value: c, selected: c === "other" }, c)))),
          this.field("always_on", "Always on", h("input", { type: "checkbox", name: "always_on", class: "check" })),
          this.field("driver", "Driver", this.driverSelect, " "),
        ),
        this.driverFields,
        h("div", { class: "actions" }, this.button, this.output),
      ),
    );
    // Hidden, not just folded away: a closed <details> keeps its controls' boxes in Chromium.
    this.form = this.el.querySelector("form");
    this.form.hidden = true;
    this.el.addEventListener("toggle", () => {
      this.form.hidden = !this.el.open;
      if (this.el.open) this.loadDrivers();
    });
  }

  field(name, label, input, hint = "") {
    const id = `add-device-${name.replace(".", "-")}`;
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    input.id = id;
    input.setAttribute("aria-describedby", `${id}-error`);
    const f = { input, error };
    this.fields.set(name, f);
    const hintEl = hint ? h("p", { class: "field-hint", id: `${id}-hint` }, hint) : null;
    if (hintEl) input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    return h(
      "div",
      { class: input.type === "checkbox" ? "field field-bool" : "field", dataset: { field: name } },
      h("label", { for: id }, h("span", { class: "field-label" }, label)),
      input,
      hintEl,
      error,
    );
  }

  /** The line under the driver's choice: what the chosen type is. */
  get driverDoc() {
    return this.el.querySelector("#add-device-driver-hint");
  }

  async loadDrivers() {
    if (this.drivers.length) return;
    try {
      this.drivers = (await getJSON("/api/devices/drivers")).drivers;
    } catch (error) {
      this.say(`Could not load the driver types: ${error.message}`, "error");
      return;
    }
    this.driverSelect.replaceChildren(...this.drivers.map((d) => h("option", { value: d.type }, d.type)));
    this.showDriverFields();
  }

  showDriverFields() {
    for (const name of [...this.fields.keys()]) if (name.startsWith("driver.")) this.fields.delete(name);
    const driver = this.drivers.find((d) => d.type === this.driverSelect.value);
    this.driverDoc.textContent = driver?.doc || "";
    this.driverFields.replaceChildren(
      ...(driver?.fields || []).map((f) =>
        this.field(
          `driver.${f.name}`,
          f.name,
          f.type === "boolean"
            ? h("input", { type: "checkbox", class: "check", checked: f.default === true })
            : h("input", { type: "text", inputmode: f.type === "number" ? "decimal" : null, placeholder: f.default === null || f.default === undefined ? "" : String(f.default), autocomplete: "off" }),
          `${f.doc}${f.required ? "" : " · optional"}`,
        ),
      ),
    );
  }

  body() {
    const driver = { type: this.driverSelect.value };
    const body = { driver };
    for (const [name, f] of this.fields) {
      if (name === "driver") continue;
      const value = f.input.type === "checkbox" ? f.input.checked : f.input.value;
      if (name.startsWith("driver.")) {
        const spec = this.drivers.find((d) => d.type === driver.type)?.fields.find((x) => `driver.${x.name}` === name);
        if (value === "" || (value === false && spec?.default !== true)) continue; // left as its default
        driver[name.slice(7)] = spec?.type === "number" ? numberOrText(value) : value;
      } else if (value !== "" && value !== false) {
        body[name] = value;
      }
    }
    return body;
  }

  async submit(event) {
    event.preventDefault();
    for (const f of this.fields.values()) markField(f, "");
    this.output.hidden = true;
    this.button.disabled = true;
    try {
      const device = await sendJSON("POST", "/api/devices", this.body());
      this.form.reset();
      this.showDriverFields();
      this.el.open = false;
      this.onAdded(device);
    } catch (error) {
      const f = this.fields.get(error.details?.argument);
      if (f) {
        markField(f, error.message);
        f.input.focus();
      }
      this.say(f ? "Not added: see the marked field." : `Not added: ${error.message}`, "error");
    } finally {
      this.button.disabled = false;
    }
  }

  say(text, state) {
    this.output.textContent = text;
    this.output.dataset.state = state;
    this.output.hidden = false;
  }
}

export class DevicesView {
  /** root: the view's element; ctx: {meta, leaves} (the device view's chart uses them). */
  constructor(root, ctx = {}) {
    this.root = root;
    this.ctx = ctx;
    this.grid = h("div", { class: "cards device-cards" }, h("p", { class: "empty" }, "Loading devices…"));
    this.found = new FoundPlugs(() => this.refresh()); // plugs on the MQTT broker, to add
    this.add = new AddForm((device) => (location.hash = `#devices/${encodeURIComponent(device.id)}`));
    this.list = h("div", { class: "device-list" }, this.found.el, this.grid, this.add.el);
    this.detailRoot = h("div", { class: "device-detail", hidden: true });
    root.append(this.list, this.detailRoot);
    this.cards = new Map();
    this.timer = null;
    this.detail = null;
  }

  async refresh() {
    this.found.refresh();
    let body;
    try {
      body = await getJSON("/api/devices");
    } catch {
      return; // offline: the next round tries again
    }
    if (!body.devices.length) {
      this.grid.replaceChildren(h("p", { class: "empty" }, "No devices yet."));
      this.cards.clear();
      return;
    }
    const seen = new Set();
    for (const device of body.devices) {
      seen.add(device.id);
      const card = this.cards.get(device.id);
      if (card) {
        if (!card.busy) card.update(device);
      } else {
        this.cards.set(device.id, new DeviceCard(device, this));
      }
    }
    for (const id of [...this.cards.keys()]) if (!seen.has(id)) this.cards.delete(id);
    this.grid.replaceChildren(...[...this.cards.values()].map((c) => c.el));
  }

  /** `#devices` shows the cards; `#devices/ID` that device's own view. */
  async show(param = "") {
    const id = param.split("/")[0];
    this.detail?.close();
    this.detail = null;
    clearInterval(this.timer);
    this.timer = null;
    this.list.hidden = Boolean(id);
    this.detailRoot.hidden = !id;
    if (id) {
      const { DeviceView } = await import("./device.js");
      this.detail = new DeviceView(this.detailRoot, id, { ...this.ctx, icons: CATEGORY_ICONS });
      await this.detail.open();
      return;
    }
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = null;
    this.detail?.close();
    this.detail = null;
  }

  /** A live change under devices/ came in: refresh soon (several changes, one request). */
  changed(changes) {
    this.detail?.changed(changes);
    if (this.timer === null || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 250);
  }
}
