"""SQLite as a source: the file opened read-only, declared types mapped by the type matrix (SQLite's affinity rules)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import SqlglotError

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TableRef
from databridge.engines.base import (
    ColumnInfo,
    ConnectionInfo,
    Consume,
    RowSink,
    SourceColumn,
    SourceOptions,
    TableInfo,
    batched,
    keys_from_rows,
)
from databridge.engines.canonical import canonical, hash64, kind_of
from databridge.engines.chunks import RANGE, Chunk, Split, next_key, quantile_bounds, range_predicate
from databridge.engines.errors import sqlite_error
from databridge.engines.fingerprint import Dialect, ProofColumn, SqlSide
from databridge.engines.postgres import missing_table
from databridge.engines.sample import drain, limit_clause
from databridge.engines.schema import (
    CheckDef,
    ColumnDef,
    IndexPart,
    TableSchema,
    foreign_keys_from_rows,
    indexes_from_parts,
    sorted_checks,
)
from databridge.engines.type_matrix import notes_for, pg_type_for, zoned
from databridge.errors import EngineError

ROWID = "rowid"
"""The key of a table split without a usable key: SQLite's own row id."""
_TABLES_SQL = (
    "SELECT name FROM {schema}.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY 1"
)
_COLUMNS_SQL = "PRAGMA {schema}.table_info({table})"
_FOREIGN_KEYS_SQL = "PRAGMA {schema}.foreign_key_list({table})"
# ANALYZE's estimate: the first number of a table's sqlite_stat1 row is its row count (no table scan).
_STAT_TABLE_SQL = "SELECT 1 FROM {schema}.sqlite_master WHERE name = 'sqlite_stat1'"
_APPROX_ROWS_SQL = "SELECT stat FROM {schema}.sqlite_stat1 WHERE tbl = ? ORDER BY idx IS NOT NULL LIMIT 1"
# schema_of: columns with generated ones (hidden 2, 3; a virtual table's hidden columns, 1, are left out), the
# indexes (origin c: CREATE INDEX, u: UNIQUE, pk: a primary key that is not the rowid) with their key columns, and
# the CREATE statements, which alone hold CHECKs, index expressions and partial predicates.
_XCOLUMNS_SQL = "PRAGMA {schema}.table_xinfo({table})"
_INDEX_LIST_SQL = "PRAGMA {schema}.index_list({table})"
_INDEX_XINFO_SQL = "PRAGMA {schema}.index_xinfo({index})"
_CREATE_SQL = "SELECT sql FROM {schema}.sqlite_master WHERE type = ? AND name = ?"


class SQLiteSource:
    name = "sqlite"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        path = info.host or info.database or ""
        if not path or not Path(path).is_file():
            raise EngineError(
                f"{info.describe()}: SQLite file {path!r} does not exist; "
                "set the connection's host to the database file",
                transient=False,
            )
        try:
            # as_uri() percent-encodes the path: a raw '#' or '?' in it would end the file name inside the URI.
            self.conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error as exc:
            raise sqlite_error(exc, f"cannot open {path}") from None

    def default_schema(self) -> str:
        return "main"

    def schemas(self) -> list[str]:
        """The attached databases (main, and any ATTACHed), without the connection's temp schema."""
        return [str(r[1]) for r in self._run("PRAGMA database_list") if r[1] != "temp"]

    def tables(self, schema: str) -> list[str]:
        return [str(r[0]) for r in self._run(_TABLES_SQL.format(schema=quote_ident(schema)))]

    def _run(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return list(self.conn.execute(query, params).fetchall())
        except sqlite3.Error as exc:
            raise sqlite_error(exc, "reading the catalog") from None

    def columns(self, table: TableRef) -> list[SourceColumn]:
        _schema, rows = self._column_rows(table)
        return [self._source_column(r) for r in rows]

    def describe(self, table: TableRef) -> TableInfo:
        schema, rows = self._column_rows(table)
        columns = tuple(_column_info(self._source_column(r), r[4]) for r in rows)
        primary_key = _primary_key(rows)
        foreign_keys = keys_from_rows(self._foreign_key_rows(schema, table.name))[1]
        return TableInfo(schema, table.name, columns, primary_key, foreign_keys, self._approx_rows(schema, table.name))

    def _column_rows(self, table: TableRef) -> tuple[str, list[tuple[Any, ...]]]:
        schema = table.schema or self.default_schema()
        rows = (
            self._run(_COLUMNS_SQL.format(schema=quote_ident(schema), table=quote_ident(table.name)))
            if schema in self.schemas()
            else []
        )
        if not rows:
            raise missing_table(self, TableRef(schema, table.name))
        return schema, rows

    def _source_column(self, row: tuple[Any, ...]) -> SourceColumn:
        """A PRAGMA table_info row: (cid, name, type, notnull, dflt_value, pk); a primary key is never NULL."""
        pg_type = zoned(pg_type_for("sqlite", str(row[2])), self.options.naive_timezone)
        return SourceColumn(str(row[1]), str(row[2]), not row[3] and not row[5], pg_type)

    def _foreign_key_rows(self, schema: str, table: str) -> list[tuple[Any, ...]]:
        """(constraint id, column, ref schema, ref table, ref column, on delete, on update) rows; a reference without
        columns means the parent's primary key."""
        rows = self._run(_FOREIGN_KEYS_SQL.format(schema=quote_ident(schema), table=quote_ident(table)))
        parent_keys = {
            str(r[2]): _primary_key(self._column_rows(TableRef(schema, str(r[2])))[1]) for r in rows if r[4] is None
        }
        return [
            (str(r[0]), r[3], schema, r[2], r[4] if r[4] is not None else parent_keys[str(r[2])][r[1]], r[6], r[5])
            for r in rows
        ]

    def schema_of(self, table: TableRef) -> TableSchema:
        """SQLite keeps no names for UNIQUE constraints and foreign keys, nor comments: those names are ""."""
        schema, _rows = self._column_rows(table)
        pragma = {"schema": quote_ident(schema), "table": quote_ident(table.name)}
        rows = [r for r in self._run(_XCOLUMNS_SQL.format(**pragma)) if r[6] != 1]
        listed = self._run(_INDEX_LIST_SQL.format(**pragma))
        alias = _rowid_alias(rows, listed)
        columns = tuple(_column_def(r, self._source_column(r), r[1] == alias) for r in rows)
        uniques, indexes = indexes_from_parts(
            p for row in listed if row[3] != "pk" for p in self._index_parts(schema, row)
        )
        checks = sorted_checks(checks_in(self._create_sql(schema, "table", table.name)))
        foreign_keys = foreign_keys_from_rows(self._foreign_key_rows(schema, table.name), named=False)
        return TableSchema(
            TableRef(schema, table.name), "sqlite", columns, _primary_key(rows), uniques, indexes, checks, foreign_keys
        )

    def _index_parts(self, schema: str, listed: tuple[Any, ...]) -> list[IndexPart]:
        """An index_list row's key columns; an expression and a partial predicate come from its CREATE INDEX."""
        _seq, name, unique, origin, partial = listed
        keys = [
            r for r in self._run(_INDEX_XINFO_SQL.format(schema=quote_ident(schema), index=quote_ident(name))) if r[5]
        ]
        expressions, where = ([""] * len(keys), None)
        if origin == "c" and (partial or any(r[1] == -2 for r in keys)):
            expressions, where = _index_sql(self._create_sql(schema, "index", name), name)
        return [
            IndexPart(
                name, bool(unique), r[2] or "", expressions[i], None, bool(r[3]), where=where, anonymous=origin == "u"
            )
            for i, r in enumerate(keys)
        ]

    def _create_sql(self, schema: str, kind: str, name: str) -> str:
        found = self._run(_CREATE_SQL.format(schema=quote_ident(schema)), (kind, name))
        return str(found[0][0] or "") if found else ""

    def _approx_rows(self, schema: str, table: str) -> int | None:
        if not self._run(_STAT_TABLE_SQL.format(schema=quote_ident(schema))):
            return None
        stat = self._run(_APPROX_ROWS_SQL.format(schema=quote_ident(schema)), (table,))
        return int(str(stat[0][0]).split()[0]) if stat else None

    def row_count(self, table: TableRef, chunk: Chunk | None = None) -> int:
        count = self._run(f"SELECT count(*) FROM {self._ref(table)}{_where(chunk)}")[0][0]
        return int(str(count))

    def split(self, table: TableRef, key: str | None, chunks: int) -> Split:
        """Quantiles of ``key``; without a key, of the rowid (a WITHOUT ROWID table has none: one chunk)."""
        if key is None and not self._has_rowid(table):
            return Split(RANGE, ROWID)
        return Split(
            RANGE, key or ROWID, quantile_bounds(self._first, self._ref(table), _key_ident(key or ROWID), chunks)
        )

    def next_bound(self, table: TableRef, part: Chunk, rows: int) -> Any:
        return next_key(self._first, self._ref(table), _key_ident(part.key), _where(part), part, rows, _literal)

    def _first(self, query: str) -> Any:
        return (self._run(query) or [(None,)])[0][0]

    def _has_rowid(self, table: TableRef) -> bool:
        try:
            self.conn.execute(f"SELECT rowid FROM {self._ref(table)} LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def copy_rows(
        self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int, chunk: Chunk | None = None
    ) -> int:
        select = f"SELECT {', '.join(self._select_expr(c) for c in columns)} FROM {self._ref(table)}{_where(chunk)}"
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

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        select = (
            f"SELECT {', '.join(quote_ident(c.name) for c in columns)} FROM {self._ref(table)}{limit_clause(limit)}"
        )
        try:
            return drain(self.conn.execute(select).fetchmany, batch_size, consume)
        except sqlite3.Error as exc:
            raise sqlite_error(exc, f"sampling {table}") from None

    def zero_dated(self, column: SourceColumn) -> bool:
        return False

    def _select_expr(self, column: SourceColumn) -> str:
        """Naive date-time text declared to be in a zone gets the zone's name appended: PostgreSQL parses
        '2024-07-01 12:00:00 Europe/Paris' as that instant, with its own rule for the DST edges."""
        ident = quote_ident(column.name)
        zone = self.options.naive_timezone
        if zone and pg_type_for("sqlite", column.native_type) == "timestamp":
            return f"{ident} || ' ' || {sql_literal(zone)}"
        return ident

    def proof_column(self, column: SourceColumn) -> ProofColumn | None:
        """The column as extract reads it; None for date-times given a zone by source_options.naive_timezone
        (PostgreSQL localizes those, by its own DST rules)."""
        kind = kind_of(column.pg_type)
        if self.options.naive_timezone and kind in ("ts", "tstz"):
            return None
        return ProofColumn(column.name, quote_ident(column.name), kind)

    def proof_side(self, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn]) -> SqlSide:
        """The source table fingerprinted by SQLite, with the canonical text and hash as registered Python functions."""
        register_proof_functions(self.conn)

        def run(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            try:
                return list(self.conn.execute(query, tuple(params)).fetchall())
            except sqlite3.Error as exc:
                raise sqlite_error(exc, f"fingerprinting {table}") from None

        return SqlSide(SQLITE_DIALECT, run, self._ref(table), columns, key, label=f"source {table} (SQLite)")

    def _ref(self, table: TableRef) -> str:
        return f"{quote_ident(table.schema or self.default_schema())}.{quote_ident(table.name)}"

    def close(self) -> None:
        self.conn.close()


def _key_ident(key: str) -> str:
    return ROWID if key == ROWID else quote_ident(key)


def _where(chunk: Chunk | None) -> str:
    if chunk is None or chunk.whole:
        return ""
    return " WHERE " + range_predicate(_key_ident(chunk.key), chunk, _literal)


def _literal(value: Any) -> str:
    return repr(value) if isinstance(value, int | float) else sql_literal(value)


def _primary_key(rows: list[tuple[Any, ...]]) -> tuple[str, ...]:
    """The primary-key columns of PRAGMA table_info rows, in key order (pk is the 1-based position, 0 if none)."""
    return tuple(str(r[1]) for r in sorted(rows, key=lambda r: int(r[5])) if r[5])


def _rowid_alias(rows: list[tuple[Any, ...]], listed: list[tuple[Any, ...]]) -> str | None:
    """The INTEGER PRIMARY KEY column of a rowid table: an alias of the rowid, so its values come from the table."""
    keys = [r for r in rows if r[5]]
    if len(keys) == 1 and str(keys[0][2]).upper() == "INTEGER" and not any(r[3] == "pk" for r in listed):
        return str(keys[0][1])
    return None


def _column_def(row: tuple[Any, ...], staged: SourceColumn, identity: bool) -> ColumnDef:
    """A table_xinfo row (cid, name, type, notnull, dflt_value, pk, hidden) as a column; NULL is no default."""
    default = None if row[4] is None or str(row[4]).upper() == "NULL" else str(row[4])
    return ColumnDef(staged.name, staged.nullable, default, identity, type=staged.native_type, pg_type=staged.pg_type)


def checks_in(create_sql: str) -> list[CheckDef]:
    """The CHECK constraints of a CREATE TABLE, as written, each with its CONSTRAINT name ("" without one)."""
    tokens = sqlglot.Dialect.get_or_raise("sqlite").tokenize(create_sql)
    found = []
    for i, token in enumerate(tokens[:-1]):
        if (
            token.text.upper() == "CHECK"
            and token.token_type != TokenType.IDENTIFIER
            and tokens[i + 1].token_type == TokenType.L_PAREN
        ):
            close = _closing(tokens, i + 1)
            named = i >= 2 and tokens[i - 2].token_type == TokenType.CONSTRAINT
            found.append(
                CheckDef(
                    tokens[i - 1].text if named else "", create_sql[tokens[i + 1].end + 1 : tokens[close].start].strip()
                )
            )
    return found


def _closing(tokens: list[Any], opening: int) -> int:
    """The position of the parenthesis closing the one at ``opening``."""
    depth = 0
    for i in range(opening, len(tokens)):
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[i].token_type, 0)
        if depth == 0:
            return i
    raise EngineError(f"SQLite: unbalanced parentheses in {' '.join(t.text for t in tokens)[:200]}", transient=False)


def _index_sql(create_sql: str, name: str) -> tuple[list[str], str | None]:
    """Per key position of a CREATE INDEX, the expression's text ("" for a column), and its WHERE."""
    try:
        params = sqlglot.parse_one(create_sql, read="sqlite").find(exp.IndexParameters)
    except SqlglotError:
        params = None
    if params is None:
        raise EngineError(f"SQLite: cannot read the columns of index {name!r} from {create_sql!r}", transient=False)
    parts = [c.this.this if isinstance(c.this, exp.Collate) else c.this for c in params.args.get("columns") or []]
    where = params.args.get("where")
    return ["" if isinstance(p, exp.Column) else p.sql(dialect="sqlite") for p in parts], where.this.sql(
        dialect="sqlite"
    ) if where else None


def _column_info(column: SourceColumn, default: Any) -> ColumnInfo:
    note = notes_for("sqlite", column.native_type)
    return ColumnInfo(
        column.name,
        column.native_type,
        column.nullable,
        None if default is None else str(default),
        column.pg_type,
        note=note,
    )


class _Sum64:
    """SQLite's sum() stops at 2^63 with an overflow error: sum the row hashes modulo 2^64 instead."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, value: int, /) -> None:
        self.total = (self.total + (value or 0)) % (1 << 64)

    def finalize(self) -> int:
        return _signed(self.total)


def _signed(value: int) -> int:
    """An unsigned 64-bit value as SQLite's signed 64-bit integer (equal modulo 2^64)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _signed_hash(text: str) -> int:
    return _signed(hash64(text))


def register_proof_functions(conn: sqlite3.Connection) -> None:
    """The canonical text (engines/canonical.py), the 64-bit row hash and its sum, as SQLite functions."""
    conn.create_function("databridge_canon", 2, canonical, deterministic=True)
    conn.create_function("databridge_hash64", 1, _signed_hash, deterministic=True)
    conn.create_aggregate("databridge_sum64", 1, _Sum64)


SQLITE_DIALECT = Dialect(
    name="SQLite",
    canon=lambda e, kind: f"databridge_canon('{kind}', {e})",
    length="length({})",
    concat=lambda parts: "(" + " || ".join(parts) + ")",
    hash="databridge_hash64({})",
    sum="databridge_sum64({})",
    key=lambda e, kind: e,
    param=lambda kind: "?",
)
"""Fingerprints in SQLite: the same text and hash as the other engines, computed by registered Python functions."""
