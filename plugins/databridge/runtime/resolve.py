"""The tables of one run of a pipeline that takes them by pattern: found by its extract, kept for its other stages.

A DAG is built when its file is parsed, and compiling is pure: include patterns (and targets written without
columns) cannot be expanded then, as the source is not read. So the plan each operator receives carries a
DiscoverPlan, and the run expands it once:

- the extract stage, which has the source connection, lists and describes the tables, expands the pipeline with
  the generator and compiles it (generate/discover.py, generate/expand.py: the same checks and compiler as a file
  written by hand), and stores the resulting PipelinePlan in ``databridge.resolved_pipelines``, keyed by project,
  pipeline and run, before it takes the staging lease. The chunk instances of a mapped extract resolve under one
  advisory lock: the first one stores, the others (and every retry) read what it stored, so the whole run works on
  one list of tables. A run started again after its report ran resolves again: the source may have changed, as its
  extract reads every table again;
- transform, loads and validate read the stored plan and fail, saying so, when their run's extract has not stored
  one; the report falls back to the plan of the file (it reports whatever happened);
- each operator sets the plan on its StageContext before anything else (operators/base.py ``resolved``), so the
  stages' own code sees a plain, fully written pipeline.

Storing the plan in the target, rather than in the extract's XCom, keeps the Airflow layer thin (the stages read
nothing from XCom), serves a mapped extract whose instances each return their own XCom, and lets the next run
compare: the stored list of source tables is what makes the report name the tables new since the previous run (and
warn of those gone: their target tables are left as they are).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from databridge.compiler.plan import PipelinePlan, from_json, to_json
from databridge.engines.base import SourceEngine
from databridge.errors import EngineError
from databridge.generate.discover import expanded
from databridge.runtime.context import StageContext
from databridge.runtime.results import RESULTS_SCHEMA

RESOLVED_TABLE = f"{RESULTS_SCHEMA}.resolved_pipelines"
_DDL = f"""CREATE TABLE IF NOT EXISTS {RESOLVED_TABLE} (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL,
    resolved_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    tables jsonb NOT NULL, new_tables jsonb NOT NULL, gone_tables jsonb NOT NULL, plan jsonb NOT NULL,
    PRIMARY KEY (project, pipeline, run_id))"""
KEPT_RUNS = 20
"""Runs of a pipeline whose tables are kept (the newest): a plan can be large, and only the latest is compared with."""
_KEY = "project = %s AND pipeline = %s AND run_id = %s"
_REPORTED_SINCE = (
    f"EXISTS (SELECT 1 FROM {RESULTS_SCHEMA}.reports p WHERE p.project = r.project AND p.pipeline = r.pipeline "
    "AND p.run_id = r.run_id AND p.created_at > r.resolved_at)"
)


def for_extract(ctx: StageContext, open_source: Callable[[], SourceEngine], file: str) -> PipelinePlan:
    """The run's plan: the stored one, or the tables found now in the source, stored for the run's other stages."""
    plan = ctx.plan
    if plan.discover is None:
        return plan
    with ctx.target.transaction(f"finding the tables of pipeline {plan.name}") as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"databridge-resolve/{plan.project}/{plan.name}",))
        cur.execute(_DDL)
        row = cur.execute(
            f"SELECT plan FROM {RESOLVED_TABLE} r WHERE {_KEY} AND NOT {_REPORTED_SINCE}", ctx.store.key.values()
        ).fetchone()
        if row is not None:
            return from_json(PipelinePlan, row[0])
        source = open_source()
        try:
            resolved = expanded(plan, source, file)
        finally:
            source.close()
        _store(cur, ctx, resolved)
    return resolved


def for_stage(ctx: StageContext, *, required: bool = True) -> PipelinePlan:
    """The plan the run's extract stored; without one, an error (``required``) or the plan of the file."""
    plan = ctx.plan
    if plan.discover is None:
        return plan
    row = _stored(ctx, "plan")
    if row is not None:
        return from_json(PipelinePlan, row)
    if not required:
        return plan
    raise EngineError(
        f"pipeline {plan.name}: run {ctx.store.key.run_id!r} has no list of tables: its extract stage, which "
        "finds the tables the "
        "pipeline takes by pattern, has not run or failed before finding them; clear this run from its extract stage",
        transient=False,
    )


def changes(ctx: StageContext) -> dict[str, list[str]]:
    """For the report of a pipeline that takes tables by pattern: the source tables this run took that the previous run
    had not, and those it no longer found (nothing for another pipeline)."""
    row = _stored(ctx, "jsonb_build_array(new_tables, gone_tables)")
    return {} if row is None else {"new_tables": list(row[0]), "gone_tables": list(row[1])}


def _stored(ctx: StageContext, what: str) -> Any:
    """A column of this run's row (None when there is none), without creating the table."""
    query = f"SELECT {what} FROM {RESOLVED_TABLE} WHERE {_KEY}"
    with ctx.target.transaction("reading the tables this run found") as cur:
        if cur.execute("SELECT to_regclass(%s) IS NULL", (RESOLVED_TABLE,)).fetchone() == (True,):
            return None
        row = cur.execute(query, ctx.store.key.values()).fetchone()
    return None if row is None else row[0]


def _store(cur: Any, ctx: StageContext, resolved: PipelinePlan) -> None:
    """The run's plan and tables, with those new or gone since the previous run (said in the log and the report)."""
    tables = [str(s.source) for s in resolved.sources]
    before = _previous_tables(cur, ctx) or tables  # a first run has nothing to compare with
    new, gone = [t for t in tables if t not in before], [t for t in before if t not in tables]
    cur.execute(
        f"""INSERT INTO {RESOLVED_TABLE} (project, pipeline, run_id, tables, new_tables, gone_tables, plan)
        VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (project, pipeline, run_id) DO UPDATE SET resolved_at = clock_timestamp(), tables = EXCLUDED.tables,
        new_tables = EXCLUDED.new_tables, gone_tables = EXCLUDED.gone_tables, plan = EXCLUDED.plan""",
        (*ctx.store.key.values(), *(json.dumps(v) for v in (tables, new, gone, to_json(resolved)))),
    )
    cur.execute(
        f"""DELETE FROM {RESOLVED_TABLE} WHERE project = %s AND pipeline = %s AND run_id NOT IN
        (SELECT run_id FROM {RESOLVED_TABLE} WHERE project = %s AND pipeline = %s
         ORDER BY resolved_at DESC LIMIT {KEPT_RUNS})""",
        ctx.store.key.values()[:2] * 2,
    )
    ctx.log.info(
        "pipeline %s: %d table(s) found in the source%s",
        resolved.name,
        len(tables),
        f", new since the previous run: {', '.join(new)}" if new else "",
    )
    for table in gone:
        ctx.warn(
            f"{table}: no longer in the source, so this run did not migrate it (its target table is left as it is)"
        )


def _previous_tables(cur: Any, ctx: StageContext) -> list[str] | None:
    query = (
        f"SELECT tables FROM {RESOLVED_TABLE} WHERE project = %s AND pipeline = %s AND run_id <> %s ORDER BY "
        "resolved_at DESC LIMIT 1"
    )
    row = cur.execute(query, ctx.store.key.values()).fetchone()
    return None if row is None else list(row[0])
