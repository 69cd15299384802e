"""One bounded consumer of the state tree's change stream.

Every feature that follows the change stream (history, live push, the raspend
mirror, and what comes next: device schedules, the MQTT bridge, alert rules,
the audit log) does it through a `Consumer`, made by `hub.consume(name, on_batch)`:

- changes arrive in seq order, in batches: what one loop iteration brought, or
  one `window_s` throttle window's worth;
- `on_batch(changes)` is a plain function (called on the loop; it must be quick)
  or a coroutine function (awaited; while it runs, new changes wait in this
  consumer's pending buffer, so it slows neither a writer nor another consumer);
- the pending buffer holds at most `max_pending` changes: past that, the oldest
  are coalesced into one change at its head (the newest value of each path
  wins) while the newest stay as they came, or with `coalesce=False` the oldest
  are dropped; both are counted;
- a consumer that raises is logged once, counted, stays attached, and shows as
  failing in its `health()` until a batch succeeds again;
- `drain()` delivers every change up to the tree's newest seq, including writes
  that threads made after the tree stopped delivering (the hub drains every
  consumer on stop, before any component stops); after `close()` nothing more
  is delivered.

A coalesced change stands for every change after the one delivered before it up
to its own seq: applied to any state in that range (removals first, then values)
it gives the state as of its seq.

Loop only, except the read-only figures (`last_seq`, `lag`, `dropped`, ...).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from roost.core.errors import describe_error
from roost.core.metrics import Metric
from roost.core.tree import Json
from roost.runtime.clock import Clock
from roost.runtime.state import Change, StateTree

__all__ = ["DEFAULT_MAX_PENDING", "Consumer", "OnBatch", "coalesce", "consumer_metrics"]

log = logging.getLogger(__name__)

OnBatch = Callable[[Sequence[Change]], Awaitable[None] | None]

DEFAULT_MAX_PENDING = 10_000
# An undelivered change older than this marks the consumer as stalled in /healthz.
DEFAULT_STALL_AFTER_S = 60.0


class _Fold:
    """Changes being folded into one: the newest value (or removal) of each path. Loop only."""

    __slots__ = ("removed", "seq", "ts", "values")

    def __init__(self) -> None:
        self.values: dict[str, Json] = {}
        self.removed: dict[str, None] = {}  # an ordered set
        self.seq = 0
        self.ts = 0.0

    def add(self, change: Change) -> int:
        """Fold in the next change; return how many earlier updates it replaced."""
        values, removed, replaced = self.values, self.removed, 0
        for path in change.removed:  # removals first, then values: as a change is applied
            if path in values:
                del values[path]
                replaced += 1
            elif path in removed:
                replaced += 1
            removed[path] = None
        for path, value in change.values.items():
            if path in removed:
                del removed[path]
                replaced += 1
            elif path in values:
                replaced += 1
            values[path] = value
        self.seq, self.ts = change.seq, change.ts
        return replaced

    def change(self) -> Change:
        """Return the folded change (the fold must not be added to after this)."""
        return Change(self.seq, self.ts, self.values, tuple(self.removed))


def coalesce(changes: Iterable[Change]) -> tuple[Change | None, int]:
    """Return `changes` folded into one (newest value per path wins) and how many updates it replaced."""
    fold = _Fold()
    replaced = sum(fold.add(change) for change in changes)
    return (fold.change(), replaced) if fold.seq else (None, 0)


def _is_async(func: Callable[..., Any]) -> bool:
    call = getattr(func, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)


class Consumer:
    """A named, bounded follower of the change stream; made by `hub.consume()`."""

    def __init__(
        self,
        name: str,
        state: StateTree,
        on_batch: OnBatch,
        *,
        clock: Clock,
        max_pending: int = DEFAULT_MAX_PENDING,
        coalesce: bool = True,
        window_s: float = 0.0,
        since: int | None = None,
        stall_after_s: float = DEFAULT_STALL_AFTER_S,
        on_close: Callable[[Consumer], None] | None = None,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        if window_s < 0:
            raise ValueError("window_s must not be negative")
        self.name = name
        self.max_pending = max_pending
        self.coalesce = coalesce
        self.window_s = window_s
        self.stall_after_s = stall_after_s
        self.is_async = _is_async(on_batch)
        self._state = state
        self._on_batch = on_batch
        self._clock = clock
        self._on_close = on_close
        # What waits: the oldest changes folded into `_head` once past the bound, then the rest.
        self._head: _Fold | None = None
        self._pending: deque[Change] = deque()
        start = state.seq if since is None else min(since, state.seq)
        # Every change up to _taken_seq is pending, in flight or delivered; up to last_seq, delivered.
        self._taken_seq = start
        self.last_seq = start
        self.dropped = 0
        self.coalesced = 0
        self.errors = 0
        self.batches = 0
        self.delivered = 0
        self.busy_s = 0.0
        self.last_error: str | None = None
        self.failing_since: float | None = None  # clock time of the first error of this spell
        self._failing = False
        self._closed = False
        self._hurry = False  # skip the window: a flush or drain asked for everything now
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_delivery = float("-inf")  # loop time
        self._pending_since: float | None = None  # clock time the oldest pending change came
        self._flight_since: float | None = None  # same, for the batch being delivered
        self._unsubscribe = state.follow(self._take)
        if start < state.seq:
            try:
                asyncio.get_running_loop().call_soon(self.catch_up)
            except RuntimeError:  # not started yet: the hub catches up once it is
                pass

    def __repr__(self) -> str:
        return f"<Consumer {self.name} last_seq={self.last_seq} pending={self.pending}>"

    # -- figures (thread-safe reads) -------------------------------------------

    @property
    def lag(self) -> int:
        """Return how many changes the tree is ahead of the last one delivered."""
        return max(0, self._state.seq - self.last_seq)

    @property
    def pending(self) -> int:
        """Return the changes waiting for delivery (a coalesced one counts once)."""
        return len(self._pending) + (self._head is not None)

    @property
    def closed(self) -> bool:
        """True once `close()` has been called."""
        return self._closed

    @property
    def failing(self) -> bool:
        """True while the last batch raised."""
        return self._failing

    def delay_s(self) -> float:
        """Return the age of the oldest change not yet delivered, or 0."""
        oldest = [t for t in (self._flight_since, self._pending_since) if t is not None]
        return max(0.0, self._clock.monotonic() - min(oldest)) if oldest else 0.0

    def health(self) -> dict[str, Any]:
        """Return this consumer's entry in /healthz; not ok while failing or stalled."""
        delay = self.delay_s()
        stalled = delay >= self.stall_after_s
        return {
            "ok": not self._failing and not stalled,
            "last_seq": self.last_seq,
            "lag": self.lag,
            "pending": self.pending,
            "delay_s": round(delay, 3),
            "stalled": stalled,
            "dropped": self.dropped,
            "coalesced": self.coalesced,
            "errors": self.errors,
            "last_error": self.last_error,
            "failing_since": self.failing_since,
            "batches": self.batches,
            "delivered": self.delivered,
        }

    # -- taking changes from the tree (loop only) --------------------------------

    def _take(self, changes: Sequence[Change]) -> None:
        if self._closed or not changes or changes[-1].seq <= self._taken_seq:
            return
        fresh: Sequence[Change] = changes
        if fresh[0].seq <= self._taken_seq:  # some were caught up on already
            fresh = [c for c in changes if c.seq > self._taken_seq]
        if fresh[0].seq != self._taken_seq + 1:
            # Written while the tree delivered to no loop (before start, after stop):
            # the ring buffer still has them, or they are lost and counted.
            missed = self._state.changes_since(self._taken_seq)
            if missed is not None:
                fresh = missed
            else:
                gap = fresh[0].seq - self._taken_seq - 1
                self.dropped += gap
                log.warning("consumer %s missed %d changes no longer buffered", self.name, gap)
        if not fresh:
            return
        self._taken_seq = fresh[-1].seq
        if not self.pending:
            self._pending_since = self._clock.monotonic()
        self._pending.extend(fresh)
        self._bound()
        self._schedule()

    def catch_up(self) -> None:
        """Take every change after the last one taken from the tree's ring buffer. Loop only."""
        if self._closed or self._taken_seq >= self._state.seq:
            return
        missed = self._state.changes_since(self._taken_seq)
        if missed is None:
            gap = self._state.seq - self._taken_seq
            self.dropped += gap
            self._taken_seq = self._state.seq
            log.warning("consumer %s missed %d changes no longer buffered", self.name, gap)
            return
        self._take(missed)

    def _bound(self) -> None:
        excess = self.pending - self.max_pending
        if excess <= 0:
            return
        if self.coalesce:
            # The oldest go into the head one at a time: a steady cost per change, never
            # a pause to fold thousands at once; the newest stay as they came.
            head = self._head
            if head is None:
                head = self._head = _Fold()
                excess += 1
            replaced = 0
            for _ in range(excess):
                replaced += head.add(self._pending.popleft())
            self.coalesced += replaced
        else:
            for _ in range(excess):
                self._pending.popleft()
            self.dropped += excess

    # -- delivering (loop only) --------------------------------------------------

    def _schedule(self) -> None:
        if self._closed or not self.pending:
            return
        loop = asyncio.get_running_loop()
        if self.is_async:
            if self._task is None:
                self._task = loop.create_task(self._run(), name=f"consumer-{self.name}")
            return
        if self._timer is not None:
            return
        delay = 0.0 if self._hurry else self._last_delivery + self.window_s - loop.time()
        if delay > 0:
            # A throttle, not a debounce: the first change after a quiet window goes
            # out at once; those that follow within the window go together at its end.
            self._timer = loop.call_later(delay, self._due)
        else:
            self._deliver_sync()

    def _due(self) -> None:
        self._timer = None
        if not self._closed and self.pending:
            self._deliver_sync()

    def _take_pending(self) -> list[Change]:
        batch = list(self._pending)
        self._pending.clear()
        if self._head is not None:
            batch.insert(0, self._head.change())
            self._head = None
        self._flight_since, self._pending_since = self._pending_since, None
        self._last_delivery = asyncio.get_running_loop().time()
        return batch

    def _deliver_sync(self) -> None:
        batch = self._take_pending()
        started = self._clock.monotonic()
        try:
            result = self._on_batch(batch)
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise TypeError("on_batch returned an awaitable; make it an `async def`")
        except Exception as exc:
            self._finish(batch, started, exc)
        else:
            self._finish(batch, started, None)
        if not self.pending:
            self._hurry = False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.pending and not self._closed:
                delay = 0.0 if self._hurry else self._last_delivery + self.window_s - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                batch = self._take_pending()
                started = self._clock.monotonic()
                try:
                    await self._on_batch(batch)  # type: ignore[misc]
                except Exception as exc:
                    self._finish(batch, started, exc)
                else:
                    self._finish(batch, started, None)
        finally:
            self._task = None
            self._flight_since = None
            if not self.pending:
                self._hurry = False

    def _finish(self, batch: list[Change], started: float, error: Exception | None) -> None:
        self._flight_since = None
        self.busy_s += max(0.0, self._clock.monotonic() - started)
        self.batches += 1
        self.delivered += len(batch)
        self.last_seq = max(self.last_seq, batch[-1].seq)
        if error is None:
            if self._failing:
                log.info("consumer %s works again (%d errors in all)", self.name, self.errors)
                self._failing = False
                self.failing_since = None
            return
        self.errors += 1
        self.last_error = describe_error(error)
        if not self._failing:
            # Once per spell of failures, not once per batch: a broken consumer would fill a disk.
            self._failing = True
            self.failing_since = self._clock.time()
            log.error(
                "consumer %s failed on seq %d..%d; counting further errors until it works again",
                self.name,
                batch[0].seq,
                batch[-1].seq,
                exc_info=error,
            )

    # -- lifecycle (loop only) ---------------------------------------------------

    def flush(self) -> None:
        """Deliver what is pending now, past the window; an async consumer starts on it. Loop only."""
        if self._closed:
            return
        self.catch_up()
        if not self.pending:
            return
        self._hurry = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._schedule()

    async def drain(self, timeout_s: float | None = None) -> bool:
        """Deliver every change up to the tree's newest seq and wait for it; False on timeout. Loop only."""
        self.flush()
        task = self._task
        if task is None or task is asyncio.current_task():
            return True
        # The task runs until nothing is pending, and flush() took everything up to now.
        done, _ = await asyncio.wait([task], timeout=timeout_s)
        return bool(done)

    def close(self) -> None:
        """Stop following the stream: nothing is delivered after this, what waits is let go. Loop only."""
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        self._pending.clear()
        self._head = None
        self._pending_since = None
        if self._on_close is not None:
            self._on_close(self)

    async def aclose(self) -> None:
        """`close()`, then wait until a batch being delivered has been cancelled. Loop only."""
        task = self._task
        self.close()
        if task is not None and task is not asyncio.current_task():
            await asyncio.gather(task, return_exceptions=True)


def consumer_metrics(consumers: Iterable[Consumer]) -> list[Metric]:
    """Return the metric families of `consumers`, labelled by consumer name."""
    rows = [({"consumer": c.name}, c) for c in consumers]

    def family(name: str, kind: Any, help: str, value: Callable[[Consumer], float]) -> Metric:
        return Metric(name, kind, help, [(labels, float(value(c))) for labels, c in rows])

    return [
        family("roost_consumer_last_seq", "gauge", "Seq of the last change delivered.", lambda c: c.last_seq),
        family("roost_consumer_lag", "gauge", "Changes the tree is ahead of delivery.", lambda c: c.lag),
        family("roost_consumer_pending", "gauge", "Changes waiting for delivery.", lambda c: c.pending),
        family(
            "roost_consumer_delay_seconds",
            "gauge",
            "Age of the oldest change not yet delivered.",
            lambda c: c.delay_s(),
        ),
        family(
            "roost_consumer_dropped_total",
            "counter",
            "Changes dropped because the pending buffer was full or they were no longer buffered.",
            lambda c: c.dropped,
        ),
        family(
            "roost_consumer_coalesced_total",
            "counter",
            "Updates replaced by a newer value of the same path before delivery.",
            lambda c: c.coalesced,
        ),
        family("roost_consumer_errors_total", "counter", "Batches that raised.", lambda c: c.errors),
        family("roost_consumer_batches_total", "counter", "Batches delivered.", lambda c: c.batches),
        family("roost_consumer_changes_total", "counter", "Changes delivered.", lambda c: c.delivered),
        family(
            "roost_consumer_busy_seconds_total",
            "counter",
            "Time spent in on_batch.",
            lambda c: c.busy_s,
        ),
        family("roost_consumer_failing", "gauge", "1 while the last batch raised.", lambda c: c.failing),
    ]
