"""Find the rows a statement chokes on, set-based, after the fast statement failed: bad casts and constraint violations.

Each finder adds rows to the session's ``pg_temp.databridge_bad`` (the row's ctid, the row as jsonb, the column and
the reason), skipping rows already there, so a row is named once, by its first fault. A value that does not convert
is found by a PL/pgSQL function that tries every conversion of a row under an exception handler (PostgreSQL 15 has no
``pg_input_is_valid``); a NULL, a CHECK, a missing parent or a duplicate key by one query per constraint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TargetPlan

BAD = "pg_temp.databridge_bad"
_CHECKER = "pg_temp.databridge_row_errors"
_NOT_BAD = f"r.ctid NOT IN (SELECT row_ctid FROM {BAD})"


@dataclass(frozen=True)
class Conversion:
    """One value of a row to try: ``sql`` over the row's columns, assigned to a variable of type ``type``."""

    column: str
    sql: str
    type: str


def start(cur: psycopg.Cursor[Any]) -> None:
    """An empty list of bad rows for this transaction."""
    cur.execute(f"DROP TABLE IF EXISTS {BAD}")
    cur.execute(
        "CREATE TEMP TABLE databridge_bad (row_ctid tid, row_data jsonb, column_name text, reason text) ON COMMIT DROP"
    )


def add_bad_conversions(
    cur: psycopg.Cursor[Any], table: str, conversions: Sequence[Conversion], condition: str | None = None
) -> None:
    """Rows of ``table`` on which a conversion (or the ``condition`` that selects them) raises a data error."""
    cur.execute(_checker_sql(table, conversions, condition))
    cur.execute(
        f"""INSERT INTO {BAD} SELECT r.ctid, to_jsonb(r), e[1], e[2]
        FROM {table} r CROSS JOIN LATERAL (SELECT {_CHECKER}(r) AS e) x WHERE e IS NOT NULL AND {_NOT_BAD}"""
    )
    cur.execute(f"DROP FUNCTION {_CHECKER}({table})")


def _checker_sql(table: str, conversions: Sequence[Conversion], condition: str | None) -> str:
    """A function of one row returning {column, error} for its first failing conversion, NULL when all convert.

    All conversions are first tried together (one subtransaction per row); only a failing row tries them one by one."""
    names = [f"databridge_v{i}" for i in range(len(conversions))]
    declare = "".join(f"{n} {c.type};\n" for n, c in zip(names, conversions, strict=True))
    assign = [
        f"{n} := (SELECT {c.sql} FROM (SELECT databridge_row.*) s);" for n, c in zip(names, conversions, strict=True)
    ]
    one_by_one = "".join(
        f"BEGIN {a} EXCEPTION WHEN data_exception THEN RETURN ARRAY[{sql_literal(c.column)}, SQLERRM]; END;\n"
        for a, c in zip(assign, conversions, strict=True)
    )
    guard = ""
    if condition is not None:
        guard = (
            f"BEGIN databridge_kept := (SELECT {condition} FROM (SELECT databridge_row.*) s); "
            "EXCEPTION WHEN data_exception THEN RETURN ARRAY['(filter)', SQLERRM]; END;\n"
            "IF databridge_kept IS NOT TRUE THEN RETURN NULL; END IF;\n"
        )
    body = (
        f"#variable_conflict use_column\nDECLARE {declare}databridge_kept boolean;\nBEGIN\n{guard}"
        f"BEGIN {' '.join(assign)} RETURN NULL; EXCEPTION WHEN data_exception THEN NULL; "
        f"END;\n{one_by_one}RETURN NULL;\nEND"
    )
    return (
        f"CREATE OR REPLACE FUNCTION {_CHECKER}(databridge_row {table}) RETURNS text[] LANGUAGE plpgsql AS "
        f"{_dollar(body)}"
    )


def add_constraint_violations(
    cur: psycopg.Cursor[Any],
    target: TargetPlan,
    table: str,
    ready: str,
    labels: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Rows of the ready table the target would refuse: NULL where it may not be, a failing CHECK, a reference to a
    missing parent, a key an earlier row (or, appending, the table) already has. The keys count as a primary key.

    ``labels`` (source column → its ENUM's labels): a table the load creates gets a CHECK on them for each column
    loaded unchanged from an ENUM, so a value that is not a label (MySQL's invalid '') is refused too."""
    exists = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (True,)
    mapped = {c.name for c in target.columns}
    not_null = [*target.keys, *(_not_null_columns(cur, table) if exists else [])]
    for column in dict.fromkeys(c for c in not_null if c in mapped):
        reason = f'null value in column "{column}" violates not-null constraint'
        _add(cur, ready, column, f"r.{quote_ident(column)} IS NULL", sql_literal(reason))
    if exists:
        for name, check in _checks(cur, table):
            _add_guarded(
                cur,
                ready,
                "(check)",
                f"NOT coalesce(({check}), true)",
                sql_literal(f'violates check constraint "{name}"'),
            )
        for columns, parent, parent_columns in _foreign_keys(cur, table):
            if set(columns) <= mapped and parent != _regclass_text(cur, table):
                _add_orphans(cur, ready, columns, parent, parent_columns)
    else:
        _add_invalid_labels(cur, target, ready, labels or {})
    uniques = [list(target.keys)] if target.keys else []
    uniques += [u for u in (_unique_keys(cur, table) if exists else []) if set(u) <= mapped and u != list(target.keys)]
    for columns in uniques:
        _add_duplicates(cur, ready, columns)
        if exists and target.load != "replace":
            _add_existing(cur, target, table, ready, columns)


def _add_invalid_labels(
    cur: psycopg.Cursor[Any], target: TargetPlan, ready: str, labels: Mapping[str, Sequence[str]]
) -> None:
    """Values of columns loaded unchanged from an ENUM that are none of its labels, the value named in the reason."""
    for column in target.columns:
        allowed = labels.get(column.unchanged_source or "")
        if allowed:
            shown = ",".join(sql_literal(v) for v in allowed).replace("%", "%%")
            pattern = f"%L is not a label of the source ENUM ({shown}): MySQL stores a value it could not take as ''"
            value = f"r.{quote_ident(column.name)}"
            _add(
                cur,
                ready,
                column.name,
                f"{value} NOT IN ({', '.join(map(sql_literal, allowed))})",
                f"format({sql_literal(pattern)}, {value})",
            )


def _add(cur: psycopg.Cursor[Any], ready: str, column: str, condition: str, reason_sql: str) -> None:
    column_sql = sql_literal(column)  # inlined: the reasons' format() patterns hold '%s', so no query parameters here
    cur.execute(
        f"INSERT INTO {BAD} SELECT r.ctid, to_jsonb(r), {column_sql}, {reason_sql} FROM {ready} r WHERE "
        f"({condition}) AND {_NOT_BAD}"
    )


def _add_guarded(cur: psycopg.Cursor[Any], ready: str, column: str, condition: str, reason_sql: str) -> None:
    """A CHECK written over columns the load does not fill cannot be tried on the ready rows: it is left to the load."""
    try:
        with cur.connection.transaction():
            _add(cur, ready, column, condition, reason_sql)
    except psycopg.errors.UndefinedColumn:
        pass


def _add_orphans(
    cur: psycopg.Cursor[Any], ready: str, columns: list[str], parent: str, parent_columns: list[str]
) -> None:
    present = " AND ".join(f"r.{quote_ident(c)} IS NOT NULL" for c in columns)
    join = " AND ".join(
        f"p.{quote_ident(pc)} = r.{quote_ident(c)}" for c, pc in zip(columns, parent_columns, strict=True)
    )
    reason = (
        f"format('key (%s)=(%s) is not present in table %s', {sql_literal(', '.join(columns))}, {_values(columns)}, "
        f"{sql_literal(parent)})"
    )
    _add(cur, ready, ", ".join(columns), f"{present} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {join})", reason)


def _add_duplicates(cur: psycopg.Cursor[Any], ready: str, columns: list[str]) -> None:
    """Every row but the first (in the ready table's order) of each key value: inserted in order, the later ones
    fail."""
    cols = ", ".join(quote_ident(c) for c in columns)
    present = " AND ".join(f"{quote_ident(c)} IS NOT NULL" for c in columns)
    later = (
        f"SELECT ctid FROM (SELECT ctid, row_number() OVER (PARTITION BY {cols} ORDER BY ctid) AS n FROM {ready} r "
        f"WHERE {present} AND {_NOT_BAD}) d WHERE n > 1"
    )
    reason = (
        f"format('duplicate key (%s)=(%s): an earlier row has it', {sql_literal(', '.join(columns))}, "
        f"{_values(columns)})"
    )
    _add(cur, ready, ", ".join(columns), f"r.ctid IN ({later})", reason)


def _add_existing(cur: psycopg.Cursor[Any], target: TargetPlan, table: str, ready: str, columns: list[str]) -> None:
    """Appending, a key the table already holds; upserting, a unique value held by a row of another key."""
    match = " AND ".join(f"t.{quote_ident(c)} = r.{quote_ident(c)}" for c in columns)
    if target.load == "upsert":
        if list(columns) == list(target.keys):
            return
        match += (
            " AND (" + " OR ".join(f"t.{quote_ident(k)} IS DISTINCT FROM r.{quote_ident(k)}" for k in target.keys) + ")"
        )
    reason = (
        f"format('key (%s)=(%s) already exists in the target', {sql_literal(', '.join(columns))}, {_values(columns)})"
    )
    _add(cur, ready, ", ".join(columns), f"EXISTS (SELECT 1 FROM {table} t WHERE {match})", reason)


def set_aside(cur: psycopg.Cursor[Any], table: str) -> None:
    """Remove the bad rows from a table (the ready table: only this target reads it)."""
    cur.execute(f"DELETE FROM {table} WHERE ctid IN (SELECT row_ctid FROM {BAD})")


def _not_null_columns(cur: psycopg.Cursor[Any], table: str) -> list[str]:
    query = (
        "SELECT attname FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND attnotnull AND NOT attisdropped"
    )
    return [r[0] for r in cur.execute(query, (table,)).fetchall()]


def _checks(cur: psycopg.Cursor[Any], table: str) -> list[tuple[str, str]]:
    query = (
        "SELECT conname, pg_get_expr(conbin, conrelid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype = 'c'"
    )
    return [(r[0], r[1]) for r in cur.execute(query, (table,)).fetchall()]


def _foreign_keys(cur: psycopg.Cursor[Any], table: str) -> list[tuple[list[str], str, list[str]]]:
    query = """SELECT array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
               c.confrelid::regclass::text,
               array(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
               FROM pg_constraint c WHERE c.conrelid = to_regclass(%s) AND c.contype = 'f'"""
    return [(list(r[0]), r[1], list(r[2])) for r in cur.execute(query, (table,)).fetchall()]


def _unique_keys(cur: psycopg.Cursor[Any], table: str) -> list[list[str]]:
    """Columns of each unique index (primary key included) without expressions or predicates."""
    query = """SELECT array(SELECT attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
               FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND i.indisunique AND i.indexprs IS NULL
               AND i.indpred IS NULL"""
    return [list(r[0]) for r in cur.execute(query, (table,)).fetchall()]


def _regclass_text(cur: psycopg.Cursor[Any], table: str) -> str:
    return str(cur.execute("SELECT to_regclass(%s)::text", (table,)).fetchone()[0])  # type: ignore[index]


def _values(columns: list[str]) -> str:
    return "concat_ws(', ', " + ", ".join(f"r.{quote_ident(c)}::text" for c in columns) + ")"


def _dollar(body: str) -> str:
    """Dollar-quote the body with a tag made from its own hash, so no text in a mapping can close it early."""
    tag = f"$databridge_{hashlib.sha1(body.encode()).hexdigest()[:12]}$"
    return f"{tag}{body}{tag}"


def column_types(cur: psycopg.Cursor[Any], table: str) -> dict[str, str]:
    """Column → type of a table, as format_type writes it."""
    query = """SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
        WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"""
    return {r[0]: r[1] for r in cur.execute(query, (table,)).fetchall()}
