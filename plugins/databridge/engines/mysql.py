"""MySQL and MariaDB as a source: a server-side cursor streamed in batches, with MySQL types mapped for PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import MySQLdb
import MySQLdb.cursors

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo, RowSink, SourceColumn, SourceOptions, batched
from databridge.engines.errors import mysql_error
from databridge.engines.postgres import CONNECT_TIMEOUT_SECONDS, missing_table

_COLUMNS_SQL = """
SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES'
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION
"""
# MariaDB's JSON is an alias: the column is a longtext with a json_valid() check, which is all that marks it as JSON.
_CHECKS_SQL = "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s"

# (pattern on the lower-cased COLUMN_TYPE, PostgreSQL type); the first match wins.
TYPE_MAP: list[tuple[str, str]] = [
    (r"tinyint\(1\)( unsigned)?$", "boolean"),
    (r"bit\(1\)$", "boolean"),
    (r"tinyint.*", "smallint"),
    (r"smallint.*unsigned", "integer"),
    (r"smallint.*", "smallint"),
    (r"mediumint.*", "integer"),
    (r"int.*unsigned", "bigint"),
    (r"int.*", "integer"),
    (r"bigint.*unsigned", "numeric(20,0)"),
    (r"bigint.*", "bigint"),
    (r"(decimal|numeric)\((\d+),(\d+)\).*", r"numeric(\2,\3)"),
    (r"float.*", "real"),
    (r"double.*|real.*", "double precision"),
    (r"year.*", "smallint"),
    (r"date$", "date"),
    (r"datetime.*", "timestamp"),
    (r"timestamp.*", "timestamptz"),
    (r"time.*", "interval"),
    (r"(var)?char\((\d+)\)", r"varchar(\2)"),
    (r"(tiny|medium|long)?text", "text"),
    (r"json", "jsonb"),
    (r"enum\(.*|set\(.*", "text"),
    (r"(var)?binary.*|(tiny|medium|long)?blob|bit.*|geometry.*|point|linestring|polygon", "bytea"),
]


def pg_type_for(column_type: str) -> str:
    """The PostgreSQL type for a MySQL COLUMN_TYPE (text when nothing matches)."""
    lowered = column_type.lower().strip()
    for pattern, pg in TYPE_MAP:
        match = re.fullmatch(pattern, lowered)
        if match:
            return match.expand(pg)
    return "text"


def _bit_to_bool(value: Any) -> Any:
    return None if value is None else value not in (b"\x00", 0)


class MySQLSource:
    name = "mysql"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        try:
            self.conn = MySQLdb.connect(
                host=info.host or "127.0.0.1",
                port=info.port or 3306,
                user=info.login or "root",
                passwd=info.password or "",
                db=info.database or "",
                charset="utf8mb4",
                use_unicode=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                # Reads only: no transaction may outlive a statement and hold metadata locks on the source.
                autocommit=True,
            )
            self._run("SET SESSION time_zone = '+00:00'")
        except MySQLdb.Error as exc:
            raise mysql_error(exc, f"cannot connect with {info.describe()}") from None

    def default_schema(self) -> str:
        return self.info.database or ""

    def _run(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall())
        except MySQLdb.Error as exc:
            raise mysql_error(exc, "reading the catalog") from None

    def tables(self, schema: str) -> list[str]:
        rows = self._run("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY 1", (schema,))
        return [r[0] for r in rows]

    def columns(self, table: TableRef) -> list[SourceColumn]:
        schema = table.schema or self.default_schema()
        rows = self._run(_COLUMNS_SQL, (schema, table.name))
        if not rows:
            raise missing_table(self, TableRef(schema, table.name))
        checks = self._mariadb_checks(schema, table.name)
        return [
            SourceColumn(name, ctype, bool(nullable), "jsonb" if f"json_valid({_mysql_ident(name)})" in checks else pg_type_for(ctype))
            for name, ctype, nullable in rows
        ]

    def _mariadb_checks(self, schema: str, table: str) -> set[str]:
        """The CHECK clauses of a MariaDB table (MySQL has a real JSON type and no TABLE_NAME in that view)."""
        if "mariadb" not in self.conn.get_server_info().lower():
            return set()
        return {str(r[0]) for r in self._run(_CHECKS_SQL, (schema, table))}

    def row_count(self, table: TableRef) -> int:
        return int(self._run(f"SELECT COUNT(*) FROM {self._ref(table)}")[0][0])

    def copy_rows(self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int) -> int:
        select = f"SELECT {', '.join(_select_expr(c) for c in columns)} FROM {self._ref(table)}"
        converters = [_bit_to_bool if c.pg_type == "boolean" and c.native_type.lower().startswith("bit") else None for c in columns]
        convert = _row_converter(converters)
        rows = 0
        try:
            cur = self.conn.cursor(MySQLdb.cursors.SSCursor)
            cur.execute(select)
            for batch in batched(cur.fetchmany, batch_size):
                for row in batch:
                    sink.write_row(convert(row) if convert else row)
                rows += len(batch)
            cur.close()
        except MySQLdb.Error as exc:
            raise mysql_error(exc, f"reading {table}") from None
        return rows

    def _ref(self, table: TableRef) -> str:
        return f"{_mysql_ident(table.schema or self.default_schema())}.{_mysql_ident(table.name)}"

    def close(self) -> None:
        self.conn.close()


def _mysql_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _select_expr(column: SourceColumn) -> str:
    """FLOAT is read as DOUBLE: the text protocol prints FLOAT with 6 digits, so 16777216 would arrive as 16777200."""
    ident = _mysql_ident(column.name)
    return f"CAST({ident} AS DOUBLE)" if column.pg_type == "real" else ident


def _row_converter(converters: Sequence[Callable[[Any], Any] | None]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    if not any(converters):
        return None
    pairs = list(enumerate(converters))
    return lambda row: tuple(f(row[i]) if f else row[i] for i, f in pairs)


__all__ = ["MySQLSource", "pg_type_for", "quote_ident"]
