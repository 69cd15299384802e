"""What the access middleware (the Caller of each request, its route's scope) costs per request.

Calls the middleware in-process around a handler that returns at once, against
the handler alone, on a real aiohttp router, and prints CPU microseconds per
request for each. A whole `GET /api/state` costs tens of microseconds on the same
machine; the difference between the two figures is what every request pays for
knowing its caller.

    python bench/access_middleware.py [--requests 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from roost.runtime.routes import Route
from roost.web.access import Access

REPLY = web.Response(body=b"{}")


async def handler(request: web.Request) -> web.StreamResponse:
    return REPLY


async def per_call_us(call: Callable[[], Awaitable[object]], n: int) -> float:
    # CPU time of this process, not wall time: on a shared machine the figure stays honest.
    started = time.process_time()
    for _ in range(n):
        await call()
    return (time.process_time() - started) / n * 1e6


async def main(n: int, rounds: int) -> None:
    app = web.Application()
    access = Access()
    access.mount(app, Route("GET", "/api/state", handler), head=True)
    app.router.freeze()
    headers = {"Host": "127.0.0.1:8080", "Accept": "*/*", "User-Agent": "bench"}
    request = make_mocked_request("GET", "/api/state", headers=headers, app=app)
    request._match_info = await app.router.resolve(request)  # what aiohttp does before middlewares
    bare, guarded = [], []
    for _ in range(rounds):
        bare.append(await per_call_us(lambda: handler(request), n))
        guarded.append(await per_call_us(lambda: access.middleware(request, handler), n))
    b, g = statistics.median(bare), statistics.median(guarded)
    print(f"handler alone:          {b:6.2f} us/request (median of {rounds} x {n})")
    print(f"through the middleware: {g:6.2f} us/request")
    print(f"the middleware costs:   {g - b:6.2f} us/request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000, help="calls per round (default 200000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; medians are reported")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
