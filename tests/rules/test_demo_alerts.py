"""The demo home's alerts on a fake clock: the boiler overheats and fires, the outside sensor goes silent."""

from __future__ import annotations

from pathlib import Path

from roost.testing import Harness


async def test_the_demo_boiler_fires_once_and_the_outside_sensor_goes_stale(tmp_path: Path) -> None:
    program = tmp_path / "demo_home.py"
    program.write_text("from roost.demo import build_demo\n\napp = build_demo()\napp.run()\n")
    async with Harness.load(program, at="2026-12-01 10:00", timezone="Europe/Berlin", serve=False) as home:
        seen: dict[str, list[str]] = {}

        def note() -> None:
            for a in home.app.alerts.describe()["active"]:
                states = seen.setdefault(a["rule"], [])
                if not states or states[-1] != a["state"]:
                    states.append(a["state"])

        for _ in range(45):
            await home.advance(minutes=1)
            note()
        assert seen["boiler-overheat"][:2] == ["pending", "firing"]
        assert seen["outside-silent"] == ["firing"]
        recent = {a["rule"]: a for a in home.app.alerts.describe()["recent"]}
        # Both end by themselves: the boiler cools below 75 °C, the sensor comes back after 6 min.
        assert {"boiler-overheat", "outside-silent"} <= recent.keys()
        assert recent["boiler-overheat"]["value"] < 75
        assert home.state["alerts/notices"][0]["event"] in ("firing", "resolved")
