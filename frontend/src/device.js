// The view of one device (#devices/ID), loaded the first time one is opened.
//
// The switch with a hold choice and the chips (the override, the standby killer),
// why it switched (its events, newest first, updated live), its power over the
// last 24 hours (charts.js's panel, extended live), energy per day and month
// (GET /api/devices/ID/energy), its settings (a 422 marks the field it names),
// and, for a device added in the page, removing it after a confirmation.

import { ApiError, getJSON, sendJSON, serverNow } from "./api.js";
import { h, icon, ICONS } from "./dom.js";
import { formatFull, formatWhen } from "./format.js";
import { markField, numberOrText } from "./forms.js";

const DAY_S = 86400;
const REFRESH_DEBOUNCE_MS = 250;
const EVENTS_SHOWN = 50;
const CATEGORIES = ["light", "media", "kitchen", "heating", "solar", "other"];
// Until the schedule's next change (the default a manual switch has), or for a while.
const HOLDS = [
  ["next", "until the next change"],
  ["3600", "for 1 hour"],
  ["7200", "for 2 hours"],
  ["14400", "for 4 hours"],
  ["28800", "for 8 hours"],
];
const CAUSES = {
  schedule: "schedule",
  standby_killer: "standby killer",
  override_expired: "hold ended",
  always_on: "always on",
  caller: "by hand",
  restart: "after a restart",
};
const SECONDS = [
  ["standby_hold_s", "Standby hold", "the draw must stay below the killer's threshold this long"],
  ["start_grace_s", "Start grace", "the killer never cuts within this long after it came on"],
  ["confirm_timeout_s", "Confirm timeout", "a switch the device does not confirm by then has failed"],
];
const FLAGS = [
  ["always_on", "Always on", "never switched off, nor run by a schedule"],
  ["schedule_enabled", "Follow the schedule", ""],
  ["production", "Production", "its power is generation (a solar meter)"],
  ["record", "Keep history", ""],
];

const url = (id, rest = "") => `/api/devices/${encodeURIComponent(id)}${rest}`;
const timeFormat = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

function fmt(value, digits, unit) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(digits)} ${unit}`;
}

/** A labelled input with room for its error; `input` is built by the caller. */
function field(id, label, input, hint = "") {
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  input.id = id;
  input.setAttribute("aria-describedby", `${id}-error`);
  const hintEl = hint ? h("p", { class: "field-hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
  const el = h("div", { class: input.type === "checkbox" ? "field field-bool" : "field" }, h("label", { for: id }, h("span", { class: "field-label" }, label)), input, hintEl, error);
  return { el, input, error };
}

/** Bars of energy per day or month, with a screen reader's list of the same figures. */
function energyBars(buckets, by, widthPx) {
  const max = Math.max(0, ...buckets.map((b) => b.kwh || 0));
  const label = (b) => (by === "day" ? new Date(`${b.start}T12:00:00`).toLocaleDateString(undefined, { day: "numeric", month: "short" }) : new Date(`${b.start}-15T12:00:00`).toLocaleDateString(undefined, { month: "short", year: "2-digit" }));
  // A label per ~70 px, counted back from the newest bar, which always has one.
  const every = Math.ceil(buckets.length / Math.max(2, Math.floor(widthPx / 70)));
  const total = buckets.reduce((n, b) => n + (b.kwh || 0), 0);
  return h(
    "div",
    { class: "energy" },
    h(
      "ol",
      { class: "bars", dataset: { by } },
      buckets.map((b, i) =>
        h(
          "li",
          { class: "bar", title: `${label(b)}: ${b.kwh === null ? "no data" : `${b.kwh.toFixed(3)} kWh`}`, dataset: { start: b.start, kwh: b.kwh === null ? "" : String(b.kwh) } },
          h("span", { class: "bar-fill", style: `height:${max > 0 && b.kwh ? Math.max(2, (b.kwh / max) * 100) : 0}%` }),
          h("span", { class: "bar-label", "aria-hidden": "true" }, (buckets.length - 1 - i) % every === 0 ? label(b) : ""),
          h("span", { class: "sr-only" }, `${label(b)}: ${b.kwh === null ? "no data" : `${b.kwh.toFixed(2)} kWh`}`),
        ),
      ),
    ),
    h("p", { class: "muted energy-total" }, `${total.toFixed(2)} kWh in ${buckets.length} ${by === "day" ? "days" : "months"} · highest ${max.toFixed(2)} kWh`),
  );
}

export class DeviceView {
  /** root: where to draw; ctx: {meta, leaves, icons} from the page. */
  constructor(root, id, ctx) {
    this.root = root;
    this.id = id;
    this.ctx = ctx;
    this.device = null;
    this.busy = false;
    this.energyBy = "day";
    this.panel = null;
    this.pending = null;
    this.fields = new Map();
    this.el = h("div", { class: "device-view", dataset: { device: id } }, h("p", { class: "empty" }, "Loading the device…"));
    root.replaceChildren(this.el);
  }

  async open() {
    let device;
    let schedules = [];
    try {
      [device, schedules] = await Promise.all([
        getJSON(url(this.id)),
        getJSON("/api/schedules").then(
          (b) => b.schedules.map((s) => s.name),
          () => [],
        ),
      ]);
    } catch (error) {
      const text = error instanceof ApiError && error.status === 404 ? `There is no device “${this.id}”.` : `Could not load the device: ${error.message}`;
      this.el.replaceChildren(h("a", { class: "back", href: "#devices" }, "← All devices"), h("p", { class: "empty error" }, text));
      return;
    }
    this.schedules = schedules;
    this.build(device);
    this.update(device);
    this.loadEvents();
    this.loadEnergy();
    this.loadChart();
  }

  build(d) {
    const base = `device-${this.id}`;
    this.title = h("h2", { class: "device-view-name", id: `${base}-title` });
    this.where = h("p", { class: "device-where" });
    this.iconBox = h("span", { class: "device-icon" });
    this.toggle = h("button", { class: "toggle", type: "button", role: "switch", "aria-checked": "false", "aria-labelledby": `${base}-title`, onclick: () => this.flip() });
    this.hold = h("select", { id: `${base}-hold`, class: "hold" }, HOLDS.map(([value, text]) => h("option", { value }, text)));
    this.lock = h("span", { class: "lock-note", hidden: true }, icon(ICONS.lock, "icon lock-icon"), "always on");
    this.power = h("span", { class: "device-power" });
    this.today = h("span", { class: "device-today" });
    this.next = h("p", { class: "device-next muted", hidden: true });
    this.chips = h("ul", { class: "chips device-chips", "aria-label": "Status" });
    this.error = h("p", { class: "row-error", role: "alert", hidden: true });
    const head = h(
      "section",
      { class: "card device-summary", "aria-labelledby": `${base}-title` },
      h("a", { class: "back", href: "#devices" }, "← All devices"),
      h("div", { class: "device-head" }, this.iconBox, h("div", { class: "device-title" }, this.title, this.where), this.toggle),
      h("div", { class: "device-values" }, this.power, this.today, this.lock),
      h("div", { class: "hold-row" }, h("label", { for: `${base}-hold` }, "A switch by hand holds"), this.hold),
      this.next,
      this.chips,
      this.error,
    );

    this.events = h("ol", { class: "events", "aria-live": "polite" });
    const log = h("section", { class: "card device-events", "aria-labelledby": `${base}-events` }, h("h2", { class: "card-title", id: `${base}-events` }, "Why it switched"), this.events);

    this.chartBox = h("div", { class: "device-chart" }, h("p", { class: "muted" }, "Loading the chart…"));
    const chart = h("section", { class: "card device-power-card", "aria-labelledby": `${base}-power` }, h("h2", { class: "card-title", id: `${base}-power` }, "Power, last 24 hours"), this.chartBox);

    this.energyBox = h("div", { class: "energy-box" });
    this.energyButtons = ["day", "month"].map((by) =>
      h("button", { type: "button", class: "seg", "aria-pressed": String(by === this.energyBy), dataset: { by }, onclick: () => this.setEnergyBy(by) }, by === "day" ? "Days" : "Months"),
    );
    const energy = h(
      "section",
      { class: "card device-energy", "aria-labelledby": `${base}-energy` },
      h("div", { class: "card-head" }, h("h2", { class: "card-title", id: `${base}-energy` }, "Energy"), h("div", { class: "segmented", role: "group", "aria-label": "Energy per" }, this.energyButtons)),
      this.energyBox,
    );

    const settings = this.buildSettings(d, base);
    const remove = this.buildRemove(d, base);
    this.el.replaceChildren(h("div", { class: "device-grid" }, head, log, chart, energy, settings, remove));
    log.classList.add("wide");
  }

  buildSettings(d, base) {
    const text = (name, label, hint) => field(`${base}-${name}`, label, h("input", { type: "text", name, autocomplete: "off" }), hint);
    const add = (name, f) => (this.fields.set(name, f), f.el);
    const category = field(`${base}-category`, "Category", h("select", { name: "category" }, CATEGORIES.map((c) => h("option", { value: c }, c))));
    const schedule = field(
      `${base}-schedule`,
      "Schedule",
      h("select", { name: "schedule" }, h("option", { value: "" }, "none"), this.schedules.map((n) => h("option", { value: n }, n))),
    );
    this.saveButton = h("button", { type: "submit", class: "button primary" }, "Save");
    this.saved = h("output", { class: "result", "aria-live": "polite", hidden: true });
    this.form = h(
      "form",
      { class: "card device-settings", "aria-labelledby": `${base}-settings`, novalidate: true, onsubmit: (e) => this.save(e) },
      h("h2", { class: "card-title", id: `${base}-settings` }, "Settings"),
      h(
        "div",
        { class: "fields" },
        add("name", text("name", "Name")),
        add("location", text("location", "Location")),
        add("category", category),
        add("schedule", schedule),
        FLAGS.map(([name, label, hint]) => add(name, field(`${base}-${name}`, label, h("input", { type: "checkbox", name, class: "check" }), hint))),
        SECONDS.map(([name, label, hint]) => add(name, field(`${base}-${name}`, `${label} (s)`, h("input", { type: "text", name, inputmode: "decimal", autocomplete: "off" }), hint))),
      ),
      h("div", { class: "actions" }, this.saveButton, this.saved),
    );
    return this.form;
  }

  buildRemove(d, base) {
    if (d.source === "program") {
      return h(
        "section",
        { class: "card device-remove", "aria-labelledby": `${base}-remove` },
        h("h2", { class: "card-title", id: `${base}-remove` }, "Remove"),
        h("p", { class: "muted" }, "This device is declared in the node's program: remove it there."),
      );
    }
    this.confirm = h(
      "div",
      { class: "confirm", hidden: true, role: "group", "aria-labelledby": `${base}-confirm-text` },
      h("p", { id: `${base}-confirm-text` }, `Remove ${d.name || d.id} for good? Its settings and switch history go with it.`),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "button danger", dataset: { action: "confirm-remove" }, onclick: () => this.remove() }, "Remove"),
        h("button", { type: "button", class: "button", onclick: () => this.askRemove(false) }, "Cancel"),
      ),
    );
    this.removeButton = h("button", { type: "button", class: "button", dataset: { action: "remove" }, onclick: () => this.askRemove(true) }, "Remove device…");
    this.removeError = h("p", { class: "row-error", role: "alert", hidden: true });
    return h(
      "section",
      { class: "card device-remove", "aria-labelledby": `${base}-remove` },
      h("h2", { class: "card-title", id: `${base}-remove` }, "Remove"),
      this.removeButton,
      this.confirm,
      this.removeError,
    );
  }

  /** Show the device as the server describes it; the form only when it is not being edited. */
  update(d, { form = !this.dirty } = {}) {
    this.device = d;
    const name = d.name || d.id;
    this.title.textContent = name;
    this.where.textContent = [d.location, d.category].filter(Boolean).join(" · ");
    this.iconBox.replaceChildren(icon(this.ctx.icons[d.category] || this.ctx.icons.other, "icon kind-icon"));
    this.el.dataset.on = String(d.state.on);
    this.toggle.setAttribute("aria-checked", String(d.state.on === true));
    this.toggle.setAttribute("aria-disabled", String(d.always_on));
    this.toggle.classList.toggle("unknown", d.state.on === null);
    this.lock.hidden = !d.always_on;
    this.hold.disabled = d.always_on;
    this.power.textContent = d.state.online ? fmt(d.state.power_w, 1, "W") : "offline";
    this.today.textContent = `today ${fmt(d.state.energy_today_kwh, 2, "kWh")}`;
    const next = d.next_change;
    this.next.hidden = !next;
    if (next) {
      const what = next.value === 0 ? "off" : next.value === -1 ? "on" : `on (standby killer below ${next.value} W)`;
      this.next.textContent = `Schedule ${d.schedule}: next ${what}, ${formatWhen(next.ts, serverNow())}`;
    }
    // The lock says "always on" already.
    const chips = d.chips.filter((c) => !(d.always_on && c === "always on"));
    this.chips.replaceChildren(...chips.map((text) => h("li", { class: "chip" }, text)));
    this.chips.hidden = chips.length === 0;
    if (d.state.error) this.showError(d.state.error);
    else if (!this.errorTimer) this.error.hidden = true;
    if (form) this.fillForm(d);
  }

  fillForm(d) {
    for (const [name, f] of this.fields) {
      if (f.input.type === "checkbox") f.input.checked = Boolean(d[name]);
      else f.input.value = d[name] === null || d[name] === undefined ? "" : String(d[name]);
      markField(f, "");
    }
    // A schedule the list does not have yet (made since): offer it anyway.
    const select = this.fields.get("schedule").input;
    if (d.schedule && ![...select.options].some((o) => o.value === d.schedule)) {
      select.append(h("option", { value: d.schedule }, d.schedule));
      select.value = d.schedule;
    }
    this.dirty = false;
    this.form.oninput = () => (this.dirty = true);
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      this.errorTimer = null;
      this.error.hidden = !this.device?.state.error;
    }, 8000);
  }

  async flip() {
    if (!this.device || this.device.always_on || this.busy) return;
    this.busy = true;
    this.toggle.classList.add("busy");
    this.toggle.setAttribute("aria-busy", "true");
    const hold = this.hold.value === "next" ? "next" : Number(this.hold.value);
    try {
      this.update(await sendJSON("POST", url(this.id, "/switch"), { on: this.device.state.on !== true, hold }), { form: false });
      this.loadEvents();
    } catch (error) {
      this.showError(error.message);
    } finally {
      this.busy = false;
      this.toggle.classList.remove("busy");
      this.toggle.setAttribute("aria-busy", "false");
    }
  }

  async save(event) {
    event.preventDefault();
    const patch = {};
    for (const [name, f] of this.fields) {
      markField(f, "");
      const value = f.input.type === "checkbox" ? f.input.checked : SECONDS.some(([n]) => n === name) ? numberOrText(f.input.value) : f.input.value;
      if (value !== this.device[name]) patch[name] = value;
    }
    this.saved.hidden = true;
    if (!Object.keys(patch).length) {
      this.say("Nothing to save.", "ok");
      return;
    }
    this.saveButton.disabled = true;
    try {
      const d = await sendJSON("PATCH", url(this.id), patch);
      this.dirty = false;
      this.update(d, { form: true });
      this.say("Saved.", "ok");
    } catch (error) {
      const f = this.fields.get(error.details?.argument);
      if (f) {
        markField(f, error.message);
        f.input.focus();
      }
      this.say(f ? "Not saved: see the marked field." : `Not saved: ${error.message}`, "error");
    } finally {
      this.saveButton.disabled = false;
    }
  }

  say(text, state) {
    this.saved.textContent = text;
    this.saved.dataset.state = state;
    this.saved.hidden = false;
  }

  askRemove(asking) {
    this.confirm.hidden = !asking;
    this.removeButton.hidden = asking;
    if (asking) this.confirm.querySelector("button").focus();
    else this.removeButton.focus();
  }

  async remove() {
    try {
      await sendJSON("DELETE", url(this.id));
      this.removed = true;
      location.hash = "#devices";
    } catch (error) {
      this.removeError.textContent = error.message;
      this.removeError.hidden = false;
    }
  }

  async loadEvents() {
    let body;
    try {
      body = await getJSON(url(this.id, `/events?limit=${EVENTS_SHOWN}`));
    } catch {
      return; // offline: the next change tries again
    }
    if (!body.events.length) {
      this.events.replaceChildren(h("li", { class: "empty" }, "No switches yet."));
      return;
    }
    this.events.replaceChildren(
      ...body.events.map((e) =>
        h(
          "li",
          { class: "event", dataset: { cause: e.cause, outcome: e.outcome } },
          h("time", { datetime: new Date(e.ts * 1000).toISOString(), title: formatFull(e.ts) }, timeFormat.format(new Date(e.ts * 1000))),
          h("span", { class: `badge ${e.on ? "ok" : ""}` }, e.on ? "on" : "off"),
          h("span", { class: "event-cause" }, CAUSES[e.cause] || e.cause),
          h("span", { class: "event-text" }, e.text),
          e.outcome === "ok" ? null : h("span", { class: "badge bad" }, e.outcome === "timeout" ? "not confirmed" : "failed"),
        ),
      ),
    );
  }

  setEnergyBy(by) {
    this.energyBy = by;
    for (const b of this.energyButtons) b.setAttribute("aria-pressed", String(b.dataset.by === by));
    this.loadEnergy();
  }

  async loadEnergy() {
    const by = this.energyBy;
    try {
      const body = await getJSON(url(this.id, `/energy?by=${by}&count=${by === "day" ? 30 : 12}`));
      if (by !== this.energyBy) return;
      const none = body.buckets.every((b) => b.kwh === null);
      this.energyBox.replaceChildren(none ? h("p", { class: "muted" }, "No energy recorded in this range yet.") : energyBars(body.buckets, by, this.energyBox.clientWidth || 320));
    } catch (error) {
      this.energyBox.replaceChildren(h("p", { class: "muted" }, error.status === 503 ? "This node keeps no history." : `Could not load the energy: ${error.message}`));
    }
  }

  async loadChart() {
    const path = `devices/${this.id}/power_w`;
    let ChartPanel;
    let body;
    const to = serverNow();
    const from = to - DAY_S;
    try {
      [{ ChartPanel }, body] = await Promise.all([
        import("./charts.js"),
        getJSON(`/api/history?path=${encodeURIComponent(path)}&from=${Math.floor(from)}&to=${Math.ceil(to)}&points=400`),
      ]);
    } catch (error) {
      this.chartBox.replaceChildren(h("p", { class: "muted" }, error.status === 404 || error.status === 503 ? "No history of its power yet." : `Could not load the chart: ${error.message}`));
      return;
    }
    if (this.closed) return;
    // What a chart panel asks of its view: the window, colours, labels, metadata.
    const host = {
      root: this.chartBox,
      meta: this.ctx.meta,
      leaves: this.ctx.leaves,
      window: { from, to, follow: true },
      rangeId: "24h",
      themeKey: "",
      palette: () => [getComputedStyle(document.documentElement).getPropertyValue("--series-1").trim() || "#2359d1"],
      colorIndex: () => 0,
      pathLabel: () => `${this.device?.name || this.id} power`,
      resetZoom: () => {},
      zoomTo: () => {},
      drawn: () => (this.chartBox.dataset.drawn = String(Number(this.chartBox.dataset.drawn || 0) + 1)),
    };
    this.panel = new ChartPanel(host, "W", [path]);
    this.panel.el.classList.remove("card");
    this.chartBox.replaceChildren(this.panel.el);
    this.panel.setSeries(body.series.filter((s) => s.path === path));
    this.resize = new ResizeObserver(() => this.panel?.resize());
    this.resize.observe(this.chartBox);
  }

  /** Live changes: the chart's line moves on, and the device and its events are fetched again. */
  changed(changes) {
    const prefix = `devices/${this.id}/`;
    const mine = Object.keys(changes || {}).filter((p) => p.startsWith(prefix));
    if (!mine.length || this.removed) return;
    const power = changes[`${prefix}power_w`];
    if (this.panel && typeof power === "number") {
      this.panel.view.window.to = serverNow();
      this.panel.extend(`${prefix}power_w`, serverNow(), power);
    }
    if (mine.every((p) => p === `${prefix}power_w` || p === `${prefix}energy_kwh` || p === `${prefix}energy_today_kwh`)) {
      // Readings alone: the numbers on the summary, without a request.
      if (this.device && typeof power === "number") this.power.textContent = fmt(power, 1, "W");
      const today = changes[`${prefix}energy_today_kwh`];
      if (typeof today === "number") this.today.textContent = `today ${fmt(today, 2, "kWh")}`;
      return;
    }
    clearTimeout(this.pending);
    this.pending = setTimeout(() => this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  async refresh() {
    try {
      const d = await getJSON(url(this.id));
      if (!this.busy) this.update(d);
    } catch {
      return;
    }
    this.loadEvents();
  }

  close() {
    this.closed = true;
    clearTimeout(this.pending);
    this.resize?.disconnect();
    this.panel?.destroy();
    this.panel = null;
  }
}
