"""Wire framing of a message, built once and written to many transports as it is.

The hub writes framed bytes straight to each connection's transport instead of
awaiting a send per client: one batch becomes one `transport.write` per client,
with no task switch, which is what lets a small machine feed a thousand clients.
aiohttp still owns the handshake, reading, pings and close; this module only
frames data messages the way aiohttp's own writers would.
"""

from __future__ import annotations

import struct


def websocket_text(payload: bytes) -> bytes:
    """Return `payload` (UTF-8 JSON) as one unmasked, uncompressed WebSocket text frame (RFC 6455)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


def chunk(data: bytes) -> bytes:
    """Return `data` as one chunk of an HTTP/1.1 chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def sse_event(payload: bytes, event_id: str | None = None) -> bytes:
    """Return one Server-Sent Event carrying `payload`, chunk-framed.

    `payload` is compact JSON, which never holds a raw newline, so one `data:`
    line carries it whole.
    """
    head = b"id: %s\n" % event_id.encode() if event_id is not None else b""
    return chunk(b"%sdata: %s\n\n" % (head, payload))


def sse_comment(text: str) -> bytes:
    """Return an SSE comment line (ignored by clients; keeps idle connections open), chunk-framed."""
    return chunk(b": %s\n\n" % text.encode())
