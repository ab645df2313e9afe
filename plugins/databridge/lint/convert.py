"""Conversions tried on the target: the sample staged in a TEMP table as the extract would, each mapping run on it.

Everything lives in one transaction that is rolled back: temp tables, a temp function, nothing permanent. A column is
first tried on every row at once; only when that fails is it tried row by row (a temp PL/pgSQL function catching
each data error) to name the failing rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import ColumnPlan, TargetPlan
from databridge.engines import sandbox
from databridge.engines.base import SourceColumn
from databridge.lint.problems import MAX_EXAMPLES, LintProblem, show
from databridge.runtime.transform import data_error

RAW = "pg_temp.databridge_lint_raw"
STAGED = "pg_temp.databridge_lint_staged"
PROBE = "pg_temp.databridge_lint_probe"
_FAILURES_FUNCTION = """
CREATE FUNCTION pg_temp.databridge_lint_failures(rows_sql text, probe text) RETURNS TABLE (row_id tid, error text)
LANGUAGE plpgsql AS $f$
DECLARE id tid;
BEGIN
  FOR id IN EXECUTE rows_sql LOOP
    BEGIN
      EXECUTE probe USING id;
    EXCEPTION WHEN data_exception THEN
      row_id := id; error := SQLERRM; RETURN NEXT;
    END;
  END LOOP;
END $f$
"""
_LENGTH_LIMITED = re.compile(r"^\s*(varchar|char|character|character\s+varying|nchar|bpchar)\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Failures:
    """Rows a statement fails on: how many, the first error, the ids of the rows (all, for nulling them)."""

    count: int
    first_error: str
    row_ids: tuple[str, ...]


@contextmanager
def scratch(conn: psycopg.Connection[Any], columns: Sequence[SourceColumn]) -> Iterator[psycopg.Cursor[Any]]:
    """A cursor in a transaction holding the empty text-typed raw table; everything is rolled back afterwards."""
    with conn.transaction() as tx, conn.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE {RAW.split('.')[1]} "
            f"({', '.join(quote_ident(c.name) + ' text' for c in columns)}) ON COMMIT DROP"
        )
        cur.execute(_FAILURES_FUNCTION)
        yield cur
        raise psycopg.Rollback(tx)


def failures(cur: psycopg.Cursor[Any], rows_sql: str, probe: str) -> Failures:
    """Run ``probe`` (with $1 = a row's ctid) for each row of ``rows_sql``; the rows it fails on."""
    found = cur.execute(
        "SELECT row_id::text, error FROM pg_temp.databridge_lint_failures(%s, %s)", (rows_sql, probe)
    ).fetchall()
    return Failures(len(found), found[0][1] if found else "", tuple(r[0] for r in found))


def stage(
    cur: psycopg.Cursor[Any], table: str, columns: Sequence[SourceColumn], skip: set[str], rows: int
) -> list[LintProblem]:
    """Type the raw sample as the staging table is typed; values that cannot be staged are reported, then NULLed."""
    cur.execute(
        f"CREATE TEMP TABLE {STAGED.split('.')[1]} "
        f"({', '.join(f'{quote_ident(c.name)} {c.pg_type}' for c in columns)}) ON COMMIT DROP"
    )
    problems = []
    for column in columns:
        value = staged_value(column)
        probe = f"INSERT INTO {STAGED} ({quote_ident(column.name)}) SELECT {value} FROM {RAW}"
        if column.pg_type == "text" or data_error(cur, [probe]) is None:
            continue
        failed = failures(cur, f"SELECT ctid FROM {RAW}", probe + " WHERE ctid = $1")
        if column.name not in skip:
            problems.append(_staging_problem(cur, table, column, failed, rows))
        cur.execute(
            f"UPDATE {RAW} SET {quote_ident(column.name)} = NULL WHERE ctid = ANY(%s::tid[])", (list(failed.row_ids),)
        )
    names = ", ".join(quote_ident(c.name) for c in columns)
    values = ", ".join(staged_value(c) for c in columns)
    cur.execute(f"INSERT INTO {STAGED} ({names}) SELECT {values} FROM {RAW}")
    return problems


def staged_value(column: SourceColumn) -> str:
    """The raw text as the staging column takes it: assigned to char(n)/varchar(n) (too long is refused), else cast;
    a list read as text (MySQL SET 'a,b') is split for an array type."""
    name = quote_ident(column.name)
    if _LENGTH_LIMITED.match(column.pg_type):
        return name
    if column.pg_type.endswith("[]"):
        return (
            f"CAST(CASE WHEN {name} LIKE '{{%' THEN {name} ELSE CAST(string_to_array({name}, ',') AS text) END AS "
            f"{column.pg_type})"
        )
    return f"CAST({name} AS {column.pg_type})"


def _staging_problem(
    cur: psycopg.Cursor[Any], table: str, column: SourceColumn, failed: Failures, rows: int
) -> LintProblem:
    shown = _values(cur, RAW, [column.name], failed.row_ids)
    return LintProblem(
        table,
        column.name,
        "conversion",
        f"values cannot be staged as {column.pg_type} (the type read from the source's {column.native_type}): "
        f"{failed.first_error} ({failed.count} of {rows} rows read)",
        shown,
        f"fix these values in the source, or leave the column out with `- {{source: {column.name}, exclude: true}}`",
    )


def _values(cur: psycopg.Cursor[Any], table: str, names: Sequence[str], row_ids: Sequence[str]) -> tuple[str, ...]:
    """Example values of the failing rows: one column's value, or name=value pairs when several are read."""
    if not names:
        return ()
    select = ", ".join(f"CAST({quote_ident(n)} AS text)" for n in names)
    found = cur.execute(
        f"SELECT {select} FROM {table} WHERE ctid = ANY(%s::tid[]) ORDER BY ctid", (list(row_ids[:MAX_EXAMPLES]),)
    ).fetchall()
    if len(names) == 1:
        return tuple("NULL" if r[0] is None else show(r[0]) for r in found)
    return tuple(
        ", ".join(f"{n}={'NULL' if v is None else show(v)}" for n, v in zip(names, r, strict=True)) for r in found
    )


def map_columns(
    cur: psycopg.Cursor[Any], target: TargetPlan, reads: dict[str, list[str]], skip: set[str], rows: int
) -> list[LintProblem]:
    """Run each target column's mapping on the staged sample (the filter first), as the sandbox role and under the
    interactive time limit; report those that fail."""
    sandbox.prepare(cur, reads=[STAGED])
    limit = sandbox.interactive_timeout()
    try:
        with sandbox.entered(cur, timeout_seconds=limit, doing=f"trying the mappings of {target.table} on the sample"):
            return _map_columns(cur, target, reads, skip, rows)
    except sandbox.TimedOut:
        message = f"the mappings ran longer than {limit:g} s on {rows} sample row(s) and were cancelled on the server"
        return [
            LintProblem(
                str(target.table),
                "(mappings)",
                "conversion",
                message,
                (),
                "make the expressions cheaper (a run has no such limit, but will be as slow)",
            )
        ]


def _map_columns(
    cur: psycopg.Cursor[Any], target: TargetPlan, reads: dict[str, list[str]], skip: set[str], rows: int
) -> list[LintProblem]:
    where = f" WHERE {target.filter_sql}" if target.filter_sql else ""
    if where and (error := data_error(cur, [f"SELECT count(*) FROM {STAGED}{where}"])):
        return [
            LintProblem(
                str(target.table),
                "(filter)",
                "conversion",
                f"the filter fails on the data: {error}",
                (),
                "fix the table's `filter:` so it holds for every source row",
            )
        ]
    problems = []
    for column in target.columns:
        if column.name in skip:
            continue
        problem = _map_column(cur, target, column, reads.get(column.name, []), where, rows)
        if problem is not None:
            problems.append(problem)
    return problems


def _map_column(
    cur: psycopg.Cursor[Any], target: TargetPlan, column: ColumnPlan, reads: list[str], where: str, rows: int
) -> LintProblem | None:
    create = (
        f"CREATE TEMP TABLE {PROBE.split('.')[1]} ON COMMIT DROP AS SELECT {column.sql} AS v FROM {STAGED} WITH NO DATA"
    )
    insert = f"INSERT INTO {PROBE} SELECT {column.insert_sql} FROM {STAGED}"
    try:
        error = data_error(cur, [create, insert + where])
    except psycopg.errors.QueryCanceled:
        raise  # the time limit: map_columns says so for the whole table
    except psycopg.Error as exc:  # not a data error: the mapping's SQL itself is wrong for these types
        return _conversion(
            target, column, f"its SQL cannot run on the staged types: {str(exc).splitlines()[0]}", (), reads
        )
    if error is None:
        return None
    with cur.connection.transaction() as savepoint:
        cur.execute(create)
        failed = failures(cur, f"SELECT ctid FROM {STAGED}{where}", f"{insert} WHERE ctid = $1")
        shown = _values(cur, STAGED, reads, failed.row_ids)
        raise psycopg.Rollback(savepoint)
    return _conversion(
        target, column, f"{failed.first_error or error} ({failed.count} of {rows} rows read)", shown, reads
    )


def _conversion(
    target: TargetPlan, column: ColumnPlan, detail: str, shown: tuple[str, ...], reads: list[str]
) -> LintProblem:
    return LintProblem(
        str(target.table),
        column.name,
        "conversion",
        f"the mapping fails: {detail}",
        shown,
        conversion_fix(column, shown, reads),
    )


def conversion_fix(column: ColumnPlan, shown: tuple[str, ...], reads: list[str]) -> str:
    """A concrete change to the mapping, in YAML terms."""
    if column.type and "IS NULL OR CAST(" in column.sql and shown and all(v in ("NULL", "") for v in shown):
        return f"the `default:` is not a {column.type} value; write one that is (e.g. `default: 0` for numbers)"
    if "to_char(" in column.sql:
        return (
            "the values are not date-times: fix the source or the `date_format:`, "
            "or clean them first with an `expression:`"
        )
    if reads and shown:
        source = reads[0]
        bad = shown[0].replace("'", "''").replace('"', '\\"')
        keep = "`type: text`" if column.type else "a `type:` that fits"
        return (
            f"keep such values with {keep}, or clean them with an expression, e.g. `expression: "
            f"\"NULLIF({{{source}}}, '{bad}')\"`"
        )
    return "fix the mapping's `type:`, `expression:`, `date_format:` or `default:` so it accepts these values"
