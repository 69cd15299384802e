"""RaspendApplication's API in-process: return values, errors, workers, shutdown and the shared dict."""

from __future__ import annotations

import threading
import time as time_module
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from roost.compat.raspend import RaspendApplication, ScheduleRepetitionType, ThreadHandlerBase
from roost.compat.raspend.shared import SharedDict
from roost.runtime.workers import Every
from roost.testing import eventually


@pytest.fixture(autouse=True)
def data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ROOST_DATA_DIR", str(tmp_path))


class Counter(ThreadHandlerBase):
    """Counts runs, fails every other one, and stops the application after `stop_at`."""

    def __init__(self, stop_at: int) -> None:
        self.stop_at = stop_at
        self.thread_ids: set[int] = set()

    def prepare(self) -> None:
        self.thread_ids.add(threading.get_ident())
        self.sharedDict["counter"] = {"runs": 0}

    def invoke(self) -> None:
        self.thread_ids.add(threading.get_ident())
        self.sharedDict["counter"]["runs"] += 1
        if self.sharedDict["counter"]["runs"] >= self.stop_at:
            self.shutdownFlag.set()
        if self.sharedDict["counter"]["runs"] % 2:
            raise RuntimeError("every other run fails")


class Doorbell:
    def ring(self) -> str:
        return "first"


class LouderDoorbell:
    def ring(self) -> str:
        return "second"


def test_methods_return_what_raspends_return() -> None:
    application = RaspendApplication()
    assert application.createWorkerThread(Counter(1), 60) == 1
    assert application.createScheduledWorkerThread(Counter(1), time(6, 0)) == 2
    assert application.updateSharedDict({"a": 1, "b": {"c": 2}}) == 2
    theDoorbell = Doorbell()
    assert application.addCommand(theDoorbell.ring) == 1
    assert isinstance(application.getSharedDict(), SharedDict)
    assert application.getShutdownFlag() is application.app.hub.stopping
    lock = application.getAccessLock()
    with lock:
        assert lock.locked()


def test_workers_are_roost_workers_named_after_the_handler() -> None:
    application = RaspendApplication()
    application.createWorkerThread(Counter(1), 5)
    application.createWorkerThread(Counter(1), 5)
    application.createScheduledWorkerThread(Counter(1), None, None, ScheduleRepetitionType.MINUTELY, 15)
    workers = application.app.hub.scheduler.workers
    assert list(workers) == ["Counter", "Counter_2", "Counter_3"]
    assert workers["Counter"].trigger == Every(5.0)
    assert workers["Counter_3"].trigger.describe().startswith("every 15 minutes from ")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda a: a.createWorkerThread(object(), 1), TypeError),
        (lambda a: a.createScheduledWorkerThread(object(), None), TypeError),
        (lambda a: a.createScheduledWorkerThread(Counter(1), None, None, "daily"), TypeError),
        (lambda a: a.createScheduledWorkerThread(Counter(1), None, None, None, 0), ValueError),
    ],
)
def test_bad_handlers_and_schedules_fail_at_once(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(RaspendApplication())


def test_a_command_added_again_under_the_same_name_replaces_the_first() -> None:
    application = RaspendApplication()
    bell = Doorbell()
    application.addCommand(bell.ring)
    bell = LouderDoorbell()  # type: ignore[assignment]
    assert application.addCommand(bell.ring) == 1
    assert application.app.hub.commands.get("bell.ring").func() == "second"


def test_run_keeps_failing_handlers_on_schedule_until_the_flag_stops_it() -> None:
    initial: dict[str, Any] = {"site": "cellar"}
    application = RaspendApplication(None, initial)
    counter = Counter(stop_at=6)
    application.createWorkerThread(counter, 0)
    application.run()  # returns once invoke() sets the shutdown flag, as the program would
    worker = application.app.hub.scheduler.workers["Counter"]
    assert worker.status.runs >= 6 and worker.status.errors >= 3
    assert len(counter.thread_ids) == 1  # prepare() and invoke() on the worker's one thread
    assert application.app.server is None  # port None: no HTTP
    # The dict the program passed in holds the final contents, as raspend's own would.
    assert initial == {"site": "cellar", "counter": {"runs": 6}}


class Reader(ThreadHandlerBase):
    """raspend's README pattern: several readers create their group's dict in prepare()."""

    def __init__(self, name: str) -> None:
        self.name = name

    def prepare(self) -> None:
        if "basement" not in self.sharedDict:
            time_module.sleep(0.02)  # widen the gap raspend's lock closed
            self.sharedDict["basement"] = {}
        self.sharedDict["basement"][self.name] = 0

    def invoke(self) -> None:
        self.sharedDict["basement"][self.name] += 1


async def test_prepares_do_not_interleave_so_no_reader_wipes_another() -> None:
    application = RaspendApplication()
    names = [f"room{i}" for i in range(6)]
    for name in names:
        application.createWorkerThread(Reader(name), 60)
    await application.app.start()
    try:
        await eventually(lambda: application.app.state.get("basement") == dict.fromkeys(names, 1))
        assert application.getSharedDict()["basement"] == dict.fromkeys(names, 1)
        assert all(w.status.errors == 0 for w in application.app.hub.scheduler.workers.values())
    finally:
        await application.app.stop()


def test_initial_shared_dict_is_in_the_state_tree() -> None:
    application = RaspendApplication(None, {"basement": {"party_room": 17.8}})
    assert application.app.state["basement/party_room"] == 17.8
