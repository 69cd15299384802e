// The Rules section of Alerts: every rule (GET /api/rules), and an editor for
// the page's own (#rules/new, #rules/NAME): create, edit, delete. Rules the
// program declares (app.alert) are listed as such and edited in the program.
//
// The editor checks what it can as the person types (a name's characters, a
// number, a duration such as "2 min"), sends nothing while a field is marked,
// and marks the field a 422 names, so both checkers speak in one place. Editing
// needs the admin scope; others see the rules read-only.

import { ApiError, getJSON, sendJSON } from "./api.js";
import { h } from "./dom.js";
import { parseNumber } from "./commands.js";
import { formatValue } from "./format.js";
import { allowed, durationText, errorText, parseDuration, present, READ_ONLY, severityBadge } from "./alerts-shared.js";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const KINDS = {
  threshold: "Above or below a threshold",
  equals: "Equal to a value",
  stale: "Not updated (a silent sensor)",
  health: "A failing worker or consumer",
};
const SEVERITIES = ["info", "warning", "critical"];
const BUILTIN_CHANNELS = ["page", "log"];
const url = (name) => `/api/rules/${encodeURIComponent(name)}`;

/** One line saying what a rule watches: "heating/boiler/flow_temp above 80 for 2 min". */
export function ruleSummary(r) {
  const held = r.for_s ? ` for ${durationText(r.for_s)}` : "";
  switch (r.kind) {
    case "threshold": {
      const over = r.above !== null && r.above !== undefined;
      const hyst = r.hysteresis ? ` (clears ${over ? "below" : "above"} ${over ? r.above - r.hysteresis : r.below + r.hysteresis})` : "";
      return `${r.path} ${over ? `above ${r.above}` : `below ${r.below}`}${held}${hyst}`;
    }
    case "equals":
      return `${r.path} is ${JSON.stringify(r.equals)}${held}`;
    case "stale":
      return `${r.path} not updated for ${durationText(r.stale_s || 0)}`;
    case "health":
      return `${r.path === "*" ? "any worker, consumer or component" : r.path} failing${held}`;
    case "program":
      return "a check in the program";
    default:
      return r.kind;
  }
}

/** A labelled input with its own error line; `name` is the rule field a 422 names. */
class Field {
  constructor(name, label, input, { hint = null, cls = "" } = {}) {
    this.name = name;
    const id = input.id || `rule-${name}`;
    input.id = id;
    input.name ||= name;
    this.input = input;
    this.error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    this.hint = h("p", { class: "field-hint", id: `${id}-hint` }, hint || "");
    this.hint.hidden = !hint;
    input.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
    input.addEventListener("input", () => this.mark(null));
    this.el = h("div", { class: `field ${cls}`, dataset: { field: name } }, h("label", { for: id }, h("span", { class: "field-label" }, label)), input, this.hint, this.error);
  }

  mark(message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }

  setHint(text) {
    this.hint.textContent = text || "";
    this.hint.hidden = !text;
  }
}

function text(attrs = {}) {
  return h("input", { type: "text", autocomplete: "off", ...attrs });
}

function select(options, value) {
  return h("select", {}, options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
}

/** A group of checkboxes, one per channel, as a fieldset with a legend. */
class ChannelPicker {
  constructor(name, legend, channels, chosen) {
    this.name = name;
    const names = [...new Set([...channels, ...chosen])];
    this.boxes = names.map((c) => h("input", { type: "checkbox", value: c, id: `rule-${name}-${c}`, checked: chosen.includes(c) }));
    this.error = h("p", { class: "field-error", id: `rule-${name}-error`, hidden: true });
    this.el = h(
      "fieldset",
      { class: "field channel-picker", dataset: { field: name }, "aria-describedby": `rule-${name}-error` },
      h("legend", { class: "field-label" }, legend),
      h("div", { class: "checks" }, this.boxes.map((b) => h("label", { class: "check-label", for: b.id }, b, b.value))),
      this.error,
    );
    for (const b of this.boxes) b.addEventListener("change", () => this.mark(null));
    this.input = this.boxes[0] || this.el;
  }

  value() {
    return this.boxes.filter((b) => b.checked).map((b) => b.value);
  }

  mark(message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
  }
}

class RuleEditor {
  /** `rule` is null for a new one; `channels` the names to offer; `leaves` the state tree's paths and values. */
  constructor(rule, { channels, leaves, meta, names, onDone }) {
    this.isNew = !rule;
    this.names = names;
    this.onDone = onDone;
    const r = rule || { kind: "threshold", severity: "warning", channels: ["page"], for_s: 0, clear_for_s: 0, hysteresis: 0, repeat_s: 0, escalate_after: 0, escalate_to: [], enabled: true };
    this.rule = r;
    this.leaves = leaves;
    this.meta = meta;
    const threshold = r.above ?? r.below;
    const paths = [...leaves.keys()].filter((p) => !p.startsWith("alerts/")).sort();

    this.f = {
      name: new Field("name", "Name", text({ value: r.name || "", spellcheck: false, autocapitalize: "none", readonly: !this.isNew, placeholder: "boiler-overheat" }), {
        hint: this.isNew ? "Letters, digits, '.', '_' and '-'; it names the rule in messages and links." : "A rule keeps its name.",
      }),
      label: new Field("label", "Label", text({ value: r.label || "", placeholder: "Boiler flow too hot" }), { hint: "What a message and the banner call it." }),
      kind: new Field("kind", "Fires when", select(Object.entries(KINDS), r.kind)),
      path: new Field("path", "Path", text({ value: r.path || "", list: "rule-paths", spellcheck: false, autocapitalize: "none", placeholder: "heating/boiler/flow_temp" })),
      direction: new Field("direction", "The value is", select([["above", "above"], ["below", "below"]], r.below !== null && r.below !== undefined ? "below" : "above"), { cls: "field-narrow" }),
      threshold: new Field("threshold", "Threshold", text({ value: threshold ?? "", inputmode: "decimal" }), { cls: "field-narrow" }),
      hysteresis: new Field("hysteresis", "Hysteresis", text({ value: r.hysteresis ?? 0, inputmode: "decimal" }), { cls: "field-narrow" }),
      equals: new Field("equals", "Bad value", text({ value: r.equals === null || r.equals === undefined ? "" : JSON.stringify(r.equals), spellcheck: false }), {
        hint: 'JSON: true, false, 0, "open"; plain text is taken as a string.',
      }),
      stale_s: new Field("stale_s", "No update for", text({ value: r.stale_s ? durationText(r.stale_s) : "", placeholder: "10 min" })),
      for_s: new Field("for_s", "For", text({ value: durationText(r.for_s || 0), placeholder: "2 min" }), { hint: "How long it must hold before the alert fires.", cls: "field-narrow" }),
      clear_for_s: new Field("clear_for_s", "Clears after", text({ value: durationText(r.clear_for_s || 0) }), { hint: "How long it must be back to normal.", cls: "field-narrow" }),
      severity: new Field("severity", "Severity", select(SEVERITIES.map((s) => [s, s]), r.severity), { cls: "field-narrow" }),
      repeat_s: new Field("repeat_s", "Repeat every", text({ value: durationText(r.repeat_s || 0) }), { hint: "Until acknowledged; 0 sends once.", cls: "field-narrow" }),
      escalate_after: new Field("escalate_after", "Escalate after", text({ value: r.escalate_after || 0, inputmode: "numeric" }), {
        hint: "Unacknowledged repeats; 0 never escalates.",
        cls: "field-narrow",
      }),
    };
    this.f.channels = new ChannelPicker("channels", "Send to", channels, r.channels || []);
    this.f.escalate_to = new ChannelPicker("escalate_to", "Escalate to", channels, r.escalate_to || []);
    this.enabled = h("input", { type: "checkbox", class: "check", role: "switch", id: "rule-enabled", checked: r.enabled !== false });

    this.status = h("p", { class: "form-status", role: "alert", hidden: true });
    this.saveButton = h("button", { type: "submit", class: "button primary" }, this.isNew ? "Create rule" : "Save");
    this.thresholdGroup = h("div", { class: "field-row" }, this.f.direction.el, this.f.threshold.el, this.f.hysteresis.el);
    this.el = h(
      "form",
      { class: "card rule-editor", novalidate: true, "aria-labelledby": "rule-editor-title", onsubmit: (e) => this.submit(e) },
      h("h2", { class: "editor-title", id: "rule-editor-title" }, this.isNew ? "New rule" : `Rule ${r.name}`),
      h("datalist", { id: "rule-paths" }, paths.map((p) => h("option", { value: p }, this.describePath(p)))),
      (this.healthList = h("datalist", { id: "rule-health" })),
      h("div", { class: "field-row" }, this.f.name.el, this.f.label.el),
      this.f.kind.el,
      this.f.path.el,
      this.thresholdGroup,
      this.f.equals.el,
      this.f.stale_s.el,
      h("div", { class: "field-row" }, this.f.for_s.el, this.f.clear_for_s.el, this.f.severity.el),
      this.f.channels.el,
      h("div", { class: "field-row" }, this.f.repeat_s.el, this.f.escalate_after.el),
      this.f.escalate_to.el,
      h("div", { class: "field field-bool" }, h("label", { for: "rule-enabled" }, "Enabled"), this.enabled),
      this.status,
      h("div", { class: "actions" }, this.saveButton, h("a", { class: "button", href: "#rules" }, "Cancel")),
    );
    this.f.kind.input.addEventListener("change", () => this.showKind());
    this.f.path.input.addEventListener("input", () => this.describeCurrent());
    for (const name of ["threshold", "hysteresis", "direction"]) this.f[name].input.addEventListener("input", () => this.describeClear());
    this.showKind();
    this.describeCurrent();
    this.describeClear();
  }

  describePath(path) {
    const m = this.meta.get(path) || {};
    const { text: value, unit } = formatValue(this.leaves.get(path), m);
    return `${m.label ? `${m.label}: ` : ""}${value}${unit ? ` ${unit}` : ""}`;
  }

  describeCurrent() {
    const path = this.f.path.input.value.trim();
    const kind = this.f.kind.input.value;
    if (kind === "health") return this.f.path.setHint("workers/NAME, consumers/NAME or components/NAME as Health lists them, or * for any.");
    if (!path) return this.f.path.setHint("Pick from the state tree or type a path.");
    this.f.path.setHint(this.leaves.has(path) ? `Now ${this.describePath(path)}` : "Not in the state tree yet: the rule waits for it.");
  }

  describeClear() {
    const t = parseNumber(this.f.threshold.input.value, "float");
    const hy = parseNumber(this.f.hysteresis.input.value || "0", "float");
    if (typeof t !== "number" || typeof hy !== "number" || !hy) return this.f.hysteresis.setHint("0: clears as soon as it is back.");
    const above = this.f.direction.input.value === "above";
    this.f.hysteresis.setHint(`Clears ${above ? "below" : "above"} ${+(above ? t - hy : t + hy).toFixed(6)}.`);
  }

  showKind() {
    const kind = this.f.kind.input.value;
    // The picker offers what the kind watches: state paths, or the parts /healthz names.
    this.f.path.input.setAttribute("list", kind === "health" ? "rule-health" : "rule-paths");
    if (kind === "health") this.loadHealth();
    this.thresholdGroup.hidden = kind !== "threshold";
    this.f.equals.el.hidden = kind !== "equals";
    this.f.stale_s.el.hidden = kind !== "stale";
    this.f.for_s.el.hidden = this.f.clear_for_s.el.hidden = kind === "stale";
    this.f.path.el.querySelector(".field-label").textContent = kind === "health" ? "Worker, consumer or component" : "Path";
    this.describeCurrent();
  }

  async loadHealth() {
    if (this.healthList.childElementCount) return;
    try {
      const health = await getJSON("/healthz");
      const names = ["*"];
      for (const section of ["workers", "consumers", "components"]) {
        const entries = health[section] || {};
        const keys = Array.isArray(entries) ? entries.map((e) => e.name) : Object.keys(entries);
        names.push(...keys.map((k) => `${section}/${k}`));
      }
      this.healthList.replaceChildren(...names.map((n) => h("option", { value: n })));
    } catch {
      // offline: the path is typed by hand
    }
  }

  /** The rule as the form says, and the client-side findings: [rule, {field: message}]. */
  read() {
    const errors = {};
    const v = (name) => this.f[name].input.value.trim();
    const kind = v("kind");
    const rule = { name: v("name"), label: v("label") || v("name"), kind, path: v("path"), severity: v("severity"), enabled: this.enabled.checked };
    if (!NAME.test(rule.name)) errors.name = rule.name ? "Only letters, digits, '.', '_' and '-', at most 64." : "Give the rule a name.";
    else if (this.isNew && this.names.has(rule.name)) errors.name = `There is already a rule named ${rule.name}.`;
    if (!rule.path) errors.path = kind === "health" ? "Which part? workers/NAME, consumers/NAME, components/NAME or *." : "Which value does the rule watch?";
    else if (kind === "health") {
      if (rule.path !== "*" && !/^(workers|consumers|components)\/./.test(rule.path)) errors.path = "workers/NAME, consumers/NAME, components/NAME or *.";
    } else if (rule.path && (rule.path.startsWith("/") || rule.path.endsWith("/") || rule.path.includes("//"))) errors.path = "A path such as heating/boiler/flow_temp.";
    const duration = (name, { min = 0, required = false } = {}) => {
      const s = parseDuration(v(name));
      if (s === null) {
        if (required) errors[name] = "How long? For example 10 min.";
        return required ? null : 0;
      }
      if (Number.isNaN(s)) errors[name] = "A duration such as 90 s, 2 min or 1 h.";
      else if (s < min) errors[name] = `At least ${durationText(min)}.`;
      return s;
    };
    rule.above = rule.below = rule.equals = rule.stale_s = null;
    rule.hysteresis = 0;
    if (kind === "threshold") {
      const t = parseNumber(v("threshold"), "float");
      if (v("threshold") === "" || typeof t !== "number") errors.threshold = "A number, such as 80 or 7.5.";
      else rule[v("direction")] = t;
      const hy = v("hysteresis") === "" ? 0 : parseNumber(v("hysteresis"), "float");
      if (typeof hy !== "number" || hy < 0) errors.hysteresis = "A number of 0 or more.";
      else rule.hysteresis = hy;
    } else if (kind === "equals") {
      const raw = this.f.equals.input.value;
      if (raw.trim() === "") errors.equals = "Which value is bad? For example true or \"open\".";
      else {
        try {
          rule.equals = JSON.parse(raw);
        } catch {
          rule.equals = raw;
        }
        if (rule.equals === null || typeof rule.equals === "object") errors.equals = "One number, text, true or false.";
      }
    } else if (kind === "stale") {
      rule.stale_s = duration("stale_s", { min: 1, required: true });
    }
    rule.for_s = kind === "stale" ? 0 : duration("for_s");
    rule.clear_for_s = kind === "stale" ? 0 : duration("clear_for_s");
    rule.repeat_s = duration("repeat_s");
    if (rule.repeat_s > 0 && rule.repeat_s < 60) errors.repeat_s = "0 (send once) or at least 1 min.";
    const esc = v("escalate_after") === "" ? 0 : Number(v("escalate_after"));
    if (!Number.isInteger(esc) || esc < 0) errors.escalate_after = "A whole number of repeats, 0 or more.";
    rule.escalate_after = esc;
    rule.channels = this.f.channels.value();
    rule.escalate_to = this.f.escalate_to.value();
    if (esc > 0 && !rule.escalate_to.length) errors.escalate_to = "Choose where to escalate to.";
    if (!esc && rule.escalate_to.length) errors.escalate_after = "After how many unacknowledged repeats?";
    if (esc > 0 && !rule.repeat_s) errors.repeat_s = "Escalation counts repeats: set a repeat interval.";
    return [rule, errors];
  }

  /** The field a rule attribute is shown in ("above" and "below" are the threshold's). */
  fieldFor(name) {
    if (name === "above" || name === "below") return this.f.threshold;
    return this.f[name] || null;
  }

  mark(errors) {
    for (const field of Object.values(this.f)) field.mark(null);
    let first = null;
    for (const [name, message] of Object.entries(errors)) {
      const field = this.fieldFor(name);
      if (!field) continue;
      field.mark(message);
      if (!first && !field.el.hidden && !field.el.closest("[hidden]")) first = field;
    }
    first?.input.focus();
    return first;
  }

  say(message, ok = false) {
    this.status.textContent = message || "";
    this.status.hidden = !message;
    this.status.dataset.state = ok ? "ok" : "error";
  }

  async submit(event) {
    event.preventDefault();
    this.say(null);
    const [rule, errors] = this.read();
    if (Object.keys(errors).length) {
      this.mark(errors);
      const n = Object.keys(errors).length;
      return this.say(n === 1 ? "One field needs a look: nothing was saved." : `${n} fields need a look: nothing was saved.`);
    }
    this.mark({});
    this.saveButton.disabled = true;
    try {
      const saved = await sendJSON("PUT", url(rule.name), rule);
      this.onDone(saved || rule, this.isNew ? "created" : "saved");
    } catch (error) {
      const named = error instanceof ApiError ? error.details.field || error.details.argument : null;
      const field = named ? this.fieldFor(named) : null;
      if (field) this.mark({ [named]: error.message });
      // The node's words stand at their field; the summary only points there.
      this.say(field ? "Nothing was saved: see the marked field." : `Not saved: ${errorText(error)}`);
    } finally {
      this.saveButton.disabled = false;
    }
  }
}

export class RulesView {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.admin = allowed("admin");
    this.list = h("div", { class: "rule-list" }, h("p", { class: "empty" }, "Loading rules…"));
    this.status = h("p", { class: "form-status", role: "status" });
    this.editorSlot = h("div", { class: "editor-slot" });
    this.head = h(
      "div",
      { class: "section-head" },
      h("h2", { class: "section-title", id: "rules-title" }, "Rules"),
      this.admin ? h("a", { class: "button primary", href: "#rules/new", id: "rule-new" }, "New rule") : null,
    );
    root.append(
      ...present(
        this.admin ? null : h("p", { class: "auth-readonly", role: "note" }, READ_ONLY.admin),
        this.editorSlot,
        h("section", { class: "alert-section", "aria-labelledby": "rules-title" }, this.head, this.status, this.list),
      ),
    );
    this.rules = [];
  }

  hide() {}

  async show(param) {
    await this.load();
    this.openEditor(param);
  }

  async load() {
    try {
      const [{ rules }, channels] = await Promise.all([getJSON("/api/rules"), this.admin ? this.loadChannels() : []]);
      this.rules = rules;
      this.channels = channels;
    } catch (error) {
      this.list.replaceChildren(h("p", { class: "empty error" }, `Could not load the rules: ${errorText(error)}`));
      return;
    }
    this.renderList();
  }

  async loadChannels() {
    try {
      const { channels } = await getJSON("/api/channels");
      return channels.filter((c) => c.enabled !== false || BUILTIN_CHANNELS.includes(c.name)).map((c) => c.name);
    } catch {
      return BUILTIN_CHANNELS; // delivery not there (yet): the built-in two still work
    }
  }

  renderList() {
    if (!this.rules.length) {
      this.list.replaceChildren(h("p", { class: "empty" }, this.admin ? "No rules yet: add one with New rule." : "No rules yet."));
      return;
    }
    this.list.replaceChildren(...this.rules.map((r) => this.ruleCard(r)));
  }

  ruleCard(r) {
    const program = r.source === "program" || r.kind === "program";
    const actions = [];
    if (this.admin && !program) {
      actions.push(
        h("a", { class: "button", href: `#rules/${encodeURIComponent(r.name)}`, "aria-label": `Edit ${r.label || r.name}` }, "Edit"),
        h("button", { type: "button", class: "button danger", "aria-label": `Delete ${r.label || r.name}`, onclick: () => this.remove(r) }, "Delete"),
      );
    }
    return h(
      "article",
      { class: "card rule-card", dataset: { rule: r.name, source: program ? "program" : "page" }, "aria-labelledby": `rule-${r.name}-title` },
      h(
        "div",
        { class: "alert-head" },
        severityBadge(r.severity),
        h("h3", { class: "alert-label", id: `rule-${r.name}-title` }, r.label || r.name),
        program ? h("span", { class: "tag", title: "Declared in the program's code: change it there." }, "in the program") : null,
        r.enabled === false ? h("span", { class: "tag" }, "disabled") : null,
      ),
      h("p", { class: "rule-summary" }, h("code", {}, r.name), " · ", ruleSummary(r)),
      h(
        "p",
        { class: "muted rule-channels" },
        `to ${(r.channels || []).join(", ") || "no channel"}`,
        r.repeat_s ? `, every ${durationText(r.repeat_s)} until acknowledged` : "",
        r.escalate_after ? `; after ${r.escalate_after} repeats also ${r.escalate_to.join(", ")}` : "",
      ),
      actions.length ? h("div", { class: "alert-actions" }, actions) : null,
    );
  }

  openEditor(param) {
    this.editor = null;
    this.editorSlot.replaceChildren();
    if (!param || !this.admin) return;
    const rule = param === "new" ? null : this.rules.find((r) => r.name === param);
    if (param !== "new" && (!rule || rule.source === "program")) {
      this.say(rule ? `${rule.name} is declared in the program: change it there.` : `There is no rule named ${param}.`);
      return;
    }
    this.editor = new RuleEditor(rule, {
      channels: this.channels?.length ? this.channels : BUILTIN_CHANNELS,
      leaves: this.ctx.leaves(),
      meta: this.ctx.meta,
      names: new Set(this.rules.map((r) => r.name)),
      onDone: (saved, how) => {
        this.say(`Rule ${saved.name} ${how}.`);
        location.hash = "#rules";
      },
    });
    this.editorSlot.append(this.editor.el);
    this.editor.f[rule ? "label" : "name"].input.focus();
  }

  say(message) {
    this.status.textContent = message;
  }

  async remove(rule) {
    if (!confirm(`Delete the rule ${rule.label || rule.name}? It stops watching at once.`)) return;
    try {
      await sendJSON("DELETE", url(rule.name));
      this.say(`Rule ${rule.name} deleted.`);
    } catch (error) {
      this.say(`Not deleted: ${errorText(error)}`);
    }
    await this.load();
  }
}
