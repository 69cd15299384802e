"""History: numeric state recorded into SQLite, with rollups, for charts of any span.

`Recorder` is the component an App adds (`app.history`); `HistorySettings`
configures it. `HistoryStore` is the database itself, for tools that work
without an App (the `roost history` command). docs/history.md has the details.
"""

from roost.store.db import HistoryUnavailable
from roost.store.engine import Retention
from roost.store.query import Series
from roost.store.recorder import Recorder
from roost.store.settings import HistorySettings
from roost.store.store import HistoryStore, UnknownSeries

__all__ = [
    "HistorySettings",
    "HistoryStore",
    "HistoryUnavailable",
    "Recorder",
    "Retention",
    "Series",
    "UnknownSeries",
]
