"""The command registry: calls on threads and the loop, timeouts, errors."""

from __future__ import annotations

import asyncio

import pytest

from roost.core.errors import CommandTimeout, RoostError, TooManyRequests
from roost.runtime.commands import CommandRegistry


def _device_timed_out() -> None:
    raise TimeoutError("the plug did not answer")  # what socket and urllib raise


async def _device_timed_out_async() -> None:
    raise TimeoutError("the plug did not answer")


@pytest.mark.parametrize("func", [_device_timed_out, _device_timed_out_async])
async def test_a_command_raising_timeout_error_is_a_failure_not_a_command_timeout(func: object) -> None:
    commands = CommandRegistry(timeout_s=5)
    commands.add(func, "poll")  # type: ignore[arg-type]
    with pytest.raises(RoostError) as info:
        await commands.call("poll", {})
    assert not isinstance(info.value, CommandTimeout)
    assert info.value.status == 500
    assert commands.calls == {("poll", "error"): 1}
    commands.close()


async def test_a_command_that_overruns_is_a_command_timeout() -> None:
    commands = CommandRegistry(timeout_s=0.05)

    async def slow() -> None:
        await asyncio.sleep(1)

    commands.add(slow)
    with pytest.raises(CommandTimeout):
        await commands.call("slow", {})
    assert commands.calls == {("slow", "timeout"): 1}
    commands.close()


async def test_call_threadsafe_from_the_loop_refuses_instead_of_freezing_it() -> None:
    registry = CommandRegistry()
    registry.add(lambda: 1, "one")
    registry.attach(asyncio.get_running_loop())
    with pytest.raises(RuntimeError, match="await call"):
        registry.call_threadsafe("one", {})
    assert await asyncio.to_thread(registry.call_threadsafe, "one", {}) == 1


def _unplugged() -> None:
    raise OSError(5, "1-Wire bus gone")


async def _unplugged_async() -> None:
    raise ZeroDivisionError("no readings to average")


@pytest.mark.parametrize(
    ("func", "said"),
    [
        (_unplugged, "OSError: [Errno 5] 1-Wire bus gone"),
        (_unplugged_async, "ZeroDivisionError: no readings"),
    ],
)
async def test_a_command_that_raises_tells_the_caller_what_it_raised(func: object, said: str) -> None:
    # The program is the user's own: its exception is theirs to read, its traceback is the log's.
    commands = CommandRegistry(timeout_s=5)
    commands.add(func, "read")  # type: ignore[arg-type]
    with pytest.raises(RoostError) as info:
        await commands.call("read", {})
    assert said in info.value.message
    assert info.value.details == {"exception": said.split(":")[0]}
    assert "Traceback" not in info.value.message and __file__ not in info.value.message
    commands.close()


async def test_calls_beyond_a_commands_limit_in_flight_are_refused_with_429() -> None:
    commands = CommandRegistry(timeout_s=5, max_in_flight=2)
    gate = asyncio.Event()

    async def slow() -> None:
        await gate.wait()

    commands.add(slow)
    calls = [asyncio.ensure_future(commands.call("slow", {})) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(TooManyRequests, match="2 calls in flight"):
        await commands.call("slow", {})
    gate.set()
    await asyncio.gather(*calls)
    assert await commands.call("slow", {}) is None
    assert commands.calls[("slow", "refused")] == 1
    commands.close()
