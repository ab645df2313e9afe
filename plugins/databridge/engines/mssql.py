"""SQL Server as a source (pymssql): catalog discovery, exact reads streamed in batches, driver errors sorted.

No SQL Server runs where DataBridge is built: every statement here comes from a function so the unit tests can
parse it with sqlglot's "tsql" dialect, and tests/integration/test_mssql_server.py runs against a real server
only when MSSQL_TEST_URL is set.

What each value becomes, and why (the T-SQL read expression is chosen per type, see READS):

- uniqueidentifier → uuid. SQL Server stores a GUID mixed-endian (the first three groups little-endian); pymssql
  already builds ``uuid.UUID(bytes_le=...)``, and ``as_uuid`` repeats that for raw 16-byte values, so the canonical
  string SQL Server shows is the one PostgreSQL stores.
- datetime2(7), datetimeoffset(7), time(7) → timestamp, timestamptz, time. PostgreSQL keeps microseconds: the 7th
  digit (100 ns) is ROUNDED to the nearest microsecond by PostgreSQL (pymssql alone would truncate it), because the
  value travels as SQL Server's own text (style 121); 2024-12-31 23:59:59.9999995 becomes 2025-01-01 00:00:00.
  time(7) is the exception: its 7th digit is CUT, so 23:59:59.9999999 stays 23:59:59.999999 rather than 24:00:00.
  The data-aware lint reports non-zero 7th digits. datetimeoffset keeps the instant it denotes, not the offset.
  datetime and smalldatetime travel the same way, so a datetime reads exactly as SQL Server shows it (.997, not
  .996667). With ``naive_timezone`` set, the naive types become timestamptz in that zone.
- money/smallmoney → numeric(19,4)/numeric(10,4), cast on the server (the driver's money-to-text keeps 2 digits).
- rowversion/timestamp → bytea: 8 bytes of a database-wide counter, NOT a date.
- geography/geometry → WKT text via .STAsText() (the SRID is not kept); hierarchyid → text via .ToString().
- text/ntext/xml/sql_variant/image are cast to their modern forms; TEXTSIZE is raised so no long value is cut.

Streaming: SQL Server sends a plain SELECT as a "firehose" result set that pymssql reads from the socket row by row,
so ``fetchmany(batch_size)`` holds one batch in memory; no server-side cursor (DECLARE CURSOR) is needed.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pymssql

from databridge.compiler.plan import TableRef
from databridge.engines import type_matrix
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
from databridge.engines.chunks import RANGE, Chunk, Split, quantile_bounds, range_predicate
from databridge.engines.hooks import mssql_extras
from databridge.engines.postgres import CONNECT_TIMEOUT_SECONDS, missing_table
from databridge.engines.sample import through_copy_rows
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
from databridge.engines.values import row_converter
from databridge.errors import EngineError

DEFAULT_PORT = 1433
QUERY_TIMEOUT_SECONDS = 600
"""How long one read may wait for the server (pymssql's ``timeout``); a connection's extra ``timeout`` overrides it."""

# (pattern on the lower-cased native type, T-SQL read expression over {col}); other types are read as they are.
READS: list[tuple[str, str]] = [
    (r"uniqueidentifier", "CONVERT(CHAR(36), {col})"),
    (r"money", "CAST({col} AS NUMERIC(19, 4))"),
    (r"smallmoney", "CAST({col} AS NUMERIC(10, 4))"),
    (r"datetime2(\(\d\))?|datetime|smalldatetime", "CONVERT(VARCHAR(27), {col}, 121)"),
    (r"datetimeoffset(\(\d\))?", "CONVERT(VARCHAR(34), {col}, 121)"),
    # time(7) is cut to microseconds, not rounded: 23:59:59.9999999 would round to 24:00:00, which PostgreSQL
    # accepts but Python (psycopg) and most clients cannot read back.
    (r"time(\(\d\))?", "LEFT(CONVERT(VARCHAR(16), {col}, 121), 15)"),
    (r"n?text|xml|sql_variant", "CAST({col} AS NVARCHAR(MAX))"),
    (r"image", "CAST({col} AS VARBINARY(MAX))"),
    (r"geography|geometry", "{col}.STAsText()"),
    (r"hierarchyid", "{col}.ToString()"),
]
NAIVE_DATETIMES = r"datetime2(\(\d\))?|datetime|smalldatetime"

# Types whose declared length, precision or scale is part of the native type, as sys.columns describes them.
_LENGTH_TYPES = {"char", "varchar", "binary", "varbinary"}
_NATIONAL_TYPES = {"nchar", "nvarchar"}  # max_length counts bytes: two per character
_SCALE_TYPES = {"datetime2", "datetimeoffset", "time"}


def _match(table: list[tuple[str, str]], native_type: str) -> str | None:
    lowered = native_type.lower().replace(" ", "")
    for pattern, result in table:
        match = re.fullmatch(pattern, lowered)
        if match:
            return match.expand(result)
    return None


def pg_type_for(native_type: str, naive_timezone: str | None = None) -> str:
    """The PostgreSQL type for a native type such as nvarchar(max) or decimal(18,4), from the type matrix."""
    return type_matrix.zoned(type_matrix.pg_type_for("mssql", native_type), naive_timezone)


def native_type(type_name: str, max_length: int, precision: int, scale: int) -> str:
    """The declared type, rebuilt from sys.columns: nvarchar(max), decimal(18,4), datetime2(7)."""
    name = type_name.lower()
    if name == "sysname":  # the system's alias of nvarchar(128), for names
        return "nvarchar(128)"
    if name in _LENGTH_TYPES | _NATIONAL_TYPES:
        size = "max" if max_length == -1 else str(max_length // 2 if name in _NATIONAL_TYPES else max_length)
        return f"{name}({size})"
    if name in ("decimal", "numeric"):
        return f"{name}({precision},{scale})"
    return f"{name}({scale})" if name in _SCALE_TYPES else name


# --- T-SQL: identifiers, literals and every statement this engine sends --------------------------------------


def quote_name(name: str) -> str:
    """A T-SQL identifier in brackets, with ``]`` doubled: [Order Items], [a]]b]."""
    if "\x00" in name:
        raise ValueError(f"identifier {name!r} contains a NUL character")
    return "[" + name.replace("]", "]]") + "]"


def qualified_name(schema: str, name: str) -> str:
    return f"{quote_name(schema)}.{quote_name(name)}"


def string_literal(text: str) -> str:
    """A Unicode T-SQL string literal (names are inlined as literals; pymssql would do the same with parameters)."""
    return "N'" + text.replace("'", "''") + "'"


def _one_line(template: str, **literals: str) -> str:
    """A statement on one line (as sqlglot prints it), with its string literals put in after the spaces are folded."""
    return " ".join(template.split()).format(**{k: string_literal(v) for k, v in literals.items()})


_SCHEMAS_SQL = """
SELECT s.name FROM sys.schemas AS s
WHERE s.schema_id < 16384 AND NOT s.name IN ('sys', 'INFORMATION_SCHEMA', 'guest') ORDER BY s.name
"""
_TABLES_SQL = """
SELECT o.name FROM sys.objects AS o
WHERE o.schema_id = SCHEMA_ID({schema}) AND o.type IN ('U', 'V') AND o.is_ms_shipped = 0 ORDER BY o.name
"""
# Alias types (CREATE TYPE ... FROM) are described by their base type; CLR types (geography, hierarchyid) by name.
_COLUMNS_SQL = """
SELECT c.name, COALESCE(bt.name, t.name) AS type_name, c.max_length, c.precision, c.scale, c.is_nullable,
OBJECT_DEFINITION(c.default_object_id) AS default_sql
FROM sys.columns AS c JOIN sys.types AS t ON t.user_type_id = c.user_type_id
LEFT JOIN sys.types AS bt ON bt.user_type_id = t.system_type_id AND t.is_user_defined = 1 AND t.is_assembly_type = 0
WHERE c.object_id = OBJECT_ID({table}) ORDER BY c.column_id
"""
_PRIMARY_KEY_SQL = """
SELECT c.name FROM sys.indexes AS i
JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = OBJECT_ID({table}) AND i.is_primary_key = 1 ORDER BY ic.key_ordinal
"""
_FOREIGN_KEYS_SQL = """
SELECT fk.name, pc.name, SCHEMA_NAME(rt.schema_id), rt.name, rc.name FROM sys.foreign_keys AS fk
JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.tables AS rt ON rt.object_id = fkc.referenced_object_id
JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE fk.parent_object_id = OBJECT_ID({table}) ORDER BY fk.name, fkc.constraint_column_id
"""
# Heap (0) or clustered index (1): each row counted once; the count the server keeps, not a scan.
_APPROX_ROWS_SQL = """
SELECT SUM(p.rows) FROM sys.partitions AS p WHERE p.object_id = OBJECT_ID({table}) AND p.index_id IN (0, 1)
"""
# schema_of: per column its nullability, default constraint, identity and MS_Description (the comment SSMS shows).
_SCHEMA_COLUMNS_SQL = """
SELECT c.name, c.is_nullable, dc.definition, c.is_identity, CAST(ep.value AS NVARCHAR(4000)) AS comment
FROM sys.columns AS c
LEFT JOIN sys.default_constraints AS dc ON dc.object_id = c.default_object_id
LEFT JOIN sys.extended_properties AS ep ON ep.class = 1 AND ep.major_id = c.object_id AND ep.minor_id = c.column_id
AND ep.name = 'MS_Description'
WHERE c.object_id = OBJECT_ID({table}) ORDER BY c.column_id
"""
# Every position of every index but the primary key's (heaps and hypothetical indexes left out), keys before
# included columns.
_INDEXES_SQL = """
SELECT i.name, i.is_unique, ic.is_included_column, c.name, ic.is_descending_key, i.filter_definition, i.type_desc
FROM sys.indexes AS i
JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = OBJECT_ID({table}) AND i.is_primary_key = 0 AND i.is_hypothetical = 0 AND i.type > 0
ORDER BY i.name, ic.is_included_column, ic.key_ordinal, ic.index_column_id
"""
_CHECKS_SQL = """
SELECT cc.name, cc.definition FROM sys.check_constraints AS cc WHERE cc.parent_object_id = OBJECT_ID({table})
ORDER BY cc.name
"""
_SCHEMA_FOREIGN_KEYS_SQL = """
SELECT fk.name, pc.name, SCHEMA_NAME(rt.schema_id), rt.name, rc.name, fk.delete_referential_action_desc,
fk.update_referential_action_desc FROM sys.foreign_keys AS fk
JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.tables AS rt ON rt.object_id = fkc.referenced_object_id
JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE fk.parent_object_id = OBJECT_ID({table}) ORDER BY fk.name, fkc.constraint_column_id
"""
_TABLE_COMMENT_SQL = """
SELECT CAST(ep.value AS NVARCHAR(4000)) FROM sys.extended_properties AS ep
WHERE ep.class = 1 AND ep.major_id = OBJECT_ID({table}) AND ep.minor_id = 0 AND ep.name = 'MS_Description'
"""
# Long values (text, nvarchar(max), xml) are cut at TEXTSIZE, which FreeTDS sets low: raise it to the maximum.
SESSION_SQL = ("SET TEXTSIZE 2147483647", "SET DATEFORMAT ymd", "SELECT SCHEMA_NAME()")


def schemas_sql() -> str:
    return _one_line(_SCHEMAS_SQL)


def tables_sql(schema: str) -> str:
    return _one_line(_TABLES_SQL, schema=schema)


def columns_sql(schema: str, table: str) -> str:
    return _one_line(_COLUMNS_SQL, table=qualified_name(schema, table))


def primary_key_sql(schema: str, table: str) -> str:
    return _one_line(_PRIMARY_KEY_SQL, table=qualified_name(schema, table))


def foreign_keys_sql(schema: str, table: str) -> str:
    return _one_line(_FOREIGN_KEYS_SQL, table=qualified_name(schema, table))


def approx_rows_sql(schema: str, table: str) -> str:
    return _one_line(_APPROX_ROWS_SQL, table=qualified_name(schema, table))


def schema_columns_sql(schema: str, table: str) -> str:
    return _one_line(_SCHEMA_COLUMNS_SQL, table=qualified_name(schema, table))


def indexes_sql(schema: str, table: str) -> str:
    return _one_line(_INDEXES_SQL, table=qualified_name(schema, table))


def checks_sql(schema: str, table: str) -> str:
    return _one_line(_CHECKS_SQL, table=qualified_name(schema, table))


def schema_foreign_keys_sql(schema: str, table: str) -> str:
    return _one_line(_SCHEMA_FOREIGN_KEYS_SQL, table=qualified_name(schema, table))


def table_comment_sql(schema: str, table: str) -> str:
    return _one_line(_TABLE_COMMENT_SQL, table=qualified_name(schema, table))


def count_sql(schema: str, table: str) -> str:
    return f"SELECT COUNT_BIG(*) FROM {qualified_name(schema, table)}"


def read_expression(column: SourceColumn) -> str:
    """What SELECT reads for a column so its value arrives exact (see READS)."""
    template = _match(READS, column.native_type)
    return template.format(col=quote_name(column.name)) if template else quote_name(column.name)


def select_sql(schema: str, table: str, columns: Sequence[SourceColumn], chunk: Chunk | None = None) -> str:
    return (
        f"SELECT {', '.join(read_expression(c) for c in columns)} FROM "
        f"{qualified_name(schema, table)}{chunk_where(chunk)}"
    )


OFFSET_FETCH = (
    "SELECT {key} FROM {table} WHERE NOT {key} IS NULL ORDER BY {key} OFFSET {offset} ROWS FETCH NEXT 1 ROWS ONLY"
)
"""The key value at a row offset (chunk boundaries), in T-SQL."""


def chunk_where(chunk: Chunk | None) -> str:
    """The WHERE of a chunk's key range (empty for a table read whole)."""
    if chunk is None or chunk.count == 1:
        return ""
    return " WHERE " + range_predicate(quote_name(chunk.key), chunk, tsql_literal)


def tsql_literal(value: Any) -> str:
    """A chunk boundary as T-SQL: numbers as they are, dates and date-times cast from ISO text, text as N'...'."""
    if isinstance(value, dt.datetime):
        return f"CAST('{value.isoformat()}' AS {'DATETIMEOFFSET' if value.tzinfo else 'DATETIME2'})"
    if isinstance(value, dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return str(value)
    return string_literal(str(value))


# --- values -------------------------------------------------------------------------------------------------


def as_uuid(value: Any) -> uuid.UUID | None:
    """A GUID as SQL Server shows it: raw 16 bytes are little-endian in the first three groups (bytes_le)."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    if isinstance(value, bytes | bytearray) and len(value) == 16:
        return uuid.UUID(bytes_le=bytes(value))
    return uuid.UUID(str(value))


def in_zone(zone: str) -> Callable[[Any], Any]:
    """A naive date-time text (style 121) read as a time in ``zone``: PostgreSQL accepts '... Europe/Paris'."""
    return lambda value: None if value is None else f"{value} {zone}"


def strip_parentheses(default: str | None) -> str | None:
    """A column default as written, without the parentheses SQL Server wraps it in: ((0)) → 0."""
    while default and default.startswith("(") and default.endswith(")") and _closes_at_end(default):
        default = default[1:-1]
    return default


def _closes_at_end(text: str) -> bool:
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return i == len(text) - 1
    return False


def index_method(type_desc: str) -> str:
    """sys.indexes.type_desc as an access method: "" for the B-trees (CLUSTERED, NONCLUSTERED)."""
    kind = type_desc.upper()
    return next((m for m in ("columnstore", "xml", "spatial", "hash") if m.upper() in kind), "")


def index_parts(rows: Sequence[Sequence[Any]]) -> tuple[tuple[IndexDef, ...], tuple[IndexDef, ...]]:
    """(uniques, indexes) from indexes_sql rows (name, unique, included, column, descending, filter, type)."""
    return indexes_from_parts(
        IndexPart(
            str(r[0]),
            bool(r[1]),
            str(r[3]),
            descending=bool(r[4]),
            included=bool(r[2]),
            where=strip_parentheses(r[5]),
            method=index_method(str(r[6])),
        )
        for r in rows
    )


# --- errors ---------------------------------------------------------------------------------------------------

# Worth a retry: DB-Lib connection failures (unable to connect, timed out, read/write failed, connection dead),
# deadlock victim, lock timeout, and Azure SQL's "busy / moving / throttled" numbers.
MSSQL_TRANSIENT = {
    20009,
    20003,
    20004,
    20006,
    20047,
    1205,
    1222,
    233,
    10053,
    10054,
    10060,
    40197,
    40501,
    40613,
    49918,
    49919,
    49920,
    4221,
    10928,
    10929,
}
# Never worth a retry, even when a connection failure number comes with them: a wrong setting or a wrong name.
MSSQL_PERMANENT = {18456, 18452, 4060, 208, 207, 229, 230, 262, 102, 156, 2812, 916}
_HINTS = {
    18456: "check the connection's login and password",
    4060: "check the connection's schema (the database name) and the login's access to it",
    20009: "is the server running and reachable at that host and port?",
    208: "check the table name and schema",
    229: "grant the login SELECT on it (or VIEW DEFINITION for the catalog)",
}
_DBLIB_HEADER = re.compile(r"(?:DB-Lib error message|SQL Server message|message) (\d+), severity \d+[^:]*:")


def _numbers_and_text(exc: BaseException) -> tuple[list[int], str]:
    """pymssql puts (number, bytes message) in args, alone or wrapped in a tuple; the message names more numbers."""
    args: Sequence[Any] = exc.args[0] if exc.args and isinstance(exc.args[0], tuple) else exc.args
    first = args[0] if args and isinstance(args[0], int) else None
    raw = args[1] if len(args) > 1 else (args[0] if args and first is None else "")
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else str(raw)
    numbers = ([first] if first is not None else []) + [int(n) for n in _DBLIB_HEADER.findall(text)]
    lines = [line.strip() for line in _DBLIB_HEADER.sub("\n", text).splitlines()]
    kept = dict.fromkeys(line for line in lines if line and not line.startswith("General SQL Server error"))
    return numbers, "; ".join(kept)


def mssql_error(exc: BaseException, doing: str, password: str | None = None) -> EngineError:
    """A pymssql error as an EngineError: transient (retry) or permanent, with the server's words and a hint."""
    numbers, text = _numbers_and_text(exc)
    transient = not MSSQL_PERMANENT.intersection(numbers) and bool(MSSQL_TRANSIENT.intersection(numbers))
    number = next((n for n in numbers if n in MSSQL_PERMANENT), numbers[0] if numbers else None)
    hint = next((_HINTS[n] for n in numbers if n in _HINTS), None)
    message = f"SQL Server: {doing}: " + (f"({number}) " if number is not None else "") + (text or type(exc).__name__)
    message += f" ({hint})" if hint else ""
    if password:
        message = message.replace(password, "***")
    return EngineError(message, transient=transient, engine="mssql")


# --- the engine -----------------------------------------------------------------------------------------------


class MSSQLSource:
    """SQL Server source for connections of type mssql (schema = the database)."""

    name = "mssql"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        try:
            # Every extra is a pymssql.connect argument, as MsSqlHook passes them (engines/hooks.py); DataBridge's
            # defaults fill what the connection leaves out.
            given: dict[str, Any] = {
                "login_timeout": CONNECT_TIMEOUT_SECONDS, "timeout": QUERY_TIMEOUT_SECONDS, "charset": "UTF-8",
                "appname": "databridge", "tds_version": "7.4",
            }  # fmt: skip
            given |= {
                k: int(v) if k.endswith("timeout") else v for k, v in mssql_extras(info).items() if k != "autocommit"
            }
            self.conn = pymssql.connect(
                server=info.host or "127.0.0.1",
                port=str(info.port or DEFAULT_PORT),
                user=info.login or "",
                password=info.password or "",
                database=info.database or "",
                **given,
                autocommit=True,  # reads only: no transaction may outlive a statement and hold locks on the source
            )
        except pymssql.Error as exc:
            raise mssql_error(exc, f"cannot connect with {info.describe()}", info.password) from None
        for statement in SESSION_SQL:
            rows = self._run(statement, "opening the session")
        # The login's default schema: where SQL Server itself looks up a table named without one.
        self._default_schema = str(rows[0][0]) if rows and rows[0][0] else "dbo"

    def _run(self, query: str, doing: str = "reading the catalog") -> list[tuple[Any, ...]]:
        try:
            cur = self.conn.cursor()
            cur.execute(query)
            rows = list(cur.fetchall()) if cur.description else []
            cur.close()
            return rows
        except pymssql.Error as exc:
            raise mssql_error(exc, doing, self.info.password) from None

    def default_schema(self) -> str:
        return self._default_schema

    def schemas(self) -> list[str]:
        return [str(r[0]) for r in self._run(schemas_sql())]

    def tables(self, schema: str) -> list[str]:
        return [str(r[0]) for r in self._run(tables_sql(schema))]

    def _catalog_columns(self, table: TableRef) -> tuple[str, list[tuple[Any, ...]]]:
        schema = table.schema or self.default_schema()
        rows = self._run(columns_sql(schema, table.name), f"reading the columns of {schema}.{table.name}")
        if not rows:
            raise missing_table(self, TableRef(schema, table.name))
        return schema, rows

    def _column(self, row: Sequence[Any]) -> ColumnInfo:
        """A sys.columns row (name, type, max_length, precision, scale, is_nullable, default) as a column."""
        native = native_type(*row[1:5])
        pg_type = pg_type_for(native, self.options.naive_timezone)
        note = type_matrix.notes_for("mssql", native)
        return ColumnInfo(str(row[0]), native, bool(row[5]), strip_parentheses(row[6]), pg_type, note=note)

    def columns(self, table: TableRef) -> list[SourceColumn]:
        found = [self._column(row) for row in self._catalog_columns(table)[1]]
        return [SourceColumn(c.name, c.native_type, c.nullable, c.pg_type, note=c.note) for c in found]

    def describe(self, table: TableRef) -> TableInfo:
        schema, rows = self._catalog_columns(table)
        approx = self._run(approx_rows_sql(schema, table.name))
        _, foreign_keys = keys_from_rows(self._run(foreign_keys_sql(schema, table.name)))
        return TableInfo(
            schema=schema,
            name=table.name,
            columns=tuple(self._column(row) for row in rows),
            primary_key=tuple(str(r[0]) for r in self._run(primary_key_sql(schema, table.name))),
            foreign_keys=foreign_keys,
            approx_rows=int(approx[0][0]) if approx and approx[0][0] is not None else None,
        )

    def schema_of(self, table: TableRef) -> TableSchema:
        staged = self.columns(table)  # raises for an absent table
        schema, name = table.schema or self.default_schema(), table.name
        rows = self._run(schema_columns_sql(schema, name), f"reading the schema of {schema}.{name}")
        columns = tuple(
            ColumnDef(
                r[0],
                bool(r[1]),
                strip_parentheses(r[2]),
                bool(r[3]),
                comment=r[4] or "",
                type=c.native_type,
                pg_type=c.pg_type,
            )
            for r, c in zip(rows, staged, strict=True)
        )
        uniques, indexes = index_parts(self._run(indexes_sql(schema, name)))
        checks = sorted_checks(
            CheckDef(str(r[0]), strip_parentheses(str(r[1])) or "") for r in self._run(checks_sql(schema, name))
        )
        comment = self._run(table_comment_sql(schema, name))
        primary_key = tuple(str(r[0]) for r in self._run(primary_key_sql(schema, name)))
        foreign_keys = foreign_keys_from_rows(self._run(schema_foreign_keys_sql(schema, name)))
        return TableSchema(
            TableRef(schema, name),
            "tsql",
            columns,
            primary_key,
            uniques,
            indexes,
            checks,
            foreign_keys,
            str(comment[0][0] or "") if comment else "",
        )

    def row_count(self, table: TableRef, chunk: Chunk | None = None) -> int:
        schema = table.schema or self.default_schema()
        rows = self._run(
            count_sql(schema, table.name) + chunk_where(chunk), f"counting the rows of {schema}.{table.name}"
        )
        return int(rows[0][0]) if rows else 0

    def split(self, table: TableRef, key: str | None, chunks: int) -> Split:
        """Quantiles of ``key``; without one the table is read whole (SQL Server has no stable row locator)."""
        if key is None:
            return Split(RANGE, "")
        schema = table.schema or self.default_schema()
        first = lambda query: (self._run(query, f"splitting {schema}.{table.name} into chunks") or [(None,)])[0][0]  # noqa: E731
        return Split(
            RANGE,
            key,
            quantile_bounds(first, qualified_name(schema, table.name), quote_name(key), chunks, OFFSET_FETCH),
        )

    def copy_rows(
        self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int, chunk: Chunk | None = None
    ) -> int:
        schema = table.schema or self.default_schema()
        convert = row_converter([self._converter(c) for c in columns])
        rows = 0
        try:
            cur = self.conn.cursor()
            cur.execute(select_sql(schema, table.name, columns, chunk))
            for batch in batched(cur.fetchmany, batch_size):
                for row in batch:
                    sink.write_row(convert(row) if convert else row)
                rows += len(batch)
            cur.close()
        except pymssql.Error as exc:
            raise mssql_error(exc, f"reading {schema}.{table.name}", self.info.password) from None
        return rows

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        return through_copy_rows(self, table, columns, limit, consume, batch_size)

    def zero_dated(self, column: SourceColumn) -> bool:
        return False

    def _converter(self, column: SourceColumn) -> Callable[[Any], Any] | None:
        native = column.native_type.lower()
        if native == "uniqueidentifier":
            return as_uuid
        if self.options.naive_timezone and re.fullmatch(NAIVE_DATETIMES, native):
            return in_zone(self.options.naive_timezone)
        return None

    def close(self) -> None:
        self.conn.close()


__all__ = ["MSSQLSource", "mssql_error", "pg_type_for", "quote_name"]
