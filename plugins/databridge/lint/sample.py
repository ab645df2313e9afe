"""Reading a bounded sample (or every row) of a source table, with the values as the source holds them.

Where the engine allows it the sample is one SELECT ... LIMIT over the engine's own connection, streamed; other
engines stream through their ``copy_rows`` into a sink that stops once it holds enough rows. Values are those the
source stores, before the extract's own conversions: MySQL dates come as text so zero dates stay visible.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TableRef
from databridge.engines.base import SourceColumn, SourceEngine

Consume = Callable[[tuple[Any, ...]], None]
_MYSQL_DATES = re.compile(r"^(date|datetime|timestamp)\b", re.IGNORECASE)
_ZERO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def is_zero_date(value: Any) -> bool:
    """A MySQL zero (or partly zero) date as text: 0000-00-00, 2024-00-10, 2024-05-00 ..."""
    match = _ZERO_DATE.match(value) if isinstance(value, str) else None
    return bool(match) and 0 in (int(match.group(1)), int(match.group(2)), int(match.group(3)))  # type: ignore[union-attr]


def is_mysql_date(column: SourceColumn) -> bool:
    return bool(_MYSQL_DATES.match(column.native_type))


def read_rows(source: SourceEngine, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int) -> int:
    """Hand each row (at most ``limit``; None: all) to ``consume``; returns how many were read."""
    reader = _READERS.get(source.name)
    if reader is not None:
        return reader(source, table, columns, limit, consume, batch_size)
    return _through_copy_rows(source, table, columns, limit, consume, batch_size)


def _limit(limit: int | None) -> str:
    return f" LIMIT {int(limit)}" if limit is not None else ""


def _mysql(source: Any, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int) -> int:
    import MySQLdb.cursors

    from databridge.engines.errors import mysql_error

    def ident(name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def expr(column: SourceColumn) -> str:
        if is_mysql_date(column):
            return f"CAST({ident(column.name)} AS CHAR)"
        return f"CAST({ident(column.name)} AS DOUBLE)" if column.pg_type == "real" else ident(column.name)

    bits = [c.native_type.lower().startswith("bit") for c in columns]
    ref = f"{ident(table.schema or source.default_schema())}.{ident(table.name)}"
    select = f"SELECT {', '.join(expr(c) for c in columns)} FROM {ref}{_limit(limit)}"
    try:
        cur = source.conn.cursor(MySQLdb.cursors.SSCursor)
        cur.execute(select)
        rows = _drain(cur.fetchmany, batch_size, lambda row: consume(tuple(_bit(v) if b else v for v, b in zip(row, bits, strict=True))))
        cur.close()
    except MySQLdb.Error as exc:
        raise mysql_error(exc, f"sampling {table}") from None
    return rows


def _bit(value: Any) -> Any:
    return int.from_bytes(value, "big") if isinstance(value, bytes) else value


def _postgres(source: Any, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int) -> int:
    import psycopg

    from databridge.engines.errors import postgres_error

    ref = f"{quote_ident(table.schema or source.default_schema())}.{quote_ident(table.name)}"
    # As text: enums, composites and json arrive as the strings COPY would send.
    select = f"SELECT {', '.join(quote_ident(c.name) + '::text' for c in columns)} FROM {ref}{_limit(limit)}"
    rows = 0
    try:
        with source.conn.cursor() as cur:
            for row in cur.stream(select):
                consume(row)
                rows += 1
    except psycopg.Error as exc:
        raise postgres_error(exc, f"sampling {table}") from None
    return rows


def _sqlite(source: Any, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int) -> int:
    import sqlite3

    from databridge.engines.errors import sqlite_error

    ref = f"{quote_ident(table.schema or source.default_schema())}.{quote_ident(table.name)}"
    select = f"SELECT {', '.join(quote_ident(c.name) for c in columns)} FROM {ref}{_limit(limit)}"
    try:
        return _drain(source.conn.execute(select).fetchmany, batch_size, consume)
    except sqlite3.Error as exc:
        raise sqlite_error(exc, f"sampling {table}") from None


def _drain(fetch: Callable[[int], Any], batch_size: int, consume: Consume) -> int:
    rows = 0
    while batch := fetch(batch_size):
        for row in batch:
            consume(tuple(row))
        rows += len(batch)
    return rows


_READERS: dict[str, Callable[[Any, TableRef, list[SourceColumn], int | None, Consume, int], int]] = {
    "mysql": _mysql,
    "postgres": _postgres,
    "sqlite": _sqlite,
}


class _Enough(Exception):
    """Raised by the sink to stop an engine's copy_rows once the sample is complete."""


class _SampleSink:
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


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def copy_text_field(field: bytes) -> str | None:
    """One field of PostgreSQL's COPY text format: \\N is NULL, backslash escapes undone."""
    if field == b"\\N":
        return None
    text = field.decode("utf-8")
    return re.sub(r"\\(.)", lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), text) if "\\" in text else text


def _through_copy_rows(source: SourceEngine, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int) -> int:
    sink = _SampleSink(limit, consume)
    with contextlib.suppress(_Enough):
        source.copy_rows(table, columns, sink, batch_size if limit is None else min(batch_size, limit))
    return sink.rows
