"""The command registry: calls on threads and the loop, timeouts, errors."""

from __future__ import annotations

import asyncio

import pytest

from roost.core.caller import PROGRAM, Caller, Scope
from roost.core.commands import CommandSpec
from roost.core.errors import CommandTimeout, Forbidden, InvalidArguments, RoostError, TooManyRequests
from roost.runtime.commands import CallRecord, CommandRegistry


def _device_timed_out() -> None:
    raise TimeoutError("the plug did not answer")  # what socket and urllib raise


async def _device_timed_out_async() -> None:
    raise TimeoutError("the plug did not answer")


@pytest.mark.parametrize("func", [_device_timed_out, _device_timed_out_async])
async def test_a_command_raising_timeout_error_is_a_failure_not_a_command_timeout(func: object) -> None:
    commands = CommandRegistry(timeout_s=5)
    commands.add(func, "poll")  # type: ignore[arg-type]
    with pytest.raises(RoostError) as info:
        await commands.acall("poll", {})
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
        await commands.acall("slow", {})
    assert commands.calls == {("slow", "timeout"): 1}
    commands.close()


async def test_the_blocking_call_refuses_on_the_loop_instead_of_freezing_it() -> None:
    registry = CommandRegistry()
    registry.add(lambda: 1, "one")
    registry.attach(asyncio.get_running_loop())
    with pytest.raises(RuntimeError, match=r"await commands\.acall"):
        registry.call("one", {})
    assert await asyncio.to_thread(registry.call, "one", {}) == 1


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
        await commands.acall("read", {})
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
    calls = [asyncio.ensure_future(commands.acall("slow", {})) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(TooManyRequests, match="2 calls in flight"):
        await commands.acall("slow", {})
    gate.set()
    await asyncio.gather(*calls)
    assert await commands.acall("slow", {}) is None
    assert commands.calls[("slow", "refused")] == 1
    commands.close()


async def test_call_threadsafe_still_works_and_says_it_is_deprecated() -> None:
    registry = CommandRegistry()
    registry.add(lambda: 1, "one")
    registry.attach(asyncio.get_running_loop())
    with pytest.warns(DeprecationWarning, match="commands.call"):
        assert await asyncio.to_thread(registry.call_threadsafe, "one", {}) == 1


async def test_a_caller_without_the_commands_scope_is_refused_and_nothing_runs() -> None:
    ran: list[str] = []
    registry = CommandRegistry()
    registry.add(lambda: ran.append("x"), "wipe", scope="admin")
    records: list[CallRecord] = []
    registry.listen(records.append)
    with pytest.raises(Forbidden) as info:
        await registry.acall("wipe", {}, Caller("mqtt", "10.0.0.5", "bob", Scope.CONTROL))
    assert (info.value.status, info.value.needed) == (403, "admin")
    assert ran == []
    assert [(r.outcome, r.caller.principal) for r in records] == [("forbidden", "bob")]
    assert await registry.acall("wipe", {}) is None  # PROGRAM holds every scope
    assert ran == ["x"]
    registry.close()


@pytest.mark.parametrize("scope", ["owner", ""])
def test_an_unknown_scope_is_refused_at_registration(scope: str) -> None:
    with pytest.raises(ValueError, match="read, control or admin"):
        CommandRegistry().add(lambda: None, "x", scope=scope)


async def test_listeners_get_each_finished_call_until_they_unsubscribe() -> None:
    registry = CommandRegistry()

    def double(n: int) -> int:
        return n * 2

    registry.add(double)
    seen: list[CallRecord] = []

    def broken(record: CallRecord) -> None:
        raise RuntimeError("a listener's own bug")

    registry.listen(broken)
    unsubscribe = registry.listen(seen.append)
    assert await registry.acall("double", {"n": 4}) == 8
    with pytest.raises(InvalidArguments):
        await registry.acall("double", {"n": "x"})
    unsubscribe()
    await registry.acall("double", {"n": 1})
    assert [(r.command, dict(r.args), r.outcome, r.caller) for r in seen] == [
        ("double", {"n": 4}, "ok", PROGRAM),
        ("double", {"n": "x"}, "invalid", PROGRAM),
    ]
    assert seen[0].duration_s >= 0 and seen[0].ts > 0
    registry.close()


def test_the_listing_says_each_commands_scope() -> None:
    registry = CommandRegistry()
    registry.add(lambda: None, "wipe", scope="admin")
    registry.add(lambda: None, "press")
    assert [(s["name"], s["scope"]) for s in map(CommandSpec.describe, registry.specs())] == [
        ("press", "control"),
        ("wipe", "admin"),
    ]
