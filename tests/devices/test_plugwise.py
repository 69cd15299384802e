"""`roost import plugwise`: Plugwise-2-py's circles, schedules and energy logs, on real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roost import App
from roost.cli import main
from roost.store.db import DB_FILE
from roost.store.store import HistoryStore
from roost.testing import Harness, fake_clock

SHARED = Path("/work/shared/fixtures/plugwise-2-py")
SAMPLES = Path(__file__).resolve().parent / "plugwise"
AMS = ZoneInfo("Europe/Amsterdam")


def run_import(config_dir: Path, data_dir: Path, *extra: str) -> int:
    return main(
        [
            "import",
            "plugwise",
            str(config_dir),
            "--data-dir",
            str(data_dir),
            "--timezone",
            "Europe/Amsterdam",
            *extra,
        ]
    )


def node(data_dir: Path) -> App:
    """A node with no devices of its own: everything it has comes from the settings file."""
    clock = fake_clock("2025-12-01 20:00", AMS)
    return App("pw", data_dir=data_dir, port=0, timezone="Europe/Amsterdam", clock=clock, history=False)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared fixtures are not on this machine")
async def test_the_shared_fixture_imports_and_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(SHARED, tmp_path) == 0
    assert "imported 4 devices (tv, fridge, roof-pv, desk-lamp) and 2 schedules" in capsys.readouterr().out
    async with Harness(node(tmp_path)) as home:
        await home.app.devices.settle()
        devices = {d["id"]: d for d in (await home.get("/api/devices"))["devices"]}
        tv, fridge, pv, lamp = devices["tv"], devices["fridge"], devices["roof-pv"], devices["desk-lamp"]
        assert (tv["category"], tv["location"], tv["schedule"], tv["schedule_enabled"]) == (
            "media",
            "living room",
            "tv-evenings",
            True,
        )
        assert tv["driver"] == {
            "type": "plugwise",
            "mac": "000D6F00004B1C2A",
            "loginterval_min": 60,
            "monitor": True,
            "switch_state": "on",
        }
        assert fridge["always_on"] is True and fridge["category"] == "kitchen"
        assert pv["production"] is True and pv["category"] == "solar"
        assert (
            lamp["record"] is False and lamp["schedule"] == "workdays" and lamp["schedule_enabled"] is False
        )
        assert tv["state"]["online"] is False  # no Plugwise driver yet: offline, nothing lost
        schedule = await home.get("/api/schedules/tv-evenings")
        original = json.loads((SHARED / "schedules" / "tv-evenings.json").read_text())
        assert schedule["week"] == original["schedule"] and schedule["description"] == original["description"]


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared fixtures are not on this machine")
def test_the_shared_energy_logs_land_in_history(tmp_path: Path) -> None:
    assert run_import(SHARED, tmp_path) == 0
    store = HistoryStore(tmp_path / DB_FILE, AMS)
    store.open()
    try:
        [power, energy] = store.query(
            ["devices/tv/power_w", "devices/tv/energy_kwh"], 0, 2**32, 100_000, "raw"
        )
    finally:
        store.close()
    lines = (SHARED / "logs" / "pw-2025-12-01-000D6F00004B1C2A.log").read_text().split("\n")
    rows = [line for line in lines if line.strip()]
    assert len(power) == len(rows) == len(energy)
    assert power.t[0] == pytest.approx(1764543600)  # 2025-12-01 00:00 in Amsterdam
    total_wh = sum(float(r.split(",")[2]) for r in rows)
    assert energy.mean[-1] == pytest.approx(total_wh / 1000, abs=1e-6)


def test_my_samples_odd_categories_duplicate_names_bad_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_import(SAMPLES, tmp_path) == 0
    out = capsys.readouterr().out
    assert (
        "imported 4 devices (espresso-machine, hall-light, hall-light-2, mystery) and 1 schedules (coffee)"
        in out
    )
    assert "broken.json left out" in out and "thu 12:30" in out  # the bad cell, named
    assert "schedule 'gone' is not in schedules/" in out
    assert "not a line" in out and "no circle with mac 000D6F0000FFFFFF" in out
    doc = json.loads((tmp_path / "devices.json").read_text())
    espresso = doc["devices"]["espresso-machine"]["settings"]
    assert (
        espresso["category"] == "kitchen"
        and espresso["schedule"] == "coffee"
        and espresso["schedule_enabled"]
    )
    assert doc["devices"]["hall-light"]["settings"]["category"] == "light"
    assert (
        doc["devices"]["hall-light-2"]["settings"] | {"category": "heating", "always_on": True}
        == (doc["devices"]["hall-light-2"]["settings"])
    )
    assert doc["devices"]["mystery"]["settings"]["category"] == "other"
    assert doc["devices"]["mystery"]["driver"]["loginterval_min"] == 60
    assert doc["schedules"]["coffee"]["week"][0][26] == 15.5


def test_a_folder_that_is_not_plugwise_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pw-conf.json").write_text("{not json")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "roost",
            "import",
            "plugwise",
            str(tmp_path),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stderr.startswith("roost: ") and "is not JSON" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "d" / "devices.json").exists()
