"""The pytest plugin of roost.testing (registered through the `pytest11` entry point).

It adds one fixture, `roost_kit`, and imports nothing of roost until a test asks
for it, so that every other pytest run stays as quick as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from roost.testing.harness import Harness, When


class Kit:
    """Loads programs into harnesses whose data lives in the test's temporary directory."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.harnesses: list[Harness] = []

    def load(
        self,
        program: str | Path,
        *,
        at: When | None = None,
        timezone: str | None = None,
        serve: bool = True,
        data_dir: str | Path | None = None,
    ) -> Harness:
        """Execute `program` on a fake clock (see `Harness.load`); use the result as `async with`.

        Its data directory is a fresh one under the test's `tmp_path` unless `data_dir`
        names one (the same directory twice: a restart).
        """
        from roost.testing.harness import Harness

        if data_dir is None:
            data_dir = self.tmp_path / f"roost-data-{len(self.harnesses) + 1}"
        harness = Harness.load(program, at=at, timezone=timezone, data_dir=data_dir, serve=serve)
        self.harnesses.append(harness)
        return harness


@pytest.fixture
def roost_kit(tmp_path: Path) -> Iterator[Kit]:
    """Load roost programs on a fake clock: `async with roost_kit.load("home.py", at=...) as home:`."""
    kit = Kit(tmp_path)
    yield kit
    left = [h for h in kit.harnesses if h.started]
    if left:
        pytest.fail(f"{len(left)} harness(es) still running: use `async with roost_kit.load(...)`")
