// A form for every command, generated from its argument types (GET /api/commands).
//
// The server checks and converts every argument, so the form does not second-
// guess it: numbers that do not parse are sent as typed, and the server's 422
// names the argument, which the form then marks. One checker, one set of messages.

import { h } from "./dom.js";
import { humanize } from "./format.js";

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
// A decimal comma, as European keyboards type it ("21,5"): one comma, no point, digits after.
const DECIMAL_COMMA = /^([-+]?\d*),(\d+)$/;

/** The text of a number field as a number if it is one (a float's decimal comma too), else the text. */
export function parseNumber(text, kind) {
  let t = text.trim();
  if (kind === "float") t = t.replace(DECIMAL_COMMA, "$1.$2");
  return NUMBER.test(t) ? Number(t) : text;
}

/** What a field is, from the listing's type name ("int", "float | None", "list[str]", "Mode", ...). */
export function fieldKind(arg) {
  const parts = String(arg.type).split(" | ");
  const nullable = parts.includes("None");
  const base = parts.filter((p) => p !== "None");
  if (Array.isArray(arg.choices) && arg.choices.length) return { kind: "choice", nullable };
  if (base.length === 1 && ["int", "float", "bool", "str"].includes(base[0])) return { kind: base[0], nullable };
  return { kind: "json", nullable }; // lists, dicts, unions of several, any: JSON, or plain text
}

class Field {
  constructor(command, arg) {
    this.arg = arg;
    const { kind, nullable } = fieldKind(arg);
    this.kind = kind;
    this.nullable = nullable;
    const id = `cmd-${command}-${arg.name}`;
    this.message = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const hasDefault = !arg.required && arg.default !== undefined && arg.default !== null;
    const common = { id, name: arg.name, "aria-describedby": `${id}-error` };

    if (kind === "bool") {
      this.input = h("input", { ...common, type: "checkbox", role: "switch", class: "check", checked: arg.default === true });
    } else if (kind === "choice") {
      const options = arg.choices.map((c, i) => h("option", { value: String(i), selected: c === arg.default }, String(c)));
      const blank = !arg.required || nullable ? [h("option", { value: "", selected: !hasDefault }, arg.required ? "—" : "(default)")] : [];
      this.input = h("select", common, blank, options);
    } else if (kind === "json") {
      this.input = h("textarea", {
        ...common,
        rows: 2,
        spellcheck: false,
        placeholder: String(arg.type).startsWith("list") ? '["a", "b"]' : "JSON, or plain text",
      });
      if (hasDefault) this.input.value = JSON.stringify(arg.default);
    } else {
      const numeric = kind === "int" || kind === "float";
      this.input = h("input", {
        ...common,
        type: "text",
        autocomplete: "off",
        inputmode: kind === "int" ? "numeric" : kind === "float" ? "decimal" : null,
        spellcheck: numeric ? false : null,
      });
      if (hasDefault) this.input.value = String(arg.default);
    }
    this.input.addEventListener("input", () => this.mark(null));

    const label = h(
      "label",
      { for: id },
      h("span", { class: "field-name" }, arg.name),
      h("span", { class: "field-type" }, arg.type, arg.required ? "" : " · optional"),
    );
    this.el = h("div", { class: `field field-${kind}` }, label, this.input, this.message);
  }

  /** The argument's value, or undefined to leave it out (the command's default applies). */
  value() {
    const input = this.input;
    if (this.kind === "bool") return input.checked;
    if (this.kind === "choice") {
      if (input.value === "") return this.nullable && this.arg.required ? null : undefined;
      return this.arg.choices[Number(input.value)];
    }
    const text = input.value;
    if (text.trim() === "") return this.nullable && this.arg.required ? null : undefined;
    if (this.kind === "int" || this.kind === "float") return parseNumber(text, this.kind);
    if (this.kind === "json") {
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    }
    return text;
  }

  mark(message) {
    this.message.hidden = !message;
    this.message.textContent = message || "";
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }
}

function renderResult(result) {
  if (result === null || result === undefined) return h("span", {}, "Done.");
  if (typeof result === "string") return h("span", {}, result);
  return h("pre", { class: "json" }, JSON.stringify(result, null, 2));
}

class CommandForm {
  constructor(spec, call) {
    this.spec = spec;
    this.call = call;
    this.fields = spec.args.map((arg) => new Field(spec.name, arg));
    this.output = h("output", { class: "result", "aria-live": "polite", hidden: true });
    this.button = h("button", { type: "submit", class: "button primary" }, "Run");
    this.offline = h("p", { class: "offline-reason", hidden: true }, "Offline: runs again once the connection is back.");
    const docId = `cmd-${spec.name}-doc`;
    // Disabled as one while offline: a fieldset disables every field and the button in it.
    this.fieldset = h(
      "fieldset",
      { class: "command-body" },
      this.fields.length ? h("div", { class: "fields" }, this.fields.map((f) => f.el)) : null,
      h("div", { class: "actions" }, this.button, this.output),
    );
    this.el = h(
      "form",
      { class: "card command", dataset: { command: spec.name }, "aria-labelledby": `cmd-${spec.name}-title`, "aria-describedby": spec.doc ? docId : null, novalidate: true, onsubmit: (e) => this.submit(e) },
      h("h2", { class: "card-title", id: `cmd-${spec.name}-title` }, humanize(spec.name), h("code", { class: "command-name" }, spec.name)),
      spec.doc ? h("p", { class: "doc", id: docId }, spec.doc) : null,
      this.fieldset,
      this.offline,
    );
  }

  setOnline(online) {
    this.fieldset.disabled = !online;
    this.offline.hidden = online;
  }

  async submit(event) {
    event.preventDefault();
    if (this.fieldset.disabled) return;
    const args = {};
    for (const field of this.fields) {
      field.mark(null);
      const value = field.value();
      if (value !== undefined) args[field.arg.name] = value;
    }
    this.button.disabled = true;
    this.button.textContent = "Running…";
    this.show("busy", null);
    try {
      const result = await this.call(this.spec.name, args);
      this.show("ok", renderResult(result));
    } catch (error) {
      const details = error.details || {};
      const field = this.fields.find((f) => f.arg.name === details.argument);
      if (field) field.mark(error.message);
      this.show("error", h("span", {}, error.message || String(error)));
      if (field) field.input.focus();
    } finally {
      this.button.disabled = false;
      this.button.textContent = "Run";
    }
  }

  show(state, content) {
    this.output.hidden = state === "busy";
    this.output.dataset.state = state;
    if (content) this.output.replaceChildren(content);
  }
}

export class CommandsView {
  /** call(command, args) -> Promise; loadCommands() -> Promise of /api/commands' list. */
  constructor(root, { call, loadCommands }) {
    this.root = root;
    this.call = call;
    this.loadCommands = loadCommands;
    this.loaded = false;
    this.forms = [];
    this.online = true;
  }

  setOnline(online) {
    this.online = online;
    for (const form of this.forms) form.setOnline(online);
  }

  hide() {}

  async show() {
    if (this.loaded) return;
    try {
      const commands = await this.loadCommands();
      this.loaded = true;
      this.forms = commands.map((spec) => new CommandForm(spec, this.call));
      this.setOnline(this.online);
      this.root.replaceChildren(
        this.forms.length
          ? h("div", { class: "cards commands" }, this.forms.map((f) => f.el))
          : h("p", { class: "empty" }, "This node has no commands."),
      );
    } catch (error) {
      this.root.replaceChildren(h("p", { class: "empty error" }, `Could not load the commands: ${error.message}`));
    }
  }
}
