"""GET /api/history on a real server; history in /metrics, /healthz and the OpenAPI document."""

from __future__ import annotations

import csv
import io
import time

import aiohttp
import pytest

from roost import App

NOW = time.time()


@pytest.fixture
async def recorded(served: App) -> App:
    """The served app with two hours of one sample a minute, and a string leaf."""
    assert served.history is not None
    start = NOW - 7200
    await served.history.aingest([("rooms/kitchen/t", start + 60 * i, 20 + i / 100) for i in range(120)])
    served.state["rooms/kitchen/name"] = "Kitchen"
    served.state["rooms/kitchen/t"] = 21.5
    await served.history.aflush()
    return served


async def get(http: aiohttp.ClientSession, query: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    async with http.get("/api/history?" + query) as r:
        return r.status, await r.json()


async def test_compact_arrays_per_series(recorded: App, http: aiohttp.ClientSession) -> None:
    status, body = await get(http, "path=rooms/kitchen/t&from=-3h&points=5000")
    assert status == 200
    (series,) = body["series"]
    assert set(series) == {"path", "resolution_s", "t", "min", "max", "mean"}
    assert series["resolution_s"] == 0 and len(series["t"]) == 121
    assert series["min"] == series["max"] == series["mean"]
    assert series["mean"][-1] == 21.5 and series["t"] == sorted(series["t"])


async def test_several_paths_and_the_budget(recorded: App, http: aiohttp.ClientSession) -> None:
    status, body = await get(
        http, f"path=rooms/kitchen/t&path=rooms/kitchen/name&from={NOW - 10800}&points=20"
    )
    assert status == 200
    kitchen, name = body["series"]
    assert kitchen["resolution_s"] == 3600 and len(kitchen["t"]) <= 20  # 25 buckets of 5 min: too many
    assert kitchen["min"][0] <= kitchen["mean"][0] <= kitchen["max"][0]
    assert name == {
        "path": "rooms/kitchen/name",
        "resolution_s": 0,
        "t": [],
        "min": [],
        "max": [],
        "mean": [],
    }


async def test_csv_is_streamed(recorded: App, http: aiohttp.ClientSession) -> None:
    recorded.state['odd/a,"b"'] = 1.5  # keys may hold commas and quotes
    assert recorded.history is not None
    await recorded.history.aflush()
    query = "path=rooms/kitchen/t&path=odd/a,%22b%22&from=-3h&format=csv&resolution=5m"
    async with http.get("/api/history?" + query) as r:
        assert r.status == 200 and r.content_type == "text/csv"
        rows = list(csv.reader(io.StringIO(await r.text())))
    assert rows[0] == ["path", "resolution_s", "t", "min", "max", "mean"]
    kitchen = [row for row in rows[1:] if row[0] == "rooms/kitchen/t"]
    assert 24 <= len(kitchen) <= 26 and all(row[1] == "300" for row in kitchen)
    assert rows[-1][0] == 'odd/a,"b"' and rows[-1][3:] == ["1.5", "1.5", "1.5"]


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, "bad_request"),
        ("path=rooms/kitchen/t&from=yesterday", 400, "invalid_value"),
        ("path=rooms/kitchen/t&from=-1h&to=-2h", 400, "invalid_value"),
        ("path=rooms/kitchen/t&points=0", 400, "invalid_value"),
        ("path=rooms/kitchen/t&points=many", 400, "invalid_value"),
        ("path=rooms/kitchen/t&format=xml", 400, "invalid_value"),
        ("path=rooms/kitchen/t&resolution=2h", 400, "invalid_value"),
        ("path=rooms//t", 400, "invalid_path"),
        ("path=rooms/kitchen/t&path=no/such/thing", 404, "unknown_series"),
    ],
)
async def test_bad_parameters_are_json_errors(
    recorded: App, http: aiohttp.ClientSession, query: str, status: int, code: str
) -> None:
    got, body = await get(http, query)
    assert (got, body["error"]["code"]) == (status, code)


async def test_metrics_health_and_openapi_show_history(recorded: App, http: aiohttp.ClientSession) -> None:
    async with http.get("/metrics") as r:
        text = await r.text()
    for name in (
        "roost_history_samples_buffered",
        "roost_history_samples_written_total",
        "roost_history_commit_seconds_last",
        "roost_history_database_bytes",
        "roost_history_bytes_written_total",
    ):
        assert f"\n{name} " in text
    assert "\nroost_history_samples_written_total 121\n" in text
    async with http.get("/healthz") as r:
        health = (await r.json())["components"]["history"]
    assert health["ok"] is True and health["written"] == 121 and health["db_bytes"] > 0
    async with http.get("/api/openapi.json") as r:
        assert "/api/history" in (await r.json())["paths"]


@pytest.mark.parametrize("to", ["1e306", "1e308", "%2B99999999999999999999y"])
async def test_times_beyond_any_history_are_clamped(
    recorded: App, http: aiohttp.ClientSession, to: str
) -> None:
    status, body = await get(http, f"path=rooms/kitchen/t&from=0&to={to}&points=5000")
    assert status == 200 and len(body["series"][0]["t"]) == 121
