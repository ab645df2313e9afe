"""ENUM columns as PostgreSQL enum types (the pipeline's ``enums: type``), in the tables the load creates.

A column copied unchanged from an ENUM (a MySQL/MariaDB ENUM, a PostgreSQL enum: the extract's ``allowed_values``)
is staged as text. With ``enums: type`` the load gives it, in a table it creates, the enum type ``<table>_<column>``
(cut to 63 bytes) of the table's schema: created, or reused when a type of that name has the same labels in the same
order; a type of that name with other labels, or that is no enum (a table's row type), is an error naming it. The
ready table's column is converted first (ALTER COLUMN ... TYPE ... USING), so the new table takes the type from it,
and a later run's rows reach a table whose column is that type as that type. A value that is no label (MySQL's
invalid '') fails the conversion: the load then finds its row and rejects it, naming column and value
(runtime/bad_rows.py), as it does under the CHECK of ``enums: check``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import MAX_IDENTIFIER_BYTES, qualified, quote_ident, short_name
from databridge.compiler.plan import PipelinePlan, TargetPlan
from databridge.errors import EngineError

TYPE = "type"
_TYPE_SQL = """SELECT t.typtype = 'e',
    ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = %s AND t.typname = %s"""
_COLUMN_IS_SQL = (
    "SELECT atttypid = to_regtype(%s) FROM pg_attribute "
    "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped"
)


def prepare(
    cur: psycopg.Cursor[Any],
    plan: PipelinePlan,
    target: TargetPlan,
    table: str,
    ready: str,
    labels: Mapping[str, Sequence[str]],
    *,
    exists: bool,
) -> list[dict[str, Any]]:
    """Under ``enums: type``, each ENUM column of ``target``'s ready table made its enum type: for a table about to be
    created, the type made or reused (listed for the report); for an existing table, only where its column already
    is that type (an earlier run made it)."""
    if plan.enums != TYPE:
        return []
    done = []
    for column, allowed in enum_columns(target, labels):
        schema, name = type_of(target, column)
        if exists and not _is(cur, table, column, qualified(schema, name)):
            continue
        status = None if exists else _ensure(cur, plan, target, column, tuple(allowed))
        _convert(cur, ready, column, qualified(schema, name))
        if status:
            done.append({"column": column, "type": f"{schema}.{name}", "labels": list(allowed), "status": status})
    return done


def checked(plan: PipelinePlan, labels: Mapping[str, Sequence[str]]) -> Mapping[str, Sequence[str]]:
    """The labels a created table gets a CHECK on: none under ``enums: type`` (the type holds them)."""
    return {} if plan.enums == TYPE else labels


def enum_columns(target: TargetPlan, labels: Mapping[str, Sequence[str]]) -> list[tuple[str, Sequence[str]]]:
    """(target column, labels) of the columns copied unchanged from an ENUM."""
    return [
        (c.name, labels[c.unchanged_source])
        for c in target.columns
        if c.unchanged_source and labels.get(c.unchanged_source)
    ]


def type_of(target: TargetPlan, column: str) -> tuple[str, str]:
    """(schema, name) of a column's enum type: ``<table>_<column>`` in the table's schema."""
    return target.table.schema or "public", short_name(f"{target.table.name}_{column}")


def _is(cur: psycopg.Cursor[Any], table: str, column: str, type_name: str) -> bool:
    return cur.execute(_COLUMN_IS_SQL, (type_name, table, column)).fetchone() == (True,)


def _ensure(
    cur: psycopg.Cursor[Any], plan: PipelinePlan, target: TargetPlan, column: str, labels: tuple[str, ...]
) -> str:
    """'created' or 'reused'; EngineError (permanent) when the name is taken by something else."""
    schema, name = type_of(target, column)
    where = f"{target.table}.{column} (enums: type)"
    found = cur.execute(_TYPE_SQL, (schema, name)).fetchone()
    if found is not None:
        return _reused(where, f"{schema}.{name}", labels, is_enum=bool(found[0]), existing=tuple(found[1]))
    if any(t.table.name == name and (t.table.schema or "public") == schema for _, t in plan.targets()):
        raise EngineError(
            f"{where}: its type would be {schema}.{name}, the name of this pipeline's target table {schema}.{name} (a "
            "table is a type too); rename the table or the column, or set the pipeline's enums: check",
            transient=False,
        )
    _refuse_long_labels(where, labels)
    cur.execute(f"CREATE TYPE {qualified(schema, name)} AS ENUM ({', '.join(sql_literal(v) for v in labels)})")
    return "created"


def _reused(where: str, shown: str, labels: tuple[str, ...], *, is_enum: bool, existing: tuple[str, ...]) -> str:
    if is_enum and existing == labels:
        return "reused"
    what = (
        f"is an enum of the labels {listed(existing)}"
        if is_enum
        else "is no enum type (a table's row type, or another kind)"
    )
    raise EngineError(
        f"{where}: the type {shown} exists and {what}, not the source ENUM's {listed(labels)} in their order; drop "
        "or rename that type, or set the pipeline's enums: check",
        transient=False,
    )


def _refuse_long_labels(where: str, labels: tuple[str, ...]) -> None:
    long = [v for v in labels if len(v.encode()) > MAX_IDENTIFIER_BYTES]
    if long:
        raise EngineError(
            f"{where}: the label {long[0]!r} is {len(long[0].encode())} bytes, and a PostgreSQL enum label holds at "
            f"most {MAX_IDENTIFIER_BYTES}; set the pipeline's enums: check (text with a CHECK on the labels)",
            transient=False,
        )


def _convert(cur: psycopg.Cursor[Any], ready: str, column: str, type_name: str) -> None:
    """The ready table's column as the enum type, unless it is already (a load of this run repeated)."""
    if _is(cur, ready, column, type_name):
        return
    ident = quote_ident(column)
    cur.execute(f"ALTER TABLE {ready} ALTER COLUMN {ident} TYPE {type_name} USING {ident}::{type_name}")


def listed(labels: Sequence[str]) -> str:
    """Labels as SQL literals in parentheses, as the source declares them: ('a', 'b')."""
    return "(" + ", ".join(sql_literal(v) for v in labels) + ")"
