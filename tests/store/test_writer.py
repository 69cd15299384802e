"""The writer thread: every submitted task settles, even one that races the close."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future, wait
from typing import Any

from roost.store.writer import Call, Writer


class _Engine:
    def close(self) -> None: ...


def test_tasks_racing_close_all_settle() -> None:
    # Switch threads almost every bytecode, so a submit lands between close's steps.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _race_close(rounds=8)
    finally:
        sys.setswitchinterval(interval)


def _race_close(rounds: int) -> None:
    for _ in range(rounds):
        writer = Writer(lambda: _Engine())  # type: ignore[arg-type,return-value]
        writer.start()
        futures: list[Future[Any]] = []
        refused: list[RuntimeError] = []
        go = threading.Event()

        def submitter() -> None:
            go.wait()
            for _ in range(600):
                try:
                    futures.append(writer.submit(Call(lambda engine: 1)))
                except RuntimeError as exc:  # closed: refused at once, which is fine
                    refused.append(exc)

        threads = [threading.Thread(target=submitter) for _ in range(3)]
        for t in threads:
            t.start()
        go.set()
        while len(futures) < 100:  # close while the submitters are in full flow
            pass
        writer.close()
        for t in threads:
            t.join()
        _, pending = wait(futures, timeout=5)
        assert not pending, f"{len(pending)} tasks never ran nor failed"
