"""The hub: the state tree, its metadata, commands, workers and components of one node.

Feature folders receive the hub and meet each other only through it: they read
and write state, follow its change stream with `consume()`, and call or add commands.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar

from roost.core.errors import describe_error
from roost.core.meta import MetaIndex, MetaRule, PathMeta, make_rule
from roost.core.metrics import Metric
from roost.runtime.clock import Clock
from roost.runtime.commands import CommandRegistry
from roost.runtime.component import Component
from roost.runtime.consumer import DEFAULT_MAX_PENDING, Consumer, OnBatch, consumer_metrics
from roost.runtime.credentials import Credentials
from roost.runtime.process import ProcessMonitor
from roost.runtime.state import StateTree
from roost.runtime.workers import Scheduler

log = logging.getLogger(__name__)
C = TypeVar("C", bound=Component)

# How long stop() waits for a consumer to take its last changes (an async one may be mid-batch).
DRAIN_TIMEOUT_S = 10.0


class Hub:
    """Everything one node shares. Thread-safe except where a method says "Loop only."."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        tz: tzinfo,
        data_dir: Path,
        buffer_size: int = 4096,
        command_timeout_s: float = 30.0,
        command_max_in_flight: int = 4,
        worker_stuck_after_s: float | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.tz = tz
        self.data_dir = data_dir
        self.state = StateTree(clock, buffer_size)
        self.commands = CommandRegistry(
            timeout_s=command_timeout_s, max_in_flight=command_max_in_flight, clock=clock
        )
        self.scheduler = Scheduler(clock, worker_stuck_after_s)
        # Memory, open files, threads and loop lag; App sets its memory limit.
        self.process = ProcessMonitor()
        self.components: list[Component] = []
        # Authentication announces ended sessions and tokens here; streams opened with them close.
        self.credentials = Credentials()
        self.consumers: dict[str, Consumer] = {}
        # How long stop() waits for consumers to take their last changes.
        self.drain_timeout_s = DRAIN_TIMEOUT_S
        self.stopping = threading.Event()
        self.started_at: float | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._meta = MetaIndex()
        self._meta_lock = threading.Lock()
        self._meta_cache: dict[str, PathMeta] = {}

    # -- metadata ------------------------------------------------------------

    def set_meta(self, pattern: str, **fields: Any) -> None:
        """Declare metadata for a path or pattern; later declarations win over earlier ones."""
        rule = make_rule(pattern, **fields)
        with self._meta_lock:
            path = self._meta.add(rule)
            # A plain path changes its own metadata only: renaming a device keeps the rest cached.
            if path is None:
                self._meta_cache = {}
            else:
                self._meta_cache.pop(path, None)

    def meta(self, path: str) -> PathMeta:
        """Return the metadata that applies to `path`."""
        cached = self._meta_cache.get(path)
        if cached is None:
            cached = self._meta.resolve(path)
            if len(self._meta_cache) < 100_000:
                self._meta_cache[path] = cached
        return cached

    def meta_rules(self) -> tuple[MetaRule, ...]:
        """Return every declared rule in order."""
        return self._meta.rules

    # -- components ----------------------------------------------------------

    def add_component(self, component: C) -> C:
        """Add a component; it starts after those added before it."""
        if any(c.name == component.name for c in self.components):
            raise ValueError(f"a component named {component.name!r} is already added")
        self.components.append(component)
        return component

    def component(self, kind: type[C]) -> C | None:
        """Return the first component of type `kind`, if any."""
        for c in self.components:
            if isinstance(c, kind):
                return c
        return None

    # -- the change stream ---------------------------------------------------

    def consume(
        self,
        name: str,
        on_batch: OnBatch,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        coalesce: bool = True,
        window_s: float = 0.0,
        since: int | None = None,
    ) -> Consumer:
        """Follow the change stream as `name`: `on_batch(changes)` gets every change after now (or `since`).

        `on_batch` is a quick plain function or an `async def`; see roost.runtime.consumer
        for the bound (`max_pending` changes, then coalesce or drop), the throttle
        `window_s`, and the drain on stop. Loop only once the hub has started.
        """
        if self.loop is not None and not self.loop.is_closed() and _running_loop() is not self.loop:
            raise RuntimeError("hub.consume() runs on the event loop once the hub has started")
        if name in self.consumers:
            raise ValueError(f"a consumer named {name!r} is already following the change stream")
        consumer = Consumer(
            name,
            self.state,
            on_batch,
            clock=self.clock,
            max_pending=max_pending,
            coalesce=coalesce,
            window_s=window_s,
            since=since,
            on_close=self._forget_consumer,
        )
        self.consumers[name] = consumer
        return consumer

    def _forget_consumer(self, consumer: Consumer) -> None:
        if self.consumers.get(consumer.name) is consumer:
            del self.consumers[consumer.name]

    async def drain_consumers(self, timeout_s: float | None = None) -> None:
        """Deliver every change up to the newest seq to every consumer, and wait for them. Loop only."""
        consumers = list(self.consumers.values())
        done = await asyncio.gather(*(c.drain(timeout_s) for c in consumers))
        for consumer, ok in zip(consumers, done, strict=True):
            if not ok:
                log.warning(
                    "consumer %s did not take its last %d changes within %s s",
                    consumer.name,
                    consumer.lag,
                    timeout_s,
                )

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Attach to the running loop, start components in order, then workers. Loop only."""
        self.loop = asyncio.get_running_loop()
        self.stopping.clear()  # an App may be started again after a stop
        self.started_at = self.clock.time()
        self.state.attach(self.loop)
        self.commands.attach(self.loop)
        for consumer in list(self.consumers.values()):
            consumer.catch_up()  # made before start: writes since its `since` were never delivered
        started: list[Component] = []
        try:
            for c in self.components:
                await c.start()
                started.append(c)
        except BaseException:
            for c in reversed(started):
                await _stop_quietly(c)
            raise
        await self.scheduler.start()
        await self.process.start()

    async def stop(self, grace_s: float = 3.0) -> None:
        """Stop workers, drain every consumer, stop components in reverse, close consumers. Loop only."""
        self.stopping.set()
        await self.process.stop()
        await self.scheduler.stop(grace_s)
        self.state.detach()  # delivers what is pending; later writes reach consumers by drain()
        await self.drain_consumers(self.drain_timeout_s)
        for c in reversed(self.components):
            await _stop_quietly(c)
        # Consumers no component closed (a program's own): what components wrote while stopping, then done.
        await self.drain_consumers(min(grace_s, self.drain_timeout_s))
        for consumer in list(self.consumers.values()):
            await consumer.aclose()
        self.commands.close()

    # -- observability -------------------------------------------------------

    def health(self, detail: bool = False) -> dict[str, Any]:
        """Return the health of workers and components.

        Error texts name the exception and its message with the folders of paths left
        out; `detail` (for authenticated admins) adds the full texts where kept.
        """
        workers = self.scheduler.health(detail)
        components = {c.name: _safe_health(c) for c in self.components}
        consumers = {name: c.health() for name, c in sorted(self.consumers.items())}
        commands = self.commands.health()
        process = self.process.health()
        ok = (
            all(w["ok"] for w in workers.values())
            and all(bool(h.get("ok", True)) for h in components.values())
            and all(h["ok"] for h in consumers.values())
            and commands["ok"]
            and process["ok"]
        )
        return {
            "status": "ok" if ok else "degraded",
            "node": self.name,
            "seq": self.state.seq,
            "uptime_s": None if self.started_at is None else round(self.clock.time() - self.started_at, 3),
            "workers": workers,
            "commands": commands,
            "process": process,
            "components": components,
            "consumers": consumers,
        }

    def metrics(self) -> list[Metric]:
        """Return the metric families of the hub, its workers, commands and components."""
        families = [
            Metric.single(
                "roost_state_seq", "counter", "Sequence number of the newest change.", self.state.seq
            ),
            Metric.single("roost_state_leaves", "gauge", "Leaves in the state tree.", self.state.leaf_count),
            Metric.single(
                "roost_state_writes_total", "counter", "Writes to the state tree.", self.state.writes
            ),
            _state_gauges(self),
        ]
        families += self.scheduler.metrics()
        families += consumer_metrics(sorted(self.consumers.values(), key=lambda c: c.name))
        families += self.commands.metrics()
        families += self.process.metrics()
        for c in self.components:
            try:
                families += c.metrics()
            except Exception:
                log.exception("metrics of component %s failed", c.name)
        return families


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _state_gauges(hub: Hub) -> Metric:
    gauge = Metric("roost_state", "gauge", "Numeric values of the state tree (booleans as 0/1), by path.")
    for path, value in hub.state.leaves():
        if isinstance(value, (int, float)):
            gauge.samples.append(({"path": path}, float(value)))
    return gauge


def _safe_health(c: Component) -> dict[str, Any]:
    try:
        return c.health()
    except Exception as exc:
        log.exception("health of component %s failed", c.name)
        return {"ok": False, "error": describe_error(exc)}


async def _stop_quietly(c: Component) -> None:
    try:
        await c.stop()
    except Exception:
        log.exception("component %s failed to stop cleanly", c.name)
