"""Fixtures for the history tests: real SQLite files in a temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from roost.store import HistoryStore, Retention

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    """An open history database in a temporary directory, closed after the test."""
    s = HistoryStore(tmp_path / "history.db", BERLIN, Retention())
    s.open()
    try:
        yield s
    finally:
        s.close()
