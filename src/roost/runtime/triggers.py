"""Calendar rules that lean on libraries: cron strings (croniter) and sun events (astral)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Literal

from astral import Observer
from astral.sun import sun
from croniter import CroniterBadDateError, croniter

SunEvent = Literal["sunrise", "sunset", "dawn", "dusk", "noon"]
SUN_EVENTS: tuple[SunEvent, ...] = ("sunrise", "sunset", "dawn", "dusk", "noon")
# croniter takes these too; spelled out, their hour field tells fixed-hour rules apart.
_CRON_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# A repeated (fall-back) hour lasts at most two hours in any zone: this many matches
# in a row, one a second for a six-field rule, are always enough to leave it.
_MAX_REPEATS = 2 * 3600 + 1


@dataclass(frozen=True, slots=True)
class Cron:
    """A five-field cron expression in local time (`*/5 * * * *`, `30 7 * * mon-fri`)."""

    expr: str
    tz: tzinfo

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.expr):
            raise ValueError(f"not a valid cron expression: {self.expr!r}")

    def next_fire(self, after: datetime) -> datetime | None:
        """Return the next matching minute strictly after `after`."""
        # croniter steps in the zone of the datetime it is given, which keeps
        # `30 7 * * *` at 07:30 local on both sides of a DST change.
        expr = _CRON_ALIASES.get(self.expr.strip().lower(), self.expr)
        it = croniter(expr, after.astimezone(self.tz))
        fixed_hour = expr.split()[1] != "*"
        for _ in range(_MAX_REPEATS):
            try:
                nxt: datetime = it.get_next(datetime)
            except CroniterBadDateError:  # a date that never comes, like 30 February
                return None
            # When clocks fall back an hour repeats; like Vixie cron, a job for a
            # fixed hour runs only in the first pass, a wildcard-hour job in both.
            if not (fixed_hour and _is_repeat(nxt)):
                return nxt.astimezone(UTC)
        return None  # pragma: no cover - no repeated hour is that long

    def describe(self) -> str:
        """Describe as `cron */5 * * * *`."""
        return f"cron {self.expr}"


def _is_repeat(moment: datetime) -> bool:
    """Return True if `moment`'s wall time already happened earlier (the second pass of a fall-back hour)."""
    first = moment.replace(tzinfo=None).replace(fold=0, tzinfo=moment.tzinfo)
    return first.utcoffset() != moment.utcoffset()


@dataclass(frozen=True, slots=True)
class Sun:
    """A sun event with an offset, at a latitude and longitude, on chosen weekdays."""

    event: SunEvent
    offset: timedelta
    latitude: float
    longitude: float
    tz: tzinfo
    weekdays: frozenset[int] = frozenset(range(7))

    def __post_init__(self) -> None:
        if self.event not in SUN_EVENTS:
            raise ValueError(f"sun event must be one of {', '.join(SUN_EVENTS)}, not {self.event!r}")
        if not -90 <= self.latitude <= 90 or not -180 <= self.longitude <= 180:
            raise ValueError("latitude must be within ±90 and longitude within ±180")

    def at(self, day: date) -> datetime | None:
        """Return the event plus offset on `day`, or None where the sun never does it (polar days)."""
        try:
            times = sun(Observer(self.latitude, self.longitude), date=day, tzinfo=self.tz)
        except ValueError:
            return None
        return (times[self.event] + self.offset).astimezone(UTC)

    def next_fire(self, after: datetime) -> datetime | None:
        """Return the next event strictly after `after`, looking at most a year ahead."""
        after_utc = after.astimezone(UTC)
        start = after_utc.astimezone(self.tz).date() - timedelta(days=1)
        for offset in range(370):
            day = start + timedelta(days=offset)
            if day.weekday() not in self.weekdays:
                continue
            when = self.at(day)
            if when is not None and when > after_utc:
                return when
        return None

    def describe(self) -> str:
        """Describe as `sunset -30 min`."""
        minutes = self.offset.total_seconds() / 60
        return f"{self.event} {minutes:+g} min" if minutes else self.event
