"""Workers: user functions run on intervals and calendar rules, each isolated from the others.

Each worker has its own task on the loop that sleeps until the worker is due.
Sync functions run on the worker's own daemon thread, so a slow or hung sensor
read delays only that worker. A run that raises is counted and shown in
/healthz, and the worker keeps its schedule; the log gets the traceback of the
first failure in a row, then a one-line count at most every
FAILING_SUMMARY_EVERY_S, and a line when the worker recovers. After a run the
next due time is computed from now, so a worker that overran or a machine that
slept fires once and then keeps its cadence, never in a burst.

A run that lasts longer than its limit is *stuck* (a sensor read with no
timeout, `time.sleep(10**6)`): the limit is the scheduler's `stuck_after_s`
when given, else the interval of an interval worker, else
DEFAULT_STUCK_AFTER_S. A stuck worker is logged once, shown as `stuck` and
not ok in /healthz (the node is degraded), and counted in /metrics, until the
run returns.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from roost.core.errors import describe_error
from roost.core.metrics import Metric
from roost.core.schedule import Rule
from roost.runtime.clock import Clock
from roost.runtime.threads import DaemonPool

log = logging.getLogger(__name__)

# Wall-clock sleeps are cut into slices so that a clock set by NTP after boot is noticed.
WALL_SLICE_S = 30.0
SLOT_SLACK_S = 1e-6
# A sensor that fails every 5 s would otherwise write a traceback every 5 s onto an SD card.
FAILING_SUMMARY_EVERY_S = 600.0
# How long a run of a calendar worker (daily, cron, sun) may take before it counts as stuck.
DEFAULT_STUCK_AFTER_S = 600.0


@dataclass(frozen=True, slots=True)
class Every:
    """A fixed interval on the monotonic clock; the first run comes at start unless `immediately=False`."""

    interval_s: float
    immediately: bool = True

    def __post_init__(self) -> None:
        if not self.interval_s > 0 or not math.isfinite(self.interval_s):
            raise ValueError("the interval must be a positive number of seconds")

    def describe(self) -> str:
        """Describe as `every 60 s`."""
        return f"every {self.interval_s:g} s"


Trigger = Every | Rule


@dataclass(slots=True)
class WorkerStatus:
    """What /healthz shows of a worker."""

    runs: int = 0
    errors: int = 0
    running: bool = False
    last_ok: bool | None = None
    last_run: float | None = None
    last_duration_s: float | None = None
    last_error: str | None = None  # type and message, folders of paths left out
    last_error_detail: str | None = None  # the full text: for the log and admins only
    last_error_at: float | None = None
    next_due: float | None = None
    failing_runs: int = 0
    failing_since: float | None = None
    summary_due: float = 0.0
    run_started: float | None = None  # on the clock's monotonic time, while a run is under way


@dataclass(slots=True)
class Worker:
    """A scheduled user function."""

    name: str
    func: Callable[[], Any]
    trigger: Trigger
    status: WorkerStatus = field(default_factory=WorkerStatus)
    pool: DaemonPool | None = None

    @property
    def is_async(self) -> bool:
        """Return True for coroutine functions, which run on the loop."""
        return inspect.iscoroutinefunction(self.func)

    def stuck_after(self, limit_s: float | None) -> float:
        """Return how long one run may take before it counts as stuck."""
        if limit_s is not None:
            return limit_s
        if isinstance(self.trigger, Every):
            return self.trigger.interval_s
        return DEFAULT_STUCK_AFTER_S

    def running_for(self, now_monotonic: float) -> float | None:
        """Return how long the run under way has lasted, or None."""
        started = self.status.run_started
        return None if started is None else max(now_monotonic - started, 0.0)

    def health(
        self, now_monotonic: float | None = None, limit_s: float | None = None, detail: bool = False
    ) -> dict[str, Any]:
        """Return the worker's health entry (with `stuck` when given the clock's monotonic time).

        `detail` adds `last_error_detail`, the error's full text with its paths: for admins.
        """
        s = self.status
        running_for = None if now_monotonic is None else self.running_for(now_monotonic)
        stuck_after = self.stuck_after(limit_s)
        stuck = running_for is not None and running_for > stuck_after
        return {
            "schedule": self.trigger.describe(),
            "kind": "async" if self.is_async else "thread",
            "ok": s.last_ok is not False and not stuck,
            "stuck": stuck,
            "running_for_s": None if running_for is None else round(running_for, 3),
            "stuck_after_s": stuck_after,
            "runs": s.runs,
            "errors": s.errors,
            # A cancelled run may leave its thread going: report the thread, not the task.
            "running": s.running or bool(self.pool and self.pool.busy),
            "last_run": s.last_run,
            "last_duration_s": s.last_duration_s,
            "last_error": s.last_error,
            "last_error_at": s.last_error_at,
            "failing_runs": s.failing_runs,
            "failing_since": s.failing_since,
            "next_due": s.next_due,
            **({"last_error_detail": s.last_error_detail} if detail else {}),
        }


class Scheduler:
    """Runs workers on their triggers between `start()` and `stop()`."""

    def __init__(self, clock: Clock, stuck_after_s: float | None = None) -> None:
        self._clock = clock
        self.stuck_after_s = stuck_after_s
        self.workers: dict[str, Worker] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False

    def add(self, func: Callable[[], Any], trigger: Trigger, name: str | None = None) -> Worker:
        """Register `func` to run on `trigger`; the name is made unique if needed."""
        base = name or str(getattr(func, "__name__", "worker"))
        unique, n = base, 2
        while unique in self.workers:
            unique, n = f"{base}_{n}", n + 1
        worker = Worker(unique, func, trigger)
        if not worker.is_async:
            worker.pool = DaemonPool(f"roost-worker-{unique}", 1, report_stuck=False)
        self.workers[unique] = worker
        if self._running:  # added while running: start at once
            self._tasks.append(self._start(worker))
        return worker

    async def start(self) -> None:
        """Start every worker's task. Loop only."""
        self._running = True
        self._tasks = [self._start(w) for w in self.workers.values()]

    def _start(self, worker: Worker) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self._drive(worker), name=f"worker {worker.name}")

    async def stop(self, grace_s: float = 3.0) -> None:
        """Cancel the schedules and give running sync calls `grace_s` to finish. Loop only."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        # Real time, not the clock seam: this waits for real threads. Queued calls count
        # too: their threads skip them once their turn comes, since their callers are gone.
        deadline = time.monotonic() + grace_s
        while any(w.pool and w.pool.unfinished for w in self.workers.values()):
            if time.monotonic() >= deadline:
                stuck = [w.name for w in self.workers.values() if w.pool and w.pool.unfinished]
                log.warning("workers still running at shutdown, left behind: %s", ", ".join(stuck))
                break
            await asyncio.sleep(0.05)
        for w in self.workers.values():
            if w.pool:
                w.pool.close()

    def health(self, detail: bool = False) -> dict[str, Any]:
        """Return every worker's health entry by name (`detail`: with full error texts, for admins)."""
        now = self._clock.monotonic()
        return {name: w.health(now, self.stuck_after_s, detail) for name, w in self.workers.items()}

    def metrics(self) -> list[Metric]:
        """Return run and error counters per worker."""
        runs = Metric("roost_worker_runs_total", "counter", "Worker runs.")
        errors = Metric("roost_worker_errors_total", "counter", "Worker runs that raised.")
        duration = Metric(
            "roost_worker_last_duration_seconds", "gauge", "Duration of each worker's last run."
        )
        stuck = Metric(
            "roost_worker_stuck", "gauge", "1 while a worker's run has lasted longer than its limit."
        )
        running = Metric(
            "roost_worker_running_seconds", "gauge", "How long each worker's run under way has lasted."
        )
        now = self._clock.monotonic()
        for name, w in self.workers.items():
            labels = {"worker": name}
            running_for = w.running_for(now)
            stuck.samples.append(
                (labels, float(running_for is not None and running_for > w.stuck_after(self.stuck_after_s)))
            )
            if running_for is not None:
                running.samples.append((labels, running_for))
            runs.samples.append((labels, w.status.runs))
            errors.samples.append((labels, w.status.errors))
            if w.status.last_duration_s is not None:
                duration.samples.append((labels, w.status.last_duration_s))
        return [runs, errors, duration, stuck, running]

    async def _drive(self, worker: Worker) -> None:
        try:
            if isinstance(worker.trigger, Every):
                await self._drive_interval(worker, worker.trigger)
            else:
                await self._drive_calendar(worker, worker.trigger)
        except Exception as exc:
            # A rule that cannot say when it fires next ends the schedule: say so, where
            # a task's exception would otherwise go unseen until shutdown.
            status = worker.status
            status.errors += 1
            status.last_ok = False
            status.last_error, status.last_error_detail = describe_error(exc), f"{type(exc).__name__}: {exc}"
            status.last_error_at = self._clock.time()
            status.next_due = None
            log.exception("the schedule of worker %s failed; it runs no more", worker.name)

    async def _drive_interval(self, worker: Worker, every: Every) -> None:
        clock = self._clock
        anchor = clock.monotonic()
        due = anchor if every.immediately else anchor + every.interval_s
        while True:
            worker.status.next_due = clock.time() + max(due - clock.monotonic(), 0.0)
            delay = due - clock.monotonic()
            if delay > 0:
                await clock.sleep(delay)
            await self._invoke(worker)
            # The next slot on the grid after now: an overrun skips slots instead of bursting.
            # In floats, anchor + k * interval less anchor may come out a hair below
            # k * interval; a slot within SLOT_SLACK_S of now is the one that just ran.
            elapsed = clock.monotonic() - anchor + SLOT_SLACK_S
            due = anchor + (math.floor(elapsed / every.interval_s) + 1) * every.interval_s

    async def _drive_calendar(self, worker: Worker, rule: Rule) -> None:
        clock = self._clock
        after = clock.time()
        while True:
            nxt = rule.next_fire(datetime.fromtimestamp(after, UTC))
            if nxt is None:
                worker.status.next_due = None
                log.info("worker %s has no future runs", worker.name)
                return
            due = nxt.timestamp()
            worker.status.next_due = due
            while (delay := due - clock.time()) > 0:
                await clock.sleep(min(delay, WALL_SLICE_S))
            await self._invoke(worker)
            after = max(clock.time(), due)

    async def _invoke(self, worker: Worker) -> None:
        status = worker.status
        status.running = True
        started, t0 = self._clock.time(), self._clock.monotonic()
        status.run_started = t0
        limit = worker.stuck_after(self.stuck_after_s)
        # Real time on the loop, for the log only: /healthz reads the clock itself.
        warn = asyncio.get_running_loop().call_later(limit, _log_stuck, worker, limit)
        # `last_ok` keeps the last finished run's outcome until this one finishes.
        try:
            if worker.pool is None:
                await _as_awaitable(worker.func())
            else:
                await worker.pool.run(worker.func)
            status.last_ok = True
            if status.failing_runs:
                log.info("worker %s recovered after %d failed runs", worker.name, status.failing_runs)
                status.failing_runs, status.failing_since = 0, None
        except asyncio.CancelledError:
            # Stopped mid-run: not a finished run, so it is not counted.
            status.running = False
            status.run_started = None
            warn.cancel()
            raise
        except Exception as exc:
            status.last_ok = False
            status.errors += 1
            status.last_error, status.last_error_detail = describe_error(exc), f"{type(exc).__name__}: {exc}"
            status.last_error_at = started
            self._log_failure(worker)
        warn.cancel()
        status.running = False
        status.run_started = None
        status.runs += 1
        status.last_run = started
        status.last_duration_s = self._clock.monotonic() - t0
        if status.last_duration_s > limit:
            log.info(
                "worker %s returned after %.1f s, past its limit of %g s",
                worker.name,
                status.last_duration_s,
                limit,
            )

    def _log_failure(self, worker: Worker) -> None:
        # Called inside the except block, so that the first failure logs its traceback.
        status = worker.status
        status.failing_runs += 1
        now = self._clock.monotonic()
        if status.failing_runs == 1:
            status.failing_since = status.last_error_at
            status.summary_due = now + FAILING_SUMMARY_EVERY_S
            log.exception(
                "worker %s raised; it keeps its schedule (further failures in a row: a count every %g s)",
                worker.name,
                FAILING_SUMMARY_EVERY_S,
            )
        elif now >= status.summary_due:
            status.summary_due = now + FAILING_SUMMARY_EVERY_S
            log.warning(
                "worker %s failed %d times in a row; last: %s",
                worker.name,
                status.failing_runs,
                status.last_error,
            )


def _log_stuck(worker: Worker, limit_s: float) -> None:
    log.warning(
        "worker %s is stuck: its run has lasted more than %g s (%s); it is shown as stuck until it returns",
        worker.name,
        limit_s,
        worker.trigger.describe(),
    )


async def _as_awaitable(value: Awaitable[Any] | Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value
