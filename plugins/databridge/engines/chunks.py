"""Chunks of a source table: the ranges a large table is split into, and the WHERE each engine reads one with.

A split is computed once per run from the data (quantiles of the key: same data, same boundaries), stored in the
target, and read back by every chunk and every retry, so chunk k always reads exactly the same range. Ranges are
half-open, ``lower <= key < upper``; the first chunk has no lower bound and also holds the rows whose key is NULL,
the last has no upper bound (rows added to the source after the split still land in exactly one chunk).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

RANGE = "range"
"""Rows whose ``key`` (a column, or a row locator such as PostgreSQL's ctid or SQLite's rowid) is in a range."""
HASH = "hash"
"""Rows whose hash of every extracted value, modulo the chunk count, is the chunk index (tables with no key)."""

ORDERABLE_KEY_TYPES = ("smallint", "integer", "bigint", "numeric", "date", "timestamp")
"""Staging types of a primary key chosen without being asked: cheap, exact comparisons on every engine."""


@dataclass(frozen=True)
class Split:
    """How a table is cut: ranges of ``key`` between ``bounds`` (ascending), or ``parts`` hash buckets."""

    method: str
    key: str
    bounds: tuple[Any, ...] = ()
    parts: int = 1
    """Hash splits only: how many buckets."""

    @property
    def count(self) -> int:
        return len(self.bounds) + 1 if self.method == RANGE else self.parts

    def chunk(self, index: int) -> Chunk:
        if self.method == HASH:
            return Chunk(index, self.count, HASH, self.key)
        lower = self.bounds[index - 1] if index > 0 else None
        upper = self.bounds[index] if index < len(self.bounds) else None
        return Chunk(index, self.count, RANGE, self.key, lower, upper)


@dataclass(frozen=True)
class Chunk:
    """One chunk: ``lower <= key < upper`` (None: unbounded; NULL keys in chunk 0), or hash modulo ``count``."""

    index: int
    count: int
    method: str
    key: str
    lower: Any = None
    upper: Any = None
    holds_nulls: bool | None = None
    """Whether rows with a NULL key are read with this range; None: only by chunk 0."""

    @property
    def nulls(self) -> bool:
        return self.index == 0 if self.holds_nulls is None else self.holds_nulls

    @property
    def whole(self) -> bool:
        """The whole table: read without a condition."""
        return self.count == 1 and self.lower is None and self.upper is None

    def part(self, lower: Any, upper: Any, *, first: bool) -> Chunk:
        """The part of this range from ``lower`` to ``upper`` (one batch read in key order); NULL keys go with the
        chunk's first part."""
        return dataclasses.replace(self, lower=lower, upper=upper, holds_nulls=first and self.nulls)

    def describe(self) -> str:
        if self.method == HASH:
            return f"chunk {self.index + 1}/{self.count} (hash of the row mod {self.count} = {self.index})"
        lower = "" if self.lower is None else f"{self.lower!r} <= "
        upper = "" if self.upper is None else f" < {self.upper!r}"
        nulls = " or NULL" if self.nulls else ""
        return f"chunk {self.index + 1}/{self.count} ({lower}{self.key}{upper}{nulls})"


def range_predicate(ident: str, chunk: Chunk, literal: Callable[[Any], str]) -> str:
    """The WHERE condition of a range chunk over the quoted ``ident``, values rendered by the engine's ``literal``."""
    parts = []
    if chunk.lower is not None:
        parts.append(f"{ident} >= {literal(chunk.lower)}")
    if chunk.upper is not None:
        parts.append(f"{ident} < {literal(chunk.upper)}")
    condition = " AND ".join(parts) or "1 = 1"
    return f"({ident} IS NULL OR {condition})" if chunk.nulls else condition


def quantile_offsets(rows: int, chunks: int) -> list[int]:
    """Row offsets (in key order) of the boundaries that cut ``rows`` keys into ``chunks`` near-equal parts."""
    return sorted({rows * i // chunks for i in range(1, chunks)} - {0}) if rows > 0 else []


LIMIT_OFFSET = "SELECT {key} FROM {table} WHERE {key} IS NOT NULL ORDER BY {key} LIMIT 1 OFFSET {offset}"
"""The key value at a row offset, in the SQL PostgreSQL, MySQL and SQLite share (T-SQL has its own)."""


def quantile_bounds(
    first: Callable[[str], Any], ref: str, ident: str, chunks: int, at: str = LIMIT_OFFSET
) -> tuple[Any, ...]:
    """Boundaries at the quantiles of a key, read with ``first(query)`` (the query's first value) with the ``at``
    query; an index on the key makes each a short index scan."""
    rows = int(first(f"SELECT count({ident}) FROM {ref}") or 0)
    return distinct_bounds(
        [first(at.format(key=ident, table=ref, offset=offset)) for offset in quantile_offsets(rows, chunks)]
    )


def distinct_bounds(values: Sequence[Any]) -> tuple[Any, ...]:
    """Boundaries strictly ascending: a repeated key value (a skewed key) would make an empty chunk."""
    out: list[Any] = []
    for value in values:
        if value is not None and (not out or value > out[-1]):
            out.append(value)
    return tuple(out)


def next_key(
    first: Callable[[str], Any], ref: str, ident: str, where: str, part: Chunk, rows: int, literal: Callable[[Any], str]
) -> Any:
    """Where a batch of ``rows`` rows read in key order from ``part`` ends: the key ``rows`` keys on (None when
    fewer remain). ``where`` is the part's WHERE clause (or ""). A key value repeated more than ``rows`` times
    gives the next distinct value instead, so every batch moves forward."""
    not_null = f"{where} AND {ident} IS NOT NULL" if where else f" WHERE {ident} IS NOT NULL"
    bound = first(f"SELECT {ident} FROM {ref}{not_null} ORDER BY {ident} LIMIT 1 OFFSET {rows}")
    if bound is not None and part.lower is not None and bound <= part.lower:
        bound = first(f"SELECT min({ident}) FROM {ref}{not_null} AND {ident} > {literal(part.lower)}")
    return bound


def encode_bound(value: Any) -> dict[str, Any]:
    """A boundary as JSON that decodes to the same Python value (stored in the target with the split)."""
    for kind, cls in _KINDS:
        if isinstance(value, cls):
            return {"type": kind, "value": value if kind in ("int", "str") else str(value)}
    raise TypeError(f"a chunk boundary of type {type(value).__name__} cannot be stored; choose another chunk_key")


def decode_bound(data: dict[str, Any]) -> Any:
    readers: dict[str, Callable[[Any], Any]] = {"int": int, "str": str, "decimal": decimal.Decimal, "float": float,
                                                "datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
                                                "objectid": ObjectId}  # fmt: skip
    return readers[data["type"]](data["value"])


# datetime before date: a datetime is a date too.
_KINDS: tuple[tuple[str, type], ...] = (
    ("int", int),
    ("decimal", decimal.Decimal),
    ("float", float),
    ("datetime", dt.datetime),
    ("date", dt.date),
    ("str", str),
    ("objectid", ObjectId),
)
