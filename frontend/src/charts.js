// Charts of history (GET /api/history), drawn with uPlot. Loaded only when the
// Charts tab first opens: uPlot is most of the page's weight, and a glance at
// the dashboard does not need it.
//
// One chart per unit (°C with °C, W with W), sharing the time window and the
// cursor. The server picks the finest tier that fits the point budget, so a
// year arrives as hourly min/max/mean buckets, drawn as a band with the mean
// line; zooming in asks again for the narrower window and gets 5-minute buckets
// and then raw samples, drawn as points. While the window ends at "now", live
// changes extend the line.

import uPlot from "uplot";
import { ApiError, getJSON, serverNow } from "./api.js";
import { h } from "./dom.js";
import { decimalsFor, formatFull, formatNumber, formatTicks, formatValue, humanize } from "./format.js";

const DAY = 86400;
const RANGES = [
  { id: "24h", label: "24 h", span: DAY },
  { id: "7d", label: "7 d", span: 7 * DAY },
  { id: "30d", label: "30 d", span: 30 * DAY },
  { id: "1y", label: "1 y", span: 365 * DAY },
  { id: "custom", label: "Custom" },
];
// Points asked for per series: fewer than pixels. A bucket narrower than a pixel
// turns a daily swing into dense hatching; one or two pixels per bucket draws
// its range as a band and its mean as a calm line. So a year comes as daily
// highs and lows, 24 h on a desktop as 5-minute buckets, a few hours as raw samples.
const POINTS_PER_PX = 0.6;
const MIN_POINTS = 300;
const MAX_POINTS = 10_000;
const MIN_ZOOM_S = 60;
const LIVE_REDRAW_MS = 1000;
const STORE_KEY = "roost.charts";
const BOOLEAN_KINDS = new Set(["switch", "flag"]);

/** What one point of the chart is: "every sample", "5-minute mean and range", "daily mean and range". */
function resolutionText(seconds) {
  if (seconds === 0) return "every sample";
  if (seconds < 3600) return `${Math.round(seconds / 60)}-minute mean and range`;
  if (seconds < DAY) return `${seconds === 3600 ? "hourly" : `${Math.round(seconds / 3600)}-hour`} mean and range`;
  return `${seconds === DAY ? "daily" : `${Math.round(seconds / DAY)}-day`} mean and range`;
}

const spanFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const spanDayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

/** The window in words: "last 24 h", "last year", or "3 Nov 14:00 – 5 Nov 09:30". */
function spanText(window, rangeId) {
  const range = RANGES.find((r) => r.id === rangeId);
  if (window.follow && range?.span && Math.abs(window.to - window.from - range.span) < 60) {
    return { "24h": "last 24 h", "7d": "last 7 days", "30d": "last 30 days", "1y": "last year" }[range.id];
  }
  const format = window.to - window.from >= 3 * DAY ? spanDayFormat : spanFormat;
  return `${format.format(new Date(window.from * 1000))} – ${window.follow ? "now" : format.format(new Date(window.to * 1000))}`;
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function withAlpha(color, alpha) {
  // The palette is hex; a band is the line's colour, mostly transparent.
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/**
 * Break the line where buckets are missing: the server leaves empty buckets out,
 * and a straight line across a week the recorder was off would be a lie.
 */
function insertGaps(series) {
  const { t, resolution_s: res } = series;
  if (!res || t.length < 2) return series;
  const limit = res * 2.5;
  let gaps = 0;
  for (let i = 1; i < t.length; i++) if (t[i] - t[i - 1] > limit) gaps++;
  if (!gaps) return series;
  const out = { ...series, t: [], min: [], max: [], mean: [] };
  for (let i = 0; i < t.length; i++) {
    if (i && t[i] - t[i - 1] > limit) {
      out.t.push(t[i - 1] + res);
      out.min.push(null);
      out.max.push(null);
      out.mean.push(null);
    }
    out.t.push(t[i]);
    out.min.push(series.min[i]);
    out.max.push(series.max[i]);
    out.mean.push(series.mean[i]);
  }
  return out;
}

/** One uPlot chart: the selected paths that share a unit. */
/** One chart of paths sharing a unit; `view` gives its window, colours, labels and metadata. */
export class ChartPanel {
  constructor(view, unit, paths) {
    this.view = view;
    this.unit = unit;
    this.paths = paths;
    this.plot = null;
    this.shape = "";
    this.series = new Map(); // path -> series as the server sent it (plus live points)
    this.legend = h("div", { class: "legend" });
    this.info = h("span", { class: "chart-info" });
    this.canvasBox = h("div", { class: "plot" });
    this.el = h(
      "section",
      { class: "card chart", dataset: { unit } },
      h("div", { class: "chart-head" }, h("h2", { class: "card-title" }, unit || "Value"), this.info),
      this.canvasBox,
      this.legend,
    );
    this._redrawTimer = null;
  }

  width() {
    return Math.max(200, this.canvasBox.clientWidth || this.view.root.clientWidth - 32);
  }

  height() {
    // On/off needs two levels, not a full chart's height.
    if (BOOLEAN_KINDS.has(this.view.meta.get(this.paths[0]).kind)) return 110;
    return window.matchMedia("(max-width: 600px)").matches ? 220 : 300;
  }

  /** New data from the server for this panel's paths (series in the panel's path order). */
  setSeries(list) {
    this.series = new Map(list.map((s) => [s.path, s]));
    this.draw(true);
  }

  /** A live value: extend the series' line to now. */
  extend(path, t, value) {
    const s = this.series.get(path);
    if (!s) return;
    const v = typeof value === "boolean" ? Number(value) : value;
    if (typeof v !== "number") return;
    if (s.t.length && t <= s.t[s.t.length - 1]) return;
    s.t.push(t);
    s.min.push(v);
    s.max.push(v);
    s.mean.push(v);
    s.live = (s.live || 0) + 1;
    // A sensor may write every second; the chart needs to move only about that often.
    if (!this._redrawTimer) {
      this._redrawTimer = setTimeout(() => {
        this._redrawTimer = null;
        this.draw(false);
      }, LIVE_REDRAW_MS);
    }
  }

  _build(shape, data) {
    const palette = this.view.palette();
    const series = [{}];
    const bands = [];
    this.paths.forEach((path) => {
      const s = this.series.get(path);
      const color = palette[this.view.colorIndex(path) % palette.length];
      const meta = this.view.meta.get(path);
      const name = this.view.pathLabel(path);
      const stepped = BOOLEAN_KINDS.has(meta.kind) ? uPlot.paths.stepped({ align: 1 }) : undefined;
      const raw = !s || s.resolution_s === 0;
      const base = series.length;
      series.push(
        { label: `${name} min`, stroke: "transparent", width: 0, points: { show: false }, paths: stepped },
        { label: `${name} max`, stroke: "transparent", width: 0, points: { show: false }, paths: stepped },
        {
          label: name,
          stroke: color,
          // Many buckets per pixel (a year of hours): a thin line lets the band show through.
          width: s && s.t.length > this.width() * 1.5 ? 1 : 1.75,
          paths: stepped,
          // Raw samples are real readings: show them as points once there is room.
          points: raw ? { show: (u, si, i0, i1) => i1 - i0 < this.width() / 4, size: 5, fill: color } : { show: false },
        },
      );
      if (!raw) bands.push({ series: [base + 1, base], fill: withAlpha(color, 0.2) });
    });
    const text = cssVar("--muted");
    const grid = cssVar("--grid");
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "12px system-ui, sans-serif" };
    const unitMeta = this.view.meta.get(this.paths[0]);
    const opts = {
      width: this.width(),
      height: this.height(),
      series,
      bands,
      legend: { show: false },
      // Room on the right for the last time label, which is centred on its tick.
      padding: [12, 28, 0, 0],
      cursor: {
        sync: { key: "roost-charts" },
        drag: { x: true, y: false, setScale: false },
        points: { size: 7 },
        // A double click goes back to the chosen range, as the reset button does.
        bind: { dblclick: () => () => (this.view.resetZoom(), null) },
      },
      select: { show: true },
      scales: {
        x: { time: true, range: (u, min, max) => (this.view.window ? [this.view.window.from, this.view.window.to] : [min, max]) },
        y: BOOLEAN_KINDS.has(unitMeta.kind) ? { range: [-0.05, 1.05] } : { auto: true },
      },
      axes: [
        // Time labels are up to ~60 px wide ("06:00 PM", "1 Dec"): keep them apart on a phone.
        { ...axis, space: 80, values: (u, splits, axisIdx, space, step) => formatTicks(splits, step) },
        BOOLEAN_KINDS.has(unitMeta.kind)
          ? { ...axis, size: 52, splits: () => [0, 1], values: (u, splits) => splits.map((v) => (v === 1 ? "on" : v === 0 ? "off" : "")) }
          : {
              ...axis,
              size: 52,
              values: (u, splits) => splits.map((v) => (v === null ? "" : formatNumber(v, {}, Math.max(0, ...splits.map(decimalsOfStep))))),
            },
      ],
      hooks: {
        setSelect: [(u) => this._zoomToSelection(u)],
        setCursor: [(u) => this._updateLegend(u.cursor.idx)],
        draw: [() => this.view.drawn(this)],
      },
    };
    this.plot?.destroy();
    this.plot = new uPlot(opts, data, this.canvasBox);
    this.shape = shape;
  }

  /** Build the aligned data uPlot wants: one x array, then min, max, mean per path. */
  _data() {
    const tables = this.paths.map((path) => {
      const s = insertGaps(this.series.get(path) || { t: [], min: [], max: [], mean: [], resolution_s: 0 });
      return [s.t, s.min, s.max, s.mean];
    });
    if (tables.length === 1) return tables[0];
    const first = tables[0][0];
    const aligned = tables.every(([t]) => t.length === first.length && t.every((x, i) => x === first[i]));
    if (aligned) return [first, ...tables.flatMap(([, ...rest]) => rest)];
    return uPlot.join(tables);
  }

  draw(newData) {
    const shape = this.paths.map((p) => `${p}:${this.series.get(p)?.resolution_s === 0 ? "raw" : "rollup"}`).join(",") + this.view.themeKey;
    const data = this._data();
    if (!this.plot || shape !== this.shape) this._build(shape, data);
    else this.plot.setData(data, true);
    if (newData) this._showInfo();
    this.el.dataset.points = String(this.paths.reduce((n, p) => n + (this.series.get(p)?.t.length || 0), 0));
    this._updateLegend(null);
  }

  _showInfo() {
    // Usually every path of a panel comes at one resolution: say it once.
    const resolutions = new Set();
    let empty = true;
    for (const path of this.paths) {
      const s = this.series.get(path);
      if (!s || s.t.length - (s.live || 0) === 0) continue;
      empty = false;
      resolutions.add(s.resolution_s);
    }
    const span = this.view.window ? spanText(this.view.window, this.view.rangeId) : "";
    // A new node has nothing yet: the recorder commits every few seconds.
    this.info.textContent = empty
      ? `${span} · nothing recorded yet`
      : `${span} · ${[...resolutions].sort((a, b) => a - b).map(resolutionText).join("; ")}`;
    const first = this.series.get(this.paths[0]);
    this.el.dataset.resolution = first ? String(first.resolution_s) : "";
  }

  _updateLegend(idx) {
    const data = this.plot?.data;
    const items = this.paths.map((path, i) => {
      const meta = this.view.meta.get(path);
      const color = this.view.palette()[this.view.colorIndex(path) % this.view.palette().length];
      let text = "";
      let range = "";
      let when = "";
      const s = this.series.get(path);
      if (!s || s.t.length === 0) {
        // Say why there is no line, and what the value is now.
        const now = this.view.leaves().get(path);
        const current = now === undefined ? "" : ` · now ${formatValue(now, meta).text} ${formatValue(now, meta).unit}`.trimEnd();
        return h(
          "span",
          { class: "legend-item empty-series", dataset: { path } },
          h("span", { class: "swatch", style: `background:${color}` }),
          h("span", { class: "legend-label" }, this.view.pathLabel(path)),
          h("span", { class: "legend-note" }, `nothing recorded in this range${current}`),
        );
      }
      if (data) {
        const col = 1 + i * 3;
        let at = idx;
        if (at === null || at === undefined) {
          // No cursor: the latest value.
          at = data[0].length - 1;
          while (at >= 0 && (data[col + 2][at] === null || data[col + 2][at] === undefined)) at--;
        }
        const mean = at >= 0 ? data[col + 2][at] : null;
        if (mean !== null && mean !== undefined) {
          const lo = data[col][at];
          const hi = data[col + 1][at];
          const { text: t, unit } = formatValue(mean, meta);
          text = unit ? `${t} ${unit}` : t;
          if (lo !== hi && lo !== null && lo !== undefined) range = `${formatValue(lo, meta).text} – ${formatValue(hi, meta).text}`;
          when = formatFull(data[0][at]);
        }
      }
      return h(
        "span",
        { class: "legend-item", title: when || null },
        h("span", { class: "swatch", style: `background:${color}` }),
        h("span", { class: "legend-label" }, this.view.pathLabel(path)),
        h("span", { class: "legend-value" }, text || "—"),
        range ? h("span", { class: "legend-range", title: "lowest – highest" }, range) : null,
      );
    });
    this.legend.replaceChildren(...items);
  }

  _zoomToSelection(u) {
    const { left, width } = u.select;
    if (width < 4) return;
    const from = u.posToVal(left, "x");
    const to = u.posToVal(left + width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.view.zoomTo(from, to);
  }

  resize() {
    this.plot?.setSize({ width: this.width(), height: this.height() });
  }

  destroy() {
    clearTimeout(this._redrawTimer);
    this.plot?.destroy();
    this.plot = null;
  }
}

function decimalsOfStep(v) {
  if (v === null || Number.isInteger(v)) return 0;
  const text = String(v);
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : Math.min(3, text.length - dot - 1);
}

function loadChoice() {
  try {
    return JSON.parse(localStorage.getItem(STORE_KEY)) || {};
  } catch {
    return {};
  }
}

function toLocalInput(ts) {
  const d = new Date(ts * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class ChartsView {
  /** root: the view's element; meta: the MetaStore; leaves(): the current Map of leaves. */
  constructor(root, { meta, leaves }) {
    this.root = root;
    this.meta = meta;
    this.leaves = leaves;
    const saved = loadChoice();
    this.selected = Array.isArray(saved.paths) ? saved.paths : null;
    this.rangeId = RANGES.some((r) => r.id === saved.range && r.span) ? saved.range : "24h";
    this.window = null; // {from, to, follow}: what the charts show
    this.panels = [];
    this.active = false;
    this.request = null;
    this.pendingMeasure = null;
    this.themeKey = "";
    this._colors = new Map();
    this._built = false;
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener?.("change", () => this._themeChanged());
    new ResizeObserver(() => this.panels.forEach((p) => p.resize())).observe(root);
  }

  /** Show the charts; `path` (from #charts/<path>, a tap on a value) shows that one's history. */
  show(path = "") {
    this.active = true;
    if (!this._built) this._buildControls();
    if (path && path !== this._shownPath) {
      this.selected = [path];
      this._save();
      this._pickerKey = null;
    }
    this._shownPath = path;
    this.refreshPicker();
    if (!this.window || this.window.follow || path) this.setRange(this.rangeId);
  }

  hide() {
    this.active = false;
  }

  palette() {
    if (!this._palette) this._palette = [1, 2, 3, 4, 5, 6].map((i) => cssVar(`--series-${i}`));
    return this._palette;
  }

  colorIndex(path) {
    // A path keeps its colour while it stays selected, whatever else is picked.
    if (!this._colors.has(path)) {
      const used = new Set([...this._colors.entries()].filter(([p]) => this.selected.includes(p)).map(([, c]) => c));
      let c = 0;
      while (used.has(c)) c++;
      this._colors.set(path, c);
    }
    return this._colors.get(path);
  }

  pathLabel(path) {
    const meta = this.meta.get(path);
    const label = meta.label || humanize(path.split("/").join(" "));
    return meta.kind === "switch" ? `${label} on/off` : label;
  }

  /** Paths worth charting: numbers and booleans in the tree that the recorder keeps. */
  candidates() {
    const out = [];
    for (const [path, value] of this.leaves()) {
      if (typeof value !== "number" && typeof value !== "boolean") continue;
      const meta = this.meta.get(path);
      if (meta.record === false || meta.kind === "timestamp") continue;
      out.push(path);
    }
    return out;
  }

  _buildControls() {
    this._built = true;
    this.pickerList = h("div", { class: "chips", role: "group", "aria-label": "Series" });
    this.pickerSummary = h("span", { class: "picker-summary" });
    this.rangeButtons = RANGES.map((r) =>
      h("button", { type: "button", class: "seg", dataset: { range: r.id }, "aria-pressed": "false", onclick: () => this.setRange(r.id) }, r.label),
    );
    this.fromInput = h("input", { type: "datetime-local", "aria-label": "From" });
    this.toInput = h("input", { type: "datetime-local", "aria-label": "To" });
    this.custom = h(
      "form",
      { class: "custom-range", hidden: true, onsubmit: (e) => (e.preventDefault(), this._applyCustom()) },
      h("label", {}, "From ", this.fromInput),
      h("label", {}, "To ", this.toInput),
      h("button", { type: "submit", class: "button" }, "Show"),
    );
    this.resetButton = h("button", { type: "button", class: "button", hidden: true, onclick: () => this.resetZoom() }, "Reset zoom");
    const zoomButtons = h(
      "div",
      { class: "zoom-buttons", role: "group", "aria-label": "Zoom" },
      h("button", { type: "button", class: "icon-button", "aria-label": "Earlier", title: "Earlier", onclick: () => this.pan(-0.5) }, "‹"),
      h("button", { type: "button", class: "icon-button", "aria-label": "Zoom out", title: "Zoom out", onclick: () => this.zoomBy(2) }, "−"),
      h("button", { type: "button", class: "icon-button", "aria-label": "Zoom in", title: "Zoom in (or drag across a chart)", onclick: () => this.zoomBy(0.5) }, "+"),
      h("button", { type: "button", class: "icon-button", "aria-label": "Later", title: "Later", onclick: () => this.pan(0.5) }, "›"),
    );
    this.status = h("p", { class: "chart-status", role: "status", "aria-live": "polite" });
    this.panelsBox = h("div", { class: "chart-panels" });
    this.root.replaceChildren(
      h(
        "div",
        { class: "card chart-controls" },
        // On a phone the list of series is long: folded, once something is chosen.
        h(
          "details",
          { class: "picker", open: !(this.selected && this.selected.length) || window.innerWidth > 600 },
          h("summary", {}, "Series ", this.pickerSummary),
          this.pickerList,
        ),
        h(
          "div",
          { class: "range-bar" },
          h("div", { class: "segmented", role: "group", "aria-label": "Range" }, this.rangeButtons),
          zoomButtons,
          this.resetButton,
        ),
        this.custom,
      ),
      this.status,
      this.panelsBox,
    );
  }

  /** Rebuild the list of chips (paths come and go with the tree). */
  refreshPicker() {
    if (!this._built) return;
    const candidates = this.candidates();
    if (this.selected === null && candidates.length) {
      // First visit: the first temperatures, the quickest thing to make sense of.
      const temps = candidates.filter((p) => this.meta.get(p).kind === "temperature");
      this.selected = (temps.length ? temps : candidates).slice(0, 2);
    }
    const selected = this.selected || [];
    const key = candidates.join("\n") + "|" + selected.join("\n");
    if (key === this._pickerKey) return;
    this._pickerKey = key;
    this.pickerList.replaceChildren(
      ...candidates.map((path) =>
        h(
          "button",
          {
            type: "button",
            class: "chip",
            dataset: { path },
            "aria-pressed": String(selected.includes(path)),
            title: path,
            onclick: () => this.togglePath(path),
          },
          this.pathLabel(path),
        ),
      ),
    );
    this.pickerSummary.textContent = selected.length ? selected.map((p) => this.pathLabel(p)).join(", ") : "none chosen";
  }

  togglePath(path) {
    const selected = this.selected || [];
    this.selected = selected.includes(path) ? selected.filter((p) => p !== path) : [...selected, path];
    this._save();
    this.refreshPicker();
    this.load();
  }

  setRange(id) {
    this.rangeId = id;
    this.rangeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.range === id)));
    const range = RANGES.find((r) => r.id === id);
    this.custom.hidden = id !== "custom";
    if (id === "custom") {
      const now = serverNow();
      const w = this.window || { from: now - DAY, to: now };
      this.fromInput.value = toLocalInput(w.from);
      this.toInput.value = toLocalInput(w.to);
      this.fromInput.focus();
      return;
    }
    this._save();
    const now = serverNow();
    this.window = { from: now - range.span, to: now, follow: true };
    this.resetButton.hidden = true;
    this.load();
  }

  _applyCustom() {
    const from = Date.parse(this.fromInput.value) / 1000;
    const to = Date.parse(this.toInput.value) / 1000;
    if (!(from < to)) {
      this.status.textContent = "Pick a start before the end.";
      return;
    }
    this.window = { from, to, follow: false };
    this.load();
  }

  zoomTo(from, to) {
    if (to - from < MIN_ZOOM_S) {
      const mid = (from + to) / 2;
      from = mid - MIN_ZOOM_S / 2;
      to = mid + MIN_ZOOM_S / 2;
    }
    const now = serverNow();
    // A window that still reaches the present keeps following it.
    this.window = { from, to: Math.min(to, now), follow: to >= now - 1 };
    if (this.window.follow) this.window.to = now;
    this.resetButton.hidden = false;
    // Show the coarse data stretched at once; the finer tier replaces it when it comes.
    for (const p of this.panels) p.plot?.setScale("x", { min: this.window.from, max: this.window.to });
    this.load();
  }

  zoomBy(factor) {
    if (!this.window) return;
    const { from, to } = this.window;
    const mid = this.window.follow && factor < 1 ? to : (from + to) / 2;
    const half = ((to - from) * factor) / 2;
    if (this.window.follow && factor < 1) this.zoomTo(to - 2 * half, to);
    else this.zoomTo(mid - half, mid + half);
  }

  pan(fraction) {
    if (!this.window) return;
    const shift = (this.window.to - this.window.from) * fraction;
    const now = serverNow();
    const to = Math.min(this.window.to + shift, now);
    this.zoomTo(to - (this.window.to - this.window.from), to);
  }

  resetZoom() {
    this.setRange(this.rangeId === "custom" ? "24h" : this.rangeId);
  }

  _save() {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({ paths: this.selected, range: this.rangeId === "custom" ? "24h" : this.rangeId }));
    } catch {
      // Private mode: the choice lasts for this visit only.
    }
  }

  _ensurePanels() {
    // Group the selection by unit; one chart per group.
    const groups = new Map();
    for (const path of this.selected || []) {
      const meta = this.meta.get(path);
      const unit = meta.unit || (BOOLEAN_KINDS.has(meta.kind) ? "on/off" : "");
      if (!groups.has(unit)) groups.set(unit, []);
      groups.get(unit).push(path);
    }
    const key = [...groups].map(([u, ps]) => `${u}=${ps.join(",")}`).join(";");
    if (key === this._panelsKey) return;
    this._panelsKey = key;
    this.panels.forEach((p) => p.destroy());
    this.panels = [...groups].map(([unit, paths]) => new ChartPanel(this, unit, paths));
    this.panelsBox.replaceChildren(...this.panels.map((p) => p.el));
  }

  async load() {
    this._ensurePanels();
    if (!this.panels.length) {
      this.status.textContent = "Pick one or more series above.";
      return;
    }
    this.panelsBox.hidden = false;
    const { from, to } = this.window;
    const width = Math.max(...this.panels.map((p) => p.width()));
    const points = Math.min(MAX_POINTS, Math.max(MIN_POINTS, Math.round(width * POINTS_PER_PX)));
    const params = new URLSearchParams();
    for (const path of this.selected) params.append("path", path);
    params.set("from", String(Math.floor(from)));
    params.set("to", String(Math.ceil(to)));
    params.set("points", String(points));
    this.request?.abort();
    const controller = new AbortController();
    this.request = controller;
    this.status.textContent = "Loading…";
    this.root.dataset.loading = "true";
    let body;
    try {
      body = await getJSON(`/api/history?${params}`, { signal: controller.signal });
    } catch (error) {
      if (controller.signal.aborted) return;
      this.root.dataset.loading = "false";
      this.status.textContent = this._explain(error);
      this.panelsBox.hidden = true;
      return;
    }
    if (this.request !== controller) return;
    this.request = null;
    this.root.dataset.loading = "false";
    this.status.textContent = "";
    this.root.dataset.fetches = String(Number(this.root.dataset.fetches || 0) + 1);
    performance.mark("roost:chart-data");
    this.pendingMeasure = this.panels.length;
    const byPath = new Map(body.series.map((s) => [s.path, s]));
    for (const panel of this.panels) panel.setSeries(panel.paths.map((p) => byPath.get(p)).filter(Boolean));
  }

  /** A panel finished drawing; after a load, the last one ends the render measurement. */
  drawn() {
    if (this.pendingMeasure === null) return;
    this.pendingMeasure--;
    if (this.pendingMeasure <= 0) {
      this.pendingMeasure = null;
      performance.measure("roost:chart-render", "roost:chart-data");
      this.root.dataset.rendered = String(Number(this.root.dataset.rendered || 0) + 1);
    }
  }

  _explain(error) {
    if (error instanceof ApiError) {
      if (error.status === 404 && error.code === "not_found") return "This node keeps no history.";
      if (error.status === 503) return "History is not running on this node right now.";
      return `No chart: ${error.message}`;
    }
    return `No chart: ${error.message || error}`;
  }

  /** Live changes: extend the charts while they show the present. */
  live(changes) {
    if (!this.window || !this.window.follow || !this.panels.length) return;
    const now = serverNow();
    const span = this.window.to - this.window.from;
    this.window.to = now;
    this.window.from = now - span;
    for (const [path, value] of Object.entries(changes)) {
      for (const panel of this.panels) if (panel.paths.includes(path)) panel.extend(path, now, value);
    }
  }

  _themeChanged() {
    this._palette = null;
    this.themeKey = String(Date.now());
    for (const p of this.panels) if (p.plot) p.draw(false);
  }
}
