"""docs/history.md keeps up with the code: every setting, metric and query parameter is described."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from roost import App, HistorySettings
from roost.store.routes import history_paths

DOC = (Path(__file__).resolve().parents[2] / "docs" / "history.md").read_text()


def test_every_setting_is_documented() -> None:
    for field in dataclasses.fields(HistorySettings):
        if field.name != "file_name":  # the file name is given as history.db
            assert f"`{field.name}" in DOC, field.name


async def test_every_metric_is_documented(served: App) -> None:
    assert served.history is not None
    for family in served.history.metrics():
        assert family.name.removeprefix("roost_history_") in DOC, family.name


def test_every_query_parameter_is_documented() -> None:
    for parameter in history_paths()["/api/history"]["get"]["parameters"]:
        assert f"`{parameter['name']}`" in DOC, parameter["name"]
