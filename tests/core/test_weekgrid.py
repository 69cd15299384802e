"""The 7 x 96 grid: Plugwise-2-py's values load unchanged, a bad cell is named by day and slot."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roost.core.errors import InvalidSchedule
from roost.core.weekgrid import DAY_NAMES, check_week, constant_week, killer_w, paint, slot_of, slot_time

FIXTURES = Path("/work/shared/fixtures/plugwise-2-py/schedules")
SAMPLES = Path(__file__).resolve().parent.parent / "devices" / "plugwise" / "schedules"
cells = st.one_of(st.just(-1), st.just(0), st.integers(1, 3000), st.floats(0.5, 3000.0))


def week_of_runs(parts: list[tuple[int, float]]) -> list[list[float]]:
    """A week painted in runs of one value, as people paint them (and cheap to generate)."""
    flat: list[float] = []
    while len(flat) < 7 * 96:
        for length, value in parts:
            flat += [value] * length
    return [flat[d * 96 : (d + 1) * 96] for d in range(7)]


weeks = st.lists(st.tuples(st.integers(1, 60), cells), min_size=1, max_size=20).map(week_of_runs)
bad_cells = st.sampled_from([-2, -0.5, True, False, "on", None, math.nan, math.inf, [1], {}])


@given(weeks)
def test_a_valid_week_is_kept_cell_for_cell(week: list[list[float]]) -> None:
    checked = check_week(week)
    assert [list(day) for day in checked] == week
    assert json.loads(json.dumps([list(d) for d in checked])) == week


@given(weeks, st.integers(0, 6), st.integers(0, 95), bad_cells)
def test_a_bad_cell_is_named_by_day_and_slot(
    week: list[list[object]], day: int, slot: int, bad: object
) -> None:
    week[day][slot] = bad
    with pytest.raises(InvalidSchedule) as caught:
        check_week(week)
    assert caught.value.details == {"day": day, "slot": slot}
    assert DAY_NAMES[day] in caught.value.message and slot_time(slot) in caught.value.message
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "week",
    [None, "x", [[0] * 96] * 6, [[0] * 96] * 8, [[0] * 95] + [[0] * 96] * 6, [[0] * 96] * 6 + ["0" * 96]],
)
def test_a_week_of_the_wrong_shape_is_refused(week: object) -> None:
    with pytest.raises(InvalidSchedule, match=r"96|7 days"):
        check_week(week)


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*.json")) + sorted(p for p in SAMPLES.glob("*.json") if p.stem != "broken")
)
def test_plugwise_schedule_files_load_unchanged(path: Path) -> None:
    raw = json.loads(path.read_text())
    assert [list(d) for d in check_week(raw["schedule"])] == raw["schedule"]


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31)))
def test_slot_of_counts_quarter_hours_of_the_wall_clock(wall: datetime) -> None:
    local = wall.replace(tzinfo=ZoneInfo("Europe/Amsterdam"))
    day, slot = slot_of(local)
    assert day == wall.weekday()
    assert slot_time(slot) <= wall.strftime("%H:%M") < (slot_time(slot + 1) if slot < 95 else "24:00")


def test_paint_and_the_killer_threshold() -> None:
    week = paint(constant_week(), [0, 4], "18:00", "24:00", 8)
    assert week[0][71] == 0 and week[0][72] == 8 and week[0][95] == 8 and week[1][80] == 0
    assert killer_w(week[4][90]) == 8.0 and killer_w(-1) is None and killer_w(0) is None
    with pytest.raises(ValueError, match="quarter-hour"):
        paint(week, [0], "18:10", "19:00", -1)
