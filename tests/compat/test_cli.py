"""`roost raspend` on the command line: argument split, and clear failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from roost.cli import build_parser


def run_roost(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roost", *args], capture_output=True, text=True, timeout=30, cwd=cwd
    )


@pytest.mark.parametrize(
    ("argv", "roost_port", "program_args"),
    [
        (
            ["raspend", "p.py", "--port", "8080", "--config", "c.json"],
            None,
            ["--port", "8080", "--config", "c.json"],
        ),
        (
            ["raspend", "--port", "9000", "--host", "127.0.0.1", "p.py", "--port", "8080"],
            9000,
            ["--port", "8080"],
        ),
        (["raspend", "p.py"], None, []),
    ],
)
def test_options_before_the_program_are_roosts_the_rest_the_programs(
    argv: list[str], roost_port: int | None, program_args: list[str]
) -> None:
    args = build_parser().parse_args(argv)
    assert (args.program, args.port, args.args) == (Path("p.py"), roost_port, program_args)


def test_a_missing_program_is_reported(tmp_path: Path) -> None:
    result = run_roost("raspend", "nope.py", cwd=tmp_path)
    assert result.returncode == 2 and "no such program file" in result.stderr


def test_a_failing_program_is_reported_with_its_line(tmp_path: Path) -> None:
    program = tmp_path / "broken.py"
    program.write_text(
        "from raspend import RaspendApplication\n\nRaspendApplication(None).addCommand(1 / 0)\n"
    )
    result = run_roost("raspend", str(program), cwd=tmp_path)
    assert result.returncode == 2
    assert "ZeroDivisionError: division by zero (at broken.py:3)" in result.stderr


def test_an_internal_raspend_module_is_explained(tmp_path: Path) -> None:
    program = tmp_path / "old.py"
    program.write_text("from raspend.http import RaspendHTTPServerThread\n")
    result = run_roost("raspend", str(program), cwd=tmp_path)
    assert result.returncode == 2 and "not its internal module raspend.http" in result.stderr
