"""A source table's schema objects (engines/schema.py) as the PostgreSQL DDL that rebuilds them on its target (pure).

``schema_objects`` answers one SchemaObject per source object: the statement that builds it on the existing
target table, or why it is not built. The load runs them in two phases:

- ``create``, right after the target table is created (with its primary key) and before rows arrive: NOT NULL,
  defaults, identity;
- ``after``, once every table of the project holds its rows: identity sequences moved past the loaded keys,
  uniques, indexes, CHECKs, ENUM CHECKs, comments, then foreign keys. Build every table's other ``after`` objects
  before any foreign key: a key needs the unique index it references, and a cycle of keys needs both tables' rows.

The list comes in that order. Each statement stands alone (run it in a savepoint: one that fails, say a CHECK the
data breaks, need not undo the others). Names: a source name is kept when PostgreSQL can hold it and it is free,
else ``<table>_<columns>_key/_idx/_check/_fkey`` is derived (cut to 63 bytes with a hash). Index and unique names
share one namespace per schema in PostgreSQL: pass the names already used there as ``taken`` (the schema's tables,
and ``relation_names`` of the tables translated before). The primary key is the load's own (from the keys).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import MAX_IDENTIFIER_BYTES, qualified, quote_ident, short_name
from databridge.compiler.plan import TableRef
from databridge.compiler.schema_sql import AbsentColumn, Untranslatable, translate_default, translate_expression
from databridge.engines.schema import CheckDef, ColumnDef, ForeignKeyDef, IndexDef, TableSchema

CREATE, AFTER = "create", "after"
KINDS = ("not_null", "default", "identity", "unique", "index", "check", "foreign_key", "comment", "enum_check")
ON_UPDATE_REASON = "PostgreSQL has no ON UPDATE for columns; a trigger would be needed"
PG_METHODS = {"hash", "gin", "gist", "spgist", "brin"}
"""Access methods a PostgreSQL source's index keeps (B-tree is the default)."""
_INTEGER = re.compile(r"(smallint|integer|bigint|int[248]?)")
_TEXT = re.compile(r"(text|citext|character varying|varchar|character|char|bpchar)(\s*\(\d+\))?")


@dataclass(frozen=True)
class SchemaObject:
    """One schema object of a target table: the DDL that builds it, or why it is not built."""

    kind: str
    """One of KINDS."""
    table: str
    """The target table, qualified and quoted."""
    name: str
    """The constraint's or index's name in PostgreSQL; for not_null, default, identity and column comments the
    target column; for the table's comment the table. A skipped object keeps the source's name."""
    sql: str | None
    """The PostgreSQL statement(s) that build it on the existing table; None when skipped."""
    skipped: str | None
    """Why it is not built (None when built)."""
    phase: str
    """CREATE (before rows arrive) or AFTER (once every table holds its rows)."""
    note: str | None = None
    """How it was built when that differs from the source (e.g. a MySQL prefix index built on the whole column)."""
    source: str = ""
    """The source object it comes from, as a report names it."""


def schema_objects(
    schema: TableSchema,
    target: TableRef,
    columns: Mapping[str, str],
    tables: Mapping[TableRef, TableRef],
    *,
    types: Mapping[str, str] | None = None,
    referenced: Mapping[TableRef, Mapping[str, str]] | None = None,
    taken: Collection[str] = (),
) -> list[SchemaObject]:
    """The objects of ``schema`` rebuilt on ``target``, create phase first (see the module's docstring).

    ``columns``: source column → target column, only for columns copied unchanged; an object involving another
    column is skipped, naming it. ``tables``: source table → target table of this project; a foreign key to
    another table is skipped (a key without a schema stands for the source's table in this table's schema).
    ``types``: target column → PostgreSQL type where the mapping declares one (else ColumnDef.pg_type).
    ``referenced``: the column maps (as ``columns``) of the tables foreign keys reference; None: they keep their
    names. ``taken``: relation names already used in the target schema.
    """
    ctx = _Context(schema, target, columns, tables, types or {}, referenced, _Names(target.name, taken))
    found = [
        *_column_objects(ctx),
        *_index_objects(ctx, schema.uniques, "unique"),
        *_index_objects(ctx, schema.indexes, "index"),
        *(_check(ctx, check) for check in schema.checks),
        *_enum_checks(ctx),
        *_comments(ctx),
        *(_foreign_key(ctx, key) for key in schema.foreign_keys),
    ]
    return sorted(found, key=lambda o: o.phase != CREATE)


def relation_names(objects: Sequence[SchemaObject]) -> set[str]:
    """The index names built objects take in their schema: pass them as ``taken`` for the next table."""
    return {o.name for o in objects if o.sql and o.kind in ("unique", "index")}


# --- the table being translated ----------------------------------------------------------------------------------


class _Names:
    """Names taken in the target schema (relations: tables and indexes, a unique constraint's included) and on the
    table (constraints: uniques, CHECKs, foreign keys)."""

    def __init__(self, table: str, taken: Collection[str]) -> None:
        self.table = table
        self.relations = {*taken, table, f"{table}_pkey"}
        self.constraints = {f"{table}_pkey"}

    def pick(
        self, source: str, parts: Sequence[str], suffix: str, *, relation: bool, constraint: bool
    ) -> tuple[str, str | None]:
        """The source's name when PostgreSQL keeps it whole and it is free, else a derived one (with a note)."""
        unfit = _unfit(source)
        if source and not unfit and self._free(source, relation, constraint):
            return self.take(source, relation=relation, constraint=constraint), None
        base = "_".join([self.table, *parts, suffix])
        name = next(
            n for n in (_cut(f"{base}{i or ''}") for i in itertools.count()) if self._free(n, relation, constraint)
        )
        why = unfit or (
            "taken on the table" if source in self.constraints and not relation else "taken in the target schema"
        )
        return self.take(
            name, relation=relation, constraint=constraint
        ), f"named {name}: the source's name {source!r} is {why}" if source else None

    def take(self, name: str, *, relation: bool, constraint: bool) -> str:
        if constraint:
            self.constraints.add(name)
        if relation:
            self.relations.add(name)
        return name

    def _free(self, name: str, relation: bool, constraint: bool) -> bool:
        return not (constraint and name in self.constraints) and not (relation and name in self.relations)


def _unfit(name: str) -> str | None:
    """Why PostgreSQL cannot hold a name as it is (None when it can)."""
    if "\x00" in name:
        return "a name with a NUL character"
    return "longer than PostgreSQL's 63 bytes" if len(name.encode()) > MAX_IDENTIFIER_BYTES else None


def _cut(name: str) -> str:
    return name if len(name.encode()) <= MAX_IDENTIFIER_BYTES else short_name(name)


@dataclass
class _Context:
    schema: TableSchema
    target: TableRef
    columns: Mapping[str, str]
    tables: Mapping[TableRef, TableRef]
    types: Mapping[str, str]
    referenced: Mapping[TableRef, Mapping[str, str]] | None
    names: _Names

    @property
    def table(self) -> str:
        return qualified(self.target.schema, self.target.name)

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.schema.columns)

    def built(self, kind: str, name: str, sql: str, phase: str, source: str, note: str | None = None) -> SchemaObject:
        return SchemaObject(kind, self.table, name, sql, None, phase, note, source)

    def skip(self, kind: str, name: str, reason: str, phase: str, source: str) -> SchemaObject:
        return SchemaObject(kind, self.table, name, None, reason, phase, None, source)

    def target_column(self, name: str) -> str:
        """The target name of a source column; AbsentColumn naming it when it is not copied unchanged."""
        if name not in self.columns:
            raise AbsentColumn(f"column {name!r} is not copied unchanged to the target (transformed or not mapped)")
        return self.columns[name]

    def type_of(self, column: str) -> str:
        found = self.schema.column(column)
        return (self.types.get(self.columns.get(column, "")) or (found.pg_type if found else "")).lower()

    def expression(self, text: str) -> tuple[str, tuple[str, ...]]:
        return translate_expression(text, self.schema.dialect, self.columns, self.known)

    def alter(self, action: str) -> str:
        return f"ALTER TABLE {self.table} {action}"


# --- columns: NOT NULL, defaults, identity -------------------------------------------------------------------------


def _column_objects(ctx: _Context) -> Iterator[SchemaObject]:
    for column in ctx.schema.columns:
        if not column.nullable:
            yield _not_null(ctx, column)
        if column.default is not None:
            yield from _default(ctx, column)
        if column.on_update:
            yield ctx.skip(
                "default", column.name, ON_UPDATE_REASON, CREATE, f"{column.name} ON UPDATE {column.on_update}"
            )
        if column.identity:
            yield from _identity(ctx, column)


def _not_null(ctx: _Context, column: ColumnDef) -> SchemaObject:
    source = f"{column.name} NOT NULL"
    try:
        name = ctx.target_column(column.name)
    except Untranslatable as why:
        return ctx.skip("not_null", column.name, str(why), CREATE, source)
    return ctx.built("not_null", name, ctx.alter(f"ALTER COLUMN {quote_ident(name)} SET NOT NULL"), CREATE, source)


def _default(ctx: _Context, column: ColumnDef) -> Iterator[SchemaObject]:
    source = f"{column.name} DEFAULT {column.default}"
    try:
        name = ctx.target_column(column.name)
        if column.identity:
            raise Untranslatable(
                "the column is an identity: its values come from its own sequence (the identity object)"
            )
        sql = translate_default(str(column.default), ctx.schema.dialect, ctx.type_of(column.name))
    except Untranslatable as why:
        yield ctx.skip("default", column.name, str(why), CREATE, source)
        return
    if sql is not None:
        yield ctx.built(
            "default", name, ctx.alter(f"ALTER COLUMN {quote_ident(name)} SET DEFAULT {sql}"), CREATE, source
        )


def _identity(ctx: _Context, column: ColumnDef) -> Iterator[SchemaObject]:
    """GENERATED BY DEFAULT (loaded rows bring their keys), and after the rows its sequence moved past max + 1."""
    source = f"{column.name} identity"
    try:
        name = ctx.target_column(column.name)
        if not _INTEGER.fullmatch(ctx.type_of(column.name)):
            raise Untranslatable(
                f"an identity needs an integer column; {name!r} is "
                f"{ctx.type_of(column.name) or 'of unknown type'} in the target"
            )
    except Untranslatable as why:
        yield ctx.skip("identity", column.name, str(why), CREATE, source)
        return
    col = quote_ident(name)
    yield ctx.built(
        "identity",
        name,
        ctx.alter(f"ALTER COLUMN {col} SET NOT NULL, ALTER COLUMN {col} ADD GENERATED BY DEFAULT AS IDENTITY"),
        CREATE,
        source,
    )
    sequence = f"pg_get_serial_sequence({sql_literal(ctx.table)}, {sql_literal(name)})"
    restart = f"SELECT setval({sequence}, coalesce(max({col}), 0) + 1, false) FROM {ctx.table}"
    yield ctx.built("identity", name, restart, AFTER, source, "the sequence continues after the largest loaded key")


# --- uniques and indexes -------------------------------------------------------------------------------------------


def _index_objects(ctx: _Context, indexes: Sequence[IndexDef], kind: str) -> Iterator[SchemaObject]:
    for index in indexes:
        source = _index_source(index)
        try:
            yield _index(ctx, index, kind, source)
        except Untranslatable as why:
            yield ctx.skip(kind, index.name, str(why), AFTER, source)


def _index(ctx: _Context, index: IndexDef, kind: str, source: str) -> SchemaObject:
    """A UNIQUE constraint when the source's is one over plain columns, else CREATE [UNIQUE] INDEX."""
    parts, notes = zip(*(_index_part(ctx, index, i) for i in range(len(index.columns))), strict=True)
    using, method_note = _method(ctx, index)
    where = f" WHERE {ctx.expression(index.where)[0]}" if index.where else ""
    include = (
        f" INCLUDE ({', '.join(quote_ident(ctx.target_column(c)) for c in index.include)})" if index.include else ""
    )
    constraint = index.unique and all(index.columns) and not any(index.descending) and not (using or where or include)
    words = [ctx.columns.get(c, "expr") if c else "expr" for c in index.columns]
    name, renamed = ctx.names.pick(
        index.name, words, "key" if index.unique else "idx", relation=True, constraint=constraint
    )
    note = "; ".join(n for n in (*notes, method_note, renamed) if n) or None
    if constraint:
        return ctx.built(
            kind,
            name,
            ctx.alter(f"ADD CONSTRAINT {quote_ident(name)} UNIQUE ({', '.join(parts)})"),
            AFTER,
            source,
            note,
        )
    sql = (
        f"CREATE {'UNIQUE ' if index.unique else ''}INDEX {quote_ident(name)} ON {ctx.table}{using} "
        f"({', '.join(parts)}){include}{where}"
    )
    return ctx.built(kind, name, sql, AFTER, source, note)


def _index_part(ctx: _Context, index: IndexDef, i: int) -> tuple[str, str | None]:
    """The SQL of position ``i`` and a note on how it differs from the source's."""
    order = " DESC" if index.descending and index.descending[i] else ""
    if not index.columns[i]:
        return f"({ctx.expression(index.expressions[i])[0]}){order}", None
    name = ctx.target_column(index.columns[i])
    prefix = index.prefix_lengths[i] if index.prefix_lengths else None
    if prefix is None:
        return quote_ident(name) + order, None
    if not _TEXT.fullmatch(ctx.type_of(index.columns[i])):
        raise Untranslatable(
            f"MySQL indexed the first {prefix} bytes of {index.columns[i]!r}, which is "
            f"{ctx.type_of(index.columns[i])} in the target: a whole-value index may exceed PostgreSQL's index row "
            f"size; index an expression such as substring({name} for {prefix}) by hand"
        )
    built = (
        "a full-column unique index (uniqueness over the whole value, looser than the source's)"
        if index.unique
        else "a full-column index"
    )
    return quote_ident(
        name
    ) + order, f"built as {built} (MySQL indexed the first {prefix} characters of {index.columns[i]!r})"


def _method(ctx: _Context, index: IndexDef) -> tuple[str, str | None]:
    """The USING clause for the index's access method, and a note; Untranslatable for the ones PostgreSQL lacks."""
    method = index.method.lower()
    if not method:
        return "", None
    if ctx.schema.dialect == "postgres" and method in PG_METHODS:
        return f" USING {method}", None
    if method == "hash":
        return "", "built as a B-tree (the source's index is a HASH index)"
    if method == "fulltext":
        raise Untranslatable(
            "a FULLTEXT index: PostgreSQL searches text with a tsvector and a GIN index, which is built by hand"
        )
    if method == "spatial":
        raise Untranslatable("a spatial index: geometry is staged as WKT text (PostGIS is not used)")
    raise Untranslatable(f"a {method} index, which PostgreSQL does not have")


def _index_source(index: IndexDef) -> str:
    parts = []
    for i, column in enumerate(index.columns):
        prefix = index.prefix_lengths[i] if index.prefix_lengths else None
        text = (column or index.expressions[i]) + (f"({prefix})" if prefix else "")
        parts.append(text + (" DESC" if index.descending and index.descending[i] else ""))
    where = f" WHERE {index.where}" if index.where else ""
    return f"{'UNIQUE ' if index.unique else ''}INDEX {index.name or '(unnamed)'} ({', '.join(parts)}){where}"


# --- CHECKs, ENUM labels, comments, foreign keys -------------------------------------------------------------------


def _check(ctx: _Context, check: CheckDef) -> SchemaObject:
    source = f"CHECK {check.name or '(unnamed)'} ({check.sql})"
    try:
        sql, used = ctx.expression(check.sql)
    except Untranslatable as why:
        return ctx.skip("check", check.name, str(why), AFTER, source)
    name, renamed = ctx.names.pick(
        check.name, [ctx.columns[c] for c in used[:1]], "check", relation=False, constraint=True
    )
    return ctx.built(
        "check", name, ctx.alter(f"ADD CONSTRAINT {quote_ident(name)} CHECK ({sql})"), AFTER, source, renamed
    )


def _enum_checks(ctx: _Context) -> Iterator[SchemaObject]:
    """An ENUM column (text in the target) keeps its labels as a CHECK, a SET column (text[]) as a containment;
    the name is the one the load gives the ENUM CHECK it adds today (runtime/load.py): build one of the two."""
    for column, labels in ctx.schema.enums:
        is_set = column in ctx.schema.sets
        source = f"{column} {'SET' if is_set else 'ENUM'}({', '.join(sql_literal(v) for v in labels)})"
        try:
            target = ctx.target_column(column)
            yield _enum_check(ctx, column, target, labels, is_set, source)
        except Untranslatable as why:
            yield ctx.skip("enum_check", column, str(why), AFTER, source)


def _enum_check(
    ctx: _Context, column: str, target: str, labels: Sequence[str], is_set: bool, source: str
) -> SchemaObject:
    pg_type = ctx.type_of(column)
    if not (pg_type.endswith("[]") if is_set else _TEXT.fullmatch(pg_type)):
        raise Untranslatable(
            f"{target!r} is {pg_type} in the target, not the {'text[]' if is_set else 'text'} the labels are checked on"
        )
    values = ", ".join(sql_literal(v) for v in labels)
    condition = (
        f"{quote_ident(target)} <@ ARRAY[{values}]::text[]" if is_set else f"{quote_ident(target)} IN ({values})"
    )
    name = ctx.names.take(short_name(ctx.target.name, target, "allowed"), relation=False, constraint=True)
    return ctx.built(
        "enum_check", name, ctx.alter(f"ADD CONSTRAINT {quote_ident(name)} CHECK ({condition})"), AFTER, source
    )


def _comments(ctx: _Context) -> Iterator[SchemaObject]:
    if ctx.schema.comment:
        sql = f"COMMENT ON TABLE {ctx.table} IS {sql_literal(ctx.schema.comment)}"
        yield ctx.built("comment", ctx.target.name, sql, AFTER, "comment on the table")
    for column in ctx.schema.columns:
        if column.comment:
            try:
                sql = (
                    f"COMMENT ON COLUMN {ctx.table}.{quote_ident(ctx.target_column(column.name))} IS "
                    f"{sql_literal(column.comment)}"
                )
            except Untranslatable as why:
                yield ctx.skip("comment", column.name, str(why), AFTER, f"comment on {column.name}")
                continue
            yield ctx.built("comment", ctx.columns[column.name], sql, AFTER, f"comment on {column.name}")


def _foreign_key(ctx: _Context, key: ForeignKeyDef) -> SchemaObject:
    source = (
        f"FOREIGN KEY {key.name or '(unnamed)'} ({', '.join(key.columns)}) REFERENCES {key.references} "
        f"({', '.join(key.referenced_columns)})"
    )
    try:
        names = [ctx.target_column(c) for c in key.columns]
        table, referenced = _referenced(ctx, key)
    except Untranslatable as why:
        return ctx.skip("foreign_key", key.name, str(why), AFTER, source)
    name, renamed = ctx.names.pick(key.name, names, "fkey", relation=False, constraint=True)
    rules = "".join(
        f" ON {word} {rule}"
        for word, rule in (("DELETE", key.on_delete), ("UPDATE", key.on_update))
        if rule != "NO ACTION"
    )
    sql = ctx.alter(
        f"ADD CONSTRAINT {quote_ident(name)} FOREIGN KEY ({', '.join(map(quote_ident, names))}) "
        f"REFERENCES {qualified(table.schema, table.name)} ({', '.join(map(quote_ident, referenced))}){rules}"
    )
    return ctx.built("foreign_key", name, sql, AFTER, source, renamed)


def _referenced(ctx: _Context, key: ForeignKeyDef) -> tuple[TableRef, list[str]]:
    """The target table a key references and its target columns; Untranslatable when the project lacks them."""
    ref = key.references
    loose = TableRef(None, ref.name) if ref.schema == ctx.schema.table.schema else ref
    if ref == ctx.schema.table:
        table, columns = ctx.target, ctx.columns
    elif ref in ctx.tables or loose in ctx.tables:
        table = ctx.tables.get(ref) or ctx.tables[loose]
        columns = _referenced_columns(ctx, ref, loose, key.referenced_columns)
    else:
        raise Untranslatable(f"it references {ref}, which this project does not load")
    missing = [c for c in key.referenced_columns if c not in columns]
    if missing:
        raise AbsentColumn(f"it references column {missing[0]!r} of {ref}, which is not copied unchanged to {table}")
    return table, [columns[c] for c in key.referenced_columns]


def _referenced_columns(ctx: _Context, ref: TableRef, loose: TableRef, wanted: Sequence[str]) -> Mapping[str, str]:
    if ctx.referenced is None:
        return {c: c for c in wanted}
    found = ctx.referenced.get(ref) or ctx.referenced.get(loose)
    if found is None:
        raise Untranslatable(f"the columns of {ref} are not known (no column map was given for it)")
    return found
