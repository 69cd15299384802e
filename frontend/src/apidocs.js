// /api/docs: a small, browsable reference of this node's API, rendered from its
// own /api/openapi.json. A separate entry with no dependencies: the page's
// bundle does not carry it, and nothing is loaded from anywhere but the node.

import "./apidocs.css";

const $ = (selector) => document.querySelector(selector);
const METHODS = ["get", "put", "post", "patch", "delete"];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

/** Follow a local "$ref" (#/components/schemas/Error) inside the document. */
function resolve(doc, node) {
  let n = node;
  for (let i = 0; n && n.$ref && i < 8; i++) n = n.$ref.replace(/^#\//, "").split("/").reduce((o, k) => o?.[k], doc);
  return n || {};
}

/** A schema in one line: "string", "integer (≥ 1)", "array of number", "{error: object}". */
function typeText(doc, schema, depth = 0) {
  const s = resolve(doc, schema);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const alts = s.oneOf || s.anyOf;
  if (alts) return alts.map((a) => typeText(doc, a, depth)).join(" | ");
  const type = Array.isArray(s.type) ? s.type.join(" | ") : s.type;
  if (type === "array") return `array of ${typeText(doc, s.items || {}, depth)}`;
  if (s.properties && depth < 2) {
    const fields = Object.entries(s.properties).map(([k, v]) => `${k}${(s.required || []).includes(k) ? "" : "?"}: ${typeText(doc, v, depth + 1)}`);
    return `{${fields.join(", ")}}`;
  }
  const bounds = [s.minimum !== undefined ? `≥ ${s.minimum}` : null, s.maximum !== undefined ? `≤ ${s.maximum}` : null].filter(Boolean);
  const text = type || (s.properties ? "object" : "any");
  return bounds.length ? `${text} (${bounds.join(", ")})` : text;
}

function table(head, rows) {
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => (i === 0 ? el("th", { scope: "row" }, c) : el("td", {}, c)))))),
  );
}

function operation(doc, path, method, op) {
  const params = op.parameters || [];
  const body = op.requestBody?.content?.["application/json"]?.schema;
  const responses = Object.entries(op.responses || {});
  const canOpen = method === "get" && !path.includes("{") && !params.some((p) => p.required);
  return el(
    "details",
    { class: "op", "data-search": `${method} ${path} ${op.summary || ""} ${(op.tags || []).join(" ")}`.toLowerCase() },
    el(
      "summary",
      {},
      el("span", { class: `method ${method}` }, method.toUpperCase()),
      el("code", { class: "path" }, path),
      el("span", { class: "summary" }, op.summary || ""),
    ),
    op.description ? el("p", { class: "desc" }, op.description) : null,
    params.length
      ? [el("h3", {}, "Parameters"), table(["name", "in", "type", "about"], params.map((p) => [
          el("code", {}, p.name + (p.required ? "" : "?")),
          p.in,
          typeText(doc, p.schema || {}),
          p.description || "",
        ]))]
      : null,
    body ? [el("h3", {}, "Body (JSON)"), el("p", {}, el("code", {}, typeText(doc, body)))] : null,
    responses.length
      ? [el("h3", {}, "Replies"), table(["status", "what", "type"], responses.map(([code, r]) => {
          const content = Object.entries(r.content || {})[0];
          return [code, r.description || "", content ? `${content[0]}${content[1].schema ? ` · ${typeText(doc, content[1].schema)}` : ""}` : ""];
        }))]
      : null,
    canOpen ? el("p", {}, el("a", { href: path }, `Open ${path}`)) : null,
  );
}

function render(doc) {
  $("#title").textContent = doc.info?.title || "API";
  document.title = `${doc.info?.title || "API"} · API`;
  if (doc.info?.version) $("#about").prepend(`Version ${doc.info.version}. `);
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) if (item[method]) ops.push(operation(doc, path, method, item[method]));
  }
  const count = el("p", { class: "count", role: "status" }, `${ops.length} routes`);
  $("#routes").replaceChildren(count, ...ops);
  $("#filter").addEventListener("input", (event) => {
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const op of ops) {
      op.hidden = !words.every((w) => op.dataset.search.includes(w));
      if (!op.hidden) shown++;
    }
    count.textContent = `${shown} of ${ops.length} routes`;
  });
}

fetch("/api/openapi.json", { headers: { Accept: "application/json" } })
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
  .then(render)
  .catch((error) => $("#routes").replaceChildren(el("p", { class: "error" }, `Could not read /api/openapi.json: ${error.message}`)));
