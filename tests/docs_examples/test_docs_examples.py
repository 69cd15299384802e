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


def test_the_testing_guide_names_the_whole_kit_and_only_what_exists() -> None:
    import roost.testing
    from roost.testing import Harness, LiveClient

    text = (ROOT / "docs/testing.md").read_text()
    assert not [name for name in roost.testing.__all__ if f"`{name}" not in text]
    table = dict(re.findall(r"^\| `(Harness|LiveClient)` \| (.*) \|$", text, re.M))
    for cls in (Harness, LiveClient):
        listed = re.findall(r"`(\w+)", table[cls.__name__])
        known = {*dir(cls), *cls.__annotations__, "async"}
        assert not [n for n in listed if n not in known], cls.__name__
