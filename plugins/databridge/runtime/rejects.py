"""Rejected rows: stored with their reason in the results schema, and judged against the table's ``max_rejects``.

A table whose rejects stay within its threshold loads the rest with a warning; above it, the table fails, nothing of
it is written, and the message names the count and the commonest reasons. The rejects are kept either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.plan import TargetPlan
from databridge.runtime.bad_rows import BAD
from databridge.runtime.context import StageContext
from databridge.runtime.results import RESULTS_SCHEMA

REJECTS_TABLE = f"{RESULTS_SCHEMA}.rejects"
FIRST_REASONS = 3


@dataclass(frozen=True)
class Rejected:
    """How many rows of ``rows`` a stage set aside, and the commonest reasons ("column 'x': error (n rows)")."""

    count: int
    rows: int
    reasons: tuple[str, ...]


def store(ctx: StageContext, cur: psycopg.Cursor[Any], target: TargetPlan, stage: str, rows: int) -> Rejected:
    """Replace this run's rejects of ``target`` at ``stage`` by the rows found bad (a retry does not add them twice)."""
    key = (*ctx.store.key.values(), str(target.table), stage)
    where = "project = %s AND pipeline = %s AND run_id = %s AND table_name = %s AND stage = %s"
    cur.execute(f"DELETE FROM {REJECTS_TABLE} WHERE {where}", key)
    cur.execute(
        f"""INSERT INTO {REJECTS_TABLE} (project, pipeline, run_id, table_name, stage, row_data, column_name, reason)
        SELECT %s, %s, %s, %s, %s, row_data, column_name, reason FROM {BAD}""",
        key,
    )
    count = cur.rowcount
    grouped = cur.execute(
        f"SELECT column_name, reason, count(*) FROM {BAD} GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT {FIRST_REASONS}"
    ).fetchall()
    reasons = tuple(f"{_column(c)}: {r} ({n} row{'s' if n != 1 else ''})" for c, r, n in grouped)
    return Rejected(count, rows, reasons)


def _column(name: str | None) -> str:
    return "the filter" if name == "(filter)" else ("a CHECK" if name == "(check)" else f"column {name!r}")


def tolerated(target: TargetPlan, rows: int) -> int:
    """How many rejected rows out of ``rows`` the table accepts."""
    if target.max_rejects_percent is not None:
        return math.floor(rows * target.max_rejects_percent / 100)
    return target.max_rejects


def threshold_text(target: TargetPlan) -> str:
    return f"{target.max_rejects_percent:g}%" if target.max_rejects_percent is not None else str(target.max_rejects)


def judge(ctx: StageContext, target: TargetPlan, doing: str, rejected: Rejected, hint: str) -> str | None:
    """The failure message when the rejects exceed the threshold; otherwise None, after warning of them."""
    summary = f"{rejected.count} of {rejected.rows} row(s) rejected"
    where = f"every rejected row is in {REJECTS_TABLE} (run_id {ctx.store.key.run_id!r})"
    reasons = "; ".join(rejected.reasons)
    if rejected.count <= tolerated(target, rejected.rows):
        ctx.warn(f"{doing}: {summary} (max_rejects {threshold_text(target)}), the rest loaded; {reasons}; {where}")
        return None
    return (
        f"{doing}: {summary}, more than max_rejects ({threshold_text(target)}) allows; nothing of {target.table} "
        f"written. {reasons}. {where[0].upper()}{where[1:]}; {hint}, or raise max_rejects"
    )


def count_for_run(ctx: StageContext, target: TargetPlan) -> int:
    """Rows of ``target`` rejected in this run, by any stage."""
    where = "project = %s AND pipeline = %s AND run_id = %s AND table_name = %s"
    query = f"SELECT count(*) FROM {REJECTS_TABLE} WHERE {where}"
    return int(
        ctx.target.scalar(
            query, (*ctx.store.key.values(), str(target.table)), doing=f"counting the rejected rows of {target.table}"
        )
    )
