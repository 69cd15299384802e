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
        for _ in range(8):
            pending = _race_close()
            assert not pending, f"{len(pending)} tasks never ran nor failed"
    finally:
        sys.setswitchinterval(interval)


def _race_close() -> set[Future[Any]]:
    writer = Writer(lambda: _Engine())  # type: ignore[arg-type,return-value]
    writer.start()
    futures: list[Future[Any]] = []
    go = threading.Event()

    def submitter() -> None:
        go.wait()
        for _ in range(600):
            try:
                futures.append(writer.submit(Call(lambda engine: 1)))
            except RuntimeError:  # closed: refused at once, which is fine
                pass

    threads = [threading.Thread(target=submitter) for _ in range(3)]
    for t in threads:
        t.start()
    go.set()
    while len(futures) < 100:  # close while the submitters are in full flow
        pass
    writer.close()
    for t in threads:
        t.join()
    return wait(futures, timeout=5).not_done
