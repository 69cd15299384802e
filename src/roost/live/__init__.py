"""Live push: every change of the state tree to WebSocket and SSE clients (docs/live.md)."""

from roost.live.hub import LiveHub
from roost.live.settings import LiveSettings

__all__ = ["LiveHub", "LiveSettings"]
