"""Shared fixtures: real servers on free ports, real subprocesses, no network mocks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import settings

from roost import App
from support import RoostProcess

ROOT = Path(__file__).resolve().parent.parent

# No per-example deadline: on a machine shared by many test runs (CI, eight engineers
# on two cores) one example can take 300 ms, and Hypothesis's 200 ms default then fails
# a correct property as "flaky". The properties, not their speed, are under test.
settings.register_profile("roost", deadline=None)
settings.load_profile("roost")


@pytest.fixture
def app(tmp_path: Path) -> App:
    """An App with its data in a temporary directory, not yet started."""
    return App("test", data_dir=tmp_path / "data", port=0, timezone="Europe/Berlin")


@pytest.fixture
async def served(app: App) -> AsyncIterator[App]:
    """`app`, started on 127.0.0.1 on a free port; stopped after the test."""
    await app.start(host="127.0.0.1", port=0)
    try:
        yield app
    finally:
        await app.stop()


@pytest.fixture
async def http(served: App) -> AsyncIterator[aiohttp.ClientSession]:
    """A client session pointed at the served app."""
    async with aiohttp.ClientSession(base_url=served.url) as session:
        yield session


@pytest.fixture
def roost_process(tmp_path: Path) -> Iterator[type[RoostProcess]]:
    """Start `roost` subprocesses with `roost_process(args, tmp_path)`; all are killed afterwards."""
    started: list[RoostProcess] = []

    class Tracked(RoostProcess):
        def __init__(self, args: list[str], tmp: Path = tmp_path, env: dict[str, str] | None = None) -> None:
            super().__init__(args, tmp, env)
            started.append(self)

    yield Tracked
    for p in started:
        p.stop()
