"""Energy bars: a counter's rise per local day and month from history buckets, robust to a reset."""

from __future__ import annotations

import pytest

from devices_support import Build
from roost.devices.energy import bucket_increases
from roost.testing import Harness

Buckets = list[tuple[float, float, float]]


def by_ten(t: float) -> str:
    return "abc"[int(t // 10)]


@pytest.mark.parametrize(
    ("buckets", "rises"),
    [
        ([], {}),
        ([(0, 1.0, 2.0), (5, 2.5, 3.0), (10, 3.0, 4.0)], {"a": 2.0, "b": 1.0}),
        ([(0, 10.0, 12.0), (10, 0.5, 1.5)], {"a": 2.0, "b": 1.5}),  # reset at the boundary
        ([(0, 10.0, 12.0), (10, 0.0, 12.5), (20, 0.3, 0.8)], {"a": 2.0, "b": 0.8, "c": 0.5}),  # inside
        ([(0, 10.0, 12.0), (10, 0.2, 12.4)], {"a": 2.0, "b": 0.6}),  # inside the newest bucket
        ([(0, 5.0, 5.0), (10, 5.0, 5.0)], {"a": 0.0, "b": 0.0}),
    ],
)
def test_rise_per_label(buckets: Buckets, rises: dict[str, float]) -> None:
    got = bucket_increases(buckets, by_ten)
    assert got == pytest.approx(rises)
    assert all(v >= 0 for v in got.values())


async def test_daily_and_monthly_bars_across_a_restart_that_reset_the_counter(node: Build) -> None:
    async with Harness(node(history=True)) as home:
        await home.app.devices.settle()
        await home.post("/api/devices/lamp/switch", {"on": True})  # 9 W
        await home.advance(hours=2)
        await home.app.history.aflush()  # type: ignore[union-attr]
    # The next day, a new process: the simulated plug's counter starts over at 0.
    async with Harness(node("2026-12-02 10:00", history=True)) as home:
        await home.app.devices.settle()
        await home.post("/api/devices/lamp/switch", {"on": True})
        await home.advance(hours=1)
        # The hourly buckets hold what the recorder has committed (every 30 s in a real node).
        await home.app.history.aflush()  # type: ignore[union-attr]
        days = (await home.get("/api/devices/lamp/energy?by=day&count=3"))["buckets"]
        assert [d["start"] for d in days] == ["2026-11-30", "2026-12-01", "2026-12-02"]
        assert days[0]["kwh"] is None
        assert [d["kwh"] for d in days[1:]] == pytest.approx([0.018, 0.009], abs=0.0006)
        months = (await home.get("/api/devices/lamp/energy?by=month&count=2"))["buckets"]
        assert [m["start"] for m in months] == ["2026-11", "2026-12"]
        assert months[0]["kwh"] is None and months[1]["kwh"] == pytest.approx(0.027, abs=0.001)


@pytest.mark.parametrize("query", ["by=week", "by=day&count=0.5x", "by=day&count=400", "by=month&count=-1"])
async def test_energy_refuses_bad_queries(home: Harness, query: str) -> None:
    async with home.http.get(f"/api/devices/lamp/energy?{query}") as r:
        assert r.status == 400 and (await r.json())["error"]["code"] == "invalid_value"


async def test_energy_without_history_is_unavailable(home: Harness) -> None:
    async with home.http.get("/api/devices/lamp/energy") as r:
        assert r.status == 503 and "history" in (await r.json())["error"]["message"]
