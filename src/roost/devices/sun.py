"""Sunrise and sunset per local date, computed with astral and kept for the schedules to read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, tzinfo

from astral import Observer
from astral.sun import sunrise, sunset

from roost.core.weekplan import DaySun


class SunDays(Mapping[date, DaySun]):
    """A `SunTable` that computes a date's sun times when first asked (none without a place)."""

    def __init__(self, latitude: float | None, longitude: float | None, tz: tzinfo, keep: int = 64) -> None:
        self.observer = None if latitude is None or longitude is None else Observer(latitude, longitude)
        self.tz = tz
        self.keep = keep
        self._days: dict[date, DaySun] = {}

    def __getitem__(self, day: date) -> DaySun:
        found = self._days.get(day)
        if found is None:
            found = self._compute(day)
            if len(self._days) >= self.keep:
                self._days.clear()  # schedules ask about a few days around now: start over
            self._days[day] = found
        return found

    def __iter__(self) -> Iterator[date]:
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)

    def _compute(self, day: date) -> DaySun:
        if self.observer is None:
            return DaySun(None, None)
        return DaySun(
            _event(sunrise, self.observer, day, self.tz), _event(sunset, self.observer, day, self.tz)
        )


def _event(func: object, observer: Observer, day: date, tz: tzinfo) -> float | None:
    try:
        return float(func(observer, date=day, tzinfo=tz).timestamp())  # type: ignore[operator]
    except ValueError:  # the sun does not rise or set that day (polar day or night)
        return None
