"""`RaspendApplication`: raspend 2.0.4's application class, on a roost node.

The methods, arguments and return values are raspend's; docs/raspend.md lists
every place where roost behaves differently on purpose.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, MutableMapping
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roost.compat.raspend.commands import command_name, registrable
from roost.compat.raspend.component import RaspendComponent
from roost.compat.raspend.handlers import (
    HandlerRun,
    ScheduleRepetitionType,
    ThreadHandlerBase,
    interval_trigger,
    scheduled_rule,
)
from roost.compat.raspend.shared import SharedDict, SharedStore, plain_copy
from roost.runtime.workers import Trigger

if TYPE_CHECKING:
    from roost.app import App

# raspend's server listened on every interface; its users reach /data from other
# machines, so roost does too unless `roost raspend --host` says otherwise.
DEFAULT_HOST = "0.0.0.0"


class RaspendApplication:
    """Worker threads sharing a dict, commands, and the HTTP interface of a raspend program.

    `port=None` serves no HTTP (unless `roost raspend --port` asks for it); the
    workers, the state tree and roost's other components run all the same.
    `sharedDict`, if given, supplies the initial contents; when `run()` returns it
    holds the final contents, so a program that saves it afterwards still works.
    """

    def __init__(self, port: int | None = None, sharedDict: MutableMapping[str, Any] | None = None) -> None:
        self._app = _create_app(None if port is None else int(port))
        hub = self._app.hub
        self._store = SharedStore(hub.state)
        self._user_dict = sharedDict
        if sharedDict is not None:
            self._store.root.update(sharedDict)
        self._shutdownFlag = hub.stopping
        # Handed out for programs that lock around their own read-modify-write
        # sequences, and held around prepare() as raspend did; readers, commands
        # and invoke() never take it.
        self._dataLock = threading.Lock()
        self._component = RaspendComponent(hub, self._store, self._app.request_stop)
        self._app.add_component(self._component)

    @property
    def app(self) -> App:
        """The roost App underneath (for programs that grow into roost)."""
        return self._app

    def createWorkerThread(self, threadHandler: ThreadHandlerBase, waitTimeout: float | None) -> int:
        """Run `threadHandler.invoke()` every `waitTimeout` seconds; return the number of workers."""
        return self._add_worker(threadHandler, interval_trigger(waitTimeout))

    def createScheduledWorkerThread(
        self,
        threadHandler: ThreadHandlerBase,
        scheduledTime: time | None,
        scheduledDate: date | None = None,
        repetitionType: ScheduleRepetitionType | None = None,
        repetitionFactor: float = 1,
    ) -> int:
        """Run `invoke()` from a start time and date, every `repetitionFactor` repetition units."""
        hub = self._app.hub
        now = datetime.fromtimestamp(hub.clock.time(), hub.tz).replace(tzinfo=None)
        rule = scheduled_rule(scheduledTime, scheduledDate, repetitionType, repetitionFactor, hub.tz, now)
        return self._add_worker(threadHandler, rule)

    def addCommand(self, callbackMethod: Callable[..., Any]) -> int:
        """Expose a bound method as the command `variable.method`; return the number of commands."""
        name = command_name(callbackMethod, sys._getframe(1))
        registry = self._app.hub.commands
        func = registrable(callbackMethod)
        if name in registry:
            registry.remove(name)  # raspend's command map: the later addition wins
        registry.add(func, name)
        order = self._component.command_order
        if name not in order:
            order.append(name)
        return len(order)

    def updateSharedDict(self, other: Any) -> int:
        """Merge `other` into the shared dict (existing keys are replaced); return its key count."""
        self._store.root.update(other)
        return len(self._store.root)

    def getSharedDict(self) -> SharedDict:
        """Return the shared dict: a live, write-through view of the state tree."""
        return self._store.root

    def getShutdownFlag(self) -> threading.Event:
        """Return the event that is set when the application stops (setting it stops it)."""
        return self._shutdownFlag

    def getAccessLock(self) -> threading.Lock:
        """Return a lock for the program's own use; roost does not need it for consistency."""
        return self._dataLock

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM (or the shutdown flag), then stop workers in order."""
        try:
            self._app.run()
        finally:
            self._write_back()

    def _add_worker(self, handler: ThreadHandlerBase, trigger: Trigger) -> int:
        if not isinstance(handler, ThreadHandlerBase):
            raise TypeError("Your 'threadHandler' must be derived from 'WorkerThreads.ThreadHandlerBase'!")
        handler.setSharedDict(self._store.root)
        handler.setShutdownFlag(self._shutdownFlag)
        run = HandlerRun(handler, self._shutdownFlag, self._dataLock)
        worker = self._app.hub.scheduler.add(run, trigger, type(handler).__name__)
        self._component.handlers.append((run, worker))
        return len(self._component.handlers)

    def _write_back(self) -> None:
        user = self._user_dict
        if user is None or isinstance(user, SharedDict):
            return
        final = plain_copy(self._store.root)
        user.clear()
        user.update(final)


def _create_app(port: int | None) -> App:
    # compat's one reach above roost.runtime: a raspend program is its own entry
    # point, so the application class assembles the node (server, components) the
    # way `roost run` would. tests/compat/test_layers.py allows exactly this import.
    from roost.app import App

    stem = Path(sys.argv[0]).stem if sys.argv and sys.argv[0] else ""
    name = re.sub(r"[^A-Za-z0-9_.-]", "", stem).strip(".-") or "raspend"
    return App(name, host=DEFAULT_HOST, port=port)
