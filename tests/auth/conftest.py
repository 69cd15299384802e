"""Auth fixtures: nodes bound to 0.0.0.0 (LAN) or 127.0.0.1, reached only on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from auth_support import Node, StartNode, make_app
from roost import App


@pytest.fixture
async def start_node(tmp_path: Path) -> AsyncIterator[StartNode]:
    """Start a node: `await start_node("0.0.0.0", session_idle_s=1)`; stopped after the test."""
    started: list[App] = []

    async def start(host: str = "127.0.0.1", tls: tuple[str, str] | None = None, **auth: Any) -> Node:
        app = make_app(tmp_path / f"n{len(started)}", tls, **auth)
        await app.start(host=host, port=0)
        started.append(app)
        return Node(app)

    yield start
    for app in started:
        await app.stop()


@pytest.fixture
async def lan(start_node: StartNode) -> Node:
    """A node bound to 0.0.0.0 with an admin user `admin`."""
    node = await start_node("0.0.0.0")
    await node.add_user("admin")
    return node


@pytest.fixture
async def local(start_node: StartNode) -> Node:
    """A node bound to 127.0.0.1 with no user: open to local clients."""
    return await start_node("127.0.0.1")
