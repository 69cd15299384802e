"""CSV in and out: `path,timestamp,value` rows, imported in resumable batches, exported by series.

An import commits its progress (byte offset, line, counts) in the same
transaction as each batch of samples, so an interrupted import resumes exactly
after the last committed batch: no row is lost or stored twice. A file is
recognised by what was imported of it (a hash of up to its first 64 KiB), so a
log that has grown since is continued, and one imported completely is not
imported again.
"""

from __future__ import annotations

import csv
import hashlib
import math
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from roost.core.errors import RoostError
from roost.core.timespec import parse_iso
from roost.store.chunks import MAX_TS
from roost.store.engine import Engine, Sample
from roost.store.store import HistoryStore, normal_path
from roost.store.writer import Append, Call

BATCH_ROWS = 50_000
_KEPT_ERRORS = 1000  # bad rows listed in the report; all are counted and passed to on_bad
_FINGERPRINT_BYTES = 64 * 1024
_COLUMNS = ("path", "timestamp", "value")
_WORDS = {"true": 1.0, "false": 0.0, "on": 1.0, "off": 0.0}
# Epoch seconds this large are milliseconds (the year 5138): a common mix-up worth naming.
_MAX_EPOCH_S = 1e11


class BadRow(ValueError):
    """A CSV row that cannot be imported, with the reason."""


@dataclass(slots=True)
class ImportReport:
    """How an import went."""

    rows: int = 0  # samples imported by this run
    bad: int = 0  # rows rejected by this run
    lines: int = 0  # lines read by this run
    resumed_at_line: int = 0  # lines already done by an earlier run
    already_done: bool = False
    total_rows: int = 0  # samples imported from this file, all runs together
    total_bad: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Progress:
    id: int | None
    name: str
    head_len: int
    head_hash: str
    offset: int
    line: int
    rows: int
    bad: int


def head_hash(path: Path, length: int) -> str:
    """Return the hash of the first `length` bytes of a file."""
    with path.open("rb") as f:
        return hashlib.sha256(f.read(length)).hexdigest()


def parse_row(fields: list[str], order: tuple[int, int, int], tz: tzinfo) -> Sample:
    """Return the sample of a CSV row, or raise BadRow."""
    if len(fields) < 3:
        raise BadRow(f"expected 3 columns (path,timestamp,value), found {len(fields)}")
    raw_path, raw_ts, raw_value = (fields[i].strip() for i in order)
    try:
        path = normal_path(raw_path)
    except RoostError as exc:
        raise BadRow(str(exc)) from None
    ts = _parse_time(raw_ts, tz)
    value = _parse_value(raw_value)
    return path, round(ts * 1000), value


def _parse_time(text: str, tz: tzinfo) -> float:
    if not text:
        raise BadRow("empty timestamp")
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parse_iso(text, tz)
        except RoostError:
            raise BadRow(f"timestamp {text!r} is neither ISO 8601 nor epoch seconds") from None
    else:
        if not math.isfinite(seconds):
            raise BadRow(f"timestamp {text!r} is not a number of seconds")
        if seconds >= _MAX_EPOCH_S:
            raise BadRow(f"timestamp {text!r} looks like milliseconds; use epoch seconds")
    if seconds < 0:
        raise BadRow(f"timestamp {text!r} is before 1970")
    if round(seconds * 1000) > MAX_TS:
        raise BadRow(f"timestamp {text!r} is after 2527")
    return seconds


def _parse_value(text: str) -> float:
    word = _WORDS.get(text.lower())
    if word is not None:
        return word
    try:
        value = float(text)
    except ValueError:
        raise BadRow(f"value {text!r} is not a number") from None
    if not math.isfinite(value):
        raise BadRow(f"value {text!r} is not a finite number")
    return value


def _header_order(fields: list[str]) -> tuple[int, int, int] | None:
    names = [f.strip().lower() for f in fields]
    if set(_COLUMNS) <= set(names):
        return (names.index("path"), names.index("timestamp"), names.index("value"))
    return None


def import_csv(
    store: HistoryStore,
    file: Path,
    now_s: float,
    tz: tzinfo,
    on_bad: Callable[[int, str], None] | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Import `file` into `store`, resuming an earlier run; report bad rows by line number.

    `on_progress(bytes_done, bytes_total, rows)` is called after each committed batch.
    """
    report = ImportReport()
    size = file.stat().st_size
    done = store.submit(Call(lambda engine: _find_progress(engine, file, size))).result()
    with file.open("rb") as f:
        order, header_end = _read_header(f)
        offset, line = header_end, 1 if header_end else 0
        if done is not None:
            offset, line = done.offset, done.line
            report.resumed_at_line = line
            report.total_rows, report.total_bad = done.rows, done.bad
            if offset >= size:
                report.already_done = True
                return report
        f.seek(offset)
        batch: list[Sample] = []
        now_ms = round(now_s * 1000)
        lines = _numbered_lines(f, line)
        eof = False
        while not eof:
            batch_bad = 0
            for line, text, after in lines:
                offset = after
                report.lines += 1
                try:
                    if text is None:
                        raise BadRow("not UTF-8 text")
                    fields = _fields(text)
                    if not "".join(fields).strip():
                        continue
                    batch.append(parse_row(fields, order, tz))
                except BadRow as exc:
                    batch_bad += 1
                    if len(report.errors) < _KEPT_ERRORS:
                        report.errors.append((line, str(exc)))
                    if on_bad is not None:
                        on_bad(line, str(exc))
                if len(batch) >= batch_rows:
                    break
            else:
                eof = True
            head = min(offset, _FINGERPRINT_BYTES)
            progress = _Progress(
                done.id if done else None,
                file.name,
                head,
                head_hash(file, head),
                offset,
                line,
                report.total_rows + len(batch),
                report.total_bad + batch_bad,
            )
            row_ids: list[int] = []
            store.submit(Append(batch, now_ms, _save_progress(progress, row_ids), hold=not eof)).result()
            done = replace(progress, id=row_ids[0]) if row_ids else progress
            report.rows += len(batch)
            report.bad += batch_bad
            report.total_rows, report.total_bad = progress.rows, progress.bad
            batch = []
            if on_progress is not None:
                on_progress(offset, size, report.rows)
    return report


def _fields(text: str) -> list[str]:
    if '"' not in text:  # the common case, ten times faster than the csv module
        return text.split(",")
    try:
        return next(csv.reader([text]))
    except (csv.Error, StopIteration):
        return [text]


def _numbered_lines(f: IO[bytes], line: int) -> Iterator[tuple[int, str | None, int]]:
    """Yield `(line number, text or None if not UTF-8, offset after the line)` from the position on."""
    offset = f.tell()
    for raw in f:
        line += 1
        offset += len(raw)
        if line == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte order mark, as spreadsheets write
        try:
            yield line, raw.decode("utf-8").rstrip("\r\n"), offset
        except UnicodeDecodeError:
            yield line, None, offset


def _read_header(f: IO[bytes]) -> tuple[tuple[int, int, int], int]:
    """Return the column order and the offset after the header line (0 when there is none)."""
    first = f.readline()
    f.seek(0)
    try:
        fields = next(csv.reader([first.decode("utf-8-sig").rstrip("\r\n")]))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return (0, 1, 2), 0
    order = _header_order(fields)
    if order is not None:
        return order, len(first)
    return (0, 1, 2), 0


def _find_progress(engine: Engine, file: Path, size: int) -> _Progress | None:
    """Return the progress of an earlier import of `file`: the one whose imported head it starts with."""
    rows = engine.conn.execute(
        "SELECT id, name, head_len, head_hash, offset, line, rows, bad FROM imports ORDER BY head_len DESC"
    ).fetchall()
    for row in rows:
        progress = _Progress(*row)
        if progress.offset <= size and head_hash(file, progress.head_len) == progress.head_hash:
            return progress
    return None


def _save_progress(p: _Progress, row_ids: list[int]) -> Callable[[sqlite3.Connection], None]:
    """Return what writes `p` in the batch's transaction; a new row's id is appended to `row_ids`."""

    def save(conn: sqlite3.Connection) -> None:
        values = (p.name, p.head_len, p.head_hash, p.offset, p.line, p.rows, p.bad)
        if p.id is None:
            cur = conn.execute(
                "INSERT INTO imports (name, head_len, head_hash, offset, line, rows, bad, updated)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, strftime('%s', 'now'))",
                values,
            )
            row_ids.append(int(cur.lastrowid or 0))
        else:
            conn.execute(
                "UPDATE imports SET name = ?, head_len = ?, head_hash = ?, offset = ?, line = ?, rows = ?,"
                " bad = ?, updated = strftime('%s', 'now') WHERE id = ?",
                (*values, p.id),
            )

    return save


# -- export ------------------------------------------------------------------------


def export_csv(
    store: HistoryStore,
    out: IO[str],
    paths: list[str],
    start_s: float,
    end_s: float,
    resolution: str | int,
    epoch: bool = False,
    window_s: float = 30 * 86_400,
) -> int:
    """Write the series of `paths` as CSV to `out`; return the rows written.

    Raw samples come out as `path,timestamp,value`, which `import_csv` reads back;
    buckets as `path,timestamp,min,max,mean`. Timestamps are ISO 8601 in the
    database's zone, or epoch seconds with `epoch`.
    """
    raw = resolution in ("raw", 0)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_COLUMNS if raw else ("path", "timestamp", "min", "max", "mean"))
    stamp: Callable[[float], Any] = (lambda t: repr(t)) if epoch else _iso(store.tz)
    rows = 0
    for path in paths:
        lo = start_s
        after = -math.inf  # the last bucket written
        # Window by window, so that years of samples never sit in memory at once.
        while lo < end_s:
            hi = min(lo + window_s, end_s)
            (series,) = store.query([path], lo, hi, 1_000_000, resolution, strict=False)
            if raw:
                writer.writerows(
                    (path, stamp(t), repr(v)) for t, v in zip(series.t, series.mean, strict=True)
                )
                rows += len(series)
            else:
                # A window starts with the bucket holding its first instant, which the
                # window before ended with when a bucket edge is not a window edge.
                new = [
                    (path, stamp(t), repr(a), repr(b), repr(m))
                    for t, a, b, m in zip(series.t, series.min, series.max, series.mean, strict=True)
                    if t > after
                ]
                writer.writerows(new)
                rows += len(new)
                after = series.t[-1] if series.t else after
            lo = hi
    return rows


def _iso(tz: tzinfo) -> Callable[[float], str]:
    def stamp(t: float) -> str:
        spec = "seconds" if t == int(t) else "milliseconds"
        return datetime.fromtimestamp(t, tz).isoformat(timespec=spec)

    return stamp
