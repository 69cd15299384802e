"""Login throttling: growing delays per user name and per address, never a permanent ban.

After `free_failures` failed attempts on a key (a user name or an address), the
next attempt must wait 1 s, then 2 s, 4 s... up to `max_delay_s`. A success
clears the user's and the address's counts; a key quiet for `forget_after_s`
is forgotten. The table is bounded: past `max_keys` the oldest keys go.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(slots=True)
class _Record:
    failures: int
    last_s: float


class LoginThrottle:
    """Counts failed logins by key. Loop only."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        free_failures: int = 3,
        base_delay_s: float = 1.0,
        max_delay_s: float = 300.0,
        forget_after_s: float = 3600.0,
        max_keys: int = 10_000,
    ) -> None:
        self.clock = clock
        self.free_failures = free_failures
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.forget_after_s = forget_after_s
        self.max_keys = max_keys
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def delay_after(self, failures: int) -> float:
        """Return how long to wait after `failures` failed attempts."""
        extra = failures - self.free_failures
        if extra < 0:  # the first free_failures - 1 failures cost nothing
            return 0.0
        return float(min(self.base_delay_s * 2 ** min(extra, 32), self.max_delay_s))

    def wait_s(self, keys: Iterable[str]) -> float:
        """Return how long until every key in `keys` may try again (0: now)."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            record = self._records.get(key)
            if record is None:
                continue
            if now - record.last_s >= self.forget_after_s:
                del self._records[key]
                continue
            longest = max(longest, record.last_s + self.delay_after(record.failures) - now)
        return max(0.0, longest)

    def failed(self, keys: Iterable[str]) -> None:
        """Count a failed attempt against each key."""
        now = self.clock()
        for key in keys:
            record = self._records.pop(key, None)
            if record is None or now - record.last_s >= self.forget_after_s:
                record = _Record(0, now)
            record.failures += 1
            record.last_s = now
            self._records[key] = record  # most recent last
        while len(self._records) > self.max_keys:
            self._records.popitem(last=False)

    def succeeded(self, keys: Iterable[str]) -> None:
        """Forget the failures of each key."""
        for key in keys:
            self._records.pop(key, None)

    def __len__(self) -> int:
        return len(self._records)
