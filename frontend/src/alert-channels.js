// The Channels section of Alerts (admin scope: channel URLs hold passwords and
// tokens): each channel with when it last sent, its failures and last error, a
// "Send test" button that says what happened, and an editor (#channels/new,
// #channels/NAME) for the URL, quiet hours and whether it is on.
//
// The node never shows a secret back: GET masks it ("****"), and a URL saved
// with the mask still in it keeps the stored secret, so editing the quiet hours
// of a mail channel does not mean typing its password again.

import { ApiError, getJSON, sendJSON, serverNow } from "./api.js";
import { h } from "./dom.js";
import { formatFull, formatWhen } from "./format.js";
import { allowed, errorText, READ_ONLY } from "./alerts-shared.js";

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const url = (name) => `/api/channels/${encodeURIComponent(name)}`;

function when(ts) {
  return h("time", { title: formatFull(ts) }, formatWhen(ts, serverNow()));
}

function input(id, attrs) {
  return h("input", { id, name: id.replace(/^channel-/, ""), type: "text", autocomplete: "off", spellcheck: false, ...attrs });
}

/** A field's label, input, hint and error line. */
function field(label, control, hint, error) {
  const id = control.id;
  control.setAttribute("aria-describedby", `${id}-hint ${id}-error`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, h("span", { class: "field-label" }, label)),
    control,
    h("p", { class: "field-hint", id: `${id}-hint` }, hint),
    error,
  );
}

class ChannelEditor {
  constructor(channel, { names, onDone }) {
    this.isNew = !channel;
    this.names = names;
    this.onDone = onDone;
    const c = channel || { name: "", url: "", quiet_hours: null, enabled: true };
    this.errors = {};
    const err = (name) => (this.errors[name] = h("p", { class: "field-error", id: `channel-${name}-error`, hidden: true }));
    this.name = input("channel-name", { value: c.name, readonly: !this.isNew, autocapitalize: "none", placeholder: "email" });
    this.url = input("channel-url", { value: c.url || "", inputmode: "url", placeholder: "mailto://user:password@mail.example.org?to=me@example.org" });
    this.quiet = h("input", { type: "checkbox", class: "check", role: "switch", id: "channel-quiet", checked: Boolean(c.quiet_hours) });
    this.from = h("input", { type: "time", id: "channel-from", value: c.quiet_hours?.from || "22:00" });
    this.to = h("input", { type: "time", id: "channel-to", value: c.quiet_hours?.to || "07:00" });
    this.enabled = h("input", { type: "checkbox", class: "check", role: "switch", id: "channel-enabled", checked: c.enabled !== false });
    this.hours = h(
      "div",
      { class: "field-row quiet-times", hidden: !c.quiet_hours },
      field("Quiet from", this.from, "", err("from")),
      field("until", this.to, "", err("to")),
    );
    this.quiet.addEventListener("change", () => (this.hours.hidden = !this.quiet.checked));
    this.status = h("p", { class: "form-status", role: "alert", hidden: true });
    this.saveButton = h("button", { type: "submit", class: "button primary" }, this.isNew ? "Add channel" : "Save");
    const masked = !this.isNew && (c.url || "").includes("****");
    this.el = h(
      "form",
      { class: "card channel-editor", novalidate: true, "aria-labelledby": "channel-editor-title", onsubmit: (e) => this.submit(e) },
      h("h2", { class: "editor-title", id: "channel-editor-title" }, this.isNew ? "New channel" : `Channel ${c.name}`),
      field("Name", this.name, this.isNew ? "Rules name it: letters, digits, '.', '_' and '-'." : "A channel keeps its name.", err("name")),
      field(
        "URL",
        this.url,
        masked
          ? "The secret shows as ****: leave it so to keep it, or type a new one."
          : "An apprise URL: mailto:// (e-mail), ntfy://, tgram:// (Telegram), json:// (webhook) and more.",
        err("url"),
      ),
      h("div", { class: "field field-bool" }, h("label", { for: "channel-quiet" }, "Quiet hours (held, then sent as one digest)"), this.quiet),
      this.hours,
      h("div", { class: "field field-bool" }, h("label", { for: "channel-enabled" }, "Enabled"), this.enabled),
      this.status,
      h("div", { class: "actions" }, this.saveButton, h("a", { class: "button", href: "#channels" }, "Cancel")),
    );
    for (const [name, el] of [["name", this.name], ["url", this.url], ["from", this.from], ["to", this.to]]) {
      el.addEventListener("input", () => this.mark(name, null));
    }
  }

  mark(name, message) {
    const error = this.errors[name];
    const control = { name: this.name, url: this.url, from: this.from, to: this.to }[name];
    error.textContent = message || "";
    error.hidden = !message;
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
    return control;
  }

  read() {
    const errors = {};
    const body = { name: this.name.value.trim(), url: this.url.value.trim(), enabled: this.enabled.checked, quiet_hours: null };
    if (!NAME.test(body.name)) errors.name = body.name ? "Only letters, digits, '.', '_' and '-', at most 64." : "Give the channel a name.";
    else if (this.isNew && this.names.has(body.name)) errors.name = `There is already a channel named ${body.name}.`;
    if (!body.url) errors.url = "Where to send: a URL such as mailto://… or ntfy://….";
    else if (!/^[a-z][a-z0-9+.-]*:\/\/./i.test(body.url)) errors.url = "A URL starts with its scheme, such as mailto:// or ntfy://.";
    if (this.quiet.checked) {
      if (!TIME.test(this.from.value)) errors.from = "A time such as 22:00.";
      if (!TIME.test(this.to.value)) errors.to = "A time such as 07:00.";
      else if (this.from.value === this.to.value) errors.to = "Quiet hours need an end other than their start.";
      body.quiet_hours = { from: this.from.value, to: this.to.value };
    }
    return [body, errors];
  }

  show(errors, message) {
    let first = null;
    for (const name of Object.keys(this.errors)) {
      const control = this.mark(name, errors[name] || null);
      if (errors[name] && !first) first = control;
    }
    first?.focus();
    this.status.textContent = message || "";
    this.status.hidden = !message;
  }

  async submit(event) {
    event.preventDefault();
    const [body, errors] = this.read();
    if (Object.keys(errors).length) return this.show(errors, "Nothing was saved: see the marked fields.");
    this.show({}, null);
    this.saveButton.disabled = true;
    try {
      const saved = await sendJSON("PUT", url(body.name), body);
      this.onDone(saved || body);
    } catch (error) {
      let named = error instanceof ApiError ? error.details.field || error.details.argument : null;
      if (named === "quiet_hours") named = "from";
      if (named && this.errors[named]) this.show({ [named]: error.message }, "Nothing was saved.");
      else this.show({}, `Not saved: ${errorText(error)}`);
    } finally {
      this.saveButton.disabled = false;
    }
  }
}

export class ChannelsView {
  constructor(root) {
    this.root = root;
    this.admin = allowed("admin");
    this.list = h("div", { class: "channel-list" }, h("p", { class: "empty" }, this.admin ? "Loading channels…" : READ_ONLY.admin));
    this.status = h("p", { class: "form-status", role: "status" });
    this.editorSlot = h("div", { class: "editor-slot" });
    this.channels = [];
    root.append(
      this.editorSlot,
      h(
        "section",
        { class: "alert-section", "aria-labelledby": "channels-title" },
        h(
          "div",
          { class: "section-head" },
          h("h2", { class: "section-title", id: "channels-title" }, "Channels"),
          this.admin ? h("a", { class: "button primary", href: "#channels/new", id: "channel-new" }, "Add channel") : null,
        ),
        this.status,
        this.list,
      ),
    );
  }

  hide() {}

  async show(param) {
    if (!this.admin) return;
    await this.load();
    this.openEditor(param);
  }

  async load() {
    try {
      ({ channels: this.channels } = await getJSON("/api/channels"));
    } catch (error) {
      this.list.replaceChildren(h("p", { class: "empty error" }, `Could not load the channels: ${errorText(error)}`));
      return;
    }
    this.list.replaceChildren(...this.channels.map((c) => this.card(c)));
  }

  card(c) {
    const result = h("output", { class: "result", "aria-live": "polite", hidden: true });
    const test = h("button", { type: "button", class: "button", dataset: { action: "test" }, "aria-label": `Send test to ${c.name}` }, "Send test");
    test.addEventListener("click", () => this.test(c, test, result));
    const actions = [test];
    if (!c.builtin) {
      actions.push(
        h("a", { class: "button", href: `#channels/${encodeURIComponent(c.name)}`, "aria-label": `Edit ${c.name}` }, "Edit"),
        h("button", { type: "button", class: "button danger", "aria-label": `Delete ${c.name}`, onclick: () => this.remove(c) }, "Delete"),
      );
    }
    const facts = [
      h("dt", {}, "Last sent"),
      h("dd", {}, c.last_sent ? when(c.last_sent) : "never"),
      h("dt", {}, "Failures"),
      h("dd", { class: c.failures ? "bad-text" : null }, String(c.failures || 0)),
    ];
    if (c.last_error) facts.push(h("dt", {}, "Last error"), h("dd", { class: "bad-text channel-error" }, c.last_error));
    if (c.quiet_hours) facts.push(h("dt", {}, "Quiet hours"), h("dd", {}, `${c.quiet_hours.from}–${c.quiet_hours.to}`));
    return h(
      "article",
      { class: "card channel-card", dataset: { channel: c.name }, "aria-labelledby": `channel-${c.name}-title` },
      h(
        "div",
        { class: "alert-head" },
        h("h3", { class: "alert-label", id: `channel-${c.name}-title` }, c.name),
        c.builtin ? h("span", { class: "tag" }, "built in") : null,
        c.enabled === false ? h("span", { class: "tag" }, "disabled") : null,
      ),
      c.url ? h("code", { class: "channel-url" }, c.url) : null,
      h("dl", { class: "alert-facts" }, facts),
      h("div", { class: "alert-actions" }, actions, result),
    );
  }

  async test(c, button, result) {
    button.disabled = true;
    result.hidden = false;
    result.dataset.state = "busy";
    result.textContent = "Sending…";
    try {
      await sendJSON("POST", `${url(c.name)}/test`, {});
      result.dataset.state = "ok";
      result.textContent = `Sent: check that it arrived.`;
    } catch (error) {
      result.dataset.state = "error";
      result.textContent = `Failed: ${errorText(error)}`;
    } finally {
      button.disabled = false;
    }
    // The card's figures (last sent, failures) changed: show them, keeping the result in sight.
    const fresh = await getJSON(url(c.name)).catch(() => null);
    if (!fresh) return;
    const card = this.card(fresh);
    const out = card.querySelector("output");
    out.replaceWith(result);
    this.list.querySelector(`[data-channel="${CSS.escape(c.name)}"]`)?.replaceWith(card);
  }

  openEditor(param) {
    this.editorSlot.replaceChildren();
    if (!param) return;
    const channel = param === "new" ? null : this.channels.find((c) => c.name === param);
    if (param !== "new" && (!channel || channel.builtin)) {
      this.status.textContent = channel ? `${channel.name} is built in.` : `There is no channel named ${param}.`;
      return;
    }
    const editor = new ChannelEditor(channel, {
      names: new Set(this.channels.map((c) => c.name)),
      onDone: (saved) => {
        this.status.textContent = `Channel ${saved.name} saved.`;
        location.hash = "#channels";
      },
    });
    this.editorSlot.append(editor.el);
    (channel ? editor.url : editor.name).focus();
  }

  async remove(c) {
    if (!confirm(`Delete the channel ${c.name}? Rules that send to it will skip it.`)) return;
    try {
      await sendJSON("DELETE", url(c.name));
      this.status.textContent = `Channel ${c.name} deleted.`;
    } catch (error) {
      this.status.textContent = `Not deleted: ${errorText(error)}`;
    }
    await this.load();
  }
}
