"""The command registry: register typed callables, list them, call them from any transport.

One command can never take what the others need. Each has at most
`max_in_flight` calls running or queued (a call beyond it is refused with
TooManyRequests, 429); a caller waits `timeout_s` at most (CommandTimeout,
504); a sync call still running when its caller gave up is stuck: its thread
is left to it and replaced (up to `hard_max_threads`), and still counts in
flight, so a hung command holds `max_in_flight` threads at most. While any
call is stuck the node is degraded in /healthz.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from roost.core.commands import CommandSpec, build_spec, check_arguments
from roost.core.errors import CommandTimeout, RoostError, TooManyRequests, UnknownCommand
from roost.core.metrics import Metric
from roost.runtime.threads import DaemonPool

log = logging.getLogger(__name__)


class CommandRegistry:
    """Commands by name. Sync commands run on daemon threads, async ones on the loop."""

    def __init__(
        self,
        timeout_s: float = 30.0,
        max_threads: int = 8,
        max_in_flight: int = 4,
        hard_max_threads: int = 32,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
        self._specs: dict[str, CommandSpec] = {}
        self._pool = DaemonPool("roost-cmd", max_threads, hard_max_threads)
        self._async_in_flight: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.calls: dict[tuple[str, str], int] = {}

    def add(self, func: Callable[..., Any], name: str | None = None) -> CommandSpec:
        """Register `func` (a function or bound method) under `name` or its own name."""
        spec = build_spec(func, name)
        if spec.name in self._specs:
            raise ValueError(f"a command named {spec.name!r} is already registered")
        self._specs[spec.name] = spec
        return spec

    def remove(self, name: str) -> None:
        """Forget the command `name`."""
        self._specs.pop(name, None)

    def get(self, name: str) -> CommandSpec:
        """Return the spec of `name`, or raise UnknownCommand."""
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownCommand(name) from None

    def specs(self) -> list[CommandSpec]:
        """Return every command's spec, sorted by name."""
        return [self._specs[k] for k in sorted(self._specs)]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the loop so that threads can call commands through it."""
        self._loop = loop

    async def call(self, name: str, args: Mapping[str, Any]) -> Any:
        """Check `args` against the command and run it; raise a RoostError on failure. Loop only."""
        spec = self.get(name)
        kwargs = check_arguments(spec, args)
        if self.in_flight(name) >= self.max_in_flight:
            key = (name, "refused")
            self.calls[key] = self.calls.get(key, 0) + 1
            raise TooManyRequests(
                f"command {name!r} already has {self.max_in_flight} calls in flight, its limit; "
                "retry once one has finished",
                command=name,
                limit=self.max_in_flight,
            )
        started = time.monotonic()
        outcome = "error"
        deadline = asyncio.timeout(self.timeout_s)
        try:
            async with deadline:
                if spec.is_async:
                    result = await self._run_async(name, spec.func(**kwargs))
                else:
                    result = await self._pool.run(lambda: spec.func(**kwargs), name)
            outcome = "ok"
            return result
        except TimeoutError as exc:
            # Only our deadline is a command timeout; a TimeoutError the command raised
            # itself (a device that did not answer) is the command failing.
            if not deadline.expired():
                raise _failed(name, exc) from None
            outcome = "timeout"
            raise CommandTimeout(f"command {name!r} did not finish within {self.timeout_s:g} s") from None
        except RoostError:
            raise
        except Exception as exc:
            raise _failed(name, exc) from None
        finally:
            key = (name, outcome)
            self.calls[key] = self.calls.get(key, 0) + 1
            log.debug("command %s %s in %.1f ms", name, outcome, (time.monotonic() - started) * 1e3)

    async def _run_async(self, name: str, coro: Any) -> Any:
        self._async_in_flight[name] = self._async_in_flight.get(name, 0) + 1
        try:
            return await coro
        finally:
            self._async_in_flight[name] -= 1

    def in_flight(self, name: str) -> int:
        """Return how many calls of `name` are queued or running, stuck ones included."""
        return self._pool.in_flight(name) + self._async_in_flight.get(name, 0)

    def stuck(self) -> dict[str, int]:
        """Return how many stuck calls (their callers gave up, their threads still run) each command has."""
        return self._pool.stuck()

    def health(self) -> dict[str, Any]:
        """Return the commands' entry in /healthz: not ok while any call is stuck."""
        stuck = self.stuck()
        return {
            "ok": not stuck,
            "stuck": stuck,
            "threads": self._pool.threads,
            "busy": self._pool.busy,
            "max_in_flight": self.max_in_flight,
            "timeout_s": self.timeout_s,
        }

    def call_threadsafe(self, name: str, args: Mapping[str, Any], timeout_s: float | None = None) -> Any:
        """Call a command from a worker thread and wait for its result. Not from the loop."""
        if self._loop is None:
            raise RoostError("commands can be called from threads only while the app runs")
        if _on_loop(self._loop):
            # Waiting here would block the very loop that must run the command.
            raise RuntimeError("call_threadsafe() is for threads; on the loop use `await call(...)`")
        fut = asyncio.run_coroutine_threadsafe(self.call(name, args), self._loop)
        return fut.result(timeout_s if timeout_s is not None else self.timeout_s + 1)

    def metrics(self) -> list[Metric]:
        """Return the call counters by command and outcome, and the threads stuck and in use."""
        stuck = self.stuck()
        return [
            Metric(
                "roost_command_calls_total",
                "counter",
                "Command calls by command and outcome.",
                [({"command": n, "outcome": o}, float(c)) for (n, o), c in sorted(self.calls.items())],
            ),
            Metric(
                "roost_command_stuck",
                "gauge",
                "Sync command calls still running after their callers gave up, by command.",
                [({"command": n}, float(stuck.get(n, 0))) for n in sorted(self._specs)],
            ),
            Metric.single(
                "roost_command_threads", "gauge", "Threads of the sync command pool.", self._pool.threads
            ),
        ]

    def close(self) -> None:
        """Let the command threads end."""
        self._pool.close()


_MAX_MESSAGE_CHARS = 500


def _failed(name: str, exc: Exception) -> RoostError:
    # Called inside the except block: the log gets the command's own traceback. The
    # program is the user's own, so the caller sees what it raised; the traceback
    # and the files it names stay in the log.
    log.exception("command %r raised", name)
    kind = type(exc).__name__
    said = str(exc)
    if len(said) > _MAX_MESSAGE_CHARS:
        said = said[:_MAX_MESSAGE_CHARS] + "..."
    return RoostError(f"command {name!r} raised {kind}" + (f": {said}" if said else ""), exception=kind)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
