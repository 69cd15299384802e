"""The bridge's outbox: bounded, coalescing, so a broker away for hours costs a fixed amount of memory.

One entry per topic: a newer message for a topic replaces the one waiting (the
newest value wins, and counts as coalesced). Past `max_messages` the oldest entry
is dropped and counted. State needs no more than that: on every reconnect the
bridge puts the whole current state back in, so a dropped value is never a lost
one, only a late one. Loop only.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["Message", "Outbox"]


@dataclass(frozen=True, slots=True)
class Message:
    """One message to publish."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    # MQTT 5 correlation data, for replies to a request's response topic.
    correlation: bytes | None = None


class Outbox:
    """Messages waiting for the broker, one per topic, oldest first."""

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._waiting: OrderedDict[str, Message] = OrderedDict()
        self.dropped = 0
        self.coalesced = 0
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def put(self, message: Message) -> None:
        """Queue `message`, replacing one waiting for the same topic; drop the oldest past the bound."""
        old = self._waiting.pop(message.topic, None)
        if old is not None:
            self.coalesced += 1
            self.bytes -= len(old.payload)
        self._waiting[message.topic] = message
        self.bytes += len(message.payload)
        while len(self._waiting) > self.max_messages:
            _, gone = self._waiting.popitem(last=False)
            self.bytes -= len(gone.payload)
            self.dropped += 1

    def put_back(self, message: Message) -> None:
        """Return an unsent message to the front, unless a newer one for its topic is waiting."""
        if message.topic in self._waiting or len(self._waiting) >= self.max_messages:
            return
        self._waiting[message.topic] = message
        self._waiting.move_to_end(message.topic, last=False)
        self.bytes += len(message.payload)

    def take(self, limit: int) -> list[Message]:
        """Remove and return up to `limit` messages, oldest first."""
        out: list[Message] = []
        while self._waiting and len(out) < limit:
            _, message = self._waiting.popitem(last=False)
            self.bytes -= len(message.payload)
            out.append(message)
        return out

    def clear(self) -> None:
        """Forget everything waiting."""
        self._waiting.clear()
        self.bytes = 0
