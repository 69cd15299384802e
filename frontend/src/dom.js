// A tiny element builder: the page has a few dozen kinds of element, not enough
// to earn a framework, and a Pi serves every byte of one.

/**
 * h("button", {class: "x", onclick: fn, "aria-label": "y"}, "text", child)
 * Attributes starting with "on" become listeners; null, undefined and false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && typeof value !== "string") el[name] = value; // value, checked, hidden, ...
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** An inline SVG icon from a path (24×24 viewBox), hidden from screen readers. */
export function icon(d, cls = "icon") {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  svg.append(path);
  return svg;
}

export const ICONS = {
  lock: "M7 10V7a5 5 0 0 1 10 0v3h1a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1v-9a1 1 0 0 1 1-1zm2 0h6V7a3 3 0 0 0-6 0z",
  bolt: "M13 2 4 14h6l-1 8 9-12h-6z",
};

// Line icons by a path's kind (drawn with the stroke, see .kind-icon in styles.css).
const KIND_ICONS = {
  temperature: "M14 4a2 2 0 0 0-4 0v10.5a4 4 0 1 0 4 0zM12 17.5v-6",
  humidity: "M12 3s-6 7-6 11a6 6 0 0 0 12 0c0-4-6-11-6-11z",
  power: "M13 2 4 14h7l-1 8 9-12h-7z",
  energy: "M4 20h16M7 16v-5M11 16V6M15 16v-3M19 16V9",
  switch: "M12 3v8M6.3 6.3a8 8 0 1 0 11.4 0",
  flag: "M5 21V4h12l-2 4 2 4H5",
  timestamp: "M12 7v5l3 2M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z",
  pressure: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 12l4-4",
};
KIND_ICONS.voltage = KIND_ICONS.current = KIND_ICONS.power;

/** The icon for a path's kind, or null for kinds without one. */
export function kindIcon(kind) {
  const d = KIND_ICONS[kind];
  return d ? icon(d, "icon kind-icon") : null;
}
