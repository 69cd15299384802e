"""The alert engine on a fake clock: durations, hysteresis at a hovering value, stale sensors,
health, program checks, repeats, escalation, acknowledgement, snooze, and a restart in each state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from notify_support import make_app
from roost import App
from roost.core.caller import Caller
from roost.rules import Notice
from roost.testing import Harness, eventually


class Recorder:
    """The notices the engine hands over, then on to the node's real channels."""

    def __init__(self, app: App) -> None:
        self.real = app.notifications
        self.sent: list[tuple[Notice, tuple[str, ...]]] = []

    def send(self, notice: Notice, channels: Sequence[str]) -> None:
        self.sent.append((notice, tuple(channels)))
        self.real.send(notice, channels)

    def events(self, rule: str | None = None) -> list[str]:
        return [n.event for n, _ in self.sent if rule is None or n.rule == rule]


def build(data: Path, declare: Any = None) -> tuple[App, Recorder]:
    app = make_app(data)
    app.meta("boiler/flow", label="Boiler flow", unit="°C", kind="temperature")
    if declare is not None:
        declare(app)
    recorder = Recorder(app)
    app.alerts.notifier = recorder
    return app, recorder


def overheat(app: App) -> None:
    app.alert(
        "boiler-hot",
        "boiler/flow",
        above=80,
        for_s=120,
        hysteresis=5,
        label="Boiler flow too hot",
        severity="critical",
        channels=["page", "log"],
    )


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Harness, Recorder]]:
    app, recorder = build(tmp_path / "data", overheat)
    async with Harness(app, serve=False) as harness:
        yield harness, recorder


async def put(h: Harness, path: str, value: Any, after_s: float = 0) -> None:
    h.state[path] = value
    await h.advance(after_s)


def active(h: Harness) -> list[dict[str, Any]]:
    return list(h.app.alerts.describe()["active"])


async def test_a_value_past_its_threshold_fires_only_after_for_and_clears_below_the_hysteresis(
    node: tuple[Harness, Recorder],
) -> None:
    h, rec = node
    await put(h, "boiler/flow", 70.0)
    await put(h, "boiler/flow", 83.4, 119)
    assert [a["state"] for a in active(h)] == ["pending"]
    assert rec.sent == []
    await h.advance(1)
    [alert] = active(h)
    assert alert["state"] == "firing" and alert["value"] == 83.4 and alert["unit"] == "°C"
    [(notice, channels)] = rec.sent
    assert channels == ("page", "log") and notice.event == "firing" and notice.severity == "critical"
    assert notice.title == "Boiler flow too hot"
    assert "Boiler flow 83.4 °C, above 80 °C for 2 min" in notice.body
    assert h.state["alerts/firing"] == [
        {"id": alert["id"], "label": "Boiler flow too hot", "severity": "critical"}
    ]
    # The page channel put it in the tree too.
    assert h.state["alerts/notices"][0]["event"] == "firing"
    # Hovering at the threshold: one alert, not a storm.
    for value in [79.0, 81.0, 78.0, 80.5, 76.0, 82.0, 75.5]:
        await put(h, "boiler/flow", value, 30)
    assert rec.events() == ["firing"]
    assert active(h)[0]["state"] == "firing"
    await put(h, "boiler/flow", 74.9, 1)
    assert active(h) == []
    assert rec.events() == ["firing", "resolved"]
    assert "back to normal after" in rec.sent[-1][0].body
    assert h.state["alerts/firing"] == []
    [past] = h.app.alerts.describe()["recent"]
    assert past["state"] == "resolved" and past["id"] == alert["id"]


async def test_a_blip_shorter_than_for_leaves_no_trace(node: tuple[Harness, Recorder]) -> None:
    h, rec = node
    await put(h, "boiler/flow", 85.0, 60)
    assert active(h)[0]["state"] == "pending"
    await put(h, "boiler/flow", 79.0, 600)
    assert active(h) == [] and rec.sent == []
    assert h.app.alerts.describe()["recent"] == []
    # A value that is no number says nothing: the alert neither starts nor ends by it.
    await put(h, "boiler/flow", "sensor error", 600)
    assert active(h) == []


async def test_clear_for_waits_for_the_value_to_stay_good(tmp_path: Path) -> None:
    def declare(app: App) -> None:
        app.alert("cold", "cellar/temp", below=5, clear_for_s=300, channels=["log"])

    app, rec = build(tmp_path / "data", declare)
    async with Harness(app, serve=False) as h:
        await put(h, "cellar/temp", 4.0)
        assert rec.events() == ["firing"]
        await put(h, "cellar/temp", 6.0, 200)
        await put(h, "cellar/temp", 4.5, 10)  # bad again: the clear wait starts over
        await put(h, "cellar/temp", 6.0, 299)
        assert rec.events() == ["firing"]
        await h.advance(1)
        assert rec.events() == ["firing", "resolved"]


async def test_equals_rules_compare_booleans_with_booleans_only(tmp_path: Path) -> None:
    def declare(app: App) -> None:
        app.alert("door", "garage/door_open", equals=True, for_s=600, label="Garage door open")

    app, rec = build(tmp_path / "data", declare)
    async with Harness(app, serve=False) as h:
        await put(h, "garage/door_open", 1, 700)
        assert active(h) == []
        await put(h, "garage/door_open", True, 599)
        assert rec.events() == []
        await h.advance(1)
        assert rec.events() == ["firing"]
        await put(h, "garage/door_open", False)
        assert rec.events() == ["firing", "resolved"]


async def test_a_silent_sensor_is_a_stale_alert_and_a_write_resolves_it(tmp_path: Path) -> None:
    def declare(app: App) -> None:
        app.alert("outside-silent", "outside/temp", stale_s=180, label="Outside sensor silent")

    app, rec = build(tmp_path / "data", declare)
    async with Harness(app, serve=False) as h:
        await put(h, "outside/temp", 9.5, 170)
        await put(h, "outside/temp", 9.6, 170)  # written in time
        assert rec.events() == []
        await h.advance(10)
        assert rec.events() == ["firing"]
        assert rec.sent[0][0].title == "Outside sensor silent"
        assert "no update for 3 min" in rec.sent[0][0].body
        # The same value again changes nothing in the tree, yet it is a sign of life.
        await put(h, "outside/temp", 9.6, 3)
        assert rec.events() == ["firing", "resolved"]


async def test_repeats_escalate_until_acknowledged_and_a_snooze_holds_them(tmp_path: Path) -> None:
    def declare(app: App) -> None:
        app.alert("hot", "boiler/flow", above=80, repeat_s=600, escalate_after=2, escalate_to=["log"])

    app, rec = build(tmp_path / "data", declare)
    async with Harness(app, serve=False) as h:
        await put(h, "boiler/flow", 90.0)
        await h.advance(600)
        assert rec.events() == ["firing", "repeat"]
        await h.advance(600)
        assert rec.events() == ["firing", "repeat", "repeat", "escalated"]
        assert rec.sent[-1][1] == ("log",)
        await h.advance(600)
        assert rec.sent[-1][1] == ("page", "log")  # after escalation, reminders reach both
        alert_id = str(active(h)[0]["id"])
        # Snoozed for an hour: no reminder until it ends, then one at once.
        h.app.alerts.snooze(alert_id, {"minutes": 60}, Caller("http", principal="alice"))
        assert h.state["alerts/firing"] == []  # the banner rests too
        n = len(rec.sent)
        await h.advance(3599)
        assert len(rec.sent) == n
        await h.advance(1)
        assert rec.events()[n:] == ["repeat"]
        acked = h.app.alerts.acknowledge(alert_id, Caller("http", principal="alice"))
        assert acked["state"] == "acknowledged" and acked["acked_by"] == "alice"
        n = len(rec.sent)
        await h.advance(3600)
        assert len(rec.sent) == n
        await put(h, "boiler/flow", 60.0)
        assert rec.events()[n:] == ["resolved"]
        assert set(rec.sent[-1][1]) == {"page", "log"}  # the escalated channel hears the end too


async def test_a_value_already_past_its_threshold_at_start_fires(tmp_path: Path) -> None:
    app, rec = build(tmp_path / "data", overheat)
    app.state["boiler/flow"] = 90.0
    async with Harness(app, serve=False) as h:
        assert active(h)[0]["state"] == "pending"
        await h.advance(120)
        assert rec.events() == ["firing"]


@pytest.mark.parametrize("state", ["pending", "firing", "acknowledged", "snoozed", "resolved"])
async def test_a_restart_neither_loses_nor_repeats_an_alert(tmp_path: Path, state: str) -> None:
    data = tmp_path / "data"
    app = make_app(data, history=True)
    app.meta("boiler/flow", label="Boiler flow", unit="°C", kind="temperature", retain=True)
    overheat(app)
    rec = Recorder(app)
    app.alerts.notifier = rec
    async with Harness(app, serve=False) as h:
        await put(h, "boiler/flow", 85.0, 60 if state == "pending" else 120)
        if state in ("acknowledged", "snoozed", "resolved"):
            alert_id = str(active(h)[0]["id"])
            if state == "acknowledged":
                h.app.alerts.acknowledge(alert_id, Caller("http", principal="bob"))
            elif state == "snoozed":
                h.app.alerts.snooze(alert_id, {"minutes": 30}, Caller("http", principal="bob"))
            else:
                await put(h, "boiler/flow", 60.0)
        before = h.app.alerts.describe()
        sent = rec.events()
        stopped = (h.now + timedelta(seconds=5)).strftime("%Y-%m-%d %H:%M:%S")

    app2 = make_app(data, start=stopped, history=True)
    app2.meta("boiler/flow", label="Boiler flow", unit="°C", kind="temperature", retain=True)
    overheat(app2)
    rec2 = Recorder(app2)
    app2.alerts.notifier = rec2
    async with Harness(app2, serve=False) as h2:
        after = h2.app.alerts.describe()
        assert [a["id"] for a in after["active"]] == [a["id"] for a in before["active"]]
        assert [a["state"] for a in after["active"]] == [a["state"] for a in before["active"]]
        assert [a["id"] for a in after["recent"]] == [a["id"] for a in before["recent"]]
        if state == "pending":
            await h2.advance(60)  # the `for` counts from when it began, not from the restart
            assert rec2.events() == ["firing"]
        else:
            await h2.advance(60)
            assert rec2.events() == []  # nothing said twice
        if state == "snoozed":
            assert after["active"][0]["snoozed_until"] == before["active"][0]["snoozed_until"]
        if state == "acknowledged":
            assert after["active"][0]["acked_by"] == "bob"
    assert bool(sent) == (state != "pending")  # the first run sent what it should


async def test_health_rules_watch_a_failing_worker(tmp_path: Path) -> None:
    calls = {"n": 0}

    def declare(app: App) -> None:
        @app.every(10, name="pump")
        def pump() -> None:
            calls["n"] += 1
            if calls["n"] > 2:
                raise OSError("pump relay does not answer")

        app.alert("pump-failing", health="workers/pump", for_s=30, label="Pump worker failing")

    app, rec = build(tmp_path / "data", declare)
    async with Harness(app, serve=False) as h:
        await h.advance(15)
        assert rec.events() == []
        await h.advance(45)
        assert rec.events() == ["firing"]
        assert "pump relay does not answer" in rec.sent[0][0].body


async def test_a_program_check_fires_with_its_own_words(tmp_path: Path) -> None:
    minutes = {"run": 0}

    def declare(app: App) -> None:
        @app.alert("pump-long", every_s=60, for_s=0, severity="info")
        def pump_ran_long() -> str | None:
            """Pump ran too long"""
            return f"pump ran {minutes['run']} min in the last hour" if minutes["run"] > 10 else None

    app, rec = build(tmp_path / "data", declare)
    async with Harness(app, serve=False) as h:
        await h.advance(120)
        assert rec.events() == []
        minutes["run"] = 14
        await h.advance(60)
        assert rec.events() == ["firing"]
        notice = rec.sent[0][0]
        assert notice.title == "Pump ran too long" and "pump ran 14 min in the last hour" in notice.body
        minutes["run"] = 3
        await h.advance(60)
        assert rec.events() == ["firing", "resolved"]
        rules = {r["name"]: r for r in h.app.alerts.describe_rules()}
        assert rules["pump-long"]["source"] == "program" and rules["pump-long"]["kind"] == "program"


async def test_an_alerts_db_that_cannot_be_opened_is_tried_again_and_then_gets_the_alerts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from roost.rules import engine

    monkeypatch.setattr(engine, "REOPEN_EVERY_S", 0.05)  # real time: the store's retries are I/O
    data = tmp_path / "data"
    blocker = data / "alerts.db"
    blocker.mkdir(parents=True)  # a directory where the file should be: SQLite cannot open it
    app, rec = build(data, overheat)
    async with Harness(app, serve=False) as h:
        health = app.alerts.health()
        assert health["ok"] is False and "store_error" in health
        await put(h, "boiler/flow", 90.0, 121)
        assert rec.events("boiler-hot") == ["firing"]  # kept in memory meanwhile
        blocker.rmdir()
        await eventually(lambda: app.alerts.store.available)
        await eventually(lambda: app.alerts.health()["ok"] is True)
        await h.advance(0)
    with sqlite3.connect(data / "alerts.db") as conn:
        rows = conn.execute("SELECT rule, state FROM alerts").fetchall()
    assert rows == [("boiler-hot", "firing")]
