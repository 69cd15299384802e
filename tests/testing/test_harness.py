"""roost.testing's harness: workers in due order on a fake clock, runs finished, HTTP and live at hand."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roost import App
from roost.testing import Harness, HttpError, fake_clock

BERLIN = ZoneInfo("Europe/Berlin")


def berlin_app(tmp_path: Path, start: str) -> App:
    clock = fake_clock(start, BERLIN)
    return App("kit", clock=clock, timezone="Europe/Berlin", data_dir=tmp_path, latitude=52.5, longitude=13.4)


def record_runs(app: App, log: list[tuple[str, str]]) -> None:
    """Give `app` an interval, a daily, a cron and a sun worker that log (name, local time)."""

    def stamp(name: str) -> None:
        log.append((name, app.hub.clock.time()))  # type: ignore[arg-type]

    app.every(6 * 3600, name="every_6h", immediately=False)(lambda: stamp("every_6h"))
    app.daily("02:30", name="daily")(lambda: stamp("daily"))
    app.cron("15 */4 * * *", name="cron")(lambda: stamp("cron"))
    app.sunrise(name="sunrise")(lambda: stamp("sunrise"))


@pytest.mark.parametrize(
    ("start", "daily_at"),
    [
        # Clocks spring forward at 02:00: 02:30 does not exist that night and fires at 03:30.
        ("2026-03-28T12:00", ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"]),
        # Clocks fall back at 03:00: 02:30 happens twice and fires once, the first time.
        ("2026-10-24T12:00", ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]),
    ],
)
async def test_workers_of_every_kind_run_in_due_order_across_a_dst_day(
    tmp_path: Path, start: str, daily_at: list[str]
) -> None:
    app = berlin_app(tmp_path, start)
    log: list[tuple[str, float]] = []
    record_runs(app, log)  # type: ignore[arg-type]
    async with Harness(app, serve=False) as kit:
        await kit.advance(days=2)
    times = [t for _, t in log]
    assert times == sorted(times), "runs out of due order"
    local = {
        name: [_local(t) for n, t in log if n == name] for name in ("daily", "cron", "sunrise", "every_6h")
    }
    assert local["daily"] == daily_at
    assert len(local["sunrise"]) == 2 and all(
        stamp[11:13] in ("06", "07", "08") for stamp in local["sunrise"]
    )
    assert len(local["every_6h"]) == 8  # elapsed time: a DST change does not shift it
    assert all(stamp[14:16] == "15" for stamp in local["cron"])


def _local(ts: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts, BERLIN).isoformat()


async def test_advance_waits_for_each_sync_run_to_finish(tmp_path: Path) -> None:
    app = berlin_app(tmp_path, "2026-12-01T08:00")
    order: list[str] = []

    @app.every(10, name="slow")
    def slow() -> None:
        time.sleep(0.05)  # a slow sensor read on the worker's thread
        order.append(f"slow {app.hub.clock.time() % 100:g}")

    @app.every(10, name="quick")
    async def quick() -> None:
        order.append(f"quick {app.hub.clock.time() % 100:g}")

    async with Harness(app, serve=False) as kit:
        assert kit.runs("slow") == 1  # started, and its first run finished
        await kit.advance(20)
        assert kit.runs("slow") == 3
    assert sorted(order, key=lambda s: float(s.split()[1])) == order  # no run of a later slot first
    assert len(order) == 6


async def test_a_hung_worker_makes_advance_raise_naming_it(tmp_path: Path) -> None:
    app = berlin_app(tmp_path, "2026-12-01T08:00")
    release = threading.Event()
    app.every(60, name="stuck", immediately=False)(lambda: release.wait(10))
    kit = Harness(app, serve=False)
    kit.clock.settle_timeout_s = 0.2
    async with kit:
        try:
            with pytest.raises(TimeoutError, match="stuck"):
                await kit.advance(60)
        finally:
            release.set()


PROGRAM = """
from roost import App

app = App("prog", port=8123)
app.meta("heating/target", unit="°C")
readings = []


def read_sensor() -> float:
    raise OSError("no sensor on this machine")


@app.every(60)
def poll():
    app.state["room/temp"] = read_sensor()


@app.command
def set_target(celsius: float) -> float:
    app.state["heating/target"] = celsius
    return celsius


app.run()
ran_after = True
if __name__ == "__main__":
    raise SystemExit("the guarded block must not run under the kit")
"""


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "prog.py"
    path.write_text(PROGRAM)
    return path


async def test_load_runs_the_program_with_run_returning_and_its_globals_replaceable(
    program: Path, tmp_path: Path
) -> None:
    kit = Harness.load(program, at="2026-12-01 07:00", timezone="Europe/Berlin", data_dir=tmp_path / "d")
    assert kit.module is not None and kit.module.ran_after is True
    kit.module.read_sensor = lambda: 21.5
    async with kit:
        assert kit.now.isoformat() == "2026-12-01T07:00:00+01:00"
        assert kit.state["room/temp"] == 21.5
        assert kit.app.data_dir == tmp_path / "d"
        assert kit.app.port != 8123  # a free port, on 127.0.0.1
        assert await kit.call("set_target", celsius=20.5) == 20.5
        assert kit.state["heating/target"] == 20.5


async def test_http_commands_errors_and_live_push(program: Path, roost_kit: object) -> None:
    kit = roost_kit.load(program, at="2026-12-01 07:00")  # type: ignore[attr-defined]
    kit.module.read_sensor = lambda: 19.0
    async with kit:
        assert (await kit.get("/api/state/room")) == {"temp": 19.0}
        assert await kit.command("set_target", celsius=21) == 21
        with pytest.raises(HttpError) as err:
            await kit.command("set_target", celsius="warm")
        assert err.value.status == 422
        live = await kit.live("heating/**")
        assert live.state == {"heating": {"target": 21}}
        await kit.call("set_target", celsius=22.5)
        await live.wait_for(lambda state: state["heating"]["target"] == 22.5)
        assert await live.call("set_target", celsius=18) == 18
        await live.wait_for(lambda state: state["heating"]["target"] == 18)


def test_a_program_without_an_app_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(RuntimeError, match="exactly one roost App"):
        Harness.load(empty)


async def test_on_a_loop_without_a_visible_ready_queue_woken_tasks_still_get_their_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from roost.runtime import clock as clock_module
    from roost.testing import FakeClock

    monkeypatch.setattr(clock_module, "_ready_queue", lambda loop: None)  # as on uvloop
    clock = FakeClock(min_rounds=1)
    steps: list[int] = []

    async def hops() -> None:
        await clock.sleep(1)
        for n in range(10):  # a task that passes through several awaits after waking
            steps.append(n)
            await asyncio.sleep(0)

    task = asyncio.get_running_loop().create_task(hops())
    await clock.advance(1)
    assert steps == list(range(10))
    await task


async def test_a_served_node_on_a_fake_clock_dates_its_replies_by_that_clock(tmp_path: Path) -> None:
    from email.utils import parsedate_to_datetime

    import aiohttp

    async with Harness(berlin_app(tmp_path, "2026-07-01T09:30")) as h:
        await h.advance(90)
        async with aiohttp.ClientSession() as session, session.get(h.url + "/healthz") as r:
            date = parsedate_to_datetime(r.headers["Date"])
    # The page reads "now" from this header: it must be the node's now, not the machine's.
    assert date.astimezone(BERLIN).isoformat() == "2026-07-01T09:31:30+02:00"
