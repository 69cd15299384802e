"""Schedule arithmetic: when does a calendar rule fire next? Pure, standard library only.

All rules answer `next_fire(after)` with the first instant strictly after `after`,
as an aware UTC datetime, so a scheduler that was asleep asks once and gets the
next slot: missed runs never come as a burst. Wall-clock rules (daily, weekly,
monthly) keep their local time across DST changes; a time that does not exist on
the day clocks spring forward fires an hour later, and one that happens twice
when they fall back fires once, at its first occurrence.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, Protocol

Unit = Literal["second", "minute", "hour", "day", "week", "month"]
UNITS: tuple[Unit, ...] = ("second", "minute", "hour", "day", "week", "month")
_FIXED_S = {"second": 1, "minute": 60, "hour": 3600}
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Rule(Protocol):
    """A calendar rule: when it fires next, and how to show it."""

    def next_fire(self, after: datetime) -> datetime | None:
        """Return the first firing strictly after `after` (aware), or None for never."""
        ...

    def describe(self) -> str:
        """Return a short human description, shown by /healthz."""
        ...


def local_at(day: date, at: time, tz: tzinfo) -> datetime:
    """Return `day` at wall time `at` in `tz`, as UTC (a skipped time moves forward)."""
    # zoneinfo gives a wall time in the spring-forward gap the offset from before the
    # change; the round trip through UTC then lands an hour later, which is what a
    # person expects of an alarm set inside the gap.
    return datetime.combine(day, at.replace(fold=0), tzinfo=tz).astimezone(UTC)


def parse_time(text: str) -> time:
    """Parse `HH:MM` or `HH:MM:SS`."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", text)
    if not m:
        raise ValueError(f"expected a time like 07:30, got {text!r}")
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"no such time of day: {text!r}")
    return time(hour, minute, second)


def parse_days(text: str | None) -> frozenset[int]:
    """Parse `mon-fri`, `sat,sun`, `weekdays`, `weekends` or `daily` into weekday numbers."""
    if text is None or text.strip().lower() in ("", "*", "daily", "every day", "all"):
        return frozenset(range(7))
    low = text.strip().lower()
    if low == "weekdays":
        return frozenset(range(5))
    if low == "weekends":
        return frozenset((5, 6))
    days: set[int] = set()
    for item in low.replace(" ", "").split(","):
        first, _, last = item.partition("-")
        a = _day_index(first)
        b = _day_index(last) if last else a
        span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        days.update(span)
    return frozenset(days)


def _day_index(name: str) -> int:
    key = name[:3]
    if key not in DAY_NAMES:
        raise ValueError(f"unknown weekday {name!r}; use mon, tue, wed, thu, fri, sat, sun")
    return DAY_NAMES.index(key)


@dataclass(frozen=True, slots=True)
class Daily:
    """Every chosen weekday at one wall-clock time."""

    at: time
    weekdays: frozenset[int]
    tz: tzinfo

    def next_fire(self, after: datetime) -> datetime | None:
        """Return the next chosen day's time strictly after `after`."""
        if not self.weekdays:
            return None
        after_utc = after.astimezone(UTC)
        start = after_utc.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(9):
            day = start + timedelta(days=offset)
            if day.weekday() in self.weekdays:
                candidate = local_at(day, self.at, self.tz)
                if candidate > after_utc:
                    return candidate
        return None  # pragma: no cover - nine days always hold a chosen weekday

    def describe(self) -> str:
        """Describe as `daily 07:30 mon-fri`."""
        days = (
            "every day" if len(self.weekdays) == 7 else ",".join(DAY_NAMES[d] for d in sorted(self.weekdays))
        )
        return f"daily {self.at.isoformat('minutes' if not self.at.second else 'seconds')} {days}"


@dataclass(frozen=True, slots=True)
class Repeating:
    """From a start date and time, every `factor` units (raspend's scheduled workers).

    Seconds, minutes and hours count elapsed time, so a DST change does not shift
    them; days, weeks and months keep the start's wall-clock time. A monthly rule
    started on the 31st fires on the last day of shorter months.
    """

    start: datetime  # naive, local wall time
    unit: Unit
    factor: int
    tz: tzinfo

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {self.unit!r}")
        if self.factor < 1:
            raise ValueError("the repetition factor must be 1 or greater")

    def next_fire(self, after: datetime) -> datetime | None:
        """Return the first repetition strictly after `after`."""
        after_utc = after.astimezone(UTC)
        first = local_at(self.start.date(), self.start.time(), self.tz)
        if first > after_utc:
            return first
        if self.unit in _FIXED_S:
            step = _FIXED_S[self.unit] * self.factor
            k = int((after_utc - first).total_seconds() // step) + 1
            return first + timedelta(seconds=k * step)
        if self.unit == "month":
            return self._next_month(after_utc)
        step_days = self.factor * (7 if self.unit == "week" else 1)
        elapsed = (after_utc.astimezone(self.tz).date() - self.start.date()).days
        k = max(elapsed // step_days, 0)
        while True:
            candidate = local_at(
                self.start.date() + timedelta(days=k * step_days), self.start.time(), self.tz
            )
            if candidate > after_utc:
                return candidate
            k += 1

    def _next_month(self, after_utc: datetime) -> datetime:
        local = after_utc.astimezone(self.tz)
        months = (local.year - self.start.year) * 12 + local.month - self.start.month
        k = max(months // self.factor, 0)
        while True:
            candidate = local_at(_add_months(self.start.date(), k * self.factor), self.start.time(), self.tz)
            if candidate > after_utc:
                return candidate
            k += 1

    def describe(self) -> str:
        """Describe as `every 2 days from 2024-01-01 06:00`."""
        unit = self.unit if self.factor == 1 else f"{self.factor} {self.unit}s"
        return f"every {unit} from {self.start.isoformat(' ', 'minutes')}"


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
