"""`roost history import|export`: CSV in and out of a node's history, while the node is stopped.

A running node holds its database for its one writer thread; both commands then
refuse with one line that says what to do instead.
"""

from __future__ import annotations

import sys
import time
from datetime import tzinfo
from pathlib import Path
from typing import TextIO

from roost.core.errors import RoostError
from roost.core.timespec import parse_instant
from roost.runtime.clock import resolve_timezone
from roost.store import csvio
from roost.store.db import DB_FILE, HistoryUnavailable
from roost.store.store import HistoryStore, parse_resolution

_SHOWN_ERRORS = 20


class ProgressBar:
    """A one-line progress bar on a terminal, redrawn at most every 0.2 s."""

    def __init__(self, out: TextIO, label: str) -> None:
        self.out = out
        self.label = label
        self.started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, total: int, rows: int) -> None:
        """Show `done` of `total` bytes and the rows so far."""
        now = time.monotonic()
        if now - self._drawn < 0.2 and done < total:
            return
        self._drawn = now
        fraction = done / total if total else 1.0
        elapsed = max(now - self.started, 1e-6)
        eta = elapsed / fraction - elapsed if fraction > 0 else 0.0
        filled = int(fraction * 24)
        self.out.write(
            f"\r{self.label} [{'#' * filled}{'-' * (24 - filled)}] {fraction:4.0%}"
            f"  {rows:,} rows  {rows / elapsed:,.0f}/s  ETA {int(eta) // 60}:{int(eta) % 60:02d} "
        )
        self.out.flush()

    def finish(self) -> None:
        """End the line."""
        self.out.write("\n")
        self.out.flush()


# A running node holds its history database for its one writer: these say what to do instead.
_WHILE_RUNNING = {
    "import": "import needs it stopped: stop the node, import, then start it again",
    "export": "stop it first, or export over its HTTP API: GET /api/history?path=..&format=csv",
}


def _open(data_dir: Path, timezone: str | None, err: TextIO, action: str) -> HistoryStore | None:
    store = HistoryStore(data_dir / DB_FILE, resolve_timezone(timezone))
    try:
        store.open()
    except HistoryUnavailable as exc:
        if "in use by another process" in str(exc):
            print(
                f"roost history {action}: the node using {data_dir} is running (it holds {DB_FILE}); "
                + _WHILE_RUNNING[action],
                file=err,
            )
        else:
            print(f"roost history {action}: {exc}", file=err)
        return None
    return store


def import_files(data_dir: Path, files: list[Path], timezone: str | None, err: TextIO = sys.stderr) -> int:
    """Import CSV files; return 0 if every row went in, 1 if some were bad, 2 on errors."""
    missing = [f for f in files if not f.is_file()]
    if missing:
        print(f"roost history: no such file: {missing[0]}", file=err)
        return 2
    store = _open(data_dir, timezone, err, "import")
    if store is None:
        return 2
    status = 0
    naive_tz = resolve_timezone(timezone) if timezone else store.tz
    try:
        for file in files:
            bar = ProgressBar(err, file.name) if err.isatty() else None
            # On a terminal, a bad row's line starts below the progress bar.
            lead = "\n" if bar else ""
            shown = 0

            def report_bad(line: int, reason: str, file: Path = file, lead: str = lead) -> None:
                nonlocal shown
                shown += 1
                if shown <= _SHOWN_ERRORS:
                    err.write(f"{lead}{file}:{line}: {reason}\n")

            report = csvio.import_csv(
                store,
                file,
                time.time(),
                naive_tz,
                on_bad=report_bad,
                on_progress=bar.update if bar else None,
            )
            if bar:
                bar.finish()
            if report.already_done:
                print(
                    f"{file}: already imported ({report.total_rows:,} rows, {report.total_bad:,} bad)",
                    file=err,
                )
                continue
            if report.bad > _SHOWN_ERRORS:
                print(f"{file}: ... and {report.bad - _SHOWN_ERRORS:,} more bad rows", file=err)
            resumed = f", resumed after line {report.resumed_at_line:,}" if report.resumed_at_line else ""
            print(f"{file}: imported {report.rows:,} rows, {report.bad:,} bad{resumed}", file=err)
            if report.bad:
                status = max(status, 1)
    finally:
        store.close()
    return status


def export(
    data_dir: Path,
    out: TextIO,
    paths: list[str],
    start: str | None,
    end: str | None,
    resolution: str,
    epoch: bool,
    timezone: str | None,
    err: TextIO = sys.stderr,
) -> int:
    """Write history as CSV to `out`; return the exit status."""
    store = _open(data_dir, timezone, err, "export")
    if store is None:
        return 2
    try:
        tz: tzinfo = store.tz
        now = time.time()
        lo = parse_instant(start, now, tz) if start else 0.0
        hi = parse_instant(end, now, tz) if end else now + 1
        width = parse_resolution(resolution)
        wanted = paths or store.paths()
        unknown = [p for p in wanted if not store.has(p)]
        if unknown:
            print(f"roost history: no history for {', '.join(unknown)}", file=err)
            return 2
        rows = csvio.export_csv(store, out, wanted, lo, hi, width or 0, epoch)
        print(f"exported {rows:,} rows of {len(wanted)} series", file=err)
    except RoostError as exc:
        print(f"roost history: {exc}", file=err)
        return 2
    finally:
        store.close()
    return 0
