"""A source table's schema objects as its catalog holds them: what the load rebuilds in PostgreSQL.

Each engine reads these from its own catalog (``SourceEngine.schema_of``); the SQL texts (defaults, CHECKs, index
expressions) stay in the source's dialect, named by ``dialect`` (sqlglot's name for it). Translating them into
PostgreSQL, and deciding what cannot be, is ``compiler/schema_ddl.py``'s job; building them is the load's. Plain
frozen dataclasses, JSON-able with ``dataclasses.asdict``, so the extract can store them for the load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from databridge.compiler.plan import TableRef

if TYPE_CHECKING:
    from databridge.engines.base import TableInfo


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
    type: str = ""
    """The type as the source declares it (``int(11) unsigned``, ``character varying(50)``)."""
    pg_type: str = ""
    """The PostgreSQL type the extract stages the column as: what a target column copied from it unchanged is."""


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
    descending: tuple[bool, ...] = ()
    """Per position: sorted descending (empty: all ascending)."""
    method: str = ""
    """The access method when it is not a plain B-tree: PostgreSQL's ``hash``, ``gin``, ``gist``, ``brin``...; MySQL's
    ``fulltext``, ``spatial``, ``hash``; SQL Server's ``columnstore``, ``xml``, ``spatial``."""
    include: tuple[str, ...] = ()
    """Columns stored in the index without being keys (PostgreSQL and SQL Server INCLUDE)."""


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


# --- building these from catalog rows (every engine lists an index one position per row) -------------------------


@dataclass(frozen=True)
class IndexPart:
    """One position of one index, as an engine's catalog lists it."""

    index: str
    unique: bool
    column: str
    """The column at this position, or "" for an expression."""
    expression: str = ""
    prefix: int | None = None
    descending: bool = False
    included: bool = False
    where: str | None = None
    method: str = ""
    anonymous: bool = False
    """The index's name is the engine's own, not the user's (SQLite's sqlite_autoindex_*): the IndexDef's is ""."""


def indexes_from_parts(parts: Iterable[IndexPart]) -> tuple[tuple[IndexDef, ...], tuple[IndexDef, ...]]:
    """(uniques, other indexes) from the parts of each index in position order; each sorted by name."""
    grouped: dict[str, list[IndexPart]] = {}
    for part in parts:
        grouped.setdefault(part.index, []).append(part)
    built = sorted((_index(name, found) for name, found in grouped.items()), key=lambda i: (i.name, i.columns))
    return tuple(i for i in built if i.unique), tuple(i for i in built if not i.unique)


def _index(name: str, parts: list[IndexPart]) -> IndexDef:
    keys = [p for p in parts if not p.included]
    return IndexDef(
        name="" if parts[0].anonymous else name,
        columns=tuple(p.column for p in keys),
        unique=parts[0].unique,
        expressions=tuple(p.expression for p in keys) if any(p.expression for p in keys) else (),
        prefix_lengths=tuple(p.prefix for p in keys) if any(p.prefix for p in keys) else (),
        where=parts[0].where,
        descending=tuple(p.descending for p in keys) if any(p.descending for p in keys) else (),
        method=parts[0].method,
        include=tuple(p.column for p in parts if p.included),
    )


def foreign_keys_from_rows(rows: Sequence[Sequence[Any]], *, named: bool = True) -> tuple[ForeignKeyDef, ...]:
    """Foreign keys from rows (name, column, ref schema, ref table, ref column, on delete, on update), each key's
    rows together in key order; sorted by name. ``named=False``: the first value only tells keys apart (SQLite's
    ids) and every name is ""."""
    grouped: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row[0]), []).append(row)
    keys = (
        ForeignKeyDef(
            name=name if named else "",
            columns=tuple(str(r[1]) for r in found),
            references=TableRef(str(found[0][2]), str(found[0][3])),
            referenced_columns=tuple(str(r[4]) for r in found),
            on_delete=referential_action(found[0][5]),
            on_update=referential_action(found[0][6]),
        )
        for name, found in grouped.items()
    )
    return tuple(sorted(keys, key=lambda k: (k.name, k.columns)))


def referential_action(text: Any) -> str:
    """An ON DELETE / ON UPDATE rule as SQL writes it: NO ACTION, RESTRICT, CASCADE, SET NULL, SET DEFAULT."""
    return str(text or "NO ACTION").upper().replace("_", " ").strip()


def sorted_checks(checks: Iterable[CheckDef]) -> tuple[CheckDef, ...]:
    return tuple(sorted(checks, key=lambda c: (c.name, c.sql)))


def columns_only(info: TableInfo, dialect: str = "") -> TableSchema:
    """A table whose catalog holds nothing but columns (documents): what discovery inferred, nothing to rebuild."""
    columns = tuple(ColumnDef(c.name, c.nullable, type=c.native_type, pg_type=c.pg_type) for c in info.columns)
    return TableSchema(TableRef(info.schema, info.name), dialect, columns, info.primary_key)
