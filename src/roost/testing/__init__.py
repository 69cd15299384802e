"""roost.testing: test a roost program on a fake clock, with its HTTP API and live push.

    from roost.testing import Harness

    async def test_blinds_open_on_monday() -> None:
        async with Harness.load("home.py", at="2026-11-30 07:00", timezone="Europe/Berlin") as home:
            await home.advance(minutes=30)
            assert home.state["bedroom/blinds"] == "open"

The pytest plugin (registered when roost is installed) adds the `roost_kit`
fixture. docs/testing.md walks through it.
"""

from roost.runtime.clock import FakeClock, settle_loop
from roost.testing.eventually import NeverHeld, eventually
from roost.testing.harness import Harness, HttpError, fake_clock, workers_busy
from roost.testing.live import LiveClient, LiveError
from roost.testing.plugin import Kit

__all__ = [
    "FakeClock",
    "Harness",
    "HttpError",
    "Kit",
    "LiveClient",
    "LiveError",
    "NeverHeld",
    "eventually",
    "fake_clock",
    "settle_loop",
    "workers_busy",
]
