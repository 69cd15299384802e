"""The programs and tests the docs show are the files the suite runs, byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def python_blocks(doc: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)


@pytest.mark.parametrize(
    ("doc", "example"),
    [
        ("README.md", "home.py"),
        ("docs/testing.md", "test_readme_program.py"),
    ],
)
def test_the_docs_show_the_example_file_as_it_is(doc: str, example: str) -> None:
    text = (HERE / example).read_text()
    assert text in python_blocks(ROOT / doc), f"{doc} no longer shows tests/docs_examples/{example} as it is"


def test_the_readme_links_the_testing_guide() -> None:
    assert "(docs/testing.md)" in (ROOT / "README.md").read_text()
