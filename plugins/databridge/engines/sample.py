"""The shared parts of each engine's ``sample_rows``: a bounded sample of a table, values as the source holds them.

An engine with SQL reads its sample with one SELECT ... LIMIT (its own quoting and casts, in its module); one without
(documents, or an engine whose reads need Python work) streams its ``copy_rows`` into a sink that stops once it
holds enough rows (``through_copy_rows``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines.base import Consume, SourceColumn, SourceEngine

_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def limit_clause(limit: int | None) -> str:
    """`` LIMIT n`` for the SQL engines that write it so (MySQL, PostgreSQL, SQLite); nothing for every row."""
    return f" LIMIT {int(limit)}" if limit is not None else ""


def drain(fetch: Callable[[int], Any], batch_size: int, consume: Consume) -> int:
    """Hand every row a cursor's ``fetch(batch_size)`` returns to ``consume``; returns how many."""
    rows = 0
    while batch := fetch(batch_size):
        for row in batch:
            consume(tuple(row))
        rows += len(batch)
    return rows


def through_copy_rows(
    source: SourceEngine,
    table: TableRef,
    columns: list[SourceColumn],
    limit: int | None,
    consume: Consume,
    batch_size: int,
) -> int:
    """The sample as the engine's ``copy_rows`` reads it, stopped after ``limit`` rows."""
    sink = SampleSink(limit, consume)
    with contextlib.suppress(_Enough):
        source.copy_rows(table, columns, sink, batch_size if limit is None else min(batch_size, limit))
    return sink.rows


class _Enough(Exception):
    """Raised by the sink to stop an engine's copy_rows once the sample is complete."""


class SampleSink:
    """A RowSink that hands rows on and stops the read at ``limit`` rows. COPY text (from ``write``) is parsed."""

    def __init__(self, limit: int | None, consume: Consume) -> None:
        self.limit = limit
        self.consume = consume
        self.rows = 0
        self._pending = b""

    def write_row(self, row: Any) -> None:
        if self.limit is not None and self.rows >= self.limit:
            raise _Enough
        self.consume(tuple(row))
        self.rows += 1

    def write(self, buffer: bytes | str) -> None:
        data = self._pending + (buffer.encode() if isinstance(buffer, str) else bytes(buffer))
        *lines, self._pending = data.split(b"\n")
        for line in lines:
            self.write_row(tuple(copy_text_field(f) for f in line.split(b"\t")))


def copy_text_field(field: bytes) -> str | None:
    """One field of PostgreSQL's COPY text format: \\N is NULL, backslash escapes undone."""
    if field == b"\\N":
        return None
    text = field.decode("utf-8")
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text) if "\\" in text else text
