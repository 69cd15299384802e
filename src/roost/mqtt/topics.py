"""The bridge's topics: what it publishes and the one filter it takes commands from."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Topics"]

# What a command's name may be; anything else is answered as an unknown command.
_COMMAND_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True, slots=True)
class Topics:
    """`{prefix}/{node}/...`: state, status, cmd and result topics of one node."""

    base: str

    @property
    def status(self) -> str:
        """`online`/`offline`, retained; `offline` is the last will."""
        return f"{self.base}/status"

    @property
    def commands(self) -> str:
        """The one filter the bridge subscribes to for commands."""
        return f"{self.base}/cmd/+"

    def state(self, path: str) -> str:
        """The retained topic of a state path."""
        return f"{self.base}/state/{path}"

    def command_topic(self, command: str) -> str:
        """Where arguments for `command` go."""
        return f"{self.base}/cmd/{command}"

    def result(self, command: str) -> str:
        """Where results of `command` go for MQTT 3.1.1 clients (no response topic)."""
        return f"{self.base}/result/{command if _COMMAND_NAME.match(command) else '_invalid'}"

    def command_of(self, topic: str) -> str | None:
        """Return the command named by a topic under `cmd/`, else None."""
        head = f"{self.base}/cmd/"
        if not topic.startswith(head):
            return None
        return topic[len(head) :]

    def may_answer_on(self, topic: str, discovery_prefix: str) -> bool:
        """Whether a request's MQTT 5 response topic is one the bridge may publish to.

        Never a wildcard, a `$` system topic, this node's own state/status/cmd
        topics, nor discovery: a command caller cannot make the bridge publish
        state or configuration anywhere.
        """
        if not topic or len(topic) > 256 or topic.startswith("$") or "+" in topic or "#" in topic:
            return False
        if "\x00" in topic:
            return False
        own = topic == self.base or topic.startswith(self.base + "/")
        if own and not topic.startswith(f"{self.base}/result/"):
            return False
        return not (topic == discovery_prefix or topic.startswith(discovery_prefix + "/"))


def is_command_name(name: str) -> bool:
    """Whether `name` can be a command's name."""
    return bool(_COMMAND_NAME.match(name))
