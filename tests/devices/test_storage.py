"""Settings on disk: crash-safe writes, a schema version, restarts, `roost config export/import`."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from devices_support import Build
from roost.cli import main
from roost.devices.storage import SCHEMA, EventLog, load_document
from roost.runtime.settingsfile import SettingsUnreadable, write_atomically
from roost.testing import Harness


def test_an_interrupted_write_leaves_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "devices.json"
    write_atomically(path, b'{"schema": 1}')

    def power_cut(src: str, dst: str) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(OSError, match="power cut"):
        write_atomically(path, b'{"schema": 1, "devices": {"half": 1}}')
    assert path.read_bytes() == b'{"schema": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["devices.json"]  # no temp file left behind


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"schema": 99}', "newer roost"),
        ("[1]", "no schema"),
        ("{oops", "not JSON"),
        ('{"schema": 1, "devices": 3}', "devices"),
    ],
)
def test_unusable_settings_files_are_refused_not_overwritten(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "devices.json"
    path.write_text(text)
    with pytest.raises(SettingsUnreadable, match=fragment):
        load_document(path)


async def test_a_node_refuses_to_start_on_a_newer_settings_file(node: Build, tmp_path: Path) -> None:
    path = tmp_path / "data" / "devices.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": 99, "devices": {}}')
    with pytest.raises(SettingsUnreadable):
        async with Harness(node()):
            pass
    assert path.read_text() == '{"schema": 99, "devices": {}}'


def test_a_torn_last_event_line_is_skipped(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events.jsonl")
    log.append([{"ts": 1, "device": "tv"}, {"ts": 2, "device": "tv"}])
    with (tmp_path / "events.jsonl").open("a") as f:
        f.write('{"ts": 3, "dev')
    assert [e["ts"] for e in log.read()] == [1, 2]


async def test_settings_and_schedules_survive_a_restart(node: Build, tmp_path: Path) -> None:
    week = [[-1] * 96 for _ in range(7)]
    async with Harness(node()) as home:
        await home.app.devices.settle()
        async with home.http.patch("/api/devices/lamp", json={"name": "Desk lamp", "standby_hold_s": 30}):
            pass
        async with home.http.put("/api/schedules/always", json={"description": "all week", "week": week}):
            pass
        async with home.http.delete("/api/schedules/mornings"):
            pass
    doc = json.loads((tmp_path / "data" / "devices.json").read_text())
    assert doc["schema"] == SCHEMA and doc["devices"]["lamp"]["edited"] == ["name", "standby_hold_s"]
    async with Harness(node()) as home:
        lamp = await home.get("/api/devices/lamp")
        assert (lamp["name"], lamp["standby_hold_s"], lamp["category"]) == ("Desk lamp", 30, "light")
        names = [s["name"] for s in (await home.get("/api/schedules"))["schedules"]]
        assert names == ["always", "tv-evenings"]  # the program's "mornings" stays deleted
        assert (await home.get("/api/schedules/always"))["week"] == week


async def test_config_export_and_import(
    node: Build, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Harness(node()) as home:
        await home.app.devices.settle()
        async with home.http.patch("/api/devices/tv", json={"location": "Den"}):
            pass
    exported = tmp_path / "export.json"
    assert main(["config", "export", "--data-dir", str(tmp_path / "data"), "-o", str(exported)]) == 0
    other = tmp_path / "other"
    assert main(["config", "import", str(exported), "--data-dir", str(other)]) == 0
    assert "imported 3 devices" in capsys.readouterr().out
    assert json.loads((other / "devices.json").read_text()) == json.loads(exported.read_text())


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"schema": 1, "devices": {"Bad Id": {"settings": {}}}}, "device 'Bad Id'"),
        ({"schema": 1, "devices": {"x": {"settings": {"category": "toaster"}}}}, "category"),
        ({"schema": 1, "schedules": {"s": {"week": [[0] * 96] * 7 + [[0] * 96]}}}, "schedule 's'"),
        ({"schema": 1, "overrides": {"x": {"on": True}}}, "override"),
        ({"schema": 7}, "newer roost"),
    ],
)
def test_a_bad_import_writes_nothing(
    tmp_path: Path, doc: object, fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.json"
    source.write_text(json.dumps(doc))
    assert main(["config", "import", str(source), "--data-dir", str(tmp_path / "d")]) == 1
    assert fragment in capsys.readouterr().err
    assert not (tmp_path / "d" / "devices.json").exists()


async def test_a_steady_stream_of_switches_is_written_about_once_a_delay_not_write_after_write(
    home: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roost.devices import persistence

    monkeypatch.setattr(persistence, "SAVE_DELAY_S", 0.1)
    devices = home.app.devices
    await devices.flush()
    writes = 0
    write_files = devices._write_files

    def counting(*args: object) -> None:
        nonlocal writes
        writes += 1
        time.sleep(0.03)  # as long as 500 devices take: switches come in meanwhile
        write_files(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(devices, "_write_files", counting)
    loop = asyncio.get_running_loop()
    began, on = loop.time(), True
    while loop.time() - began < 0.6:  # real time: the delay between writes is the store's own
        await devices.switch("lamp", on, hold=600)
        on = not on
        await asyncio.sleep(0.005)
    await devices.flush()
    assert 3 <= writes <= 10  # 0.6 s of switches in 0.1 s gatherings, and the flush
    saved = json.loads((home.app.hub.data_dir / "devices.json").read_text())
    assert saved["overrides"]["lamp"]["on"] is (not on)  # the last switch is on disk
