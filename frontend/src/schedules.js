// The Schedules view: the list of weekly schedules (#schedules) and the editor of
// one (#schedules/NAME), loaded only when the view is first opened.
//
// The editor paints the 7 x 96 grid with a palette (off, on, standby killer at W
// watts), copies a day to others, edits the sun and date rules, undoes (button
// or Ctrl+Z) and redoes, and saves with PUT /api/schedules/NAME or reverts to
// what the node has. The server checks everything again: its 422 names a day
// and slot or a rule, and the editor shows it there. A draft survives leaving
// the view and coming back, until it is saved or reverted.

import { ApiError, getJSON, sendJSON } from "./api.js";
import { h } from "./dom.js";
import { DAYS, SHORT_DAYS, WeekGrid, slotTime, valueText } from "./schedule-grid.js";
import { RulesEditor, parseWatts } from "./schedule-rules.js";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const UNDO_STEPS = 100;
const path = (name) => `/api/schedules/${encodeURIComponent(name)}`;

/** Device names by id, for "used by TV, Floor lamp". */
async function deviceNames() {
  try {
    const { devices } = await getJSON("/api/devices");
    return new Map(devices.map((d) => [d.id, d.name || d.id]));
  } catch {
    return new Map();
  }
}

function message(error) {
  return error instanceof ApiError ? error.message : `the node did not answer (${error.message})`;
}

// -- the list ---------------------------------------------------------------------------

class ScheduleList {
  constructor() {
    this.nameInput = h("input", {
      id: "sched-new-name",
      type: "text",
      autocomplete: "off",
      spellcheck: false,
      placeholder: "e.g. weekdays",
      "aria-describedby": "sched-new-error",
    });
    this.createError = h("p", { class: "field-error", id: "sched-new-error", hidden: true });
    this.items = h("div", { class: "cards sched-cards" }, h("p", { class: "empty" }, "Loading schedules…"));
    this.el = h(
      "div",
      { class: "sched-list" },
      h(
        "form",
        { class: "card sched-create", onsubmit: (e) => (e.preventDefault(), this.create()) },
        h("h2", { class: "card-title" }, "New schedule"),
        h(
          "div",
          { class: "field" },
          h("label", { for: this.nameInput.id }, "Name (letters, digits, _ . -)"),
          h("div", { class: "inline" }, this.nameInput, h("button", { type: "submit", class: "button primary" }, "Create")),
          this.createError,
        ),
      ),
      this.items,
    );
  }

  async refresh() {
    let body;
    try {
      [body, this.names] = await Promise.all([getJSON("/api/schedules"), deviceNames()]);
    } catch (error) {
      this.items.replaceChildren(h("p", { class: "empty" }, `Could not load the schedules: ${message(error)}`));
      return;
    }
    this.known = new Set(body.schedules.map((s) => s.name));
    if (!body.schedules.length) {
      this.items.replaceChildren(h("p", { class: "empty" }, "No schedules yet: create one above."));
      return;
    }
    this.items.replaceChildren(...body.schedules.map((s) => this.card(s)));
  }

  card(schedule) {
    const error = h("p", { class: "row-error", role: "alert", hidden: true });
    const users = schedule.devices.map((id) => this.names.get(id) || id);
    const confirm = h(
      "div",
      { class: "actions sched-confirm", hidden: true },
      h("span", {}, `Delete ${schedule.name}?`),
      h("button", { type: "button", class: "button danger", onclick: () => this.remove(schedule.name, error, confirm) }, "Yes, delete"),
      h("button", { type: "button", class: "button", onclick: () => (confirm.hidden = true) }, "Cancel"),
    );
    return h(
      "article",
      { class: "card sched-card", dataset: { schedule: schedule.name } },
      h("h3", { class: "sched-name" }, h("a", { href: `#schedules/${encodeURIComponent(schedule.name)}` }, schedule.name)),
      schedule.description ? h("p", { class: "doc" }, schedule.description) : null,
      h("p", { class: "muted sched-users" }, users.length ? `Used by ${users.join(", ")}` : "Not used by any device"),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button", href: `#schedules/${encodeURIComponent(schedule.name)}`, "aria-label": `Edit ${schedule.name}` }, "Edit"),
        h("button", { type: "button", class: "button", "aria-label": `Delete ${schedule.name}`, onclick: () => (confirm.hidden = false) }, "Delete"),
      ),
      confirm,
      error,
    );
  }

  async remove(name, error, confirm) {
    confirm.hidden = true;
    try {
      await sendJSON("DELETE", path(name));
    } catch (e) {
      // 409: devices still run it; name them as the person knows them.
      const users = e.details?.devices?.map((id) => this.names.get(id) || id);
      error.textContent = users ? `${name} is still used by ${users.join(", ")}: give them another schedule first.` : message(e);
      error.hidden = false;
      return;
    }
    this.refresh();
  }

  async create() {
    const name = this.nameInput.value.trim();
    let problem = "";
    if (!NAME.test(name)) problem = "a name is 1 to 64 letters, digits, _ . or - (no spaces)";
    else if (name === "." || name === "..") problem = "that name is reserved";
    else if (this.known?.has(name)) problem = `${name} exists already`;
    this.createError.textContent = problem;
    this.createError.hidden = !problem;
    this.nameInput.setAttribute("aria-invalid", String(Boolean(problem)));
    if (problem) return;
    const week = Array.from({ length: 7 }, () => new Array(96).fill(0));
    try {
      await sendJSON("PUT", path(name), { name, description: "", week, rules: [] });
    } catch (e) {
      this.createError.textContent = message(e);
      this.createError.hidden = false;
      return;
    }
    this.nameInput.value = "";
    location.hash = `#schedules/${encodeURIComponent(name)}`;
  }
}

// -- the editor ---------------------------------------------------------------------------

class ScheduleEditor {
  constructor(name, saved, names) {
    this.name = name;
    this.names = names;
    this.undoStack = [];
    this.redoStack = [];
    const id = `sched-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;

    // The palette: what a stroke paints.
    this.watts = h("input", {
      id: `${id}-watts`,
      type: "text",
      inputmode: "decimal",
      class: "watts",
      value: "8",
      "aria-describedby": `${id}-watts-error`,
      oninput: () => this.checkWatts(),
      // Typing a wattage means painting with it.
      onfocus: () => {
        this.palette.querySelector('input[value="standby"]').checked = true;
      },
    });
    this.wattsError = h("p", { class: "field-error", id: `${id}-watts-error`, role: "alert", hidden: true });
    const choice = (value, label, extra) =>
      h(
        "label",
        { class: "pal", dataset: { kind: value } },
        h("input", { type: "radio", name: `${id}-paint`, value, checked: value === "on", onchange: () => this.checkWatts() }),
        h("span", { class: "swatch", dataset: { kind: value }, "aria-hidden": "true" }),
        label,
        extra,
      );
    this.palette = h(
      "fieldset",
      { class: "palette" },
      h("legend", {}, "Paint with"),
      h("div", { class: "pal-choices" }, choice("off", "Off"), choice("on", "On"), choice("standby", "Standby killer below", [this.watts, h("span", {}, "W")])),
      this.wattsError,
    );
    this.watts.setAttribute("aria-label", "Standby killer watts");

    this.grid = new WeekGrid({
      label: `Week of ${name}: rows are days, cells are quarter-hours`,
      paintValue: () => this.paintValue(),
      onStroke: () => this.commit(),
    });

    this.description = h("input", {
      id: `${id}-desc`,
      type: "text",
      maxlength: 500,
      oninput: () => ((this.model.description = this.description.value), this.refreshDirty()),
      onchange: () => this.commit(),
    });
    this.rules = new RulesEditor({ idPrefix: id, onChange: (final) => (final ? this.commit() : this.refreshDirty()) });

    // The narrow layout's day tabs.
    this.dayButtons = SHORT_DAYS.map((short, d) =>
      h(
        "button",
        { type: "button", class: "seg", "aria-pressed": "false", dataset: { day: d }, onclick: () => this.showDay(d) },
        h("span", { "aria-hidden": "true" }, short),
        h("span", { class: "sr-only" }, DAYS[d]),
      ),
    );
    this.dayTabs = h("div", { class: "day-tabs segmented", role: "group", "aria-label": "Day shown" }, this.dayButtons);

    // Copy a day to others.
    this.copyFrom = h("select", { id: `${id}-copy-from` }, DAYS.map((d, i) => h("option", { value: i }, d)));
    this.copyTo = DAYS.map((d, i) => h("input", { type: "checkbox", value: i, "aria-label": `to ${d}` }));
    this.copyNote = h("span", { class: "muted", role: "status" });
    const copy = h(
      "fieldset",
      { class: "copy-day" },
      h("legend", {}, "Copy a day"),
      h("label", { for: this.copyFrom.id }, "Copy"),
      this.copyFrom,
      h("span", {}, "to"),
      h("div", { class: "day-checks" }, this.copyTo.map((box, i) => h("label", { class: "day-check" }, box, SHORT_DAYS[i]))),
      h("button", { type: "button", class: "button", onclick: () => this.copyDay() }, "Copy"),
      this.copyNote,
    );

    // Save, revert, undo.
    this.saveButton = h("button", { type: "button", class: "button primary", onclick: () => this.save() }, "Save");
    this.revertButton = h("button", { type: "button", class: "button", onclick: () => this.revert() }, "Revert");
    this.undoButton = h("button", { type: "button", class: "button", onclick: () => this.undo(), "aria-keyshortcuts": "Control+Z" }, "Undo");
    this.redoButton = h("button", { type: "button", class: "button", onclick: () => this.redo(), "aria-keyshortcuts": "Control+Y" }, "Redo");
    this.dirty = h("span", { class: "dirty", hidden: true }, "● Unsaved changes");
    this.status = h("p", { class: "result sched-status", role: "status", hidden: true });

    this.preview = h("div", { class: "preview" });
    this.el = h(
      "div",
      { class: "sched-editor", dataset: { schedule: name } },
      h("p", { class: "back" }, h("a", { href: "#schedules" }, "← All schedules")),
      h(
        "div",
        { class: "sched-bar" },
        h("h2", { class: "sched-title" }, name),
        this.dirty,
        h("div", { class: "actions" }, this.saveButton, this.revertButton, this.undoButton, this.redoButton),
      ),
      this.status,
      h("div", { class: "field sched-desc" }, h("label", { for: this.description.id }, "Description"), this.description),
      h("section", { class: "card", "aria-label": "Week" }, this.palette, legend(), this.dayTabs, this.grid.el, copy),
      h("section", { class: "card", "aria-labelledby": `${id}-rules` }, h("h3", { class: "card-title", id: `${id}-rules` }, "Sun and date rules"), this.rules.el),
      h("section", { class: "card", "aria-labelledby": `${id}-preview` }, h("h3", { class: "card-title", id: `${id}-preview` }, "Next 24 hours"), this.preview),
    );
    this.setSaved(saved);
    this.showDay(todayIndex());
  }

  /** Take `saved` (the node's copy) as the base and show it. */
  setSaved(saved) {
    this.saved = JSON.stringify(pick(saved));
    this.devices = saved.devices || [];
    this.load(JSON.parse(this.saved));
    this.last = this.saved;
    this.refreshDirty();
    this.showPreview();
  }

  load(model) {
    this.model = model;
    this.grid.setWeek(model.week);
    this.model.week = this.grid.week; // one array: the grid paints the model
    this.description.value = model.description;
    this.rules.setRules(model.rules, this.others);
    this.rules.validate();
  }

  setOthers(names) {
    this.others = names.filter((n) => n !== this.name);
    this.rules.setRules(this.model.rules, this.others);
    this.rules.validate();
  }

  snapshot() {
    return JSON.stringify(this.model);
  }

  /** Record a finished change as one undo step. */
  commit() {
    const now = this.snapshot();
    if (now === this.last) return this.refreshDirty();
    this.undoStack.push(this.last);
    if (this.undoStack.length > UNDO_STEPS) this.undoStack.shift();
    this.redoStack = [];
    this.last = now;
    this.grid.markBad(null);
    this.refreshDirty();
  }

  undo() {
    this.commit(); // a field typed into but not yet left is a step of its own
    if (!this.undoStack.length) return;
    this.redoStack.push(this.last);
    this.last = this.undoStack.pop();
    this.load(JSON.parse(this.last));
    this.refreshDirty();
  }

  redo() {
    if (!this.redoStack.length) return;
    this.undoStack.push(this.last);
    this.last = this.redoStack.pop();
    this.load(JSON.parse(this.last));
    this.refreshDirty();
  }

  revert() {
    this.commit();
    if (this.last === this.saved) return;
    this.undoStack.push(this.last); // a revert can be undone too
    this.redoStack = [];
    this.last = this.saved;
    this.load(JSON.parse(this.saved));
    this.say("Reverted to the saved schedule.", "ok");
    this.refreshDirty();
  }

  refreshDirty() {
    const dirty = this.snapshot() !== this.saved;
    this.dirty.hidden = !dirty;
    this.el.dataset.dirty = String(dirty);
    this.undoButton.disabled = !this.undoStack.length && this.snapshot() === this.last;
    this.redoButton.disabled = !this.redoStack.length;
  }

  key(event) {
    if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
    // Text fields keep their own undo.
    if (event.target.matches?.('input[type="text"], input[type="date"], textarea')) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) this.undo();
    else if (key === "y" || (key === "z" && event.shiftKey)) this.redo();
    else return;
    event.preventDefault();
  }

  showDay(day) {
    this.grid.showDay(day);
    this.dayButtons.forEach((b, d) => b.setAttribute("aria-pressed", String(d === day)));
    this.copyFrom.value = String(day);
  }

  paintValue() {
    const kind = this.palette.querySelector("input:checked")?.value;
    if (kind === "on") return -1;
    if (kind === "off") return 0;
    return this.checkWatts() ? parseWatts(this.watts.value) : null;
  }

  /** Show whether the standby watts are usable (only matters when standby is chosen). */
  checkWatts() {
    const standby = this.palette.querySelector("input:checked")?.value === "standby";
    const bad = standby && parseWatts(this.watts.value) === null;
    this.wattsError.textContent = bad ? `Standby killer watts must be a number above 0, not "${this.watts.value}"` : "";
    this.wattsError.hidden = !bad;
    this.watts.setAttribute("aria-invalid", String(bad));
    return !bad;
  }

  copyDay() {
    const from = Number(this.copyFrom.value);
    const targets = this.copyTo.filter((b) => b.checked && Number(b.value) !== from).map((b) => Number(b.value));
    if (!targets.length) {
      this.copyNote.textContent = "Tick the days to copy to.";
      return;
    }
    for (const day of targets) this.model.week[day].forEach((_, slot) => this.grid.setCell(day, slot, this.model.week[from][slot]));
    this.copyTo.forEach((b) => (b.checked = false));
    this.copyNote.textContent = `Copied ${DAYS[from]} to ${targets.map((d) => DAYS[d]).join(", ")}.`;
    this.commit();
  }

  say(text, state) {
    this.status.textContent = text;
    this.status.dataset.state = state;
    this.status.hidden = !text;
  }

  async save() {
    this.commit();
    if (!this.rules.validate()) {
      this.say("Some rules need fixing first (see below).", "error");
      return;
    }
    this.saveButton.disabled = true;
    try {
      const saved = await sendJSON("PUT", path(this.name), this.model);
      this.say(`Saved at ${new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}.`, "ok");
      this.saved = JSON.stringify(pick(saved));
      this.devices = saved.devices || [];
      this.refreshDirty();
      this.showPreview();
    } catch (error) {
      this.serverError(error);
    } finally {
      this.saveButton.disabled = false;
    }
  }

  serverError(error) {
    const details = error.details || {};
    this.say(`Not saved: ${message(error)}`, "error");
    if (Number.isInteger(details.day) && Number.isInteger(details.slot)) {
      this.grid.markBad(details);
      this.showDay(details.day);
      this.say(`Not saved: ${DAYS[details.day]} ${slotTime(details.slot)}: ${message(error)}`, "error");
    } else if (Number.isInteger(details.rule)) {
      this.rules.serverError(details.rule, message(error));
    }
  }

  async showPreview() {
    if (!this.devices.length) {
      this.preview.replaceChildren(h("p", { class: "muted" }, "No device uses this schedule: give one this schedule to see what it will do."));
      return;
    }
    const pickDevice = h(
      "select",
      { id: `${this.el.dataset.schedule}-pv`, onchange: () => this.loadPreview(pickDevice.value, out) },
      this.devices.map((d) => h("option", { value: d }, this.names.get(d) || d)),
    );
    const out = h("div", { class: "preview-body" });
    this.preview.replaceChildren(
      h("p", { class: "muted" }, "What a device on this schedule will do, as saved (holds by hand included)."),
      h("div", { class: "field inline" }, h("label", { for: pickDevice.id }, "Device"), pickDevice),
      out,
    );
    this.loadPreview(this.devices[0], out);
  }

  async loadPreview(id, out) {
    let body;
    try {
      body = await getJSON(`/api/devices/${encodeURIComponent(id)}/preview?hours=24`);
    } catch (error) {
      out.replaceChildren(h("p", { class: "row-error" }, message(error)));
      return;
    }
    const start = Date.parse(body.segments[0]?.from);
    const end = Date.parse(body.segments.at(-1)?.to);
    const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const kindOf = (s) => (s.on === false ? "off" : s.standby_w ? "standby" : s.on ? "on" : "unknown");
    const what = (s) => (s.on === null ? "unknown" : s.standby_w ? valueText(s.value) : s.on ? "on" : "off");
    out.replaceChildren(
      h(
        "div",
        { class: "preview-bar", "aria-hidden": "true" },
        body.segments.map((s) =>
          h("span", { class: "preview-seg", dataset: { kind: kindOf(s) }, style: `flex-grow:${Math.max(1, Date.parse(s.to) - Date.parse(s.from))}` }),
        ),
      ),
      h("p", { class: "muted preview-range" }, `${time(start)} → ${time(end)}`),
      h(
        "ol",
        { class: "preview-list" },
        body.segments.map((s) => h("li", { dataset: { kind: kindOf(s) } }, h("span", { class: "preview-time" }, `${time(s.from)}–${time(s.to)}`), ` ${what(s)} · ${s.why}`)),
      ),
    );
  }
}

function pick(schedule) {
  return { name: schedule.name, description: schedule.description || "", week: schedule.week, rules: schedule.rules || [] };
}

function todayIndex() {
  return (new Date().getDay() + 6) % 7; // Monday first
}

function legend() {
  const item = (kind, text) => h("li", {}, h("span", { class: "swatch", dataset: { kind }, "aria-hidden": "true" }), text);
  return h(
    "ul",
    { class: "sched-legend", "aria-label": "Legend" },
    item("off", "Off: empty"),
    item("on", "On: filled"),
    item("standby", "Standby killer: striped (its watts in the cell on a phone)"),
  );
}

// -- the view ------------------------------------------------------------------------

export class SchedulesView {
  constructor(root) {
    this.root = root;
    this.list = new ScheduleList();
    this.editors = new Map(); // name -> ScheduleEditor, drafts kept while the page lives
    this.body = h("div", { class: "sched-view" });
    root.append(this.body);
    this.names = new Map();
    // Ctrl+Z anywhere in the view, also after a click left the focus on the page itself.
    document.addEventListener("keydown", (e) => {
      if (!this.root.hidden && this.current) this.current.key(e);
    });
  }

  /** The editor now shown, if any (the browser tests use it). */
  get editor() {
    return this.current || null;
  }

  async show(param) {
    const name = param || "";
    this.current = null;
    if (!name) {
      this.body.replaceChildren(this.list.el);
      this.list.refresh();
      return;
    }
    let editor = this.editors.get(name);
    if (!editor) {
      this.body.replaceChildren(h("p", { class: "empty" }, `Loading ${name}…`));
      let saved;
      let all;
      try {
        [saved, this.names, all] = await Promise.all([getJSON(path(name)), deviceNames(), getJSON("/api/schedules")]);
      } catch (error) {
        this.body.replaceChildren(
          h("p", { class: "back" }, h("a", { href: "#schedules" }, "← All schedules")),
          h("p", { class: "row-error" }, `Could not open ${name}: ${message(error)}`),
        );
        return;
      }
      editor = this.editors.get(name) || new ScheduleEditor(name, saved, this.names);
      editor.setOthers(all.schedules.map((s) => s.name));
      this.editors.set(name, editor);
    } else if (editor.el.dataset.dirty !== "true") {
      // No draft: show what the node has now (another page may have saved meanwhile).
      getJSON(path(name)).then((saved) => editor.el.dataset.dirty !== "true" && editor.setSaved(saved), () => {});
    }
    this.current = editor;
    this.body.replaceChildren(editor.el);
  }

  hide() {}
}
