"""The one guard that keeps blocking calls off the event loop.

roost's thread/loop twins follow one convention: the plain name (`query`,
`ingest`, `flush`, `call`) is thread-safe and blocks until done, for worker
threads and programs; the `a`-prefixed twin (`aquery`, `aingest`, `aflush`,
`acall`) is the coroutine to await on the loop. A plain name called on the loop
would stall every connection, or deadlock waiting for the loop it blocks, so it
refuses at once through `refuse_on_loop`.
"""

from __future__ import annotations

import asyncio


def refuse_on_loop(what: str, twin: str) -> None:
    """Raise RuntimeError when the calling thread runs an event loop, which `what` would block.

    `twin` names the coroutine to await instead, e.g. `"app.history.aquery(...)"`.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # a worker thread, or a program before the app runs: blocking is fine here
    raise RuntimeError(f"{what} blocks and this thread runs the event loop; there use `await {twin}`")
