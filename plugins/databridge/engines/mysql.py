"""MySQL and MariaDB as a source: a server-side cursor streamed in batches, types mapped by the type matrix."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import MySQLdb
import MySQLdb.cursors

from databridge.compiler.plan import TableRef
from databridge.engines.base import (
    ColumnInfo,
    ConnectionInfo,
    Consume,
    RowPathNeeded,
    RowSink,
    SourceColumn,
    SourceOptions,
    TableInfo,
    batched,
    keys_from_rows,
)
from databridge.engines.canonical import kind_of
from databridge.engines.chunks import HASH, RANGE, Chunk, Split, next_key, quantile_bounds, range_predicate
from databridge.engines.errors import mysql_error
from databridge.engines.fingerprint import Dialect, ProofColumn, Runner, SqlSide
from databridge.engines.hooks import connectorx_ssl, mysql_params, mysql_wants_tls
from databridge.engines.postgres import CONNECT_TIMEOUT_SECONDS, missing_table
from databridge.engines.sample import drain, limit_clause
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
from databridge.engines.type_matrix import notes_for, pg_type_for, zoned
from databridge.engines.values import localizer, row_converter, split_set
from databridge.errors import EngineError

if TYPE_CHECKING:
    import pyarrow as pa

_COLUMNS_SQL = """
SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES', COLUMN_DEFAULT
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION
"""
# MariaDB's JSON is an alias: the column is a longtext with a json_valid() check, which is all that marks it as JSON.
_CHECKS_SQL = (
    "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s AND TABLE_NAME = %s"
)
_SCHEMAS_SQL = """
SELECT SCHEMA_NAME FROM information_schema.SCHEMATA
WHERE SCHEMA_NAME NOT IN ('information_schema', 'mysql', 'performance_schema', 'sys') ORDER BY 1
"""
_TABLES_SQL = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY 1"
# Primary-key columns (no referenced table) and foreign-key columns, each constraint's columns in key order.
_KEYS_SQL = """
SELECT CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
ORDER BY CONSTRAINT_NAME = 'PRIMARY' DESC, CONSTRAINT_NAME, ORDINAL_POSITION
"""
# InnoDB's estimate from its index statistics: no table scan.
_APPROX_ROWS_SQL = "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"

# --- schema_of: what the catalog says of each schema object --------------------------------------------------------
# COLUMN_DEFAULT: MariaDB writes SQL ('active', 0.00, current_timestamp(), NULL for none); MySQL writes a string's
# bare text and marks expressions DEFAULT_GENERATED in EXTRA (_mysql_default).
_SCHEMA_COLUMNS_SQL = """
SELECT COLUMN_NAME, IS_NULLABLE = 'YES', COLUMN_DEFAULT, EXTRA, COLUMN_COMMENT, COLUMN_TYPE, DATA_TYPE
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION
"""
# Every index position, the primary key's first; {expression} is EXPRESSION on MySQL 8.0.13+ (functional key parts),
# NULL on MariaDB and older MySQL, which have none.
_INDEXES_SQL = """
SELECT INDEX_NAME, NON_UNIQUE = 0, COLUMN_NAME, SUB_PART, COLLATION = 'D', INDEX_TYPE, {expression}
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX
"""
_FOREIGN_KEYS_SQL = """
SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME,
       r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
WHERE k.TABLE_SCHEMA = %s AND k.TABLE_NAME = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.CONSTRAINT_NAME, k.ORDINAL_POSITION
"""
# MariaDB names CHECKs per table (a column's own CHECK is named after the column); MySQL per schema, and its
# CHECK_CONSTRAINTS has no TABLE_NAME: the table comes from TABLE_CONSTRAINTS.
_MARIADB_CHECKS_SQL = """
SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s
AND TABLE_NAME = %s
"""
_MYSQL_CHECKS_SQL = """
SELECT t.CONSTRAINT_NAME, c.CHECK_CLAUSE FROM information_schema.TABLE_CONSTRAINTS t
JOIN information_schema.CHECK_CONSTRAINTS c ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA
  AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME
WHERE t.TABLE_SCHEMA = %s AND t.TABLE_NAME = %s AND t.CONSTRAINT_TYPE = 'CHECK'
"""
_TABLE_COMMENT_SQL = """
SELECT CASE WHEN TABLE_TYPE = 'VIEW' THEN '' ELSE TABLE_COMMENT END
FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
"""
_ON_UPDATE = re.compile(r"\bon update (.+)$", re.IGNORECASE)
_LABELLED = re.compile(r"(enum|set)\((.*)\)", re.IGNORECASE | re.DOTALL)
_NUMERIC_TYPES = {
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
    "decimal",
    "numeric",
    "float",
    "double",
    "bit",
    "year",
}
_INDEX_METHODS = {"BTREE": "", "HASH": "hash", "FULLTEXT": "fulltext", "SPATIAL": "spatial", "RTREE": "spatial"}

# What the SELECT reads instead of the bare column, by native type (the first match wins).
_SELECT_AS: tuple[tuple[str, str], ...] = (
    # The text protocol prints FLOAT with 6 digits (16777216 would arrive as 16777200): read it as DOUBLE.
    (r"float.*", "CAST({c} AS DOUBLE)"),
    (r"bit\(1\)", "({c} <> 0)"),
    (r"bit\((\d+)\)", r"LPAD(BIN({c}), \1, '0')"),
    (r"geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection", "ST_AsText({c})"),
)
# mysqlclient reads a zero date (0000-00-00, 2024-00-10, 0000-01-01) as None: count them in the source instead.
_ZERO_DATE = "SUM({c} IS NOT NULL AND (YEAR({c}) = 0 OR MONTH({c}) = 0 OR DAYOFMONTH({c}) = 0))"
# Native types ConnectorX reads exactly, with the staging types they may take the Arrow path to (engines/arrow.py).
# Unsigned, zero-filled, temporal-with-zone, ENUM/SET, binary and spatial columns keep the row path.
_ARROW_NATIVE: tuple[tuple[str, str], ...] = (
    (r"(tiny|small|medium|big)?int(\(\d+\))?", r"bigint|integer|smallint|boolean"),
    (r"(decimal|numeric)\(\d+,\d+\)", r"numeric\(\d+,\d+\)"),
    (r"double( precision)?", r"double precision"),
    (r"(var)?char\(\d+\)|(tiny|medium|long)?text", r"text|varchar\(\d+\)"),
    (r"longtext|json", r"jsonb"),
    (r"date", r"date"),
    (r"datetime(\(\d\))?", r"timestamp"),
)
# What ConnectorX says when it meets a zero date (0000-00-00, or a zero month or day).
_ZERO_DATE_PANIC = re.compile(r"convert the value `(Date|Datetime)\(")
_ENUM_LABEL = re.compile(r"'((?:[^']|'')*)'")
_DATED = re.compile(r"(date|datetime|timestamp)\b")


class MySQLSource:
    name = "mysql"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        self.warnings: list[str] = []
        self._zero_dated: dict[TableRef, bool] = {}
        """Whether each table holds zero dates, counted once: a table read in many batches or chunks is scanned once."""
        self._rows_only: set[TableRef] = set()
        """Tables whose Arrow stream met a zero date: the row path reads the rest of them."""
        self.params = _params(info)
        try:
            self.conn = MySQLdb.connect(
                **self.params,
                charset="utf8mb4",
                use_unicode=True,
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                # Reads only: no transaction may outlive a statement and hold metadata locks on the source.
                autocommit=True,
            )
            self._run("SET SESSION time_zone = '+00:00'")
        except MySQLdb.Error as exc:
            raise mysql_error(exc, f"cannot connect with {info.describe()}") from None
        if mysql_wants_tls(self.params):
            self._require_tls()

    def _require_tls(self) -> None:
        """MariaDB's client library opens a session without TLS to a server that offers none even when ssl_mode is
        REQUIRED: such a session is refused here, as the connection's extra asks."""
        cipher = self._run("SHOW SESSION STATUS LIKE 'Ssl_cipher'", doing="checking TLS")
        if not cipher or not cipher[0][1]:
            self.conn.close()
            raise EngineError(
                f"MySQL: {self.info.describe()}: its extra asks for TLS (ssl / ssl_mode) but the server answered "
                "without it: enable TLS on the server, or fix the connection's extra",
                transient=False,
                engine="mysql",
            )

    def default_schema(self) -> str:
        return self.info.database or ""

    def _run(
        self, query: str, params: tuple[Any, ...] = (), doing: str = "reading the catalog"
    ) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall())
        except MySQLdb.Error as exc:
            raise mysql_error(exc, doing) from None

    def schemas(self) -> list[str]:
        return [r[0] for r in self._run(_SCHEMAS_SQL)]

    def tables(self, schema: str) -> list[str]:
        return [r[0] for r in self._run(_TABLES_SQL, (schema,))]

    def columns(self, table: TableRef) -> list[SourceColumn]:
        schema, rows = self._column_rows(table)
        checks = self._mariadb_checks(schema, table.name)
        return [self._source_column(name, ctype, bool(nullable), checks) for name, ctype, nullable, _default in rows]

    def describe(self, table: TableRef) -> TableInfo:
        schema, rows = self._column_rows(table)
        checks = self._mariadb_checks(schema, table.name)
        columns = tuple(_column_info(self._source_column(r[0], r[1], bool(r[2]), checks), r[3]) for r in rows)
        primary_key, foreign_keys = keys_from_rows(self._run(_KEYS_SQL, (schema, table.name)))
        approx = self._run(_APPROX_ROWS_SQL, (schema, table.name))
        estimate = approx[0][0] if approx else None
        return TableInfo(
            schema, table.name, columns, primary_key, foreign_keys, None if estimate is None else int(estimate)
        )

    def _column_rows(self, table: TableRef) -> tuple[str, list[tuple[Any, ...]]]:
        schema = table.schema or self.default_schema()
        rows = self._run(_COLUMNS_SQL, (schema, table.name))
        if not rows:
            raise missing_table(self, TableRef(schema, table.name))
        return schema, rows

    def _source_column(self, name: str, column_type: str, nullable: bool, checks: set[str]) -> SourceColumn:
        matrix_type = "json" if f"json_valid({_mysql_ident(name)})" in checks else column_type
        pg_type = zoned(pg_type_for("mysql", matrix_type), self.options.naive_timezone)
        enum = re.fullmatch(r"enum\((.*)\)", column_type, re.IGNORECASE | re.DOTALL)
        note = f"MySQL {column_type}: allowed values {enum.group(1)}" if enum else ""
        labels = tuple(v.replace("''", "'") for v in _ENUM_LABEL.findall(enum.group(1))) if enum else ()
        return SourceColumn(name, column_type, nullable, pg_type, note, labels)

    def _mariadb_checks(self, schema: str, table: str) -> set[str]:
        """The CHECK clauses of a MariaDB table (MySQL has a real JSON type and no TABLE_NAME in that view)."""
        if "mariadb" not in self.conn.get_server_info().lower():
            return set()
        return {str(r[0]) for r in self._run(_CHECKS_SQL, (schema, table))}

    def schema_of(self, table: TableRef) -> TableSchema:
        staged = self.columns(table)  # raises for an absent table
        key = (table.schema or self.default_schema(), table.name)
        rows = self._run(_SCHEMA_COLUMNS_SQL, key)
        columns = tuple(_column_def(row, c.pg_type, self._mariadb) for row, c in zip(rows, staged, strict=True))
        expression = "EXPRESSION" if _has_key_expressions(self.conn.get_server_info()) else "NULL"
        primary_key, uniques, indexes = _indexes(self._run(_INDEXES_SQL.format(expression=expression), key))
        enums, sets = _labels(columns)
        foreign_keys = foreign_keys_from_rows(self._run(_FOREIGN_KEYS_SQL, key))
        comment = str(next(iter(self._run(_TABLE_COMMENT_SQL, key)), ("",))[0] or "")
        return TableSchema(
            TableRef(*key),
            "mysql",
            columns,
            primary_key,
            uniques,
            indexes,
            self._checks(key),
            foreign_keys,
            comment,
            enums,
            sets,
        )

    def _checks(self, key: tuple[str, str]) -> tuple[CheckDef, ...]:
        rows = self._run(_MARIADB_CHECKS_SQL if self._mariadb else _MYSQL_CHECKS_SQL, key)
        return sorted_checks(c for c in map(_check, rows) if c is not None)

    @property
    def _mariadb(self) -> bool:
        return "mariadb" in self.conn.get_server_info().lower()

    def row_count(self, table: TableRef, chunk: Chunk | None = None) -> int:
        query = f"SELECT COUNT(*) FROM {self._ref(table)}{self._where(table, chunk)}"
        return int(self._run(query, doing=f"counting the rows of {table}")[0][0])

    def split(self, table: TableRef, key: str | None, chunks: int) -> Split:
        """Quantiles of ``key``; without a key (InnoDB hides its row id), a CRC32 of the row modulo ``chunks``."""
        if key is None:
            return Split(HASH, "row", parts=chunks)
        return Split(RANGE, key, quantile_bounds(self._first(table), self._ref(table), _mysql_ident(key), chunks))

    def next_bound(self, table: TableRef, part: Chunk, rows: int) -> Any:
        return next_key(
            self._first(table),
            self._ref(table),
            _mysql_ident(part.key),
            self._where(table, part),
            part,
            rows,
            self._literal,
        )

    def _first(self, table: TableRef) -> Callable[[str], Any]:
        """A reader of a query's first value (None when it returns no row)."""
        return lambda query: (self._run(query, doing=f"reading the key ranges of {table}") or [(None,)])[0][0]

    def _where(self, table: TableRef, chunk: Chunk | None) -> str:
        if chunk is None or chunk.whole:
            return ""
        if chunk.method == HASH:
            values = ", ".join(_mysql_ident(str(r[0])) for r in self._column_rows(table)[1])
            return f" WHERE MOD(CRC32(CONCAT_WS(0x1f, {values})), {chunk.count}) = {chunk.index}"
        return " WHERE " + range_predicate(_mysql_ident(chunk.key), chunk, self._literal)

    def _literal(self, value: Any) -> str:
        text = self.conn.literal(value)
        return text.decode() if isinstance(text, bytes) else str(text)

    def copy_rows(
        self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int, chunk: Chunk | None = None
    ) -> int:
        self._check_zero_dates(table, columns)
        select = (
            f"SELECT {', '.join(_select_expr(c) for c in columns)} FROM {self._ref(table)}{self._where(table, chunk)}"
        )
        convert = row_converter([self._converter(c) for c in columns])
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

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        """Dates as text, so zero dates stay visible (the extract reads them as NULL); BIT(n) as its number."""
        bits = [c.native_type.lower().startswith("bit") for c in columns]
        select = f"SELECT {', '.join(_sample_expr(c) for c in columns)} FROM {self._ref(table)}{limit_clause(limit)}"
        try:
            cur = self.conn.cursor(MySQLdb.cursors.SSCursor)
            cur.execute(select)
            rows = drain(
                cur.fetchmany,
                batch_size,
                lambda row: consume(tuple(_bit(v) if b else v for v, b in zip(row, bits, strict=True))),
            )
            cur.close()
        except MySQLdb.Error as exc:
            raise mysql_error(exc, f"sampling {table}") from None
        return rows

    def zero_dated(self, column: SourceColumn) -> bool:
        return bool(_DATED.match(column.native_type.lower()))

    def arrow_batches(
        self, table: TableRef, columns: list[SourceColumn], batch_size: int, chunk: Chunk | None = None
    ) -> Iterator[pa.RecordBatch] | None:
        """The rows (of ``chunk``) as Arrow record batches read by ConnectorX, or None when a column needs the row path.

        A zero date stops the stream with RowPathNeeded (ConnectorX cannot read one): the row path reads it as NULL
        and says so, or fails, by source_options.zero_dates. Counting them first would cost a scan of every table."""
        if table in self._rows_only or not self._arrow_reaches() or not all(self._arrow_ready(c) for c in columns):
            return None
        import connectorx

        from databridge.engines.arrow import cap_malloc_arenas

        cap_malloc_arenas()
        select = (
            f"SELECT {', '.join(_select_expr(c) for c in columns)} FROM {self._ref(table)}{self._where(table, chunk)}"
        )
        try:
            reader = connectorx.read_sql(self._url(), select, return_type="arrow_stream", batch_size=batch_size)
        except Exception as exc:  # ConnectorX raises plain RuntimeErrors carrying the driver's message
            raise self._arrow_error(exc, table) from None
        return self._batches(reader, table)

    def _batches(self, reader: Any, table: TableRef) -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except BaseException as exc:  # a Rust panic arrives as pyo3's PanicException, a BaseException
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            if _ZERO_DATE_PANIC.search(str(exc)):
                self._rows_only.add(table)
                raise RowPathNeeded(f"{table} holds zero dates") from None
            raise self._arrow_error(exc, table) from None

    def _arrow_error(self, exc: BaseException, table: TableRef) -> EngineError:
        """ConnectorX's message, without a password it might echo."""
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        for secret in {self.info.password, self.params["passwd"]} - {None, ""}:  # an IAM token is a password too
            text = text.replace(quote(secret, safe=""), "***").replace(secret, "***")
        transient = any(word in text.lower() for word in ("connection", "timed out", "broken pipe", "reset"))
        return EngineError(f"MySQL: reading {table}: {text}", transient=transient, engine="mysql")

    def _arrow_ready(self, column: SourceColumn) -> bool:
        from databridge.engines import arrow  # pyarrow loads only when a table is read

        if self.options.naive_timezone and column.pg_type.startswith("timestamp"):
            return False
        native = column.native_type.lower()
        if column.pg_type.startswith("numeric") and re.sub(r"^(decimal|numeric)", "numeric", native) != column.pg_type:
            return False  # another scale than the source's (source_types): PostgreSQL's rounding decides, by rows
        return arrow.fits(column.pg_type) and any(
            re.fullmatch(n, native) and re.fullmatch(p, column.pg_type) for n, p in _ARROW_NATIVE
        )

    def _arrow_reaches(self) -> bool:
        """Whether ConnectorX can open the connection mysqlclient opened: not through a socket file, nor with a client
        certificate (its URI has no place for either)."""
        return not self.params.get("unix_socket") and connectorx_ssl(self.params) is not None

    def _url(self) -> str:
        """ConnectorX's URI for the same connection mysqlclient opens: address, credentials (an IAM token too) and
        TLS."""
        p = self.params
        auth = quote(p["user"], safe="") + (f":{quote(p['passwd'], safe='')}" if p["passwd"] else "")
        query = urlencode(connectorx_ssl(p) or {})
        return f"mysql://{auth}@{p['host']}:{p['port']}/{quote(p['db'], safe='')}" + (f"?{query}" if query else "")

    def _converter(self, column: SourceColumn) -> Callable[[Any], Any] | None:
        """Python work for the few columns that need it; every other column passes as the driver read it."""
        if column.pg_type == "text[]" and column.native_type.lower().startswith("set("):
            return split_set
        if self.options.naive_timezone and column.native_type.lower().startswith("datetime"):
            return localizer(self.options.naive_timezone)
        return None

    def _check_zero_dates(self, table: TableRef, columns: list[SourceColumn]) -> bool:
        """One aggregate over the date columns (none: no query); fail, or warn once per column with its count.

        Returns whether the table holds zero dates."""
        dated = [c for c in columns if _DATED.match(c.native_type.lower())]
        if not dated or table in self._zero_dated:
            return self._zero_dated.get(table, False)
        sums = ", ".join(_ZERO_DATE.format(c=_mysql_ident(c.name)) for c in dated)
        counts = self._run(f"SELECT {sums} FROM {self._ref(table)}", doing=f"looking for zero dates in {table}")[0]
        self._zero_dated[table] = any(counts)
        for column, count in zip(dated, counts, strict=True):
            if count:
                self._zero_dates_found(table, column, int(count))
        return self._zero_dated[table]

    def _zero_dates_found(self, table: TableRef, column: SourceColumn, count: int) -> None:
        where = f"{table.schema or self.default_schema()}.{table.name}.{column.name} ({column.native_type})"
        if self.options.zero_dates == "fail":
            raise EngineError(
                f"MySQL: {where} holds {count} zero date(s) (0000-00-00, or a zero year, month or day), which "
                "PostgreSQL cannot store; set the pipeline's source_options.zero_dates to null to stage them as NULL "
                "with a warning, or correct them in the source",
                transient=False,
                engine="mysql",
            )
        self.warnings.append(f"{where}: {count} zero date(s) staged as NULL (source_options.zero_dates: null)")

    def proof_column(self, column: SourceColumn) -> ProofColumn | None:
        """The column as extract reads it; None when MySQL cannot print its canonical text in SQL (JSON key order,
        SET and TIME values, date-times localized in Python for source_options.naive_timezone)."""
        if self.options.naive_timezone and column.native_type.lower().startswith("datetime"):
            return None
        proof = ProofColumn(column.name, _select_expr(column), kind_of(column.pg_type))
        return proof if _mysql_canon(proof.sql, proof.kind) is not None else None

    def proof_side(self, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn]) -> SqlSide:
        """The source table fingerprinted in MySQL/MariaDB (session in UTC, so TIMESTAMP values print in UTC)."""
        run: Runner = lambda q, p: self._run(q, tuple(p), f"fingerprinting {table}")  # noqa: E731
        return SqlSide(MYSQL_DIALECT, run, self._ref(table), columns, key, label=f"source {table} (MySQL)")

    def _ref(self, table: TableRef) -> str:
        return f"{_mysql_ident(table.schema or self.default_schema())}.{_mysql_ident(table.name)}"

    def close(self) -> None:
        self.conn.close()


def _params(info: ConnectionInfo) -> dict[str, Any]:
    """mysqlclient's parameters as MySqlHook reads them (engines/hooks.py: TLS, unix socket, IAM), with DataBridge's
    defaults where the connection sets none (TCP on 127.0.0.1 unless the extra names a unix_socket: MySQL's
    "localhost" means its socket file)."""
    params = mysql_params(info)
    params["host"] = info.host or ("localhost" if params.get("unix_socket") else "127.0.0.1")
    params["user"] = params.get("user") or "root"
    params.pop("charset", None)  # utf8mb4, always: the extract's text must hold every character
    params.pop("use_unicode", None)
    return params


def _column_info(column: SourceColumn, default: str | None) -> ColumnInfo:
    """A discovered column; MariaDB writes a missing default as the word NULL and quotes string defaults."""
    note = "; ".join(n for n in (notes_for("mysql", column.native_type), column.note) if n)
    default = None if default == "NULL" else default
    return ColumnInfo(column.name, column.native_type, column.nullable, default, column.pg_type, note=note)


def _column_def(row: tuple[Any, ...], pg_type: str, mariadb: bool) -> ColumnDef:
    """A _SCHEMA_COLUMNS_SQL row as a column staged as ``pg_type``."""
    name, nullable, default, extra, comment, column_type, data_type = row
    extra = extra or ""
    on_update = _ON_UPDATE.search(extra)
    return ColumnDef(
        name,
        bool(nullable),
        _mysql_default(default, extra, data_type, mariadb),
        "auto_increment" in extra.lower(),
        on_update.group(1) if on_update else None,
        comment or "",
        column_type,
        pg_type,
    )


def _mysql_default(raw: str | None, extra: str, data_type: str, mariadb: bool) -> str | None:
    """The default as MySQL SQL: MariaDB writes it so already (NULL for none); MySQL writes a string's bare text."""
    if raw is None or (mariadb and raw == "NULL"):
        return None
    if (
        mariadb
        or "DEFAULT_GENERATED" in extra.upper()
        or data_type.lower() in _NUMERIC_TYPES
        or raw.upper().startswith("CURRENT_TIMESTAMP")
    ):
        return raw
    return "'" + raw.replace("\\", "\\\\").replace("'", "''") + "'"


def _has_key_expressions(server_info: str) -> bool:
    """Functional key parts (and STATISTICS.EXPRESSION) came with MySQL 8.0.13; MariaDB has none."""
    if "mariadb" in server_info.lower():
        return False
    version = tuple(int(p) for p in re.findall(r"\d+", server_info)[:3])
    return version >= (8, 0, 13)


def _indexes(rows: list[tuple[Any, ...]]) -> tuple[tuple[str, ...], tuple[IndexDef, ...], tuple[IndexDef, ...]]:
    """(primary key, uniques, indexes) from _INDEXES_SQL rows."""
    primary_key = tuple(str(r[2]) for r in rows if r[0] == "PRIMARY")
    parts = (
        IndexPart(
            str(r[0]),
            bool(r[1]),
            str(r[2] or ""),
            str(r[6] or ""),
            r[3],
            bool(r[4]),
            method=_INDEX_METHODS.get(str(r[5]), str(r[5]).lower()),
        )
        for r in rows
        if r[0] != "PRIMARY"
    )
    return (primary_key, *indexes_from_parts(parts))


def _check(row: tuple[Any, ...]) -> CheckDef | None:
    """A CHECK, or None for MariaDB's json_valid() on a JSON column: that is the column's type, not a rule."""
    name, clause = str(row[0]), str(row[1])
    return None if clause == f"json_valid({_mysql_ident(name)})" else CheckDef(name, clause)


def _labels(columns: Sequence[ColumnDef]) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]]:
    """(column, labels) of the ENUM columns, then of the SET columns; and the SET columns' names."""
    typed = [(c.name, _LABELLED.fullmatch(c.type)) for c in columns]
    found = [
        (name, m.group(1).lower(), tuple(v.replace("''", "'") for v in _ENUM_LABEL.findall(m.group(2))))
        for name, m in typed
        if m
    ]
    enums = [(name, labels) for name, kind, labels in found if kind == "enum"]
    sets = [(name, labels) for name, kind, labels in found if kind == "set"]
    return (*enums, *sets), tuple(name for name, _ in sets)


def _mysql_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _select_expr(column: SourceColumn) -> str:
    ident = _mysql_ident(column.name)
    native = column.native_type.lower()
    for pattern, template in _SELECT_AS:
        match = re.fullmatch(pattern, native)
        if match:
            return match.expand(template).format(c=ident)
    return ident


def _sample_expr(column: SourceColumn) -> str:
    if _DATED.match(column.native_type.lower()):
        return f"CAST({_mysql_ident(column.name)} AS CHAR)"
    return f"CAST({_mysql_ident(column.name)} AS DOUBLE)" if column.pg_type == "real" else _mysql_ident(column.name)


def _bit(value: Any) -> Any:
    return int.from_bytes(value, "big") if isinstance(value, bytes) else value


__all__ = ["MySQLSource"]


def _mysql_float(e: str) -> str:
    """canonical.float_text in SQL, over MariaDB's shortest round-trip print of the double.

    Each piece reads the print once: formatting a double is the costly part (zero, sign and NULL come from the value).
    """
    x = f"CAST({e} AS DOUBLE)"
    unsigned = f"TRIM(LEADING '-' FROM CAST({x} AS CHAR))"
    mantissa = f"SUBSTRING_INDEX({unsigned}, 'e', 1)"
    power = f"CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(CONCAT({unsigned}, 'e0'), 'e', 2), 'e', -1) AS SIGNED)"
    whole = f"(CAST(LOCATE('.', CONCAT({mantissa}, '.')) AS SIGNED) - 1)"
    digits = f"REPLACE({mantissa}, '.', '')"
    leading = f"(CAST(CHAR_LENGTH({digits}) AS SIGNED) - CAST(CHAR_LENGTH(TRIM(LEADING '0' FROM {digits})) AS SIGNED))"
    significant = f"TRIM(TRAILING '0' FROM TRIM(LEADING '0' FROM {digits}))"
    return (
        f"(CASE WHEN {x} IS NULL THEN NULL WHEN {x} = 0 THEN '0' "
        f"ELSE CONCAT(IF({x} < 0, '-', ''), {significant}, 'e', {whole} - {leading} + {power}) END)"
    )


# A zero date (0000-00-00) is staged as NULL (source_options.zero_dates): it is NULL here too. Literal % are
# doubled: MySQLdb formats every query that has parameters.
_NOT_ZERO = (
    "CASE WHEN YEAR({e}) = 0 OR MONTH({e}) = 0 OR DAYOFMONTH({e}) = 0 THEN NULL ELSE DATE_FORMAT({e}, '{f}') END"
)
_MYSQL_CANON = {
    "int": "CAST({e} + 0 AS CHAR)",  # + 0: a YEAR prints 0000 as itself, 0 as a number
    "bool": "(CASE WHEN {e} THEN '1' WHEN NOT {e} THEN '0' END)",
    "numeric": "IF(LOCATE('.', CAST({e} AS CHAR)) > 0, TRIM(TRAILING '.' FROM TRIM(TRAILING '0' "
    "FROM CAST({e} AS CHAR))), "
    "CAST({e} AS CHAR))",
    "text": "CONVERT({e} USING utf8mb4)",
    "tstz": _NOT_ZERO.replace("{f}", "%%Y-%%m-%%d %%H:%%i:%%s.%%f"),
    "ts": _NOT_ZERO.replace("{f}", "%%Y-%%m-%%d %%H:%%i:%%s.%%f"),
    "date": _NOT_ZERO.replace("{f}", "%%Y-%%m-%%d"),
    "bytes": "LOWER(HEX({e}))",
}


def _mysql_canon(e: str, kind: str) -> str | None:
    if kind == "float":
        return _mysql_float(e)
    template = _MYSQL_CANON.get(kind)
    return template.format(e=e) if template else None


MYSQL_DIALECT = Dialect(
    name="MySQL",
    canon=_mysql_canon,
    length="CHAR_LENGTH({})",
    concat=lambda parts: "CONCAT(" + ", ".join(parts) + ")",
    hash="CAST(CONV(LEFT(MD5({}), 16), 16, 10) AS UNSIGNED)",
    sum="SUM({})",
    key=lambda e, kind: f"CAST(CONVERT({e} USING utf8mb4) AS BINARY)" if kind == "text" else e,
    param=lambda kind: "CAST(CONVERT(%s USING utf8mb4) AS BINARY)" if kind == "text" else "%s",
)
"""Fingerprints in MySQL/MariaDB: MD5 of the row text, its first 64 bits as an unsigned integer, summed as DECIMAL."""
