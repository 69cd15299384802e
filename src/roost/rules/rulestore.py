"""The page's rules on disk: `rules.json` in the data directory, written crash-safely.

`{"schema": 1, "rules": {name: {...}}}`, the fields as GET shows them. Rules the
program declares are not kept: the program declares them again at each start.
A file that cannot be used (not JSON, a newer schema) is left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from roost.core.errors import InvalidArguments
from roost.rules.model import Rule, parse_rule
from roost.runtime.settingsfile import SettingsUnreadable, read_document, section, write_atomically

RULES_FILE = "rules.json"
SCHEMA = 1


class RuleStore:
    """rules.json; its callers serialize saves."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Rule]:
        """Return the page's rules; raise SettingsUnreadable."""
        doc = read_document(self.path, "rules", SCHEMA)
        entries = {} if doc is None else section(doc, "rules", str(self.path))
        rules: dict[str, Rule] = {}
        for name, entry in entries.items():
            try:
                if not isinstance(entry, dict):
                    raise InvalidArguments("must be an object")
                rules[name] = parse_rule(name, entry)
            except InvalidArguments as exc:
                raise SettingsUnreadable(f"{self.path}: rule {name!r}: {exc}") from None
        return rules

    def save(self, rules: dict[str, Rule]) -> None:
        """Write the page's rules."""
        doc = {"schema": SCHEMA, "rules": {n: r.saved() for n, r in sorted(rules.items())}}
        write_atomically(self.path, json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n")
