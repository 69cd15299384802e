"""`GET /api/history`: series as compact JSON arrays, or streamed as CSV."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from roost.core import codec
from roost.core.caller import Scope
from roost.core.errors import BadRequest, InvalidValue
from roost.core.timespec import parse_instant
from roost.runtime.hub import Hub
from roost.runtime.routes import Route
from roost.store.query import Series
from roost.store.store import DEFAULT_POINTS, MAX_POINTS

_CSV_ROWS_PER_WRITE = 2000


class HistorySource(Protocol):
    """What the history route reads from (the Recorder); a protocol, so that this module never imports it."""

    @property
    def hub(self) -> Hub:
        """The hub whose clock and time zone read `from` and `to`."""
        ...

    async def aquery(
        self,
        paths: str | Sequence[str],
        start: float,
        end: float,
        points: int,
        resolution: str | int | None,
    ) -> list[Series]:
        """Return each path over `[start, end)`. Loop only."""
        ...

    async def abackup(self, target: Path) -> None:
        """Write a consistent copy of the database to `target` (SQLite's online backup). Loop only."""
        ...


def history_routes(recorder: HistorySource) -> list[Route]:
    """Return the history routes reading from `recorder` (`read` scope)."""

    async def get_history(request: web.Request) -> web.StreamResponse:
        query = request.query
        paths = query.getall("path", [])
        if not paths:
            raise BadRequest("name at least one series: ?path=rooms/kitchen/temperature")
        fmt = query.get("format", "json")
        if fmt not in ("json", "csv"):
            raise InvalidValue("format must be json or csv")
        now = recorder.hub.clock.time()
        tz = recorder.hub.tz
        start = parse_instant(query.get("from", "-24h"), now, tz)
        end = parse_instant(query.get("to", "now"), now, tz)
        points = _points(query.get("points"))
        series = await recorder.aquery(paths, start, end, points, query.get("resolution"))
        if fmt == "csv":
            return await _stream_csv(request, series)
        body = codec.dumps({"series": [s.to_json() for s in series]})
        return web.Response(body=body, content_type="application/json")

    async def get_backup(request: web.Request) -> web.StreamResponse:
        # A copy made by the node itself: it holds the database exclusively, so no
        # other process could read it while it runs. Made in a temporary file, sent, removed.
        folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="roost-backup-"))
        target = folder / "history.db"
        try:
            await recorder.abackup(target)
            response = web.StreamResponse(
                headers={
                    "Content-Type": "application/vnd.sqlite3",
                    "Content-Disposition": 'attachment; filename="history.db"',
                    "Content-Length": str(target.stat().st_size),
                }
            )
            await response.prepare(request)
            with target.open("rb") as f:
                while chunk := await asyncio.to_thread(f.read, 1 << 18):
                    await response.write(chunk)
            await response.write_eof()
            return response
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)

    return [
        Route("GET", "/api/history", get_history),
        Route("GET", "/api/history/backup", get_backup, scope=Scope.ADMIN, name="history_backup"),
    ]


def _points(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_POINTS
    try:
        points = int(text)
    except ValueError:
        raise InvalidValue(f"points must be a whole number, not {text!r}") from None
    if not 1 <= points <= MAX_POINTS:
        raise InvalidValue(f"points must be between 1 and {MAX_POINTS}")
    return points


async def _stream_csv(request: web.Request, series: list[Series]) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": "inline; filename=history.csv",
        }
    )
    await response.prepare(request)
    await response.write(b"path,resolution_s,t,min,max,mean\r\n")
    for s in series:
        prefix = f"{_csv_field(s.path)},{s.resolution_s},"
        for i in range(0, len(s), _CSV_ROWS_PER_WRITE):
            rows = zip(
                s.t[i : i + _CSV_ROWS_PER_WRITE],
                s.min[i : i + _CSV_ROWS_PER_WRITE],
                s.max[i : i + _CSV_ROWS_PER_WRITE],
                s.mean[i : i + _CSV_ROWS_PER_WRITE],
                strict=True,
            )
            chunk = "".join(f"{prefix}{t!r},{lo!r},{hi!r},{mean!r}\r\n" for t, lo, hi, mean in rows)
            await response.write(chunk.encode())
    await response.write_eof()
    return response


def _csv_field(text: str) -> str:
    # A key may hold a comma or a quote (never a line break): quote as CSV does.
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def history_paths() -> dict[str, Any]:
    """Return the OpenAPI path item of `/api/history`."""
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    number_list = {"type": "array", "items": {"type": "number"}}
    return {
        "/api/history": {
            "get": {
                "summary": "Series of recorded values at the finest resolution that fits a point budget",
                "parameters": [
                    {
                        "name": "path",
                        "in": "query",
                        "required": True,
                        "explode": True,
                        "schema": {"type": "array", "items": {"type": "string"}},
                        "description": "a recorded path; repeat for several series",
                    },
                    {
                        "name": "from",
                        "in": "query",
                        "schema": {"type": "string", "default": "-24h"},
                        "description": "ISO 8601, epoch seconds, or relative like -7d, -24h, -30m",
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "schema": {"type": "string", "default": "now"},
                        "description": "as `from`",
                    },
                    {
                        "name": "points",
                        "in": "query",
                        "schema": {"type": "integer", "default": DEFAULT_POINTS, "maximum": MAX_POINTS},
                        "description": "the most points per series; the finest tier that fits is chosen",
                    },
                    {
                        "name": "resolution",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["auto", "raw", "5m", "1h", "1d"]},
                        "description": "force a tier instead of choosing by `points`",
                    },
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["json", "csv"], "default": "json"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "one entry per path; raw samples have min = max = mean",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "series": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {
                                                    "path": {"type": "string"},
                                                    "resolution_s": {"type": "integer"},
                                                    "t": number_list,
                                                    "min": number_list,
                                                    "max": number_list,
                                                    "mean": number_list,
                                                },
                                            },
                                        }
                                    },
                                }
                            },
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "400": {"description": "bad parameters", **error},
                    "404": {"description": "a path neither recorded nor in the state tree", **error},
                    "503": {"description": "history is not running", **error},
                },
            }
        }
    }
