"""Fingerprints of a source that has no SQL (MongoDB, CouchDB): its rows streamed by the engine's own reader and
hashed in Python with the same canonical text, row hash and sum as the SQL engines.

Each call streams the table once (like each SQL query scans it once) and keeps only what the call returns: the
per-range sums, the keys of the range being cut, or the row hashes of one small range. Keys compare as Python
values: integers by value, text by code point (the byte order of UTF-8, as the target's "C" comparisons do).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines.base import SourceColumn
from databridge.engines.canonical import canonical, hash64, row_text
from databridge.engines.fingerprint import KeyRange, ProofColumn

Visit = Callable[[Any, tuple[str | None, ...], int], None]


class _HashingSink:
    """Takes rows as the staging COPY would and hands (key value, key texts, row hash) of those in range to
    ``visit``."""

    def __init__(self, side: StreamSide, within: KeyRange, visit: Visit) -> None:
        names = [c.name for c in side.read]
        self.columns = [(names.index(c.name), c.kind) for c in side.columns]
        self.key = [(names.index(c.name), c.kind) for c in side.key]
        self.within = within
        self.visit = visit

    def write_row(self, row: Sequence[Any]) -> None:
        texts = [canonical(kind, row[i]) for i, kind in self.columns]
        keys = tuple(canonical(kind, row[i]) for i, kind in self.key)
        value = _key_value(self.key[0][1], keys[0]) if self.key else None
        if self.within.lo is not None and (value is None or value < self.within.lo):
            return
        if self.within.hi is not None and (value is None or value >= self.within.hi):
            return
        self.visit(value, keys, hash64(row_text(texts)))

    def write(self, buffer: bytes | str) -> None:
        raise TypeError("a streamed fingerprint takes rows, not COPY text")


def _key_value(kind: str, text: str | None) -> Any:
    return int(text) if kind == "int" and text is not None else text


@dataclass
class StreamSide:
    """A source table read through ``engine.copy_rows`` and fingerprinted in Python."""

    engine: Any
    table: TableRef
    read: list[SourceColumn]
    columns: Sequence[ProofColumn]
    key: Sequence[ProofColumn]
    batch_size: int = 1000
    label: str = ""

    def prints(self, within: KeyRange, bounds: Sequence[Any]) -> list[tuple[int, int]]:
        totals = [[0, 0] for _ in range(len(bounds) + 1)]

        def add(value: Any, _keys: tuple[str | None, ...], digest: int) -> None:
            bucket = totals[bisect.bisect_right(list(bounds), value) if bounds else 0]
            bucket[0] += 1
            bucket[1] = (bucket[1] + digest) % (1 << 64)

        self._stream(within, add)
        return [(n, s) for n, s in totals]

    def boundaries(self, within: KeyRange, every: int) -> list[Any]:
        values: list[Any] = []
        self._stream(within, lambda value, _keys, _digest: values.append(value))
        ordered = sorted(v for v in values if v is not None)
        cuts = [ordered[i] for i in range(every - 1, len(ordered), every)]
        return [v for i, v in enumerate(cuts) if (i == 0 or cuts[i - 1] != v) and v not in (within.lo, within.hi)]

    def row_hashes(self, within: KeyRange, limit: int) -> dict[tuple[str | None, ...], int] | None:
        found: dict[tuple[str | None, ...], int] = {}

        def keep(_value: Any, keys: tuple[str | None, ...], digest: int) -> None:
            if len(found) <= limit:  # one past the limit says "too many" without holding the rest
                found[keys] = digest

        self._stream(within, keep)
        return None if len(found) > limit else found

    def _stream(self, within: KeyRange, visit: Visit) -> None:
        self.engine.copy_rows(self.table, self.read, _HashingSink(self, within, visit), self.batch_size)


def stream_side(
    engine: Any, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn], label: str
) -> StreamSide:
    """A streamed side reading just the columns the proof compares (keys first), as the engine discovers them."""
    wanted = list(dict.fromkeys([c.name for c in key] + [c.name for c in columns]))
    known = {c.name: c for c in engine.columns(table)}
    return StreamSide(engine, table, [known[n] for n in wanted], columns, key, label=label)
