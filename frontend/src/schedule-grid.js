// The week grid of a schedule: 7 days (Monday first) x 96 quarter-hours, painted
// by mouse, pen or finger (pointer events) and by keyboard.
//
// A stroke paints a rectangle, from the cell where it started to the cell under
// the pointer (days x slots), over the week as it was when the stroke began: a
// fast drag skips no cell, and dragging back shrinks it. On a narrow screen one
// day shows at a time as 24 hours x 4 quarters, so the same rectangle is then a
// span of time. The grid is an ARIA grid with one tabbable cell (roving
// tabindex): arrows move, Space or Enter paints, Shift+arrow paints as it moves.

import { h } from "./dom.js";

export const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
export const SHORT_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
export const SLOTS = 96;
// Below this width one day shows at a time (styles: the same breakpoint in schedules.css).
export const NARROW = "(max-width: 719px)";

/** "18:15" for slot 73. */
export function slotTime(slot) {
  return `${String(Math.floor(slot / 4)).padStart(2, "0")}:${String((slot % 4) * 15).padStart(2, "0")}`;
}

/** What a cell's value means, in words: "on", "off", "standby killer at 8 W". */
export function valueText(value) {
  if (value === -1) return "on";
  if (value === 0) return "off";
  return `standby killer at ${value} W`;
}

/** The class of a value: "on", "off" or "standby". */
export function valueKind(value) {
  return value === -1 ? "on" : value === 0 ? "off" : "standby";
}

export class WeekGrid {
  /**
   * `paintValue()` says what a stroke paints (a cell value, or null: the palette is invalid);
   * `onStroke(before)` hears of a finished change with the week as it was before it.
   */
  constructor({ paintValue, onStroke, label }) {
    this.paintValue = paintValue;
    this.onStroke = onStroke;
    this.week = Array.from({ length: 7 }, () => new Array(SLOTS).fill(0));
    this.day = 0; // the day a narrow screen shows
    this.focus = { day: 0, slot: 0 };
    this.stroke = null;
    this.cells = [];
    this.rows = [];
    const header = h(
      "div",
      { class: "wg-head wg-hours", "aria-hidden": "true" },
      h("span"),
      Array.from({ length: 24 }, (_, hour) => h("span", { class: "wg-hour" }, String(hour).padStart(2, "0"))),
    );
    const quarters = h(
      "div",
      { class: "wg-head wg-quarters", "aria-hidden": "true" },
      h("span"),
      [":00", ":15", ":30", ":45"].map((q) => h("span", {}, q)),
    );
    this.el = h("div", { class: "week-grid", role: "grid", "aria-label": label, "aria-rowcount": 7 }, header, quarters);
    for (let day = 0; day < 7; day++) {
      const row = h("div", { class: "wg-row", role: "row", "aria-rowindex": day + 1, dataset: { day } });
      row.append(h("span", { class: "wg-day", role: "rowheader" }, SHORT_DAYS[day]));
      const cells = [];
      for (let slot = 0; slot < SLOTS; slot++) {
        if (slot % 4 === 0) row.append(h("span", { class: "wg-hour-label", "aria-hidden": "true" }, slotTime(slot)));
        const cell = h("span", {
          class: "wg-cell",
          role: "gridcell",
          tabindex: "-1",
          dataset: { day, slot, q: slot % 4 },
        });
        cells.push(cell);
        row.append(cell);
      }
      this.cells.push(cells);
      this.rows.push(row);
      this.el.append(row);
    }
    this.cells[0][0].tabIndex = 0;
    this.el.addEventListener("pointerdown", (e) => this.down(e));
    this.el.addEventListener("pointermove", (e) => this.move(e));
    this.el.addEventListener("pointerup", (e) => this.up(e));
    this.el.addEventListener("pointercancel", () => this.cancel());
    this.el.addEventListener("keydown", (e) => this.key(e));
    this.el.addEventListener("focusin", (e) => {
      const at = this.cellAt(e.target);
      if (at) this.setFocus(at.day, at.slot, false);
    });
    this.showDay(0);
  }

  /** Show `week` (7 lists of 96 values); `bad` marks one cell {day, slot} the server refused. */
  setWeek(week, bad = null) {
    for (let day = 0; day < 7; day++) {
      for (let slot = 0; slot < SLOTS; slot++) this.setCell(day, slot, week[day][slot]);
    }
    this.markBad(bad);
  }

  markBad(bad) {
    this.el.querySelector(".wg-cell[aria-invalid]")?.removeAttribute("aria-invalid");
    if (bad && this.cells[bad.day]?.[bad.slot]) this.cells[bad.day][bad.slot].setAttribute("aria-invalid", "true");
  }

  setCell(day, slot, value) {
    this.week[day][slot] = value;
    const cell = this.cells[day][slot];
    const kind = valueKind(value);
    if (cell.dataset.v === String(value)) return;
    cell.dataset.v = String(value);
    cell.dataset.kind = kind;
    if (kind === "standby") cell.dataset.w = `${value}`;
    else delete cell.dataset.w;
    cell.setAttribute("aria-label", `${DAYS[day]} ${slotTime(slot)}: ${valueText(value)}`);
  }

  /** The narrow layout's day. */
  showDay(day) {
    this.day = day;
    this.rows.forEach((row, d) => (row.dataset.current = String(d === day)));
    if (this.narrow() && this.focus.day !== day) this.setFocus(day, this.focus.slot, false);
  }

  narrow() {
    return window.matchMedia(NARROW).matches;
  }

  cellAt(el) {
    const cell = el?.closest?.(".wg-cell");
    if (!cell || !this.el.contains(cell)) return null;
    return { day: Number(cell.dataset.day), slot: Number(cell.dataset.slot) };
  }

  setFocus(day, slot, move = true) {
    this.cells[this.focus.day][this.focus.slot].tabIndex = -1;
    this.focus = { day, slot };
    const cell = this.cells[day][slot];
    cell.tabIndex = 0;
    if (move) cell.focus();
  }

  // -- pointer strokes ------------------------------------------------------------

  down(event) {
    const at = this.cellAt(event.target);
    if (!at || event.button > 0) return;
    event.preventDefault(); // no text selection, no focus flicker
    const value = this.paintValue();
    if (value === null) return;
    this.el.dataset.pointer = event.pointerType; // which kind of pointer painted last (the tests read it)
    this.stroke = { id: event.pointerId, from: at, to: at, value, before: this.week.map((d) => d.slice()) };
    // Touch captures implicitly; a mouse leaving the grid mid-drag must still end the stroke.
    if (event.pointerType === "mouse") this.el.setPointerCapture?.(event.pointerId);
    this.setFocus(at.day, at.slot, false);
    this.cells[at.day][at.slot].focus({ preventScroll: true });
    this.paintStroke();
  }

  move(event) {
    if (!this.stroke || event.pointerId !== this.stroke.id) return;
    // The target of a captured pointer is where the stroke began: ask what is under it now.
    const at = this.cellAt(document.elementFromPoint(event.clientX, event.clientY));
    if (!at || (at.day === this.stroke.to.day && at.slot === this.stroke.to.slot)) return;
    if (this.narrow()) at.day = this.stroke.from.day; // one day shows: the stroke stays on it
    this.stroke.to = at;
    this.paintStroke();
  }

  up(event) {
    if (!this.stroke || event.pointerId !== this.stroke.id) return;
    const { before } = this.stroke;
    this.stroke = null;
    if (JSON.stringify(before) !== JSON.stringify(this.week)) this.onStroke(before);
  }

  cancel() {
    if (!this.stroke) return;
    this.setWeek(this.stroke.before);
    this.stroke = null;
  }

  paintStroke() {
    const { from, to, value, before } = this.stroke;
    const [d0, d1] = [Math.min(from.day, to.day), Math.max(from.day, to.day)];
    const [s0, s1] = [Math.min(from.slot, to.slot), Math.max(from.slot, to.slot)];
    for (let day = 0; day < 7; day++) {
      for (let slot = 0; slot < SLOTS; slot++) {
        const inside = day >= d0 && day <= d1 && slot >= s0 && slot <= s1;
        this.setCell(day, slot, inside ? value : before[day][slot]);
      }
    }
  }

  // -- keyboard -------------------------------------------------------------------

  key(event) {
    if (!this.cellAt(event.target)) return;
    const { day, slot } = this.focus;
    const narrow = this.narrow();
    const moves = {
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      ArrowUp: narrow ? [0, -4] : [-1, 0],
      ArrowDown: narrow ? [0, 4] : [1, 0],
      Home: [0, -slot],
      End: [0, SLOTS - 1 - slot],
    };
    if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      this.paintCells([[day, slot]]);
      return;
    }
    const step = moves[event.key];
    if (!step) return;
    event.preventDefault();
    const nd = Math.min(6, Math.max(0, day + step[0]));
    const ns = Math.min(SLOTS - 1, Math.max(0, slot + step[1]));
    if (nd !== day) this.showDay(nd);
    this.setFocus(nd, ns);
    if (event.shiftKey) {
      const cells = [];
      for (let s = Math.min(slot, ns); s <= Math.max(slot, ns); s++) cells.push([nd, s]);
      this.paintCells(cells);
    }
  }

  paintCells(cells) {
    const value = this.paintValue();
    if (value === null) return;
    const before = this.week.map((d) => d.slice());
    for (const [day, slot] of cells) this.setCell(day, slot, value);
    if (JSON.stringify(before) !== JSON.stringify(this.week)) this.onStroke(before);
  }
}
