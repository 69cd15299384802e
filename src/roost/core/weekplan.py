"""Device schedules: a weekly grid plus sun rules and date exceptions, and when they change.

A `Schedule` is a `weekgrid` week with rules on top, applied in this order:

- `Vacation(first, last, schedule)`: on those dates (inclusive) another
  schedule's week and sun rules run instead;
- `Holidays(dates)`: those dates run as a Sunday (or another weekday);
- `SunRule(start, end, value, days)`: from `start` to `end` (each a wall time
  `23:00` or a sun event with an offset, `sunset-30m`) the value is `value`,
  on the chosen weekdays; a later rule wins over an earlier one, and a rule
  whose end falls before its start on some day (a late sunset) does nothing
  that day.

Sun times are data handed in (`SunTable`: date -> `DaySun`), computed by the
runtime with astral, so this module stays pure. Instants are epoch seconds.

Quarter-hours are local wall time. Changes are found by walking the instants at
which a quarter-hour starts (every 900 s of UTC: all zones in use are offset by
whole quarter-hours), so on the spring-forward day the missing hour's slots
never occur, and in the repeated autumn hour each slot applies as it occurs,
with a change only where the value differs from the one before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

from roost.core.errors import InvalidSchedule
from roost.core.schedule import DAY_NAMES, local_at, parse_days
from roost.core.weekgrid import SLOT_S, Cell, Week, check_cell, check_week, constant_week, slot_time

NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
HORIZON_S = 8 * 86400  # a week and a day: every weekly value has come round by then
_ANCHOR_RE = re.compile(
    r"^\s*(?:(sunrise|sunset)\s*(?:([+-])\s*(\d+)\s*(m|min|h)?)?|(\d{1,2}):(\d{2}))\s*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class DaySun:
    """Sunrise and sunset of one local date as epoch seconds (None where the sun does not do it)."""

    sunrise: float | None
    sunset: float | None


SunTable = Mapping[date, DaySun]


@dataclass(frozen=True, slots=True)
class Anchor:
    """A wall time (`event` "time", `offset_s` after midnight) or a sun event plus `offset_s`."""

    event: Literal["time", "sunrise", "sunset"]
    offset_s: int = 0

    def at(self, day: date, tz: tzinfo, sun: SunTable) -> float | None:
        """Return the instant on local `day`, or None (no sun event that day)."""
        if self.event == "time":
            if self.offset_s >= 86400:
                return local_at(day + timedelta(days=1), time(0), tz).timestamp()
            wall = time(self.offset_s // 3600, self.offset_s // 60 % 60)
            return local_at(day, wall, tz).timestamp()
        times = sun.get(day)
        base = None if times is None else getattr(times, self.event)
        return None if base is None else base + self.offset_s

    def text(self) -> str:
        """Return the anchor as it is written (`23:00`, `sunset-30m`)."""
        if self.event == "time":
            return f"{self.offset_s // 3600:02d}:{self.offset_s // 60 % 60:02d}"
        if not self.offset_s:
            return self.event
        return f"{self.event}{'+' if self.offset_s > 0 else '-'}{abs(self.offset_s) // 60}m"


def parse_anchor(text: Any) -> Anchor:
    """Parse `HH:MM` (`24:00` allowed), `sunset`, `sunset-30m`, `sunrise + 1h`; raise ValueError."""
    m = _ANCHOR_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a time like 23:00 or a sun event like sunset-30m")
    if m[1]:
        amount = int(m[3] or 0) * (3600 if (m[4] or "").lower() == "h" else 60)
        if amount > 12 * 3600:
            raise ValueError(f"{text!r}: a sun offset is at most 12 h")
        return Anchor(m[1].lower(), -amount if m[2] == "-" else amount)  # type: ignore[arg-type]
    hour, minute = int(m[5]), int(m[6])
    if minute > 59 or hour * 60 + minute > 24 * 60:
        raise ValueError(f"no such time of day: {text!r}")
    return Anchor("time", hour * 3600 + minute * 60)


@dataclass(frozen=True, slots=True)
class SunRule:
    """From `start` to `end` on `days`, the value is `value` (`-1` on, `0` off, `W` standby)."""

    start: Anchor
    end: Anchor
    value: Cell = -1
    days: frozenset[int] = frozenset(range(7))

    def to_json(self) -> dict[str, Any]:
        """Return the wire form."""
        return {
            "type": "sun",
            "from": self.start.text(),
            "to": self.end.text(),
            "value": self.value,
            "days": _days_text(self.days),
        }


@dataclass(frozen=True, slots=True)
class Holidays:
    """Dates that run as another weekday (Sunday unless said otherwise)."""

    dates: frozenset[date]
    as_day: int = 6

    def to_json(self) -> dict[str, Any]:
        """Return the wire form."""
        return {
            "type": "holidays",
            "dates": sorted(d.isoformat() for d in self.dates),
            "as": DAY_NAMES[self.as_day],
        }


@dataclass(frozen=True, slots=True)
class Vacation:
    """From `first` to `last` (inclusive) the schedule named `schedule` runs instead."""

    first: date
    last: date
    schedule: str

    def to_json(self) -> dict[str, Any]:
        """Return the wire form."""
        return {
            "type": "vacation",
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "schedule": self.schedule,
        }


Rule = SunRule | Holidays | Vacation


@dataclass(frozen=True, slots=True)
class Schedule:
    """A named week with rules; `week[day][slot]` as in `weekgrid`."""

    name: str
    week: Week = field(default_factory=constant_week)
    description: str = ""
    rules: tuple[Rule, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the wire form `{"name", "description", "week", "rules"}`."""
        return {
            "name": self.name,
            "description": self.description,
            "week": [list(day) for day in self.week],
            "rules": [r.to_json() for r in self.rules],
        }

    def sun_rules(self) -> tuple[SunRule, ...]:
        """Return the sun rules in order."""
        return tuple(r for r in self.rules if isinstance(r, SunRule))

    def uses_sun(self) -> bool:
        """Return whether any rule is anchored to the sun."""
        return any(r.start.event != "time" or r.end.event != "time" for r in self.sun_rules())


@dataclass(frozen=True, slots=True)
class Calendar:
    """What evaluating a schedule needs besides the schedule: zone, sun times, the other schedules."""

    tz: tzinfo
    sun: SunTable = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)


def check_name(name: Any) -> str:
    """Return `name` if it is a schedule name (`[A-Za-z0-9_.-]`, 1 to 64), else raise InvalidSchedule."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name in (".", ".."):
        raise InvalidSchedule(f"a schedule name is 1 to 64 of A-Z a-z 0-9 _ . - , not {name!r}")
    return name


def parse_schedule(obj: Any, name: str | None = None) -> Schedule:
    """Return a Schedule from its JSON form (Plugwise-2-py's `"schedule"` key is taken for `"week"`)."""
    if not isinstance(obj, Mapping):
        raise InvalidSchedule("a schedule is a JSON object with name, description, week and rules")
    name = check_name(name if name is not None else obj.get("name"))
    description = obj.get("description", "")
    if not isinstance(description, str) or len(description) > 500:
        raise InvalidSchedule("description must be a text of at most 500 characters")
    week = check_week(obj["week"] if "week" in obj else obj.get("schedule"))
    rules = obj.get("rules", [])
    if not isinstance(rules, list) or len(rules) > 100:
        raise InvalidSchedule("rules must be a list of at most 100 rules")
    return Schedule(name, week, description, tuple(_parse_rule(r, i) for i, r in enumerate(rules)))


def _parse_rule(obj: Any, index: int) -> Rule:
    kind = obj.get("type") if isinstance(obj, Mapping) else None
    try:
        if kind == "sun":
            value = _rule_value(obj.get("value", -1))
            return SunRule(
                parse_anchor(obj.get("from")), parse_anchor(obj.get("to")), value, _days(obj.get("days"))
            )
        if kind == "holidays":
            dates = obj.get("dates")
            if not isinstance(dates, list) or len(dates) > 1000:
                raise ValueError("dates must be a list of YYYY-MM-DD dates")
            as_day = parse_days(str(obj.get("as", "sun")))
            if len(as_day) != 1:
                raise ValueError("as names one weekday, such as sun")
            return Holidays(frozenset(_date(d) for d in dates), next(iter(as_day)))
        if kind == "vacation":
            first, last = _date(obj.get("from")), _date(obj.get("to"))
            if last < first:
                raise ValueError("a vacation's to date comes before its from date")
            return Vacation(first, last, check_name(obj.get("schedule")))
    except (ValueError, InvalidSchedule) as exc:
        raise InvalidSchedule(f"rule {index}: {exc}", rule=index) from None
    raise InvalidSchedule(f"rule {index}: type must be sun, holidays or vacation", rule=index)


def _rule_value(value: Any) -> Cell:
    try:
        return check_cell(value, 0, 0)
    except InvalidSchedule:
        raise ValueError(f"value {value!r} is not -1 (on), 0 (off) or a standby wattage above 0") from None


def _days(value: Any) -> frozenset[int]:
    if value is None:
        return frozenset(range(7))
    if not isinstance(value, str):
        raise ValueError("days is a text such as mon-fri, sat,sun or daily")
    return parse_days(value)


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a date like 2026-12-24")
    return date.fromisoformat(value)


def _days_text(days: frozenset[int]) -> str:
    return "daily" if len(days) == 7 else ",".join(DAY_NAMES[d] for d in sorted(days))


# -- evaluation ---------------------------------------------------------------------


def day_plan(schedule: Schedule, day: date, cal: Calendar) -> tuple[Sequence[Cell], tuple[SunRule, ...]]:
    """Return the 96 cells and the sun rules that run on local `day` (vacations and holidays applied)."""
    running = schedule
    for rule in schedule.rules:
        if isinstance(rule, Vacation) and rule.first <= day <= rule.last:
            # A vacation schedule that is gone leaves the schedule's own week running.
            running = cal.schedules.get(rule.schedule, schedule)
            break
    weekday = day.weekday()
    for rule in schedule.rules:
        if isinstance(rule, Holidays) and day in rule.dates:
            weekday = rule.as_day
    sun_rules = tuple(r for r in running.sun_rules() if weekday in r.days)
    return running.week[weekday], sun_rules


def value_at(schedule: Schedule, ts: float, cal: Calendar) -> Cell:
    """Return the schedule's value at instant `ts`."""
    local = datetime.fromtimestamp(ts, cal.tz)
    cells, rules = day_plan(schedule, local.date(), cal)
    value = cells[local.hour * 4 + local.minute // 15]
    for rule in rules:
        window = _window(rule, local.date(), cal)
        if window is not None and window[0] <= ts < window[1]:
            value = rule.value
    return value


def explain(schedule: Schedule, ts: float, cal: Calendar) -> dict[str, Any]:
    """Return why the schedule has its value at `ts`: schedule, day, slot, time, value and source."""
    local = datetime.fromtimestamp(ts, cal.tz)
    day = local.date()
    source = "week"
    for rule in schedule.rules:
        if isinstance(rule, Vacation) and rule.first <= day <= rule.last:
            source = f"vacation ({rule.schedule})"
            break
    if any(isinstance(r, Holidays) and day in r.dates for r in schedule.rules):
        source = "holiday" if source == "week" else source
    cells, rules = day_plan(schedule, day, cal)
    slot = local.hour * 4 + local.minute // 15
    value = cells[slot]
    for rule in rules:
        window = _window(rule, day, cal)
        if window is not None and window[0] <= ts < window[1]:
            value = rule.value
            source = f"rule {rule.start.text()} to {rule.end.text()}"
    return {
        "schedule": schedule.name,
        "day": DAY_NAMES[local.weekday()],
        "slot": slot,
        "time": slot_time(slot),
        "value": value,
        "source": source,
    }


def _window(rule: SunRule, day: date, cal: Calendar) -> tuple[float, float] | None:
    # The rule's weekday filter was applied by day_plan (a holiday changes the weekday).
    start, end = rule.start.at(day, cal.tz, cal.sun), rule.end.at(day, cal.tz, cal.sun)
    if start is None or end is None or end <= start:
        return None
    return start, end


def _edges(schedule: Schedule, start: float, end: float, cal: Calendar) -> list[float]:
    """Return the instants in `(start, end]` at which the value may change, in order."""
    first = (int(start) // SLOT_S + 1) * SLOT_S
    edges: set[float] = {float(t) for t in range(first, int(end) + 1, SLOT_S)}
    if any(isinstance(r, (SunRule, Vacation)) for r in schedule.rules):
        day = datetime.fromtimestamp(start, cal.tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, cal.tz).date() + timedelta(days=1)
        while day <= last:
            for rule in day_plan(schedule, day, cal)[1]:
                window = _window(rule, day, cal)
                if window is not None:
                    edges.update(t for t in window if start < t <= end)
            day += timedelta(days=1)
    return sorted(t for t in edges if start < t <= end)


def next_change(
    schedule: Schedule, ts: float, cal: Calendar, horizon_s: float = HORIZON_S
) -> tuple[float, Cell] | None:
    """Return `(instant, value)` of the first change strictly after `ts` within the horizon, or None."""
    current = value_at(schedule, ts, cal)
    for edge in _edges(schedule, ts, ts + horizon_s, cal):
        value = value_at(schedule, edge, cal)
        if value != current:
            return edge, value
    return None


def changes(schedule: Schedule, start: float, end: float, cal: Calendar) -> list[tuple[float, Cell]]:
    """Return every `(instant, value)` change in `(start, end]`, each differing from the one before."""
    out: list[tuple[float, Cell]] = []
    current = value_at(schedule, start, cal)
    for edge in _edges(schedule, start, end, cal):
        value = value_at(schedule, edge, cal)
        if value != current:
            out.append((edge, value))
            current = value
    return out


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch `[start, end)` with one value."""

    start: float
    end: float
    value: Cell

    def to_json(self, tz: tzinfo) -> dict[str, Any]:
        """Return the wire form with ISO local times."""
        return {
            "from": datetime.fromtimestamp(self.start, tz).isoformat(),
            "to": datetime.fromtimestamp(self.end, tz).isoformat(),
            "value": self.value,
        }


def preview(schedule: Schedule, start: float, hours: float, cal: Calendar) -> list[Segment]:
    """Return the segments of the next `hours` from `start`, as the schedule alone would run them."""
    end = start + hours * 3600
    segments: list[Segment] = []
    at, value = start, value_at(schedule, start, cal)
    for edge, new in changes(schedule, start, end, cal):
        segments.append(Segment(at, edge, value))
        at, value = edge, new
    segments.append(Segment(at, end, value))
    return segments


def utc_iso(ts: float) -> str:
    """Return `ts` as an ISO 8601 UTC text."""
    return datetime.fromtimestamp(ts, UTC).isoformat()
