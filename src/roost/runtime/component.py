"""The seam every built-in feature (recorder, live hub, bridges) plugs into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from roost.core.metrics import Metric
from roost.runtime.routes import Route


class Component:
    """A feature with a lifecycle: started after the hub, stopped before it, in reverse order.

    Subclasses override what they need. A component that serves HTTP returns its
    `Route`s from `routes()` and describes them in `openapi_paths()`; the web
    server mounts them (so every Component is a `RouteProvider` and an
    `OpenApiProvider`, and mypy checks each override's types).
    """

    name = "component"

    async def start(self) -> None:
        """Start; the loop is running and the state tree is attached. Loop only."""

    async def stop(self) -> None:
        """Stop and flush; every change up to the final seq has been delivered. Loop only."""

    def routes(self) -> Sequence[Route]:
        """Return the HTTP routes this component serves (none by default)."""
        return ()

    def openapi_paths(self) -> dict[str, Any]:
        """Return OpenAPI path items describing `routes()`, keyed by path."""
        return {}

    async def close_connections(self) -> None:
        """End long-lived HTTP responses (live streams) as the web server shuts down. Loop only.

        Called before the server waits for its handlers to finish, which a stream
        that never ends by itself would otherwise hold up.
        """

    def health(self) -> dict[str, Any]:
        """Return this component's entry in /healthz (`{"ok": bool, ...}`)."""
        return {"ok": True}

    def metrics(self) -> list[Metric]:
        """Return this component's metric families for /metrics."""
        return []
