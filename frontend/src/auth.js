// Signing in: the login and first-run screens, the signed-in user with sign-out,
// the tokens dialog for admins, and read-only mode. Kept apart from the views:
// main.js awaits authGate() before it connects, and api.js asks this module for
// the CSRF token and tells it about a 401.

import { ApiError, getJSON, sendJSON, setAuthHooks } from "./api.js";
import { h } from "./dom.js";
import "./auth.css";

let me = null; // the last /api/me answer

/** The session's CSRF token (null without a session). */
export function csrfToken() {
  return me?.csrf || null;
}

/** Who is signed in: the /api/me answer. */
export function currentUser() {
  return me;
}

/**
 * Resolve once the page may run: the node is open, or someone is signed in.
 * Otherwise show the login (or first-run) screen; signing in reloads the page.
 */
export async function authGate() {
  setAuthHooks({ csrf: csrfToken, unauthorized: () => signedOut() });
  try {
    me = await getJSON("/api/me");
  } catch (err) {
    // No /api/me (an older node) or no connection yet: let the page try on its own.
    return null;
  }
  if (me.auth === "none") {
    showGate(me.setup_needed ? firstRunForm() : loginForm());
    return new Promise(() => {}); // the page reloads after signing in
  }
  showUser();
  if (me.scope === "read") readOnly();
  return me;
}

/** Check again whether the session still holds (after the live stream was closed). */
export async function recheck() {
  if (!me || me.auth !== "session") return;
  try {
    const now = await getJSON("/api/me");
    if (now.auth === "none") signedOut();
  } catch {
    // offline: the connection indicator says so
  }
}

function signedOut() {
  if (document.querySelector(".auth-gate")) return;
  me = null;
  showGate(loginForm("Your session has ended. Sign in again."));
}

// -- the screens ------------------------------------------------------------------------

function showGate(form) {
  document.body.dataset.auth = "gate";
  const gate = h("div", { class: "auth-gate", role: "dialog", "aria-modal": "true", "aria-labelledby": "auth-title" }, form);
  document.body.append(gate);
  gate.querySelector("input")?.focus();
}

function field(label, attrs) {
  const id = `auth-${attrs.name}`;
  return h("label", { class: "auth-field", for: id }, h("span", {}, label), h("input", { id, required: true, ...attrs }));
}

function submitting(form, action) {
  const error = form.querySelector(".auth-error");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    button.disabled = true;
    try {
      await action(Object.fromEntries(new FormData(form)));
      location.reload();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : "The node did not answer; try again.";
      error.hidden = false;
      button.disabled = false;
    }
  });
  return form;
}

function loginForm(note = "") {
  const form = h(
    "form",
    { class: "auth-card", id: "login-form" },
    h("h1", { id: "auth-title" }, "Sign in"),
    note ? h("p", { class: "auth-note" }, note) : null,
    field("User name", { name: "name", autocomplete: "username", autocapitalize: "none" }),
    field("Password", { name: "password", type: "password", autocomplete: "current-password" }),
    h("p", { class: "auth-error", role: "alert", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  return submitting(form, (values) => sendJSON("POST", "/api/login", values));
}

function firstRunForm() {
  const form = h(
    "form",
    { class: "auth-card", id: "setup-form" },
    h("h1", { id: "auth-title" }, "Set up this node"),
    h(
      "p",
      { class: "auth-note" },
      "Nobody can use this node yet. Enter the set-up code that the node printed when it started " +
        "(it is also in the file setup-code in its data directory), and choose the admin's name and password.",
    ),
    field("Set-up code", { name: "code", autocomplete: "one-time-code", autocapitalize: "characters", spellcheck: false }),
    field("Admin name", { name: "name", autocomplete: "username", autocapitalize: "none" }),
    field("Password (8 characters or more)", { name: "password", type: "password", autocomplete: "new-password", minlength: 8 }),
    h("p", { class: "auth-error", role: "alert", hidden: true }),
    h("button", { type: "submit", class: "primary" }, "Create admin and sign in"),
  );
  return submitting(form, (values) => sendJSON("POST", "/api/setup", values));
}

// -- signed in ----------------------------------------------------------------------------

function showUser() {
  const bar = document.querySelector(".topbar");
  if (!bar || me.auth === "open") return;
  const who = me.auth === "session" ? me.user : me.user || "token";
  const items = [h("span", { class: "auth-user", title: `scope: ${me.scope}` }, who, h("small", {}, me.scope))];
  if (me.scope === "admin") items.push(h("button", { type: "button", class: "auth-link", id: "tokens-open", onclick: openTokens }, "Tokens"));
  if (me.auth === "session") items.push(h("button", { type: "button", class: "auth-link", id: "sign-out", onclick: signOut }, "Sign out"));
  bar.append(h("div", { class: "auth-bar" }, items));
}

async function signOut() {
  try {
    await sendJSON("POST", "/api/logout", {});
  } finally {
    location.reload();
  }
}

// A read-only user sees every control, disabled, with the reason next to it.
const READ_ONLY_REASON = "Read-only: your account may look but not switch or run commands (it has the read scope).";

function readOnly() {
  document.body.dataset.readonly = "true";
  const main = document.querySelector("main");
  main?.prepend(h("p", { class: "auth-readonly", role: "note" }, READ_ONLY_REASON));
  const disable = () => {
    for (const el of document.querySelectorAll("#cards input, #cards button, #view-commands input, #view-commands select, #view-commands textarea, #view-commands button")) {
      if (!el.disabled) {
        el.disabled = true;
        el.title = READ_ONLY_REASON;
      }
    }
  };
  disable();
  new MutationObserver(disable).observe(document.body, { childList: true, subtree: true });
}

// -- tokens (admins) ----------------------------------------------------------------------

async function openTokens() {
  const list = h("tbody");
  const created = h("p", { class: "auth-secret", hidden: true });
  const error = h("p", { class: "auth-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "auth-token-form" },
    field("Name", { name: "name", placeholder: "e.g. grafana" }),
    h("label", { class: "auth-field" }, h("span", {}, "Scope"),
      h("select", { name: "scope" }, ["read", "control", "admin"].map((s) => h("option", { value: s }, s)))),
    h("label", { class: "auth-field" }, h("span", {}, "Expires"),
      h("select", { name: "expires" }, [["90d", "in 90 days"], ["30d", "in 30 days"], ["365d", "in a year"], ["", "never"]].map(([v, t]) => h("option", { value: v }, t)))),
    h("button", { type: "submit", class: "primary" }, "Create token"),
  );
  const dialog = h(
    "dialog",
    { class: "auth-tokens", id: "tokens-dialog", "aria-labelledby": "tokens-title" },
    h("h2", { id: "tokens-title" }, "API tokens"),
    h("p", { class: "auth-note" }, "Scripts and other nodes send a token as 'Authorization: Bearer TOKEN'. Its secret is shown once."),
    h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Scope", "Expires", ""].map((t) => h("th", {}, t)))), list),
    form,
    created,
    error,
    h("button", { type: "button", class: "auth-link", onclick: () => dialog.close() }, "Close"),
  );
  dialog.addEventListener("close", () => dialog.remove());

  async function refresh() {
    const { tokens } = await getJSON("/api/tokens");
    list.replaceChildren(
      ...tokens.map((t) =>
        h("tr", { dataset: { token: t.id } },
          h("td", {}, t.name),
          h("td", {}, t.scope),
          h("td", {}, t.expires ? new Date(t.expires * 1000).toLocaleDateString() : "never"),
          h("td", {}, h("button", { type: "button", class: "auth-link", onclick: () => revoke(t) }, "Revoke"))),
      ),
    );
  }
  async function revoke(token) {
    if (!confirm(`Revoke the token ${token.name}? Whatever uses it stops working at once.`)) return;
    await sendJSON("DELETE", `/api/tokens/${encodeURIComponent(token.id)}`);
    await refresh();
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const values = Object.fromEntries(new FormData(form));
    if (!values.expires) delete values.expires;
    try {
      const made = await sendJSON("POST", "/api/tokens", values);
      created.replaceChildren(`Token ${made.name} (copy it now, it is not shown again): `, h("code", { class: "auth-token-secret" }, made.token));
      created.hidden = false;
      form.reset();
      await refresh();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  await refresh();
}
