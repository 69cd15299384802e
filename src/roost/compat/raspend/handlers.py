"""raspend's thread handlers and schedules, run as roost workers.

A raspend handler has `prepare()`, called once before its loop, and `invoke()`,
called every iteration. On roost each handler is one worker with its own thread:
`prepare()` runs on that thread when the program starts and, until it has
succeeded once, again before each run; `invoke()` runs on the trigger built
here. A run that raises is logged and counted in /healthz; the worker keeps its
schedule, where raspend's thread would die holding the data lock.
"""

from __future__ import annotations

import enum
import math
import threading
from abc import ABC, abstractmethod
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from roost.core.schedule import Repeating, Unit
from roost.runtime.workers import Every, Trigger

# raspend's waitTimeout=0 re-runs invoke() at once; roost leaves this much between runs
# so that a handler which does not block cannot spin a core.
MIN_INTERVAL_S = 0.01


class ScheduleRepetitionType(enum.Enum):
    """How often a scheduled worker repeats (raspend's members and values)."""

    WEEKLY = 1
    DAILY = 2
    HOURLY = 3
    MINUTELY = 4
    SECOND = 5


_UNITS: dict[ScheduleRepetitionType, Unit] = {
    ScheduleRepetitionType.WEEKLY: "week",
    ScheduleRepetitionType.DAILY: "day",
    ScheduleRepetitionType.HOURLY: "hour",
    ScheduleRepetitionType.MINUTELY: "minute",
    ScheduleRepetitionType.SECOND: "second",
}
_UNIT_S = {"week": 604_800, "day": 86_400, "hour": 3_600, "minute": 60, "second": 1}


class ThreadHandlerBase(ABC):
    """Derive from this and implement `prepare()` and `invoke()` (raspend's handler base)."""

    sharedDict: Any
    shutdownFlag: threading.Event

    def __init__(self) -> None:
        super().__init__()

    def setSharedDict(self, sharedDict: Any) -> None:
        """Give the handler the shared dict (done by RaspendApplication)."""
        self.sharedDict = sharedDict

    def setShutdownFlag(self, shutdownFlag: threading.Event) -> None:
        """Give the handler the application's shutdown flag (done by RaspendApplication)."""
        self.shutdownFlag = shutdownFlag

    def aborted(self) -> bool:
        """Return True once the application is stopping; long loops in invoke() should check it."""
        flag = getattr(self, "shutdownFlag", None)
        return flag is not None and flag.is_set()

    @abstractmethod
    def prepare(self) -> None:
        """Called once before the first invoke()."""

    @abstractmethod
    def invoke(self) -> None:
        """Called on every run."""


class HandlerRun:
    """The callable a roost worker runs for one handler: prepare() until it succeeded, then invoke().

    prepare() holds `access_lock` (the program's getAccessLock()), as raspend's
    did: handlers commonly run `if group not in sharedDict: sharedDict[group] = {}`
    there, which is only safe if no other handler's prepare() runs in between.
    invoke() runs without it. Once `stopping` is set no invoke() starts, as in
    raspend's loop: a run that was already queued when the node began to stop
    returns at once.
    """

    def __init__(
        self, handler: ThreadHandlerBase, stopping: threading.Event, access_lock: threading.Lock
    ) -> None:
        self.handler = handler
        self.stopping = stopping
        self.access_lock = access_lock
        self.prepared = False
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Run the handler's prepare() unless it has already succeeded."""
        with self._lock:
            if not self.prepared:
                with self.access_lock:
                    self.handler.prepare()
                self.prepared = True

    def __call__(self) -> None:
        if self.stopping.is_set():
            return
        self.prepare()
        self.handler.invoke()


class OnceAtStart:
    """A rule that fires once, as soon as it is first asked (raspend's waitTimeout=None)."""

    def __init__(self) -> None:
        self._asked = False

    def next_fire(self, after: datetime) -> datetime | None:
        """Return a moment just after `after` the first time, then None."""
        if self._asked:
            return None
        self._asked = True
        return after + timedelta(microseconds=1)

    def describe(self) -> str:
        """Describe as `once at start`."""
        return "once at start"


def interval_trigger(wait_timeout: float | None) -> Trigger:
    """Return the trigger of `createWorkerThread(handler, waitTimeout)`.

    raspend sleeps `waitTimeout` seconds after each run; roost runs on a fixed
    grid of that interval from the start, so the cadence does not drift by the
    run's own duration. `None` (raspend waits forever) runs once.
    """
    if wait_timeout is None:
        return OnceAtStart()
    if isinstance(wait_timeout, bool) or not isinstance(wait_timeout, (int, float)):
        raise TypeError(f"waitTimeout must be a number of seconds, not {type(wait_timeout).__name__}")
    if math.isnan(wait_timeout):
        raise ValueError("waitTimeout must be a number of seconds, not NaN")
    return Every(max(float(wait_timeout), MIN_INTERVAL_S))


def scheduled_rule(
    scheduled_time: time | None,
    scheduled_date: date | None,
    repetition_type: ScheduleRepetitionType | None,
    repetition_factor: float,
    tz: tzinfo,
    now: datetime,
) -> Repeating:
    """Return the rule of `createScheduledWorkerThread(...)`; `now` is naive local time.

    As in raspend: a missing time or date is now's, a missing type is DAILY, and
    a start in the past fires at the first repetition after now (so with neither
    given, one period after the call). Unlike raspend's naive arithmetic, days
    and weeks keep their wall-clock time across DST changes, and runs missed
    while a run overran are skipped instead of made up in a burst.
    """
    if repetition_type is None:
        repetition_type = ScheduleRepetitionType.DAILY
    elif not isinstance(repetition_type, ScheduleRepetitionType):
        raise TypeError("'repetitionType' must be of type 'ScheduleRepetitionType' or None.")
    if isinstance(repetition_factor, bool) or not isinstance(repetition_factor, (int, float)):
        raise TypeError(f"'repetitionFactor' must be a number, not {type(repetition_factor).__name__}")
    if not repetition_factor >= 1:
        raise ValueError("'repetitionFactor' must be 1 or greater.")
    start = datetime.combine(
        scheduled_date if scheduled_date is not None else now.date(),
        scheduled_time if scheduled_time is not None else now.time(),
    )
    if start.tzinfo is not None:
        start = start.astimezone(tz).replace(tzinfo=None)
    unit = _UNITS[repetition_type]
    if float(repetition_factor).is_integer():
        return Repeating(start, unit, int(repetition_factor), tz)
    # A fractional factor (raspend took timedelta(minutes=1.5)) counts elapsed seconds.
    return Repeating(start, "second", max(round(repetition_factor * _UNIT_S[unit]), 1), tz)
