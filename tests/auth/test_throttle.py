"""Login throttling: free attempts, then doubling delays, capped, forgotten, bounded."""

from __future__ import annotations

from roost.auth.throttle import LoginThrottle


class Now:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_delays_grow_after_free_failures_and_are_capped() -> None:
    now = Now()
    throttle = LoginThrottle(now, free_failures=3, base_delay_s=1, max_delay_s=8)
    waits = []
    for _ in range(8):
        throttle.failed(["user:a"])
        waits.append(throttle.wait_s(["user:a"]))
    assert waits == [0, 0, 1, 2, 4, 8, 8, 8]


def test_wait_passes_and_success_clears() -> None:
    now = Now()
    throttle = LoginThrottle(now, free_failures=1)
    throttle.failed(["user:a", "addr:x"])
    assert throttle.wait_s(["addr:x"]) == 1
    now.t += 1
    assert throttle.wait_s(["addr:x"]) == 0
    throttle.succeeded(["user:a", "addr:x"])
    assert len(throttle) == 0


def test_quiet_keys_are_forgotten_and_table_bounded() -> None:
    now = Now()
    throttle = LoginThrottle(now, free_failures=0, forget_after_s=60, max_keys=3)
    for key in "abcd":
        throttle.failed([key])
    assert len(throttle) == 3
    now.t += 61
    assert throttle.wait_s(["b", "c", "d"]) == 0
    assert len(throttle) == 0
