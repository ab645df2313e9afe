"""SQLite as a source: the file opened read-only, declared types mapped by SQLite's own affinity rules."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo, RowSink, SourceColumn, SourceOptions, batched
from databridge.engines.errors import sqlite_error
from databridge.engines.postgres import missing_table
from databridge.errors import EngineError

# Declared type → PostgreSQL type; checked in order, as SQLite's affinity rules are.
TYPE_MAP: list[tuple[str, str]] = [
    (r"(boolean|bool)", "boolean"),
    (r"(datetime|timestamp)", "timestamp"),
    (r"date", "date"),
    (r"time", "time"),
    (r"(decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", r"numeric(\2,\3)"),
    (r"(var)?char\s*\(\s*(\d+)\s*\)", r"varchar(\2)"),
    (r".*int.*", "bigint"),
    (r".*(char|clob|text).*", "text"),
    (r".*blob.*", "bytea"),
    (r".*(real|floa|doub).*", "double precision"),
    (r"", "text"),
    (r".*", "numeric"),
]


def pg_type_for(declared: str) -> str:
    lowered = declared.lower().strip()
    for pattern, pg in TYPE_MAP:
        match = re.fullmatch(pattern, lowered)
        if match:
            return match.expand(pg)
    return "text"


class SQLiteSource:
    name = "sqlite"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        path = info.host or info.database or ""
        if not path or not Path(path).is_file():
            raise EngineError(f"{info.describe()}: SQLite file {path!r} does not exist; set the connection's host to the database file", transient=False)
        try:
            # as_uri() percent-encodes the path: a raw '#' or '?' in it would end the file name inside the URI.
            self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error as exc:
            raise sqlite_error(exc, f"cannot open {path}") from None

    def default_schema(self) -> str:
        return "main"

    def tables(self, schema: str) -> list[str]:
        query = f"SELECT name FROM {quote_ident(schema)}.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        return [str(r[0]) for r in self._run(query)]

    def _run(self, query: str) -> list[tuple[object, ...]]:
        try:
            return list(self.conn.execute(query).fetchall())
        except sqlite3.Error as exc:
            raise sqlite_error(exc, "reading the catalog") from None

    def columns(self, table: TableRef) -> list[SourceColumn]:
        schema = table.schema or self.default_schema()
        rows = self._run(f"PRAGMA {quote_ident(schema)}.table_info({quote_ident(table.name)})")
        if not rows:
            raise missing_table(self, TableRef(schema, table.name))
        return [SourceColumn(str(r[1]), str(r[2]), not r[3] and not r[5], pg_type_for(str(r[2]))) for r in rows]

    def row_count(self, table: TableRef) -> int:
        count = self._run(f"SELECT count(*) FROM {self._ref(table)}")[0][0]
        return int(str(count))

    def copy_rows(self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int) -> int:
        select = f"SELECT {', '.join(quote_ident(c.name) for c in columns)} FROM {self._ref(table)}"
        rows = 0
        try:
            cur = self.conn.execute(select)
            for batch in batched(cur.fetchmany, batch_size):
                for row in batch:
                    sink.write_row(row)
                rows += len(batch)
        except sqlite3.Error as exc:
            raise sqlite_error(exc, f"reading {table}") from None
        return rows

    def _ref(self, table: TableRef) -> str:
        return f"{quote_ident(table.schema or self.default_schema())}.{quote_ident(table.name)}"

    def close(self) -> None:
        self.conn.close()
