"""The seam every built-in feature (recorder, live hub, bridges) plugs into."""

from __future__ import annotations

from typing import Any

from roost.core.metrics import Metric


class Component:
    """A feature with a lifecycle: started after the hub, stopped before it, in reverse order.

    Subclasses override what they need. A component that serves HTTP routes also
    defines `add_routes(web_app)`, and may describe them in `openapi_paths()`;
    the web server looks for those.
    """

    name = "component"

    async def start(self) -> None:
        """Start; the loop is running and the state tree is attached. Loop only."""

    async def stop(self) -> None:
        """Stop and flush; every change up to the final seq has been delivered. Loop only."""

    def health(self) -> dict[str, Any]:
        """Return this component's entry in /healthz (`{"ok": bool, ...}`)."""
        return {"ok": True}

    def metrics(self) -> list[Metric]:
        """Return this component's metric families for /metrics."""
        return []
