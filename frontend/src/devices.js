// The Devices view: a card per device, as Plugwise-2-py had them, from GET /api/devices.
//
// Each card shows the category's icon, name and location, the switch (the state the
// device confirmed, never the click), a lock for always-on devices, live power and
// today's energy, the schedule with a toggle, and chips such as "on by hand until
// 19:45" or "standby killer armed (< 8 W)". Switching posts to /api/devices/{id}/switch
// (it holds until the schedule's next change); the toggle patches schedule_enabled.

import { ApiError, getJSON } from "./api.js";
import { h, icon, ICONS } from "./dom.js";
import { FoundPlugs } from "./found-plugs.js";

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

async function send(method, url, body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-Roost-Client": "page" },
    body: JSON.stringify(body),
  });
  let reply = null;
  try {
    reply = await response.json();
  } catch {
    // not JSON: a proxy's error page
  }
  if (!response.ok || reply === null) {
    throw new ApiError(response.status, (reply && reply.error) || { message: `HTTP ${response.status}` });
  }
  return reply;
}

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
    this.name = h("span", { class: "device-name", id: `${base}-name` });
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
    this.chips.replaceChildren(...d.chips.map((text) => h("li", { class: "chip" }, text)));
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
      this.update(await send("POST", `/api/devices/${encodeURIComponent(this.id)}/switch`, { on: this.device.state.on !== true }));
    } catch (error) {
      this.showError(error);
    } finally {
      this.busy = false;
      this.toggle.classList.remove("busy");
    }
  }

  async setSchedule(enabled) {
    try {
      this.update(await send("PATCH", `/api/devices/${encodeURIComponent(this.id)}`, { schedule_enabled: enabled }));
    } catch (error) {
      this.scheduleToggle.checked = !enabled;
      this.showError(error);
    }
  }
}

export class DevicesView {
  constructor(root) {
    this.root = root;
    this.grid = h("div", { class: "cards device-cards" }, h("p", { class: "empty" }, "Loading devices…"));
    this.found = new FoundPlugs(() => this.refresh()); // plugs on the MQTT broker, to add
    root.append(this.found.el, this.grid);
    this.cards = new Map();
    this.timer = null;
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

  show() {
    this.refresh();
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  hide() {
    clearInterval(this.timer);
    this.timer = null;
  }

  /** A live change under devices/ came in: refresh soon (several changes, one request). */
  changed() {
    if (this.timer === null || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 250);
  }
}
