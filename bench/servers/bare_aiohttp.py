"""The anchor: a bare aiohttp handler returning fixed bytes (argv: port, payload file)."""

import sys
from pathlib import Path

from aiohttp import web

payload = Path(sys.argv[2]).read_bytes()


async def data(request: web.Request) -> web.Response:
    return web.Response(body=payload, content_type="application/json")


app = web.Application()
app.router.add_get("/data", data)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
