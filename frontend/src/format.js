// Turning values, units, times and sizes into text a person reads at a glance.
// Numbers follow the browser's locale (a German phone gets "20,8 °C").

const numberFormats = new Map();

function numberFormat(decimals) {
  let f = numberFormats.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat(undefined, { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    numberFormats.set(decimals, f);
  }
  return f;
}

/**
 * How many decimals a reading deserves. A sensor's noise sits in the last digit
 * it reports, so a fixed number per unit keeps a card from jittering in width.
 */
export function decimalsFor(value, meta = {}) {
  // Extra metadata fields arrive beside the standard ones: app.meta(path, decimals=0).
  if (Number.isInteger(meta.decimals)) return meta.decimals;
  if (Number.isInteger(value) && !meta.unit) return 0;
  const magnitude = Math.abs(value);
  switch (meta.unit) {
    case "°C":
    case "°F":
    case "K":
    case "%":
      return magnitude >= 100 ? 0 : 1;
    case "W":
    case "VA":
    case "var":
      return magnitude >= 100 ? 0 : 1;
    case "kWh":
    case "kW":
    case "m³":
      return magnitude >= 100 ? 1 : 2;
    default:
      if (Number.isInteger(value)) return 0;
      return magnitude >= 100 ? 1 : 2;
  }
}

/** A number with the decimals its unit deserves, in the browser's locale. */
export function formatNumber(value, meta = {}, decimals = decimalsFor(value, meta)) {
  return numberFormat(decimals).format(value);
}

/** Display parts of a leaf: {text, unit}; unit is "" when there is none to show. */
export function formatValue(value, meta = {}) {
  if (value === null || value === undefined) return { text: "—", unit: "" };
  if (typeof value === "boolean") {
    const onOff = meta.kind === "flag" || meta.kind === "switch";
    return { text: value ? (onOff ? "on" : "yes") : onOff ? "off" : "no", unit: "" };
  }
  if (typeof value === "number") {
    if (meta.kind === "timestamp") return { text: formatWhen(value), unit: "" };
    return { text: formatNumber(value, meta), unit: meta.unit || "" };
  }
  if (typeof value === "string") return { text: value === "" ? "—" : value, unit: meta.unit || "" };
  return { text: JSON.stringify(value), unit: "" };
}

/** "Living room" from "living_room"; keeps acronyms and digits as they are. */
export function humanize(key) {
  const words = String(key).replace(/[_-]+/g, " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : String(key);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A past moment (epoch seconds) relative to now when recent, else as a date and time. */
export function formatWhen(ts, nowS = Date.now() / 1000) {
  const age = nowS - ts;
  if (age < 45 && age > -45) return "just now";
  if (age > 0 && age < 3600) return `${Math.round(age / 60)} min ago`;
  const date = new Date(ts * 1000);
  const today = new Date(nowS * 1000);
  if (date.toDateString() === today.toDateString()) return `today ${timeFormat.format(date)}`;
  return dateTimeFormat.format(date);
}

/** Like formatWhen, to the second in the last minute: "8 s ago" (workers run every few seconds). */
export function formatAgo(ts, nowS = Date.now() / 1000) {
  const age = nowS - ts;
  if (age >= 0 && age < 60) return `${Math.round(age)} s ago`;
  return formatWhen(ts, nowS);
}

// Tick labels in the reader's own conventions (24-hour clocks, day before month, ...):
// uPlot's built-in formats are fixed to US English.
const tickFormats = [
  [365 * 86400, new Intl.DateTimeFormat(undefined, { year: "numeric" })],
  [28 * 86400, new Intl.DateTimeFormat(undefined, { month: "short", year: "numeric" })],
  [86400, new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" })],
  [60, new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" })],
  [0, new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" })],
];
const dayFormat = tickFormats[2][1];

/** Label time-axis ticks `splits` (epoch seconds) spaced `step` seconds apart. */
export function formatTicks(splits, step) {
  const format = tickFormats.find(([min]) => step >= min)[1];
  return splits.map((ts) => {
    if (ts === null) return "";
    const date = new Date(ts * 1000);
    // Below a day, a tick at local midnight says which day begins there.
    if (step < 86400 && date.getHours() === 0 && date.getMinutes() === 0 && date.getSeconds() === 0) {
      return dayFormat.format(date);
    }
    return format.format(date);
  });
}

/** A moment in full, for tooltips. */
export function formatFull(ts) {
  return fullFormat.format(new Date(ts * 1000));
}

/** A span of seconds as "42 s", "5 min", "3 h 20 min", "2 d 4 h". */
export function formatDuration(seconds) {
  const s = Math.abs(seconds);
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  const hours = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d${hours ? ` ${hours} h` : ""}`;
}

/** Bytes as "812 B", "14.2 KB", "3.1 MB". */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${numberFormat(value >= 100 ? 0 : 1).format(value)} ${units[i]}`;
}

/** A count with thousands separators. */
export function formatCount(n) {
  return numberFormat(0).format(n);
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
// C's ctime() and Python's time.ctime()/datetime.ctime(), as raspend programs write them:
// "Tue Dec  1 05:52:07 2026" (local time on the node).
const CTIME = /^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+([a-z]{3})[a-z]*\s+(\d{1,2}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(\d{4})$/i;
// ISO 8601 / RFC 3339 as datetime.isoformat() writes it, with or without a zone.
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch seconds of a text that is recognisably a moment ("Tue Dec 1 05:52:07 2026", ISO 8601), else null. */
export function parseTextTime(text) {
  if (typeof text !== "string" || text.length > 40) return null;
  const s = text.trim();
  const c = CTIME.exec(s);
  if (c) {
    const month = MONTHS.indexOf(c[1].toLowerCase());
    if (month < 0) return null;
    const d = new Date(Number(c[6]), month, Number(c[2]), Number(c[3]), Number(c[4]), Number(c[5] || 0));
    return Number.isNaN(d.getTime()) ? null : d.getTime() / 1000;
  }
  if (ISO.test(s)) {
    const ms = Date.parse(s.replace(" ", "T"));
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  return null;
}

/** A future moment (epoch seconds) as "in 42 s", "in 5 min", "today 14:30", "Dec 2, 07:30". */
export function formatUntil(ts, nowS = Date.now() / 1000) {
  const ahead = ts - nowS;
  if (ahead < 1) return "now";
  if (ahead < 60) return `in ${Math.round(ahead)} s`;
  if (ahead < 3600) return `in ${Math.round(ahead / 60)} min`;
  const date = new Date(ts * 1000);
  if (date.toDateString() === new Date(nowS * 1000).toDateString()) return `today ${timeFormat.format(date)}`;
  return dateTimeFormat.format(date);
}
