"""Fixtures of the device tests: the test node, built and served on a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devices_support import Build, build_node
from roost import App
from roost.testing import Harness


@pytest.fixture
def node(tmp_path: Path) -> Build:
    """Build the test node (`node(start=...)`); the same data directory every time, as after a restart."""

    def build(start: str = "2026-12-01 17:50", history: bool = False) -> App:
        return build_node(tmp_path / "data", start, history=history)

    return build


@pytest.fixture
async def home(node: Build) -> AsyncIterator[Harness]:
    """The test node, started and served."""
    async with Harness(node()) as harness:
        await harness.app.devices.settle()
        yield harness
