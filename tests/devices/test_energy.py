"""Energy: the counter grows, today's kWh survives a counter reset and a restart (via history)."""

from __future__ import annotations

import pytest

from devices_support import Build, plug
from roost.devices.energy import DailyEnergy, counter_increase
from roost.devices.standby import StandbyKiller
from roost.testing import Harness


@pytest.mark.parametrize(
    ("values", "rise"),
    [
        ([], 0),
        ([5.0], 0),
        ([1.0, 2.0, 3.5], 2.5),
        ([10.0, 12.0, 0.5, 1.5], 3.5),
        ([3.0, 3.0, 1.0, 0.0, 2.0], 3.0),
    ],
)
def test_counter_increase_counts_a_reset_as_starting_from_zero(values: list[float], rise: float) -> None:
    assert counter_increase(values) == pytest.approx(rise)


def test_today_starts_over_at_midnight() -> None:
    day = DailyEnergy()
    day.add(10.0, "2026-12-01")
    assert day.add(11.0, "2026-12-01") == pytest.approx(1.0)
    assert day.add(11.5, "2026-12-02") == pytest.approx(0.5)
    assert day.add(0.25, "2026-12-02") == pytest.approx(0.75)  # the plug lost power: counter reset


def test_the_killer_alone() -> None:
    killer = StandbyKiller(hold_s=60, grace_s=300)
    killer.arm(8.0)
    killer.came_on(0.0)
    assert not killer.reading(1.0, 100.0) and not killer.reading(1.0, 299.0)  # grace
    assert killer.reading(1.0, 300.0)
    killer.came_on(400.0)
    assert not any(killer.reading(w, t) for w, t in [(1.0, 710.0), (9.0, 760.0), (1.0, 800.0)])
    assert killer.reading(1.0, 860.0)
    killer.arm(None)
    assert not killer.reading(0.0, 10_000.0)


async def test_today_s_energy_survives_a_restart_and_a_counter_reset(node: Build) -> None:
    async with Harness(node(history=True)) as home:
        await home.app.devices.settle()
        await home.post("/api/devices/lamp/switch", {"on": True})  # 9 W
        await home.advance(hours=2)
        first = home.state["devices/lamp/energy_today_kwh"]
        assert first == pytest.approx(0.018, abs=0.0005)
        assert home.state["devices/lamp/energy_kwh"] == pytest.approx(first, abs=1e-4)
        await home.app.history.aflush()  # type: ignore[union-attr]
    # A new process: a new simulated plug whose counter starts over at 0.
    async with Harness(node("2026-12-01 19:50", history=True)) as home:
        await home.app.devices.settle()
        assert plug(home, "lamp").read().energy_kwh == 0
        await home.post("/api/devices/lamp/switch", {"on": True})
        await home.advance(hours=1)
        today = (await home.get("/api/devices/lamp"))["state"]["energy_today_kwh"]
        assert today == pytest.approx(0.027, abs=0.001)
