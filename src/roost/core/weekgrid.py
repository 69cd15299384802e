"""The weekly switching grid of Plugwise-2-py: 7 days (Monday first) x 96 quarter-hours.

Each cell is `-1` (on), `0` (off) or a wattage `W > 0` (on, with the standby
killer at `W` watts): Plugwise-2-py's own values, so its schedule files load
unchanged. Slots are local wall time: slot 0 is 00:00-00:15, slot 95 is
23:45-24:00. Pure, standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from roost.core.errors import InvalidSchedule

DAYS = 7
SLOTS = 96
SLOT_S = 900
ON = -1
OFF = 0
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Cell = int | float
Week = tuple[tuple[Cell, ...], ...]


def slot_time(slot: int) -> str:
    """Return the wall time a slot starts at, `HH:MM`."""
    return f"{slot // 4:02d}:{slot % 4 * 15:02d}"


def slot_of(local: datetime) -> tuple[int, int]:
    """Return `(weekday, slot)` of a local wall time (Monday is 0)."""
    return local.weekday(), local.hour * 4 + local.minute // 15


def check_cell(value: Any, day: int, slot: int) -> Cell:
    """Return `value` as a cell, or raise InvalidSchedule naming its day and slot."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value in (ON, OFF) or value > 0):
        # Whole numbers stay ints, as Plugwise-2-py writes them; 8.0 and 8 are one wattage.
        return int(value) if float(value).is_integer() else float(value)
    raise InvalidSchedule(
        f"{DAY_NAMES[day]} {slot_time(slot)} (day {day}, slot {slot}): {value!r} is not "
        "-1 (on), 0 (off) or a standby wattage above 0",
        day=day,
        slot=slot,
    )


def check_week(week: Any) -> Week:
    """Return a validated 7 x 96 grid as tuples, or raise InvalidSchedule saying what is wrong."""
    if not isinstance(week, Sequence) or isinstance(week, (str, bytes)) or len(week) != DAYS:
        raise InvalidSchedule("a week is a list of 7 days (Monday first), each a list of 96 quarter-hours")
    days: list[tuple[Cell, ...]] = []
    for d, cells in enumerate(week):
        if not isinstance(cells, Sequence) or isinstance(cells, (str, bytes)) or len(cells) != SLOTS:
            size = len(cells) if isinstance(cells, Sequence) and not isinstance(cells, str) else "no list"
            raise InvalidSchedule(
                f"{DAY_NAMES[d]} (day {d}) must be a list of 96 quarter-hours, got {size}", day=d
            )
        days.append(tuple(check_cell(v, d, s) for s, v in enumerate(cells)))
    return tuple(days)


def constant_week(value: Cell = OFF) -> Week:
    """Return a week with every cell `value`."""
    return tuple((value,) * SLOTS for _ in range(DAYS))


def paint(week: Week, days: Sequence[int], start: str, end: str, value: Cell) -> Week:
    """Return `week` with `[start, end)` (`HH:MM` on quarter-hours, end may be 24:00) set on `days`."""
    first, last = _slot_at(start), _slot_at(end)
    rows = [list(day) for day in week]
    for d in days:
        for s in range(first, last):
            rows[d][s] = value
    return tuple(tuple(r) for r in rows)


def _slot_at(text: str) -> int:
    hour, _, minute = text.partition(":")
    h, m = int(hour), int(minute or 0)
    if m % 15 or not 0 <= h * 60 + m <= 24 * 60:
        raise ValueError(f"{text!r} is not a quarter-hour between 00:00 and 24:00")
    return (h * 60 + m) // 15


def is_on(value: Cell) -> bool:
    """Return whether a cell means the device is on (`-1` or a standby wattage)."""
    return value != OFF


def killer_w(value: Cell) -> float | None:
    """Return the standby killer's threshold a cell arms, or None."""
    return float(value) if value > 0 else None
