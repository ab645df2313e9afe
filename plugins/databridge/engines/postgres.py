"""PostgreSQL: the target of every pipeline, and a source whose rows pass through COPY untouched."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import TableRef
from databridge.engines import sandbox
from databridge.engines.base import (
    ColumnInfo,
    ConnectionInfo,
    Consume,
    RowSink,
    SourceColumn,
    SourceOptions,
    TableInfo,
    keys_from_rows,
)
from databridge.engines.canonical import kind_of
from databridge.engines.chunks import RANGE, Chunk, Split, distinct_bounds, next_key, quantile_bounds, range_predicate
from databridge.engines.errors import postgres_error
from databridge.engines.fingerprint import Dialect, ProofColumn, Runner, SqlSide
from databridge.engines.sample import limit_clause
from databridge.engines.schema import (
    CheckDef,
    ColumnDef,
    IndexDef,
    IndexPart,
    TableSchema,
    foreign_keys_from_rows,
    indexes_from_parts,
    sorted_checks,
)
from databridge.engines.type_matrix import notes_for, zoned
from databridge.errors import EngineError, MissingTable
from databridge.spec.names import did_you_mean

CONNECT_TIMEOUT_SECONDS = 10
CTID = "ctid"
COPY_BLOCK = 1 << 20
"""Bytes of binary COPY data relayed from a PostgreSQL source to the target at a time."""
"""The key of a table split without a usable key: its pages, by row locator."""

# Enums, composites, ranges and user base types travel as text (the target may not have them), arrays of them as
# text[], domains as their base type; everything else keeps its type. The fifth column is the default expression,
# the sixth an enum's labels in their order.
_COLUMNS_SQL = """
SELECT a.attname,
       format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
            WHEN t.typtype IN ('e', 'c', 'r', 'm')
              OR (t.typtype = 'b' AND tn.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND t.typcategory <> 'A') THEN 'text'
            WHEN t.typcategory = 'A' AND (et.typtype IN ('e', 'c', 'r', 'm', 'd')
                 OR (et.typtype = 'b' AND etn.nspname NOT IN ('pg_catalog', 'information_schema'))) THEN 'text[]'
            ELSE format_type(a.atttypid, a.atttypmod) END,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN t.typtype = 'e'
            THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace cn ON cn.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_namespace etn ON etn.oid = et.typnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE cn.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_TABLES_SQL = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1
"""
_SCHEMAS_SQL = """
SELECT nspname FROM pg_namespace
WHERE nspname NOT IN ('information_schema', 'pg_catalog', 'pg_toast') AND nspname !~ '^pg_(toast_)?temp_' ORDER BY 1
"""
# Primary-key columns (no referenced table) then foreign-key columns, each constraint's columns in key order.
_KEYS_SQL = """
SELECT con.conname, a.attname, rn.nspname, rc.relname, ra.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey, coalesce(con.confkey, con.conkey)) WITH ORDINALITY AS k(attnum, refnum, pos)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
LEFT JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum
WHERE n.nspname = %s AND c.relname = %s AND con.contype IN ('p', 'f')
ORDER BY con.contype DESC, con.conname, k.pos
"""
# The planner's estimate (-1 before the first VACUUM or ANALYZE: unknown); no table scan.
_APPROX_ROWS_SQL = """
SELECT c.reltuples::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s
AND c.relname = %s
"""

# --- schema_of: what the catalog says of each schema object --------------------------------------------------------
# Per column: its default (not a generated column's expression), whether it is an identity or a serial (a sequence
# it owns), its comment, and an enum type's labels.
_SCHEMA_COLUMNS_SQL = """
SELECT a.attname, NOT a.attnotnull, CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       a.attidentity <> '' OR EXISTS (SELECT 1 FROM pg_depend dep
                                      JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
                                      WHERE dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'),
       coalesce(col_description(c.oid, a.attnum), ''),
       CASE WHEN t.typtype = 'e'
            THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
# Every position of every valid index (exclusion constraints left out): primary, unique, included, the column or
# the expression's text, descending, the partial predicate and the access method.
_INDEXES_SQL = """
SELECT i.relname, x.indisprimary, x.indisunique, k.pos > x.indnkeyatts, coalesce(a.attname, ''),
       CASE WHEN k.attnum = 0 THEN pg_get_indexdef(x.indexrelid, k.pos::int, true) ELSE '' END,
       coalesce((x.indoption[k.pos::int - 1] & 1) = 1, false), pg_get_expr(x.indpred, x.indrelid, true), am.amname
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0
WHERE n.nspname = %s AND c.relname = %s AND x.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype = 'x')
ORDER BY i.relname, k.pos
"""
_CHECKS_SQL = """
SELECT con.conname, pg_get_expr(con.conbin, con.conrelid, true)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND con.contype = 'c'
"""
_FOREIGN_KEYS_SQL = """
SELECT con.conname, a.attname, rn.nspname, rc.relname, ra.attname, con.confdeltype, con.confupdtype
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, refnum, pos)
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
JOIN pg_class rc ON rc.oid = con.confrelid
JOIN pg_namespace rn ON rn.oid = rc.relnamespace
JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.refnum
WHERE n.nspname = %s AND c.relname = %s AND con.contype = 'f'
ORDER BY con.conname, k.pos
"""
_TABLE_COMMENT_SQL = """
SELECT coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s
"""
_ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
"""pg_constraint's confdeltype / confupdtype codes."""


def connect(info: ConnectionInfo, *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """Open a session in UTC with ISO dates, so values read and written never depend on server settings."""
    if info.conn_type not in ("postgres", "postgresql"):
        raise EngineError(
            f"connection {info.conn_id!r} is of type {info.conn_type!r}; the target must be a postgres connection",
            transient=False,
        )
    try:
        conn = psycopg.connect(**conninfo(info), autocommit=autocommit)
    except psycopg.Error as exc:
        raise postgres_error(exc, f"cannot connect with {info.describe()}") from None
    return conn


SESSION_OPTIONS = "-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3"


def conninfo(info: ConnectionInfo) -> dict[str, Any]:
    """libpq parameters: those PostgresHook would use for the connection (TLS and every other extra: engines/hooks.py),
    DataBridge's defaults where the connection sets none, and its session settings after the connection's own
    ``options`` (so a value read or written never depends on the server's settings)."""
    from databridge.engines.hooks import postgres_params

    params = {k: v for k, v in postgres_params(info).items() if v not in (None, "")}
    params.setdefault("host", "127.0.0.1")
    params.setdefault("port", 5432)
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    params.setdefault("application_name", "databridge")
    params["options"] = f"{params.get('options', '')} {SESSION_OPTIONS}".strip()
    return params


class PostgresSource:
    """PostgreSQL as a source: COPY TO STDOUT streams straight into the target's COPY FROM STDIN."""

    name = "postgres"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        self.conn = connect(info, autocommit=True)

    def default_schema(self) -> str:
        return "public"

    def _read(self, query: Any, params: Sequence[Any], doing: str) -> list[tuple[Any, ...]]:
        """Rows of a source query; a driver error becomes an EngineError like the other engines raise."""
        try:
            with self.conn.cursor() as cur:
                return cur.execute(query, params).fetchall()
        except psycopg.Error as exc:
            raise postgres_error(exc, doing) from None

    def schemas(self) -> list[str]:
        return [r[0] for r in self._read(_SCHEMAS_SQL, (), "reading the catalog")]

    def tables(self, schema: str) -> list[str]:
        return [r[0] for r in self._read(_TABLES_SQL, (schema,), "reading the catalog")]

    def columns(self, table: TableRef) -> list[SourceColumn]:
        _schema, rows = self._column_rows(table)
        zone = self.options.naive_timezone
        return [
            SourceColumn(n, native, nullable, zoned(pg_type, zone), allowed_values=tuple(labels or ()))
            for n, native, nullable, pg_type, _default, labels in rows
        ]

    def describe(self, table: TableRef) -> TableInfo:
        schema, rows = self._column_rows(table)
        columns = tuple(
            ColumnInfo(c.name, c.native_type, c.nullable, r[4], c.pg_type, note=notes_for("postgres", c.native_type))
            for c, r in zip(self.columns(table), rows, strict=True)
        )
        primary_key, foreign_keys = keys_from_rows(self._read(_KEYS_SQL, (schema, table.name), "reading the catalog"))
        estimate = self._read(_APPROX_ROWS_SQL, (schema, table.name), "reading the catalog")
        approx = int(estimate[0][0]) if estimate and estimate[0][0] >= 0 else None
        return TableInfo(schema, table.name, columns, primary_key, foreign_keys, approx)

    def _column_rows(self, table: TableRef) -> tuple[str, list[tuple[Any, ...]]]:
        schema = table.schema or self.default_schema()
        rows = self._read(_COLUMNS_SQL, (schema, table.name), "reading the catalog")
        if not rows:
            raise missing_table(self, TableRef(schema, table.name))
        return schema, rows

    def schema_of(self, table: TableRef) -> TableSchema:
        staged = self.columns(table)  # raises for an absent table
        key = (table.schema or self.default_schema(), table.name)
        rows = self._catalog(_SCHEMA_COLUMNS_SQL, key)
        columns = tuple(
            ColumnDef(r[0], r[1], r[2], r[3], comment=r[4], type=c.native_type, pg_type=c.pg_type)
            for r, c in zip(rows, staged, strict=True)
        )
        primary_key, uniques, indexes = _indexes(self._catalog(_INDEXES_SQL, key))
        checks = sorted_checks(CheckDef(*r) for r in self._catalog(_CHECKS_SQL, key))
        foreign_keys = foreign_keys_from_rows(
            [(*r[:5], _ACTIONS[r[5]], _ACTIONS[r[6]]) for r in self._catalog(_FOREIGN_KEYS_SQL, key)]
        )
        comment = self._catalog(_TABLE_COMMENT_SQL, key)[0][0]
        enums = tuple((r[0], tuple(r[5])) for r in rows if r[5] is not None)
        return TableSchema(
            TableRef(*key), "postgres", columns, primary_key, uniques, indexes, checks, foreign_keys, comment, enums
        )

    def _catalog(self, query: str, key: tuple[str, str]) -> list[tuple[Any, ...]]:
        return self._read(query, key, f"reading the schema of {key[0]}.{key[1]}")

    def row_count(self, table: TableRef, chunk: Chunk | None = None) -> int:
        query = f"SELECT count(*) FROM {self._ref(table)}{self._where(chunk)}"
        rows = self._read(sql.SQL(query), (), f"counting the rows of {table}")
        return int(rows[0][0]) if rows else 0

    def split(self, table: TableRef, key: str | None, chunks: int) -> Split:
        """Quantiles of ``key``; without a key, ranges of the table's pages by ctid (a TID range scan)."""
        if key is not None:
            return Split(RANGE, key, quantile_bounds(self._first, self._ref(table), quote_ident(key), chunks))
        pages = int(
            self._first(
                f"SELECT pg_relation_size({sql_literal(self._ref(table))}::regclass) / "
                "current_setting('block_size')::int"
            )
        )
        return Split(
            RANGE,
            CTID,
            tuple(f"({page},0)" for page in distinct_bounds([pages * i // chunks or None for i in range(1, chunks)])),
        )

    def next_bound(self, table: TableRef, part: Chunk, rows: int) -> Any:
        return next_key(
            self._first, self._ref(table), quote_ident(part.key), self._where(part), part, rows, self._literal
        )

    def _literal(self, value: Any) -> str:
        return sql.Literal(value).as_string(self.conn)

    def _first(self, query: str) -> Any:
        rows = self._read(sql.SQL(query), (), "splitting a table into chunks")
        return rows[0][0] if rows else None

    def _where(self, chunk: Chunk | None) -> str:
        if chunk is None or chunk.whole:
            return ""
        ident = CTID if chunk.key == CTID else quote_ident(chunk.key)
        return " WHERE " + range_predicate(ident, chunk, self._literal)

    def copy_rows(
        self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int, chunk: Chunk | None = None
    ) -> int:
        select = (
            f"SELECT {', '.join(_as_text(c, self.options.naive_timezone) for c in columns)} FROM "
            f"{self._ref(table)}{self._where(chunk)}"
        )
        rows = 0
        with self.conn.cursor() as cur, cur.copy(f"COPY ({select}) TO STDOUT") as copy:
            for data in copy:
                sink.write(bytes(data))
                rows += bytes(data).count(b"\n")
        return rows

    def copy_binary(
        self, table: TableRef, columns: list[SourceColumn], write: Callable[[bytes], None], chunk: Chunk | None = None
    ) -> int:
        """The rows (of ``chunk``) as binary COPY data in the staging types, handed to ``write`` in blocks of about
        1 MB; returns the rows. Each column is cast to its staging type in the source, so the target reads exactly
        the binary form it expects, and no value is parsed or printed on the way."""
        exprs = [f"CAST({_as_text(c, self.options.naive_timezone)} AS {c.pg_type})" for c in columns]
        select = f"SELECT {', '.join(exprs)} FROM {self._ref(table)}{self._where(chunk)}"
        block = bytearray()
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:
                for data in copy:
                    block += data
                    if len(block) >= COPY_BLOCK:
                        write(bytes(block))
                        block.clear()
            if block:
                write(bytes(block))
            return cur.rowcount

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        """Every value as text: enums, composites and json arrive as the strings COPY would send."""
        select = (
            f"SELECT {', '.join(quote_ident(c.name) + '::text' for c in columns)} FROM "
            f"{self._ref(table)}{limit_clause(limit)}"
        )
        rows = 0
        try:
            with self.conn.cursor() as cur:
                for row in cur.stream(select):
                    consume(row)
                    rows += 1
        except psycopg.Error as exc:
            raise postgres_error(exc, f"sampling {table}") from None
        return rows

    def zero_dated(self, column: SourceColumn) -> bool:
        return False

    def proof_column(self, column: SourceColumn) -> ProofColumn | None:
        """The column as extract reads it, with the kind of its staging type; every kind is computable here."""
        return ProofColumn(column.name, _as_text(column, self.options.naive_timezone), kind_of(column.pg_type))

    def proof_side(self, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn]) -> SqlSide:
        """The source table fingerprinted in the source PostgreSQL."""
        run: Runner = lambda q, p: self._read(q, p, f"fingerprinting {table}")  # noqa: E731
        return SqlSide(PG_DIALECT, run, self._ref(table), columns, key, label=f"source {table} (PostgreSQL)")

    def _ref(self, table: TableRef) -> str:
        return qualified(table.schema or self.default_schema(), table.name)

    def close(self) -> None:
        self.conn.close()


def _as_text(column: SourceColumn, naive_timezone: str | None) -> str:
    """Columns of types the target may not have (enums, composites) travel as their text form; naive date-times
    declared to be in a zone become instants there (the session is in UTC, so COPY writes them with +00)."""
    ident = quote_ident(column.name)
    if naive_timezone and column.native_type.startswith("timestamp") and "without" in column.native_type:
        return f"({ident} AT TIME ZONE {sql_literal(naive_timezone)})"
    return f"{ident}::text" if column.pg_type == "text" and column.native_type != "text" else ident


def _indexes(rows: list[tuple[Any, ...]]) -> tuple[tuple[str, ...], tuple[IndexDef, ...], tuple[IndexDef, ...]]:
    """(primary key, uniques, indexes) from _INDEXES_SQL rows."""
    primary_key = tuple(str(r[4]) for r in rows if r[1])
    parts = (
        IndexPart(r[0], r[2], r[4], r[5], None, r[6], r[3], r[7], "" if r[8] == "btree" else r[8])
        for r in rows
        if not r[1]
    )
    return (primary_key, *indexes_from_parts(parts))


def missing_table(source: Any, table: TableRef) -> MissingTable:
    """The error for an absent source table, with the closest names in its schema (or the closest schema)."""
    schema = table.schema or source.default_schema()
    schemas = source.schemas()
    if schema not in schemas:
        close = did_you_mean(schema, schemas).strip(" ()")
        hint = f" (no schema {schema!r} there; {close or 'schemas there: ' + (', '.join(schemas[:10]) or 'none')})"
    else:
        known = source.tables(schema)
        hint = did_you_mean(table.name, known) or (
            f" (tables there: {', '.join(known[:10])})" if known else f" (schema {schema!r} holds no tables)"
        )
    return MissingTable(f"source table {schema}.{table.name} does not exist in {source.info.describe()}{hint}")


class PostgresTarget:
    """The target database: staging tables, COPY in, and the SQL the stages run, each under a clear error."""

    def __init__(self, info: ConnectionInfo) -> None:
        self.info = info
        self.conn = connect(info)

    @contextmanager
    def transaction(self, doing: str) -> Iterator[psycopg.Cursor[Any]]:
        """One transaction: committed when the block ends, rolled back (nothing half-written) on error."""
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                yield cur
        except psycopg.Error as exc:
            raise postgres_error(exc, doing) from None

    def execute(self, statement: str, params: Sequence[Any] | None = None, *, doing: str) -> None:
        with self.transaction(doing) as cur:
            cur.execute(statement, params)

    def scalar(self, query: str, params: Sequence[Any] | None = None, *, doing: str) -> Any:
        with self.transaction(doing) as cur:
            row = cur.execute(query, params).fetchone()
        return row[0] if row else None

    def rows(self, query: str, params: Sequence[Any] | None = None, *, doing: str) -> list[tuple[Any, ...]]:
        with self.transaction(doing) as cur:
            return cur.execute(query, params).fetchall()

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        """Columns of a target table with their types; empty when the table does not exist."""
        rows = self.rows(_COLUMNS_SQL, (schema, table), doing=f"reading the columns of {schema}.{table}")
        return {row[0]: row[1] for row in rows}

    def proof_side(
        self,
        table: str,
        columns: Sequence[ProofColumn],
        key: Sequence[ProofColumn],
        where: str | None = None,
        *,
        user_sql: bool = False,
    ) -> SqlSide:
        """A table of the target (the target table, or a staging or ready table) fingerprinted in the target.

        ``user_sql``: ``where`` is a mapping's filter, written by the user, so the queries run as the sandbox role."""
        run: Runner = lambda q, p: self.rows(q, p, doing=f"fingerprinting {table}")  # noqa: E731
        if user_sql:
            run = lambda q, p: self._sandboxed_rows(table, q, p, doing=f"fingerprinting {table}")  # noqa: E731
        return SqlSide(PG_DIALECT, run, table, columns, key, where, label=table)

    def _sandboxed_rows(
        self, table: str, query: str, params: Sequence[Any] | None, *, doing: str
    ) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        with self.transaction(doing) as cur:
            sandbox.prepare(cur, reads=[table])
            with sandbox.entered(cur, timeout_seconds=None, doing=doing):
                found = cur.execute(query, params).fetchall()
            raise psycopg.Rollback()  # the sandbox's grant ends here
        return found

    def cancel(self) -> None:
        """Cancel the statement running on this connection, from another thread or a signal handler."""
        with contextlib.suppress(psycopg.Error):  # a connection already gone has no statement left to cancel
            self.conn.cancel_safe(timeout=10)

    def close(self) -> None:
        self.conn.close()


def _pg_float(e: str) -> str:
    """canonical.float_text in SQL, over the shortest round-trip print of the double (extra_float_digits=3).

    Each piece reads the print once: formatting a double is the costly part (zero, sign and NULL come from the value).
    """
    x = f"CAST({e} AS float8)"
    unsigned = f"ltrim(CAST({x} AS text), '-')"
    mantissa = f"split_part({unsigned}, 'e', 1)"
    power = f"CAST(split_part({unsigned} || 'e0', 'e', 2) AS integer)"
    whole = f"(strpos({mantissa} || '.', '.') - 1)"
    digits = f"replace({mantissa}, '.', '')"
    leading = f"(length({digits}) - length(ltrim({digits}, '0')))"
    significant = f"rtrim(ltrim({digits}, '0'), '0')"
    return (
        f"(CASE WHEN {x} IS NULL THEN NULL WHEN {x} IN ('NaN', 'Infinity', '-Infinity') THEN CAST({x} AS text) "
        f"WHEN {x} = 0 THEN '0' ELSE (CASE WHEN {x} < 0 THEN '-' ELSE '' END) || {significant} || 'e' "
        f"|| CAST({whole} - {leading} + {power} AS text) END)"
    )


_PG_CANON = {
    "int": "CAST({e} AS text)",
    "bool": "(CASE WHEN {e} THEN '1' WHEN NOT {e} THEN '0' END)",
    "numeric": "CAST(trim_scale({e}) AS text)",
    "text": "CAST({e} AS text)",
    "tstz": "to_char(({e}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    "ts": "to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')",
    "date": "to_char({e}, 'YYYY-MM-DD')",
    "bytes": "encode({e}, 'hex')",
    "json": "CAST(CAST({e} AS jsonb) AS text)",
    "other": "CAST({e} AS text)",
}


def _pg_canon(e: str, kind: str) -> str:
    return _pg_float(e) if kind == "float" else _PG_CANON[kind].format(e=e)


PG_DIALECT = Dialect(
    name="PostgreSQL",
    canon=_pg_canon,
    length="length({})",
    concat=lambda parts: "(" + " || ".join(parts) + ")",
    hash="CAST(CAST('x' || left(md5({}), 16) AS bit(64)) AS bigint)",
    sum="sum({})",
    key=lambda e, kind: f'({e}) COLLATE "C"' if kind == "text" else e,
    param=lambda kind: 'CAST(%s AS text) COLLATE "C"' if kind == "text" else "%s",
)
"""Fingerprints in PostgreSQL: md5 of the row text, its first 64 bits as a bigint, summed as numeric."""


def nul_error(table: str, column: str, row: int) -> EngineError:
    """The error for a text value PostgreSQL cannot store, naming its column and row (counted from 1)."""
    return EngineError(
        f"source table {table}: column {column!r} of row {row} (in reading order) holds a NUL character, which "
        "PostgreSQL text cannot store; remove the NUL characters from that column in the source",
        transient=False,
    )


class NulGuard:
    """The COPY sink, naming the column and row of a text value PostgreSQL cannot store (it holds a NUL character)."""

    def __init__(self, copy: RowSink, table: TableRef, columns: list[SourceColumn]) -> None:
        self.copy, self.table, self.names, self.rows = copy, table, [c.name for c in columns], 0

    def write_row(self, row: Any) -> None:
        self.rows += 1
        try:
            self.copy.write_row(row)
        except psycopg.DataError:
            named = [n for n, v in zip(self.names, row, strict=False) if isinstance(v, str) and "\x00" in v]
            if not named:
                raise
            raise nul_error(str(self.table), named[0], self.rows) from None

    def write(self, buffer: bytes | str) -> None:
        self.copy.write(buffer)
