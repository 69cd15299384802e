"""HistorySettings: what the recorder records, how often it commits, how long it keeps what."""

from __future__ import annotations

import math
from dataclasses import dataclass

from roost.core.paths import compile_pattern
from roost.store.engine import Retention


@dataclass(frozen=True, slots=True)
class HistorySettings:
    """Settings of the history recorder: `App(history=HistorySettings(commit_interval_s=60))`.

    Every numeric or boolean leaf matching `include` and no `exclude` pattern is
    recorded; a path's `record=True`/`False` metadata overrides the patterns, and
    its `min_interval_s` and `deadband` thin its samples. `heartbeat_s` records a
    value again when it has not changed for that long, so that every 5-minute
    bucket of a steady value has a sample (None: only changes). Retention is per
    tier in days; None keeps a tier for ever.
    """

    commit_interval_s: float = 15.0
    include: tuple[str, ...] = ("**",)
    exclude: tuple[str, ...] = ()
    heartbeat_s: float | None = 300.0
    keep_raw_days: float | None = 400
    keep_5m_days: float | None = None
    keep_1h_days: float | None = None
    keep_1d_days: float | None = None
    max_buffered: int = 100_000
    purge_interval_s: float = 6 * 3600.0
    file_name: str = "history.db"

    def __post_init__(self) -> None:
        # A list where a tuple is meant (include=["rooms/**"]) would work but not hash.
        object.__setattr__(self, "include", tuple(self.include))
        object.__setattr__(self, "exclude", tuple(self.exclude))
        for name in ("commit_interval_s", "purge_interval_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.heartbeat_s is not None and not self.heartbeat_s > 0:
            raise ValueError("heartbeat_s must be positive, or None")
        if self.max_buffered < 1:
            raise ValueError("max_buffered must be at least 1")
        if "/" in self.file_name or not self.file_name:
            raise ValueError("file_name is a file name inside the data directory")
        for pattern in (*self.include, *self.exclude):
            compile_pattern(pattern)
        self.retention()  # checks the retention values

    def retention(self) -> Retention:
        """Return the retention of each tier."""
        return Retention(self.keep_raw_days, self.keep_5m_days, self.keep_1h_days, self.keep_1d_days)
