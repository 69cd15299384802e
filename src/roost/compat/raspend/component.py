"""The component that runs a raspend program's parts inside a roost node."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from roost.compat.raspend.handlers import HandlerRun
from roost.compat.raspend.routes import RaspendApi
from roost.compat.raspend.shared import SharedStore
from roost.runtime.component import Component
from roost.runtime.consumer import Consumer
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.runtime.workers import Worker

log = logging.getLogger(__name__)

# How often to look whether the program set its shutdown flag itself.
FLAG_POLL_S = 0.25


class RaspendComponent(Component):
    """Follows the tree for the shared dict, prepares handlers, serves raspend's routes.

    `request_stop` is called when the program sets `getShutdownFlag()` itself:
    in raspend that ended every thread but left the process running; in roost it
    stops the node.
    """

    name = "raspend"

    def __init__(self, hub: Hub, store: SharedStore, request_stop: Callable[[], None]) -> None:
        self.hub = hub
        self.store = store
        self.request_stop = request_stop
        self.handlers: list[tuple[HandlerRun, Worker]] = []
        self.command_order: list[str] = []
        self.api = RaspendApi(hub, self.command_order)
        self._tasks: set[asyncio.Task[None]] = set()
        self._consumer: Consumer | None = None

    async def start(self) -> None:
        """Follow the change stream and prepare each handler on its worker's thread. Loop only."""
        self._consumer = self.store.attach(self.hub)
        for run, worker in self.handlers:
            self._spawn(self._prepare(run, worker))
        self._spawn(self._watch_flag())

    async def stop(self) -> None:
        """Stop following the tree. Loop only."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def routes(self) -> list[Route]:
        """Serve /data, /cmds, /cmd and POST /."""
        return self.api.routes()

    def openapi_paths(self) -> dict[str, Any]:
        """Describe raspend's routes."""
        return self.api.openapi_paths()

    def health(self) -> dict[str, Any]:
        """Report the handlers whose prepare() has not succeeded yet."""
        waiting = [worker.name for run, worker in self.handlers if not run.prepared]
        return {"ok": True, "handlers": len(self.handlers), "unprepared": waiting}

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _prepare(self, run: HandlerRun, worker: Worker) -> None:
        # raspend calls prepare() when the thread starts, not at the first scheduled run,
        # and programs rely on it to put initial values in the dict. The worker's own
        # single thread runs it, ahead of the first invoke() queued behind it, so a
        # handler that opens a connection in prepare() uses it from the same thread.
        try:
            if worker.pool is not None:
                await worker.pool.run(run.prepare)
            else:
                run.prepare()
        except Exception:
            log.exception("prepare() of %s failed; it is tried again before the next run", worker.name)

    async def _watch_flag(self) -> None:
        # A threading.Event that any thread may set: polled, as no loop primitive can wait on it.
        while not self.hub.stopping.is_set():  # noqa: ASYNC110
            await asyncio.sleep(FLAG_POLL_S)
        with contextlib.suppress(RuntimeError):  # the loop is already closing
            self.request_stop()
