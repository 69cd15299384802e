// The rules on top of a schedule's week, edited as a list of small forms:
// sun rules ("on from sunset-30m to 23:00"), holidays that run as another weekday,
// and vacations that run another schedule. Each field is checked as it is typed,
// with the server's own grammar, so a save is only tried when all of them are good.

import { h } from "./dom.js";
import { DAYS, SHORT_DAYS } from "./schedule-grid.js";

const DAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
// As weekplan.parse_anchor: 23:00 (24:00 allowed), sunset, sunrise+1h, sunset - 30m.
const ANCHOR = /^\s*(?:(sunrise|sunset)\s*(?:([+-])\s*(\d+)\s*(m|min|h)?)?|(\d{1,2}):(\d{2}))\s*$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Why `text` is not a time or sun event, or "" when it is one. */
export function anchorProblem(text) {
  const m = ANCHOR.exec(text || "");
  if (!m) return "a time like 23:00, or sunrise/sunset with an offset like sunset-30m";
  if (m[1]) {
    const amount = Number(m[3] || 0) * ((m[4] || "").toLowerCase() === "h" ? 60 : 1);
    return amount > 12 * 60 ? "a sun offset is at most 12 h" : "";
  }
  const [hour, minute] = [Number(m[5]), Number(m[6])];
  return minute > 59 || hour * 60 + minute > 24 * 60 ? "no such time of day" : "";
}

function dateProblem(text) {
  if (!ISO_DATE.test(text || "")) return `${text ? `"${text}"` : "empty"}: a date is YYYY-MM-DD`;
  const d = new Date(`${text}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text ? `no such date: ${text}` : "";
}

/** A standby wattage typed by a person ("8", "7,5"): the number, or null if it is not one above 0. */
export function parseWatts(text) {
  const t = String(text).trim().replace(/^(\d*),(\d+)$/, "$1.$2");
  if (!/^(\d+\.?\d*|\.\d+)$/.test(t)) return null;
  const w = Number(t);
  return Number.isFinite(w) && w > 0 ? w : null;
}

/** The weekday set of a rule's `days` text ("daily", "mon-fri", "sat,sun") as indexes. */
function daysOf(text) {
  const low = String(text ?? "daily").trim().toLowerCase();
  if (["", "*", "daily", "every day", "all"].includes(low)) return new Set([0, 1, 2, 3, 4, 5, 6]);
  if (low === "weekdays") return new Set([0, 1, 2, 3, 4]);
  if (low === "weekends") return new Set([5, 6]);
  const out = new Set();
  for (const item of low.replace(/\s/g, "").split(",")) {
    const [a, b] = item.split("-").map((n) => DAY_KEYS.indexOf(n.slice(0, 3)));
    if (a < 0) continue;
    const last = b === undefined ? a : b;
    for (let d = a; ; d = (d + 1) % 7) {
      out.add(d);
      if (d === last || last < 0) break;
    }
  }
  return out;
}

function daysText(set) {
  return set.size === 7 ? "daily" : [...set].sort().map((d) => DAY_KEYS[d]).join(",");
}

export const NEW_RULES = {
  sun: () => ({ type: "sun", from: "sunset-30m", to: "23:00", value: -1, days: "daily" }),
  holidays: () => ({ type: "holidays", dates: [], as: "sun" }),
  vacation: () => ({ type: "vacation", from: "", to: "", schedule: "" }),
};

const TITLES = { sun: "Sun or time rule", holidays: "Holidays", vacation: "Vacation" };

export class RulesEditor {
  /** `onChange(final)`: a field changed (final: a committed change, worth an undo step). */
  constructor({ onChange, idPrefix }) {
    this.onChange = onChange;
    this.prefix = idPrefix;
    this.rules = [];
    this.others = []; // names of the other schedules, for vacations
    this.forms = [];
    this.list = h("ol", { class: "rule-list" });
    this.empty = h("p", { class: "muted" }, "No rules: the week above runs as it is.");
    const add = (type, text) =>
      h("button", { type: "button", class: "button", dataset: { add: type }, onclick: () => this.add(type) }, text);
    this.el = h(
      "div",
      { class: "rules" },
      this.empty,
      this.list,
      h("div", { class: "actions" }, add("sun", "Add sun/time rule"), add("holidays", "Add holidays"), add("vacation", "Add vacation")),
    );
  }

  /** Show `rules` (the schedule's JSON rules, edited in place). */
  setRules(rules, others) {
    this.rules = rules;
    if (others) this.others = others;
    this.render();
  }

  add(type) {
    this.rules.push(NEW_RULES[type]());
    this.render();
    this.onChange(true);
    this.forms.at(-1)?.querySelector("input, select")?.focus();
  }

  remove(index) {
    this.rules.splice(index, 1);
    this.render();
    this.onChange(true);
  }

  /** Every rule's problems, shown at their fields; true when all are good. */
  validate() {
    let ok = true;
    this.forms.forEach((form) => (ok = form.check() && ok));
    return ok;
  }

  /** Show the server's message at rule `index`. */
  serverError(index, message) {
    const form = this.forms[index];
    if (!form) return false;
    form.problem.textContent = message;
    form.problem.hidden = false;
    return true;
  }

  render() {
    this.empty.hidden = this.rules.length > 0;
    this.forms = this.rules.map((rule, i) => this.form(rule, i));
    this.list.replaceChildren(...this.forms);
  }

  form(rule, index) {
    const id = `${this.prefix}-rule${index}`;
    const fields = [];
    const checks = [];
    const problem = h("p", { class: "field-error", id: `${id}-problem`, role: "alert", hidden: true });
    // A text or date field with its own inline message; `problemOf(value)` says what is wrong.
    const field = (key, label, { type = "text", hint = "", problemOf = () => "", get, set } = {}) => {
      const fid = `${id}-${key}`;
      const error = h("p", { class: "field-error", id: `${fid}-error`, hidden: true });
      const input = h("input", {
        id: fid,
        type,
        value: get ? get() : rule[key] ?? "",
        "aria-describedby": `${fid}-error`,
        placeholder: hint,
        spellcheck: false,
        oninput: () => {
          (set || ((v) => (rule[key] = v)))(input.value);
          check();
          this.onChange(false);
        },
        onchange: () => this.onChange(true),
      });
      const check = () => {
        const message = problemOf(input.value);
        error.textContent = message;
        error.hidden = !message;
        input.setAttribute("aria-invalid", String(Boolean(message)));
        return !message;
      };
      checks.push(check);
      fields.push(h("div", { class: "field" }, h("label", { for: fid }, label), input, error));
    };

    if (rule.type === "sun") {
      field("from", "From", { hint: "sunset-30m", problemOf: anchorProblem });
      field("to", "To", { hint: "23:00", problemOf: anchorProblem });
      fields.push(this.valueField(rule, id, checks));
      fields.push(this.daysField(rule, id, checks));
    } else if (rule.type === "holidays") {
      field("dates", "Dates (YYYY-MM-DD, separated by commas)", {
        hint: "2026-12-25, 2026-12-26",
        get: () => rule.dates.join(", "),
        set: (v) => (rule.dates = v.split(/[\s,;]+/).filter(Boolean)),
        problemOf: () => (rule.dates.length ? rule.dates.map(dateProblem).find(Boolean) || "" : "name at least one date"),
      });
      const sel = h(
        "select",
        { id: `${id}-as`, onchange: () => ((rule.as = sel.value), this.onChange(true)) },
        DAY_KEYS.map((key, d) => h("option", { value: key, selected: (rule.as || "sun") === key }, DAYS[d])),
      );
      fields.push(h("div", { class: "field" }, h("label", { for: sel.id }, "Run as"), sel));
    } else if (rule.type === "vacation") {
      field("from", "First day", { type: "date", problemOf: dateProblem });
      field("to", "Last day", {
        type: "date",
        problemOf: (v) => dateProblem(v) || (rule.from && !dateProblem(rule.from) && v < rule.from ? "the last day comes before the first" : ""),
      });
      const sel = h(
        "select",
        { id: `${id}-schedule`, "aria-describedby": `${id}-schedule-error` },
        h("option", { value: "" }, "— choose —"),
        [...new Set([...this.others, rule.schedule].filter(Boolean))].map((n) => h("option", { value: n, selected: n === rule.schedule }, n)),
      );
      const error = h("p", { class: "field-error", id: `${id}-schedule-error`, hidden: true });
      const check = () => {
        const message = rule.schedule ? "" : "choose the schedule that runs instead";
        error.textContent = message;
        error.hidden = !message;
        sel.setAttribute("aria-invalid", String(Boolean(message)));
        return !message;
      };
      sel.addEventListener("change", () => {
        rule.schedule = sel.value;
        check();
        this.onChange(true);
      });
      checks.push(check);
      fields.push(h("div", { class: "field" }, h("label", { for: sel.id }, "Runs schedule"), sel, error));
    }
    const item = h(
      "li",
      { class: "rule card", dataset: { type: rule.type } },
      h(
        "div",
        { class: "rule-head" },
        h("h4", { class: "rule-title" }, TITLES[rule.type] || rule.type),
        h("button", { type: "button", class: "button", onclick: () => this.remove(index), "aria-label": `Remove rule ${index + 1} (${TITLES[rule.type]})` }, "Remove"),
      ),
      h("div", { class: "rule-fields" }, fields),
      problem,
    );
    item.problem = problem;
    item.check = () => {
      problem.hidden = true;
      return checks.reduce((ok, c) => c() && ok, true);
    };
    return item;
  }

  valueField(rule, id, checks) {
    const kind = rule.value === -1 ? "on" : rule.value === 0 ? "off" : "standby";
    const sel = h(
      "select",
      { id: `${id}-value` },
      [["on", "On"], ["off", "Off"], ["standby", "Standby killer"]].map(([v, t]) => h("option", { value: v, selected: v === kind }, t)),
    );
    const watts = h("input", {
      id: `${id}-watts`,
      type: "text",
      inputmode: "decimal",
      class: "watts",
      value: rule.value > 0 ? String(rule.value) : "8",
      "aria-label": "Standby killer watts",
      "aria-describedby": `${id}-watts-error`,
      hidden: kind !== "standby",
    });
    const error = h("p", { class: "field-error", id: `${id}-watts-error`, hidden: true });
    const apply = () => {
      watts.hidden = sel.value !== "standby";
      const w = parseWatts(watts.value);
      rule.value = sel.value === "on" ? -1 : sel.value === "off" ? 0 : w ?? watts.value;
      return check();
    };
    const check = () => {
      const bad = sel.value === "standby" && parseWatts(watts.value) === null;
      error.textContent = bad ? "standby watts: a number above 0" : "";
      error.hidden = !bad;
      watts.setAttribute("aria-invalid", String(bad));
      return !bad;
    };
    sel.addEventListener("change", () => (apply(), this.onChange(true)));
    watts.addEventListener("input", () => (apply(), this.onChange(false)));
    watts.addEventListener("change", () => this.onChange(true));
    checks.push(check);
    return h("div", { class: "field" }, h("label", { for: sel.id }, "Value"), h("div", { class: "inline" }, sel, watts), error);
  }

  daysField(rule, id, checks) {
    const chosen = daysOf(rule.days);
    const error = h("p", { class: "field-error", id: `${id}-days-error`, hidden: true });
    const boxes = SHORT_DAYS.map((name, d) =>
      h(
        "label",
        { class: "day-check" },
        h("input", {
          type: "checkbox",
          checked: chosen.has(d),
          onchange: (e) => {
            if (e.target.checked) chosen.add(d);
            else chosen.delete(d);
            rule.days = daysText(chosen);
            check();
            this.onChange(true);
          },
        }),
        name,
      ),
    );
    const check = () => {
      const message = chosen.size ? "" : "choose at least one day";
      error.textContent = message;
      error.hidden = !message;
      return !message;
    };
    checks.push(check);
    return h(
      "fieldset",
      { class: "field days-field", "aria-describedby": error.id },
      h("legend", {}, "Days"),
      h("div", { class: "day-checks" }, boxes),
      error,
    );
  }
}
