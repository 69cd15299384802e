"""`GET /api/docs`: a browsable reference of this node's API, rendered from `/api/openapi.json`.

The page (`frontend/src/apidocs.*`, built by `make page` beside the main page but
not into its bundle) is a few KB of our own HTML, CSS and JavaScript: nothing is
loaded from outside the node.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from roost.core.caller import Scope
from roost.core.errors import Unavailable
from roost.runtime.routes import Route


class ApiDocs:
    """Serves the built API reference page from `page_dir`."""

    def __init__(self, page_dir: Path) -> None:
        self.page_dir = page_dir

    def routes(self) -> Sequence[Route]:
        """Return the one route: `GET /api/docs`, for anyone who may read."""
        return [Route("GET", "/api/docs", self.docs, scope=Scope.READ, name="api-docs")]

    def openapi_paths(self) -> dict[str, Any]:
        """Return the OpenAPI path item of `/api/docs`."""
        return {
            "/api/docs": {
                "get": {
                    "summary": "This reference, browsable (HTML rendered from /api/openapi.json)",
                    "responses": {
                        "200": {"description": "the page", "content": {"text/html": {"schema": {}}}},
                        "503": {"description": "the page is not built (make page)"},
                    },
                }
            }
        }

    async def docs(self, request: web.Request) -> web.FileResponse:
        """Serve apidocs.html (its .gz or .br when the client accepts one), revalidated on each visit."""
        page = self.page_dir / "apidocs.html"
        if not page.is_file():
            raise Unavailable("the API reference is not built: run `make page`; /api/openapi.json has it all")
        return web.FileResponse(page, headers={"Cache-Control": "no-cache"})
