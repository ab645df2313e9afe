"""What every source engine offers DataBridge, and the connection details it is opened with."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from databridge.compiler.plan import TableRef

if TYPE_CHECKING:
    from databridge.engines.schema import TableSchema


@dataclass(frozen=True)
class ConnectionInfo:
    """Where a database is; built from an Airflow Connection. The password never shows in repr or logs."""

    conn_id: str
    conn_type: str
    host: str | None = None
    port: int | None = None
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_airflow(cls, conn: Any) -> ConnectionInfo:
        """From an Airflow Connection (read by attribute, so this module needs no Airflow import)."""
        return cls(
            conn_id=conn.conn_id,
            conn_type=(conn.conn_type or "").lower(),
            host=conn.host,
            port=conn.port,
            login=conn.login,
            password=conn.password,
            database=conn.schema,
            extra=conn.extra_dejson or {},
        )

    def describe(self) -> str:
        """Where the connection points, safe to log."""
        where = f"{self.host or 'localhost'}:{self.port}" if self.port else (self.host or "")
        if self.database:  # a SQLite file is the host alone: no trailing slash that reads like a folder
            where = f"{where}/{self.database}"
        return f"{self.conn_type} connection {self.conn_id!r} ({where})"


@dataclass(frozen=True)
class SourceOptions:
    """How a source's ambiguous values are read (from the pipeline's ``source_options``)."""

    zero_dates: str = "null"
    """MySQL zero dates (0000-00-00): "null" reads them as NULL with a warning, "fail" stops the extract."""
    naive_timezone: str | None = None
    """Time zone of date-times stored without one; None keeps them naive (timestamp without time zone)."""


@dataclass(frozen=True)
class ColumnInfo:
    """A discovered column."""

    name: str
    native_type: str
    nullable: bool
    default: str | None
    pg_type: str
    """The PostgreSQL type DataBridge suggests for it (from the type matrix)."""
    confidence: float | None = None
    """For inferred schemas (documents): the share of sampled documents holding this field with this type."""
    note: str = ""
    """What is done to its values (from the type matrix), and anything the type says about them (enum values)."""


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    references: str
    """Referenced table, schema-qualified."""
    referenced_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableInfo:
    """A discovered table or collection."""

    schema: str
    name: str
    columns: tuple[ColumnInfo, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKeyInfo, ...] = ()
    approx_rows: int | None = None
    sampled: int | None = None
    """For inferred schemas: how many documents the columns were inferred from."""


@dataclass(frozen=True)
class SourceColumn:
    name: str
    native_type: str
    """The type as the source declares it (e.g. tinyint(1) unsigned)."""
    nullable: bool
    pg_type: str
    """The PostgreSQL type its values are staged as."""
    note: str = ""
    """Kept as the staging column's comment, e.g. the allowed values of an ENUM staged as text."""
    allowed_values: tuple[str, ...] = ()
    """The labels an ENUM allows: a target table created from this column unchanged gets a CHECK on them."""


Consume = Callable[[tuple[Any, ...]], None]
"""Takes one sampled row (``SourceEngine.sample_rows``)."""


class RowSink(Protocol):
    """Where rows go: a COPY ... FROM STDIN into the staging table."""

    def write_row(self, row: Any) -> None: ...

    def write(self, buffer: bytes | str) -> None: ...


class RowPathNeeded(Exception):
    """A source's Arrow stream met values only its row path reads right: write these rows again, row by row."""


class SourceEngine(Protocol):
    """A source database opened for one stage: discovery and streaming reads."""

    name: str

    def default_schema(self) -> str: ...

    def schemas(self) -> list[str]:
        """Schemas (MySQL: databases; SQLite: attached databases) holding user tables, system ones left out."""
        ...

    def describe(self, table: TableRef) -> TableInfo:
        """Columns, keys and the catalog's row estimate (never a COUNT(*)); EngineError when the table is absent."""
        ...

    def columns(self, table: TableRef) -> list[SourceColumn]:
        """Columns in table order; raises EngineError (permanent) naming close matches when the table is absent."""
        ...

    def tables(self, schema: str) -> list[str]: ...

    def schema_of(self, table: TableRef) -> TableSchema:
        """Every schema object of the table as its catalog holds it: columns (nullability, defaults, identity,
        comments), primary key, uniques, indexes, CHECKs, foreign keys, the table's comment, ENUM/SET labels; SQL
        texts in the source's dialect (engines/schema.py). Document stores have no catalog: columns only. Raises
        EngineError (permanent) naming close matches when the table is absent."""
        ...

    def row_count(self, table: TableRef) -> int: ...

    def copy_rows(self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int) -> int:
        """Stream every row of ``columns`` into ``sink`` in batches of ``batch_size``; returns rows sent."""
        ...

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        """Hand each row of ``columns`` (at most ``limit``; None: every row) to ``consume``, its values as the source
        holds them, before the extract's conversions (the lint and the preview check these); returns rows read.
        ``engines/sample.py`` holds the shared parts (``through_copy_rows`` for an engine without SQL)."""
        ...

    def zero_dated(self, column: SourceColumn) -> bool:
        """Whether sampled values of ``column`` may be zero dates (MySQL's 0000-00-00, sampled as text), which the
        extract stages as NULL or refuses (source_options.zero_dates)."""
        ...

    def close(self) -> None: ...


def keys_from_rows(rows: Sequence[Sequence[Any]]) -> tuple[tuple[str, ...], tuple[ForeignKeyInfo, ...]]:
    """Primary key and foreign keys from catalog rows (constraint, column, ref schema, ref table, ref column).

    Rows without a referenced table are primary-key columns; rows come in key order within each constraint.
    """
    primary_key = tuple(str(r[1]) for r in rows if r[3] is None)
    grouped: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        if row[3] is not None:
            grouped.setdefault(str(row[0]), []).append(row)
    foreign_keys = tuple(
        ForeignKeyInfo(tuple(str(r[1]) for r in fk), f"{fk[0][2]}.{fk[0][3]}", tuple(str(r[4]) for r in fk))
        for fk in grouped.values()
    )
    return primary_key, foreign_keys


def batched(fetch: Any, batch_size: int) -> Iterator[list[Any]]:
    """Call ``fetch(batch_size)`` until it returns no rows."""
    while rows := fetch(batch_size):
        yield rows
