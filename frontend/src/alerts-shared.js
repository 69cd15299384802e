// What the Alerts, Rules and Channels views share: who may do what, severity and
// state badges, durations typed as text ("2 min", "90 s", "1 h 30 min").

import { currentUser } from "./auth.js";
import { h } from "./dom.js";

const SCOPES = ["read", "control", "admin"];

/** Whether the signed-in caller has `scope` (an open node, or one without /api/me, lets the server decide). */
export function allowed(scope) {
  const me = currentUser();
  if (!me || !SCOPES.includes(me.scope)) return true;
  return SCOPES.indexOf(me.scope) >= SCOPES.indexOf(scope);
}

export const READ_ONLY = {
  control: "Read-only: acknowledging and snoozing need the control scope.",
  admin: "Read-only: editing rules and channels needs the admin scope.",
};

/** A severity in words (the colour only repeats it). */
export function severityBadge(severity) {
  return h("span", { class: `sev sev-${severity}` }, severity);
}

const STATE_TEXT = { pending: "pending", firing: "firing", acknowledged: "acknowledged", resolved: "resolved" };

export function stateBadge(state) {
  return h("span", { class: `alert-state state-${state}` }, STATE_TEXT[state] || state);
}

const UNITS = { s: 1, sec: 1, second: 1, seconds: 1, m: 60, min: 60, mins: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400 };
const PART = /(\d+(?:[.,]\d+)?)\s*([a-z]*)/gy;

/**
 * Seconds from "2 min", "90 s", "1 h 30 min", "1.5h" or a bare number of seconds;
 * null for empty text, NaN for text that is no duration.
 */
export function parseDuration(text) {
  const t = String(text).trim().toLowerCase();
  if (!t) return null;
  let total = 0;
  let at = 0;
  PART.lastIndex = 0;
  while (at < t.length) {
    PART.lastIndex = at;
    const m = PART.exec(t);
    if (!m || m[0] === "") return NaN;
    const unit = m[2] || "s";
    if (!(unit in UNITS)) return NaN;
    total += Number(m[1].replace(",", ".")) * UNITS[unit];
    at = PART.lastIndex;
    while (t[at] === " ") at++;
  }
  return Math.round(total);
}

/** Seconds as the editor shows them: "2 min", "1 h 30 min", "45 s", "0". */
export function durationText(seconds) {
  if (!seconds) return "0";
  const parts = [];
  let s = Math.round(seconds);
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60], ["s", 1]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)} ${unit}`);
      s %= size;
    }
  }
  return parts.join(" ");
}

/** The children that are there (the DOM's own append would write "null" for a missing one). */
export function present(...children) {
  return children.filter((c) => c !== null && c !== undefined && c !== false);
}

/** An error's text for a person (the server's message, or why there was none). */
export function errorText(error) {
  if (error?.status === 403) return `Not allowed: ${error.message}`;
  return error?.message || "The node did not answer; try again.";
}
