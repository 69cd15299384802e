"""Faults on a real node: each test writes a small program and runs it with `roost run`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from support import RoostProcess, StartNode


@pytest.fixture
def start_node(tmp_path: Path, roost_process: type[RoostProcess]) -> StartNode:
    """`start_node(program_source, *roost_run_options)` serves the program and waits until it answers."""

    def start(source: str, *options: str, ready: bool = True) -> RoostProcess:
        program = tmp_path / "program.py"
        program.write_text(textwrap.dedent(source))
        proc = roost_process(["run", *options, str(program)])
        if ready:
            proc.wait_ready()
        return proc

    return start
