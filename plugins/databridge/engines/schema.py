"""A source table's schema objects as its catalog holds them: what the load rebuilds in PostgreSQL.

Each engine reads these from its own catalog (``SourceEngine.schema_of``); the SQL texts (defaults, CHECKs, index
expressions) stay in the source's dialect, named by ``dialect`` (sqlglot's name for it). Translating them into
PostgreSQL, and deciding what cannot be, is ``compiler/schema_ddl.py``'s job; building them is the load's. Plain
frozen dataclasses, JSON-able with ``dataclasses.asdict``, so the extract can store them for the load.
"""

from __future__ import annotations

from dataclasses import dataclass

from databridge.compiler.plan import TableRef


@dataclass(frozen=True)
class ColumnDef:
    name: str
    nullable: bool
    default: str | None = None
    """The default as the catalog writes it, in the source dialect (``'active'``, ``0``, ``CURRENT_TIMESTAMP``,
    ``nextval(...)``); None when there is none."""
    identity: bool = False
    """Values come from the table itself: MySQL AUTO_INCREMENT, PostgreSQL identity or serial, SQLite INTEGER
    PRIMARY KEY with AUTOINCREMENT (or the rowid alias), SQL Server IDENTITY."""
    on_update: str | None = None
    """MySQL ``ON UPDATE CURRENT_TIMESTAMP`` and the like (PostgreSQL has no column-level equivalent)."""
    comment: str = ""


@dataclass(frozen=True)
class IndexDef:
    name: str
    columns: tuple[str, ...]
    """The indexed columns in order; an expression part is "" here and its SQL is in ``expressions`` at the same
    position."""
    unique: bool = False
    expressions: tuple[str, ...] = ()
    """Per position: the source SQL of an expression part, or "" for a plain column."""
    prefix_lengths: tuple[int | None, ...] = ()
    """MySQL prefix indexes: per position, the number of leading characters indexed (None: the whole value)."""
    where: str | None = None
    """A partial index's predicate, in the source dialect."""


@dataclass(frozen=True)
class CheckDef:
    name: str
    sql: str
    """The condition, in the source dialect, without the CHECK keyword."""


@dataclass(frozen=True)
class ForeignKeyDef:
    name: str
    columns: tuple[str, ...]
    references: TableRef
    referenced_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"


@dataclass(frozen=True)
class TableSchema:
    """Everything about a source table's shape besides its rows."""

    table: TableRef
    dialect: str
    """sqlglot's dialect of the SQL texts: "mysql", "postgres", "sqlite", "tsql"."""
    columns: tuple[ColumnDef, ...]
    primary_key: tuple[str, ...] = ()
    uniques: tuple[IndexDef, ...] = ()
    """UNIQUE constraints (and unique indexes that are not the primary key)."""
    indexes: tuple[IndexDef, ...] = ()
    """Other secondary indexes."""
    checks: tuple[CheckDef, ...] = ()
    foreign_keys: tuple[ForeignKeyDef, ...] = ()
    comment: str = ""
    enums: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """(column, labels) of ENUM columns; SET columns are (column, labels) too, with the name in ``sets``."""
    sets: tuple[str, ...] = ()
    """Columns of MySQL SET type (a comma-separated subset of their labels)."""

    def column(self, name: str) -> ColumnDef | None:
        return next((c for c in self.columns if c.name == name), None)
