"""Rows an append finds already in its target, by key: the load stops before writing anything, or, with the target's
``on_existing: skip``, leaves them out and counts them.

Without this rule a rerun of an append that succeeded would meet the target's key on every row and store the whole
table as rejects. Rows repeating a key among themselves stay the rejects' business (runtime/bad_rows.py).
"""

from __future__ import annotations

from typing import Any

import psycopg

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TargetPlan
from databridge.errors import EngineError
from databridge.runtime.bad_rows import column_types
from databridge.runtime.context import StageContext

EXAMPLE_KEYS = 5
"""Keys named in the message of a load that stops."""


def settle(cur: psycopg.Cursor[Any], target: TargetPlan, table: str, ready: str, ready_rows: int) -> int:
    """Before an append writes: fail when incoming rows have keys the table holds, or, skipping them, take them out
    of the ready table (only this target reads it) so the write, the kept version and the proof see the rest.
    Returns the rows skipped; ``ready_rows`` is what the transform wrote to the ready table."""
    if target.load != "append":
        return 0
    wanted = column_types(cur, table)  # empty for a table the load creates
    key = _key(cur, target, table, wanted)
    if not key:
        return 0
    present = f"EXISTS (SELECT 1 FROM {table} t WHERE {_match(key, wanted, column_types(cur, ready))})"
    try:
        with cur.connection.transaction():
            return _settle(cur, target, key, ready, present, ready_rows)
    except psycopg.errors.DataError:
        return 0  # a key value that does not convert to the table's type: that row is a reject (runtime/load.py)


def _settle(
    cur: psycopg.Cursor[Any], target: TargetPlan, key: list[str], ready: str, present: str, ready_rows: int
) -> int:
    if target.on_existing == "skip":
        deleted = cur.execute(f"DELETE FROM {ready} r WHERE {present}").rowcount
        # A try that failed over max_rejects committed its rejects, and with them this delete: count those rows too.
        remaining = int(cur.execute(f"SELECT count(*) FROM {ready}").fetchone()[0])  # type: ignore[index]
        return max(deleted, ready_rows - remaining)
    found = int(cur.execute(f"SELECT count(*) FROM {ready} r WHERE {present}").fetchone()[0])  # type: ignore[index]
    if found:
        raise EngineError(_message(cur, target, key, ready, present, found), transient=False)
    return 0


def skipped_before(target: TargetPlan, ready_rows: int, loaded: int, rejected: int) -> int:
    """The rows an earlier, committed try of this load skipped: taken out of the ready table, so neither loaded nor
    rejected."""
    return max(ready_rows - loaded - rejected, 0) if target.load == "append" and target.on_existing == "skip" else 0


def skipped_in_run(ctx: StageContext, target: TargetPlan) -> int:
    """The rows of ``target`` this run's load skipped, from its statistics."""
    stage = "load_dimensions" if target.role == "dimension" else "load_facts"
    return int(ctx.store.table_stats(stage).get(str(target.table), {}).get("skipped_rows", 0))


def _key(cur: psycopg.Cursor[Any], target: TargetPlan, table: str, wanted: dict[str, str]) -> list[str]:
    """The declared keys, else the table's primary key when the load fills all of it; [] when the table lacks one of
    them (the write names missing columns)."""
    key = list(target.keys)
    if not key and wanted:
        query = """SELECT array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
                   FROM pg_index i WHERE i.indrelid = to_regclass(%s) AND i.indisprimary"""
        row = cur.execute(query, (table,)).fetchone()
        key = list(row[0]) if row else []
    mapped = {c.name for c in target.columns}
    return key if key and all(k in wanted and k in mapped for k in key) else []


def _match(key: list[str], wanted: dict[str, str], have: dict[str, str]) -> str:
    """Ready row r and table row t share the key. A ready column of another type is cast to the table's, as the
    insert would, so the table's key index serves the lookup."""
    sides = []
    for name in key:
        column = quote_ident(name)
        value = f"r.{column}" if wanted[name] == have.get(name) else f"CAST(r.{column} AS {wanted[name]})"
        sides.append(f"t.{column} = {value}")
    return " AND ".join(sides)


def _message(cur: psycopg.Cursor[Any], target: TargetPlan, key: list[str], ready: str, present: str, found: int) -> str:
    total = int(cur.execute(f"SELECT count(*) FROM {ready}").fetchone()[0])  # type: ignore[index]
    columns = [f"r.{quote_ident(k)}" for k in key]
    shown = ", ".join(f"{c}::text" for c in columns)
    rows = cur.execute(
        f"SELECT {shown} FROM {ready} r WHERE {present} ORDER BY {', '.join(columns)} LIMIT {EXAMPLE_KEYS}"
    ).fetchall()
    examples = ", ".join(row[0] if len(row) == 1 else f"({', '.join(row)})" for row in rows)
    named = key[0] if len(key) == 1 else f"({', '.join(key)})"
    more = ", ..." if found > len(rows) else ""
    return (
        f"loading {target.table} (append): {found} of {total} incoming row(s) have a key {target.table} already holds "
        f"({named} = {examples}{more}); nothing written. To update those rows write load: upsert; to make the table "
        "equal to the source, load: replace; to append only the rows not there yet, on_existing: skip"
    )
