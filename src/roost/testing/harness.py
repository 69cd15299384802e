"""Harness: a user's App on a fake clock, with its HTTP API, live push and commands at hand."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import types
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp

from roost import app as app_module
from roost.app import App
from roost.runtime.clock import FakeClock
from roost.runtime.workers import Scheduler
from roost.testing.live import LiveClient

When = datetime | str | float


class HttpError(AssertionError):
    """An HTTP call of the harness answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} answered {status}: {body!r}")
        self.status = status
        self.body = body


def workers_busy(target: App | Scheduler) -> list[str]:
    """Return the names of workers (of an App or a Scheduler) whose calls still run or wait on threads.

    `clock.watch(lambda: workers_busy(app))` makes a FakeClock wait for them.
    """
    scheduler = target.hub.scheduler if isinstance(target, App) else target
    return [name for name, w in scheduler.workers.items() if w.pool is not None and w.pool.unfinished]


def fake_clock(start: When | None = None, tz: tzinfo = UTC) -> FakeClock:
    """Return a FakeClock for harness use, starting at `start` (naive times are in `tz`)."""
    # One loop iteration suffices once the loop's ready queue is empty; threads are
    # waited for through watch(), not through extra iterations.
    clock = FakeClock(min_rounds=1)
    if start is not None:
        clock.jump_wall(to_timestamp(start, tz) - clock.time())
    return clock


def to_timestamp(when: When, tz: tzinfo) -> float:
    """Return epoch seconds of `when`: a datetime or ISO 8601 text (naive ones are local to `tz`)."""
    if isinstance(when, (int, float)):
        return float(when)
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.timestamp()


class Harness:
    """One App under test: a fake clock that `advance()` moves, a real server on 127.0.0.1.

    Build it with `Harness.load("home.py", at=...)` for a program file (its
    `app.run()` returns at once), or `Harness(app, clock)` for an App built on
    a FakeClock. Use it as `async with harness:` (start and stop). Loop only,
    except `load()` and the read-only properties.
    """

    app: App
    clock: FakeClock
    module: types.ModuleType | None

    def __init__(
        self,
        app: App,
        clock: FakeClock | None = None,
        *,
        module: types.ModuleType | None = None,
        serve: bool = True,
    ) -> None:
        clock = clock if clock is not None else app.hub.clock  # type: ignore[assignment]
        if not isinstance(clock, FakeClock):
            raise TypeError("the harness needs an App built with clock=FakeClock()")
        self.app = app
        self.clock: FakeClock = clock
        self.module = module
        self.serve = serve
        self._http: aiohttp.ClientSession | None = None
        self._live: list[LiveClient] = []
        self._unwatch: Any = None
        self._tmp: str | None = None
        self.started = False

    # -- building ------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        program: str | Path,
        *,
        at: When | None = None,
        timezone: str | None = None,
        data_dir: str | Path | None = None,
        serve: bool = True,
    ) -> Harness:
        """Execute a program file on a fake clock and return a harness for the App it creates.

        `at` is where the clock starts (ISO 8601 or a datetime; naive times are
        local to the App's zone). `timezone` replaces the program's. Without
        `data_dir`, a temporary directory is used and removed at stop. The
        program runs as a module named after its file, so code under
        `if __name__ == "__main__":` does not run; its globals are `harness.module`.
        """
        path = Path(program).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no such program file: {program}")
        tmp = None if data_dir is not None else tempfile.mkdtemp(prefix="roost-test-")
        clock = fake_clock()

        def zone_known(tz: tzinfo) -> None:
            if at is not None:
                clock.jump_wall(to_timestamp(at, tz) - clock.time())

        imposed = app_module.Overrides(
            clock, Path(data_dir if data_dir is not None else str(tmp)), timezone, zone_known
        )
        before = set(app_module.apps_created())
        token = app_module.overrides.set(imposed)
        try:
            module = _exec_program(path)
        except BaseException:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            app_module.overrides.reset(token)
        apps = [a for a in app_module.apps_created() if a not in before and a.hub.clock is clock]
        if len(apps) != 1:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"{path.name} must create exactly one roost App; it created {len(apps)}")
        harness = cls(apps[0], clock, module=module, serve=serve)
        harness._tmp = tmp
        return harness

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        """Start the App (and its server on a free port of 127.0.0.1) and settle. Loop only."""
        self._unwatch = self.clock.watch(lambda: workers_busy(self.app))
        try:
            if self.serve:
                await self.app.start(host="127.0.0.1", port=0)
            else:
                self.app.http = False
                await self.app.start()
        except BaseException:
            self._unwatch()
            raise
        self.started = True
        await self.clock.settle()

    async def stop(self) -> None:
        """Close clients, stop the App, remove a temporary data directory. Loop only."""
        try:
            for live in self._live:
                await live.close()
            self._live.clear()
            if self._http is not None:
                await self._http.close()
                self._http = None
            if self.started:
                self.started = False
                await self.app.stop()
        finally:
            if self._unwatch is not None:
                self._unwatch()
                self._unwatch = None
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None

    async def __aenter__(self) -> Harness:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- time ----------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The fake time, in the App's zone."""
        return datetime.fromtimestamp(self.clock.time(), self.app.hub.tz)

    async def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> None:
        """Move fake time forward; every worker due on the way runs, in order, to its end. Loop only.

        Sync workers run on their threads as in production; each run finishes
        before the clock moves on. A run still going after the clock's
        `settle_timeout_s` of real time raises TimeoutError.
        """
        total = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days).total_seconds()
        await self.clock.advance(total)

    async def advance_to(self, when: When) -> None:
        """Advance to a moment (ISO 8601 or datetime; naive times are local to the App). Loop only."""
        delta = to_timestamp(when, self.app.hub.tz) - self.clock.time()
        if delta < 0:
            raise ValueError(f"{when} is in the past of the fake clock ({self.now.isoformat()})")
        await self.clock.advance(delta)

    def runs(self, worker: str) -> int:
        """Return how many runs of `worker` have finished."""
        return int(self.app.hub.scheduler.workers[worker].status.runs)

    # -- state and commands --------------------------------------------------------

    @property
    def state(self) -> Any:
        """The App's state tree."""
        return self.app.state

    async def call(self, command: str, /, **args: Any) -> Any:
        """Call a command as a program would (arguments checked) and settle; return its result. Loop only."""
        result = await self.app.hub.commands.acall(command, args)
        await self.clock.settle()
        return result

    # -- HTTP and live push --------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL of the App's server."""
        if not self.started or self.app.server is None:
            raise RuntimeError("the harness serves HTTP only while started with serve=True")
        return self.app.url

    @property
    def http(self) -> aiohttp.ClientSession:
        """An aiohttp session on the App's server (`await harness.http.get("/api/state")`)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(base_url=self.url)
        return self._http

    async def get(self, path: str, **params: Any) -> Any:
        """GET `path` and return its JSON; raise HttpError for an error status. Loop only."""
        return await self._request("GET", path, params=params or None)

    async def post(self, path: str, body: Any = None) -> Any:
        """POST `body` as JSON to `path` and return the JSON reply; raise HttpError on an error. Loop only."""
        return await self._request("POST", path, json=body)

    async def command(self, command: str, /, **args: Any) -> Any:
        """Call a command over HTTP (`POST /api/commands/{name}`) and return its result. Loop only."""
        reply = await self.post(f"/api/commands/{command}", args)
        await self.clock.settle()
        return reply["result"]

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.http.request(method, path, **kwargs) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise HttpError(method, path, response.status, body)
            return body

    async def live(self, *patterns: str) -> LiveClient:
        """Open a WebSocket on `/api/live` (optionally for path patterns) and wait for its snapshot."""
        client = LiveClient(self.http, patterns)
        await client.connect()
        self._live.append(client)
        return client


_loaded = 0


def _exec_program(path: Path) -> types.ModuleType:
    # A module of its own, not runpy: run_path hands back a copy of the globals, and a
    # test must be able to replace what the program's functions look up (a sensor read).
    global _loaded
    _loaded += 1
    name = f"{path.stem}" if path.stem.isidentifier() else f"roost_program_{_loaded}"
    module = types.ModuleType(name)
    module.__file__ = str(path)
    code = compile(path.read_bytes(), str(path), "exec")
    previous = sys.modules.get(name)
    sys.modules[name] = module  # dataclasses and pickling look their module up there
    sys.path.insert(0, str(path.parent))
    try:
        exec(code, module.__dict__)
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(str(path.parent))
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
    return module
