"""The pytest plugin as a user gets it: installed with roost, in a project of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PROGRAM = """
from roost import App

app = App("garden")

@app.daily("06:00")
def water():
    app.state["garden/watered"] = app.state.get("garden/watered", 0) + 1

app.run()
"""

TESTS = """
from pathlib import Path

HERE = Path(__file__).parent


async def test_watered_every_morning(roost_kit):
    async with roost_kit.load(HERE / "garden.py", at="2026-12-01 05:00", timezone="UTC") as garden:
        await garden.advance(days=3)
        assert garden.state["garden/watered"] == 3


async def test_left_running(roost_kit):
    garden = roost_kit.load(HERE / "garden.py")
    await garden.start()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "garden.py").write_text(PROGRAM)
    (tmp_path / "test_garden.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    return tmp_path


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_users_project_gets_the_fixture_without_configuring_it(project: Path) -> None:
    done = run_pytest(project, "-k", "watered")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_a_harness_left_running_fails_the_test(project: Path) -> None:
    done = run_pytest(project, "-k", "left_running")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "harness(es) still running" in done.stdout
