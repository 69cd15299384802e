"""aiomqtt's client, with its socket writer registered only while the socket is open.

aiomqtt 2.x hands `loop.add_writer(fd, ...)` to `call_soon_threadsafe` when
paho has bytes to send; if the broker goes away in between, the socket is
closed by the time it runs and the loop logs "Exception in callback ...
Bad file descriptor" (a traceback in the log at every broker restart), or,
with the fd number taken by a new socket meanwhile, watches the wrong one. It
also never removes the writer when the socket closes. Imported only with the
`mqtt` extra.
"""

from __future__ import annotations

from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt

__all__ = ["Client"]


class Client(aiomqtt.Client):
    """An `aiomqtt.Client` whose writer follows its socket's life."""

    def _on_socket_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        def write() -> None:
            try:
                client.loop_write()
            except Exception as exc:  # a broken pipe: the connection is gone
                if not self._disconnected.done():
                    self._disconnected.set_exception(exc)

        def register() -> None:
            # Checked when it runs, not when paho asked: the socket may have closed since.
            fd = sock.fileno()
            if fd != -1 and client.socket() is sock:
                self._loop.add_writer(fd, write)

        # paho may ask from the thread that connects, so the loop does the registering.
        self._loop.call_soon_threadsafe(register)

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        fileno = sock.fileno()
        if fileno != -1:
            self._loop.remove_writer(fileno)
        super()._on_socket_close(client, userdata, sock)
