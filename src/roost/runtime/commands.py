"""The command registry: register typed callables, list them, call them from any transport.

Every call carries its `Caller`; the registry checks the command's scope against
it in this one place, and tells listeners (the audit log, device events) how
each call ended. `acall` is the coroutine for the loop; `call` blocks, for
threads (see runtime/blocking.py for the convention).

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
import contextlib
import contextvars
import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from roost.core.caller import PROGRAM, Caller, Scope
from roost.core.commands import CommandSpec, build_spec, check_arguments
from roost.core.errors import (
    CommandTimeout,
    Forbidden,
    InvalidArguments,
    RoostError,
    TooManyRequests,
    Unavailable,
    UnknownCommand,
)
from roost.core.metrics import Metric
from roost.runtime.blocking import refuse_on_loop
from roost.runtime.clock import Clock, SystemClock
from roost.runtime.threads import DaemonPool

log = logging.getLogger(__name__)
_CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("roost_command_caller", default=PROGRAM)


def current_caller() -> Caller:
    """Return who called the command that is running (`PROGRAM` outside a command call).

    A command that acts on someone's behalf (a device switch that records who
    switched) reads it; sync commands see it on their thread too.
    """
    return _CALLER.get()


Outcome = Literal["ok", "error", "timeout", "forbidden", "invalid", "refused", "cancelled"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One finished command call, as listeners see it.

    `args` are the arguments as the caller sent them; `ts` is when the call began
    (epoch seconds, on the hub's clock); `error` is the error message ("" when ok).
    """

    command: str
    args: Mapping[str, Any] = field(repr=False)
    caller: Caller
    outcome: Outcome
    ts: float
    duration_s: float
    error: str = ""


CallListener = Callable[[CallRecord], None]


class CommandRegistry:
    """Commands by name. Sync commands run on daemon threads, async ones on the loop."""

    def __init__(
        self,
        timeout_s: float = 30.0,
        max_threads: int = 8,
        max_in_flight: int = 4,
        hard_max_threads: int = 32,
        clock: Clock | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
        self.clock = clock or SystemClock()
        self._specs: dict[str, CommandSpec] = {}
        self._pool = DaemonPool("roost-cmd", max_threads, hard_max_threads)
        self._async_in_flight: dict[str, int] = {}
        self._running: set[asyncio.Task[Any]] = set()
        self._drained = asyncio.Event()  # set whenever no call is running
        self._aborting = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: tuple[CallListener, ...] = ()
        self.calls: dict[tuple[str, str], int] = {}

    def add(
        self, func: Callable[..., Any], name: str | None = None, scope: Scope | str = Scope.CONTROL
    ) -> CommandSpec:
        """Register `func` (a function or bound method) under `name` or its own name.

        `scope` is what a caller needs to run it: `control` (the default) or `admin`
        for settings; `read` for commands that change nothing.
        """
        spec = build_spec(func, name, scope)
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
        self._aborting = False

    def listen(self, listener: CallListener) -> Callable[[], None]:
        """Call `listener(record)` after every call of a known command; return the unsubscribe function.

        Listeners run on the loop and see refused calls too (outcome `forbidden` or `invalid`). They must
        not block; an exception in one is logged and the others still run.
        """
        self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            self._listeners = tuple(x for x in self._listeners if x is not listener)

        return unsubscribe

    async def acall(self, name: str, args: Mapping[str, Any], caller: Caller = PROGRAM) -> Any:
        """Check `caller`'s scope and `args`, run the command, return its result. Loop only.

        Raises UnknownCommand, Forbidden (the caller lacks the command's scope),
        InvalidArguments, TooManyRequests (too many calls of it in flight),
        CommandTimeout, or a RoostError for a command that failed.
        """
        spec = self.get(name)
        ts = self.clock.time()
        started = self.clock.monotonic()
        try:
            if not caller.allows(spec.scope):
                raise Forbidden(
                    f"command {name!r} needs the {spec.scope.label} scope; "
                    f"this caller has {caller.scope.label}",
                    spec.scope.label,
                    command=name,
                )
            kwargs = check_arguments(spec, args)
            if self.in_flight(name) >= self.max_in_flight:
                raise TooManyRequests(
                    f"command {name!r} already has {self.max_in_flight} calls in flight, its limit; "
                    "retry once one has finished",
                    command=name,
                    limit=self.max_in_flight,
                )
            token = _CALLER.set(caller)
            try:
                result = await self._run(spec, kwargs)
            finally:
                _CALLER.reset(token)
        except BaseException as exc:
            self._finished(name, args, caller, _outcome(exc), ts, started, str(exc))
            raise
        self._finished(name, args, caller, "ok", ts, started, "")
        return result

    def call(
        self,
        name: str,
        args: Mapping[str, Any],
        caller: Caller = PROGRAM,
        timeout_s: float | None = None,
    ) -> Any:
        """`acall`, from a worker thread: run the command on the loop and wait for its result.

        Not on the loop (it refuses: waiting there would block the loop that must run it).
        """
        refuse_on_loop(f"commands.call({name!r})", "commands.acall(...)")
        if self._loop is None:
            raise RoostError("commands can be called from threads only while the app runs")
        fut = asyncio.run_coroutine_threadsafe(self.acall(name, args, caller), self._loop)
        return fut.result(timeout_s if timeout_s is not None else self.timeout_s + 1)

    def call_threadsafe(self, name: str, args: Mapping[str, Any], timeout_s: float | None = None) -> Any:
        """Deprecated: `call` is the thread-safe one now."""
        warnings.warn(
            "commands.call_threadsafe() is now commands.call(); on the loop use `await commands.acall()`",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.call(name, args, PROGRAM, timeout_s)

    async def _run(self, spec: CommandSpec, kwargs: dict[str, Any]) -> Any:
        if self._aborting:
            raise Unavailable(f"the node is stopping; command {spec.name!r} was not called")
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        deadline = asyncio.timeout(self.timeout_s)
        try:
            async with deadline:
                if spec.is_async:
                    return await self._run_async(spec.name, spec.func(**kwargs))
                # The thread runs in a copy of this context: current_caller() works there too.
                context = contextvars.copy_context()
                return await self._pool.run(lambda: context.run(spec.func, **kwargs), spec.name)
        except TimeoutError as exc:
            # Only our deadline is a command timeout; a TimeoutError the command raised
            # itself (a device that did not answer) is the command failing.
            if not deadline.expired():
                raise _failed(spec.name, exc) from None
            raise CommandTimeout(
                f"command {spec.name!r} did not finish within {self.timeout_s:g} s"
            ) from None
        except asyncio.CancelledError:
            if not self._aborting or task is None:
                raise
            # abort_calls() cancelled us: the caller gets a 503 instead of a dropped connection.
            task.uncancel()
            raise Unavailable(
                f"the node is stopping; command {spec.name!r} did not finish", command=spec.name
            ) from None
        except RoostError:
            raise
        except Exception as exc:
            raise _failed(spec.name, exc) from None
        finally:
            if task is not None:
                self._running.discard(task)
                if not self._running:
                    self._drained.set()

    async def abort_calls(self, grace_s: float = 1.0) -> int:
        """Answer every call in flight with Unavailable (503), refuse new ones; return how many. Loop only.

        For stopping: a caller hears that the node stops instead of losing its
        connection. A sync call's thread cannot be stopped: it is left to finish.
        """
        self._aborting = True
        self._drained = asyncio.Event()  # made here: an App may run on another loop next time
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if self._running:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), grace_s)
        return len(tasks)

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

    def _finished(
        self,
        name: str,
        args: Mapping[str, Any],
        caller: Caller,
        outcome: Outcome,
        ts: float,
        started: float,
        error: str,
    ) -> None:
        key = (name, outcome)
        self.calls[key] = self.calls.get(key, 0) + 1
        duration_s = self.clock.monotonic() - started
        if log.isEnabledFor(logging.DEBUG):
            log.debug("command %s %s in %.1f ms (%s)", name, outcome, duration_s * 1e3, caller.describe())
        if not self._listeners:
            return
        sent = dict(args) if isinstance(args, Mapping) else {}
        record = CallRecord(name, sent, caller, outcome, ts, duration_s, error)
        for listener in self._listeners:
            try:
                listener(record)
            except Exception:
                log.exception("command listener %r failed", listener)

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


def _outcome(exc: BaseException) -> Outcome:
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, InvalidArguments):
        return "invalid"
    if isinstance(exc, CommandTimeout):
        return "timeout"
    if isinstance(exc, TooManyRequests):
        return "refused"
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled"
    return "error"


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
