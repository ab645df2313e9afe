"""Fingerprints of a table computed inside its database: per key range, a row count and a sum of 64-bit row hashes.

Each engine gives a ``Dialect`` (how it writes the canonical text of engines/canonical.py, the row hash and the sum)
and opens a ``SqlSide`` over one table; the proof (runtime/proof.py) compares two sides range by range, splits the
ranges that differ and finally lists the differing keys. Every query is one aggregate over the table (or a key
range of it): no rows travel, except the few row hashes of a small range being narrowed.

A range is ``lo <= key < hi`` on the first key column (None: unbounded). Text keys compare by their bytes (UTF-8)
on every engine, so both sides put a row in the same range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from databridge.engines.canonical import NULL_TEXT

RANGE_KINDS = ("int", "text")
"""Key kinds whose order every engine agrees on (others are ranged only between two PostgreSQL sides)."""


@dataclass(frozen=True)
class KeyRange:
    """``lo <= key < hi`` on the first key column; None is unbounded."""

    lo: Any = None
    hi: Any = None

    def describe(self, key: str = "key") -> str:
        lo = "" if self.lo is None else f"{self.lo!r} <= "
        hi = "" if self.hi is None else f" < {self.hi!r}"
        return f"{lo}{key}{hi}" if lo or hi else f"all {key} values"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class Dialect:
    """How one engine writes the canonical text, the row hash, the hash sum and a key comparison."""

    name: str
    canon: Callable[[str, str], str | None]
    """(SQL expression, kind) → SQL of its canonical text, or None when the engine cannot compute it."""
    length: str
    concat: Callable[[Sequence[str]], str]
    hash: str
    sum: str
    key: Callable[[str, str], str]
    """(expression, kind) → what ranges compare and order by."""
    param: Callable[[str], str]
    """kind → the placeholder of a bound value compared with a key."""

    def text(self, canonical_sql: str) -> str:
        """One value's part of the row text: ``<length>:<text>``, or ``-`` for NULL."""
        joined = self.concat([self.length.format(canonical_sql), "':'", canonical_sql])
        return f"COALESCE({joined}, '{NULL_TEXT}')"

    def row_text(self, canonicals: Sequence[str]) -> str:
        parts: list[str] = []
        for i, c in enumerate(canonicals):
            parts += (["'|'"] if i else []) + [self.text(c)]
        return self.concat(parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class ProofColumn:
    """A column as one side reads it: the SQL expression and its canonical kind."""

    name: str
    sql: str
    kind: str


Runner = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


@dataclass
class SqlSide:
    """One table (or the rows of it a condition keeps) of one engine, fingerprinted by aggregate queries."""

    dialect: Dialect
    run: Runner
    table: str
    columns: Sequence[ProofColumn]
    key: Sequence[ProofColumn]
    where: str | None = None
    label: str = ""

    def prints(self, within: KeyRange, bounds: Sequence[Any]) -> list[tuple[int, int]]:
        """(rows, hash sum mod 2^64) of each of the len(bounds)+1 ranges ``within`` is cut into by ``bounds``."""
        params: list[Any] = []
        bucket = self._bucket(bounds, params)
        where, where_params = self._where(within)
        hashed = self.dialect.hash.format(self._row_text())
        query = f"SELECT {bucket}, COUNT(*), {self.dialect.sum.format(hashed)} FROM {self.table}{where} GROUP BY 1"
        found = {int(b): (int(n), int(s) % (1 << 64)) for b, n, s in self._query(query, params + where_params)}
        return [found.get(i, (0, 0)) for i in range(len(bounds) + 1)]

    def boundaries(self, within: KeyRange, every: int) -> list[Any]:
        """Every ``every``-th key of the range in key order (distinct): where to cut it into smaller ranges."""
        key = self._key_expr()
        where, params = self._where(within)
        query = (
            f"SELECT k FROM (SELECT {self.key[0].sql} AS k, ROW_NUMBER() OVER (ORDER BY {key}) AS rn "
            f"FROM {self.table}{where}) x WHERE MOD(rn, {int(every)}) = 0 ORDER BY rn"
        )
        out: list[Any] = []
        for (value,) in self._query(query, params):
            if value is not None and (not out or out[-1] != value) and value not in (within.lo, within.hi):
                out.append(value)
        return out

    def row_hashes(self, within: KeyRange, limit: int) -> dict[tuple[str | None, ...], int] | None:
        """Key (canonical texts) → row hash of every row in the range; None when it holds more than ``limit`` rows."""
        keys = ", ".join(self._canon(c) for c in self.key)
        where, params = self._where(within)
        query = (
            f"SELECT {keys}, {self.dialect.hash.format(self._row_text())} FROM {self.table}{where} LIMIT "
            f"{int(limit) + 1}"
        )
        rows = self._query(query, params)
        if len(rows) > limit:
            return None
        return {tuple(None if v is None else str(v) for v in row[:-1]): int(row[-1]) % (1 << 64) for row in rows}

    def _row_text(self) -> str:
        return self.dialect.row_text([self._canon(c) for c in self.columns])

    def _canon(self, column: ProofColumn) -> str:
        sql = self.dialect.canon(column.sql, column.kind)
        if sql is None:
            raise ValueError(
                f"{self.dialect.name} cannot compute the canonical text of {column.name} ({column.kind}) in SQL"
            )
        return sql

    def _key_expr(self) -> str:
        return self.dialect.key(self.key[0].sql, self.key[0].kind)

    def _bucket(self, bounds: Sequence[Any], params: list[Any]) -> str:
        if not bounds:
            return "0"
        key, placeholder = self._key_expr(), self.dialect.param(self.key[0].kind)
        whens = []
        for i, bound in enumerate(bounds):
            whens.append(f"WHEN {key} < {placeholder} THEN {i}")
            params.append(bound)
        return f"CASE {' '.join(whens)} ELSE {len(bounds)} END"

    def _where(self, within: KeyRange) -> tuple[str, list[Any]]:
        conditions = [self.where] if self.where else []
        params: list[Any] = []
        if self.key and (within.lo is not None or within.hi is not None):
            key, placeholder = self._key_expr(), self.dialect.param(self.key[0].kind)
            for bound, op in ((within.lo, ">="), (within.hi, "<")):
                if bound is not None:
                    conditions.append(f"{key} {op} {placeholder}")
                    params.append(bound)
        return (" WHERE " + " AND ".join(f"({c})" for c in conditions) if conditions else ""), params

    def _query(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self.run(query, params)


class Side(Protocol):
    """What the proof compares: fingerprints per range, where to cut a range, and the row hashes of a small one."""

    def prints(self, within: KeyRange, bounds: Sequence[Any]) -> list[tuple[int, int]]: ...

    def boundaries(self, within: KeyRange, every: int) -> list[Any]: ...

    def row_hashes(self, within: KeyRange, limit: int) -> dict[tuple[str | None, ...], int] | None: ...
