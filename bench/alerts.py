"""Alert rules at load: 1,000 threshold rules over 1,000 state changes a second.

In one process on the real clock (no HTTP server, no history), a node with
`--rules` threshold rules (`sensors/sN` above 50 for `--for` seconds,
hysteresis 2) takes `--rate` writes a second spread over those paths, in 10 ms
batches, none of them crossing. The process CPU over `--seconds` is measured,
then the same writes on a node with no rules: the difference is what the rules
cost. Then `--fire` of the paths go above 50 in one batch while the other
writes go on; for each, the delay from its `for` elapsing (write + for) to the
engine handing the firing notice to the notifier (this includes the change
stream's batching: the `for` starts when the engine sees the write).
`--rounds` rounds; medians.

    python bench/alerts.py [--rules 1000] [--rate 1000] [--seconds 10] [--fire 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from roost import App
from roost.rules.notice import Notice, Notifier

BATCH_S = 0.01
THRESHOLD = 50.0


class Recording:
    """The node's notifier, noting when each firing notice was handed over."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner
        self.handed: dict[str, float] = {}

    def send(self, notice: Notice, channels: Sequence[str]) -> None:
        if notice.event == "firing":
            self.handed.setdefault(notice.rule, time.monotonic())
        self.inner.send(notice, channels)


def build(data_dir: Path, rules: int, paths: int, for_s: float) -> App:
    app = App("bench-alerts", port=None, data_dir=data_dir, history=False, auth=False)
    for i in range(paths):
        app.meta(f"sensors/s{i}", unit="°C", label=f"Sensor {i}")
        app.state[f"sensors/s{i}"] = 20.0
    for i in range(rules):
        app.alert(f"r{i}", f"sensors/s{i}", above=THRESHOLD, for_s=for_s, hysteresis=2.0)
    return app


async def write(app: App, paths: list[str], rate: int, seconds: float) -> int:
    """Write `rate` values a second below the threshold for `seconds`; return how many were written."""
    per_batch = max(1, round(rate * BATCH_S))
    loop = asyncio.get_running_loop()
    start = loop.time()
    written, batch = 0, 0
    while (now := loop.time()) - start < seconds:
        for _ in range(per_batch):
            app.state[random.choice(paths)] = round(random.uniform(10.0, 40.0), 2)
        written += per_batch
        batch += 1
        await asyncio.sleep(max(0.0, start + batch * BATCH_S - now))
    return written


async def measure(args: argparse.Namespace, with_rules: bool) -> tuple[float, int, list[float]]:
    """Return (CPU seconds over the window, changes written, firing delays in ms)."""
    with tempfile.TemporaryDirectory(prefix="roost-bench-alerts-") as tmp:
        app = build(Path(tmp), args.rules if with_rules else 0, args.rules, args.for_s)
        await app.start()
        recording: Recording | None = None
        if app.alerts is not None:
            recording = Recording(app.alerts.notifier)
            app.alerts.notifier = recording
        paths = [f"sensors/s{i}" for i in range(args.rules)]
        await write(app, paths, args.rate, 1.0)  # warm up
        cpu = time.process_time()
        written = await write(app, paths, args.rate, args.seconds)
        cpu = time.process_time() - cpu
        delays: list[float] = []
        if recording is not None and with_rules and args.fire:
            hot = random.sample(paths, args.fire)
            rest = [p for p in paths if p not in set(hot)]
            for path in hot:
                app.state[path] = THRESHOLD + 10.0
            due = time.monotonic() + args.for_s
            await write(app, rest, args.rate, args.for_s + 1.5)
            rule_of = {f"sensors/s{i}": f"r{i}" for i in range(args.rules)}
            delays = [
                (recording.handed[rule_of[p]] - due) * 1000 for p in hot if rule_of[p] in recording.handed
            ]
            if len(delays) < len(hot):
                print(f"  only {len(delays)} of {len(hot)} alerts fired in time")
        await app.stop()
    return cpu, written, delays


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=1000, help="state changes a second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--for", dest="for_s", type=float, default=2.0, help="the rules' for, in seconds")
    parser.add_argument("--fire", type=int, default=100, help="rules made to fire in each round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(
        f"{args.rules} threshold rules (for {args.for_s:g} s), {args.rate} changes/s "
        f"for {args.seconds:g} s, {args.rounds} rounds"
    )
    bare, ruled, per_change, p50s, p99s, worst = [], [], [], [], [], []
    for n in range(args.rounds):
        cpu0, written0, _ = await measure(args, with_rules=False)
        cpu1, written1, delays = await measure(args, with_rules=True)
        bare.append(cpu0 / args.seconds * 100)
        ruled.append(cpu1 / args.seconds * 100)
        per_change.append((cpu1 / written1 - cpu0 / written0) * 1e6)
        line = (
            f"  round {n + 1}: CPU {bare[-1]:.1f}% without rules, {ruled[-1]:.1f}% with them "
            f"({per_change[-1]:.1f} us a change for the rules)"
        )
        if delays:
            p50s.append(pct(delays, 0.5))
            p99s.append(pct(delays, 0.99))
            worst.append(max(delays))
            line += f"; for elapsed -> notice handed over: p50 {p50s[-1]:.1f} ms, p99 {p99s[-1]:.1f} ms"
        print(line, flush=True)
    median = statistics.median
    print(
        f"median: CPU of one core {median(bare):.1f}% without rules, {median(ruled):.1f}% with "
        f"{args.rules} rules: the rules cost {median(r - b for r, b in zip(ruled, bare, strict=True)):.1f} points "
        f"({median(per_change):.1f} us a change)"
    )
    if p50s:
        print(
            f"median: for elapsed -> notice handed to the channel: p50 {median(p50s):.1f} ms, "
            f"p99 {median(p99s):.1f} ms, worst {max(worst):.1f} ms ({args.fire} alerts a round)"
        )


if __name__ == "__main__":
    asyncio.run(main())
