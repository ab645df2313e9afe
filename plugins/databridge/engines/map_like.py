"""Objects used as maps in sampled documents (keys are ids, or vary from document to document): one jsonb column each.

A record has a few keys that most of its objects share; a map (scores by user id, prices by date) has keys that are
data. Taken as a record, a map of user ids would make a column per user and a child table per array inside it, so a
path whose objects look like a map is kept whole as jsonb and its sub-paths are not columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

ID_SHARE = 0.9
"""Keys that look like ids (digits, long hexadecimal such as ObjectIds, UUIDs) in this share or more: a map."""
VARYING_KEYS = 32
"""With at least this many distinct keys, keys that each object holds few of (below PRESENCE on average): a map."""
PRESENCE = 0.25
MAX_KEYS = 256
"""More distinct keys than this are a map whatever they look like: a table has no column per key."""
_KEPT_KEYS = 10_000
"""Distinct keys remembered per path (beyond this the count says "at least")."""
_EXAMPLES = 3
_ID_KEY = re.compile(r"[+-]?\d+|[0-9a-f]{16,}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", re.IGNORECASE)


@dataclass
class ObjectKeys:
    """The keys of the objects met at one path."""

    objects: int = 0
    held: int = 0
    """Keys summed over the objects."""
    distinct: set[str] = field(default_factory=set)

    def add(self, value: Mapping[str, Any]) -> None:
        self.objects += 1
        self.held += len(value)
        if len(self.distinct) < _KEPT_KEYS:
            self.distinct.update(str(k) for k in value)

    def is_map(self) -> bool:
        keys = len(self.distinct)
        if keys > MAX_KEYS:
            return True
        if keys >= 2 and sum(bool(_ID_KEY.fullmatch(k)) for k in self.distinct) >= ID_SHARE * keys:
            return True
        return keys >= VARYING_KEYS and self.held < PRESENCE * self.objects * keys

    def note(self) -> str:
        count = f"{'at least ' if len(self.distinct) >= _KEPT_KEYS else ''}{len(self.distinct)}"
        shown = ", ".join(sorted(self.distinct)[:_EXAMPLES])
        return (
            f"a map: {count} distinct keys in {self.objects} documents (e.g. {shown}): kept whole as jsonb, its keys "
            "are not columns; read it as rows with jsonb_each() in an expression, or a key with ->>"
        )


def map_paths(objects: Mapping[str, ObjectKeys]) -> dict[str, str]:
    """The outermost paths whose objects are maps, each with the note saying so."""
    found = {path: keys.note() for path, keys in objects.items() if keys.is_map()}
    return {path: note for path, note in found.items() if not within(path, found)}


def within(path: str, parents: Iterable[str]) -> bool:
    """Whether ``path`` is a sub-path (``parent.x``) of one of ``parents``."""
    return any(path.startswith(f"{parent}.") for parent in parents)
