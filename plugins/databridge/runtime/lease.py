"""The staging lease: one run at a time owns a pipeline's staging tables.

Staging tables are named per project and pipeline, not per run, so two runs of one project (a second Airflow,
``airflow dags test`` beside the scheduler, a cleared old run) would overwrite each other's staged rows. The extract
takes the lease for its run; transform, load and validate check it inside each transaction that reads staging (a
share lock on the lease row, so it cannot change hands mid-transaction); the report releases it. A run meeting a
lease another unfinished run holds (running as Airflow knows it, or with a stage running in the results schema when
Airflow does not know it) stops with an error naming that run; a run whose lease was taken over since
its extract fails at its next stage instead of loading the other run's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from databridge.errors import EngineError
from databridge.runtime import ledger
from databridge.runtime.context import StageContext
from databridge.runtime.results import RESULTS_SCHEMA

LEASES = f"{RESULTS_SCHEMA}.staging_leases"
_WHERE = "project = %s AND pipeline = %s"

RunFinished = Callable[[str], bool | None]
"""Whether a run of this project has ended (success or failed) as Airflow knows it; None when it does not know the
run (another Airflow's, or stages driven outside Airflow)."""


def take(ctx: StageContext, finished: RunFinished) -> None:
    """The extract's first step: hold the lease, or stop naming the run that holds it.

    Held by this run and not released: a retry or a cleared extract, which goes on where the ledger says. Released
    by this run: the run is started again after it ended, and reads again the tables it had read whole (the source
    may have changed); chunks of split tables are kept, as a cleared chunk instance may run alone. Taken over from
    another run (which released it, or ended without): staging holds that run's rows, so this run's extract starts
    from scratch. Either way the transform refuses staging whose extract is incomplete (``require_complete``).
    """
    project, pipeline, run_id = ctx.store.key.values()
    with ctx.target.transaction("taking the staging lease") as cur:
        cur.execute(f"INSERT INTO {LEASES} VALUES (%s, %s, %s, now(), NULL) ON CONFLICT DO NOTHING", (project, pipeline, run_id))
        row = cur.execute(f"SELECT run_id, taken_at, released_at FROM {LEASES} WHERE {_WHERE} FOR UPDATE", (project, pipeline)).fetchone()
        holder, taken_at, released_at = row if row else (run_id, None, None)
        if holder == run_id:
            if released_at is not None:
                cur.execute(f"UPDATE {LEASES} SET released_at = NULL WHERE {_WHERE}", (project, pipeline))
                _forget_whole_tables(cur, ctx)
            return
        if released_at is None and not _ended(cur, finished, project, pipeline, holder):
            raise EngineError(
                f"pipeline {pipeline} of project {project}: run {holder!r} holds its staging tables (since {taken_at:%Y-%m-%d %H:%M:%S} UTC) "
                f"and has not finished; run {run_id!r} stops so as not to overwrite them. Start it again once that run has ended "
                "(a run that was killed ends when it is marked failed in Airflow or its report stage runs)",
                transient=False,
            )
        cur.execute(f"UPDATE {LEASES} SET run_id = %s, taken_at = now(), released_at = NULL WHERE {_WHERE}", (run_id, project, pipeline))
        ledger.forget_extract(cur, ctx.store.key)
    ctx.log.info("staging of pipeline %s: lease taken from run %s", pipeline, holder)


def _forget_whole_tables(cur: Any, ctx: StageContext) -> None:
    tables = [str(s.source) for s in ctx.plan.sources]
    whole = [t for t, (done, total) in ledger.progress(cur, ctx.store.key, tables).items() if total == 1 and done == 1]
    ledger.forget_extract(cur, ctx.store.key, whole, keep_splits=True)


def require_complete(ctx: StageContext) -> None:
    """Before the transform: this run holds staging and its extract committed every chunk of every table. A chunk
    instance cleared alone after staging was taken back from another run must not leave the others' rows out."""
    with ctx.target.transaction("checking the extract is complete") as cur:
        confirm(cur, ctx, "transforming")
        done = ledger.progress(cur, ctx.store.key, [str(s.source) for s in ctx.plan.sources])
    missing = [f"{table} ({n} of {total} chunk(s) staged)" for table, (n, total) in done.items() if n < total]
    if missing:
        raise EngineError(
            f"pipeline {ctx.plan.name}: the extract of run {ctx.store.key.run_id!r} is incomplete: {', '.join(missing)}; "
            "clear this run from its extract stage (every chunk instance) to stage them",
            transient=False,
        )


def _ended(cur: Any, finished: RunFinished, project: str, pipeline: str, run_id: str) -> bool:
    """Airflow's word when it knows the run; else the results schema's: none of its stages is running."""
    known = finished(run_id)
    if known is not None:
        return known
    running = cur.execute(
        f"SELECT count(*) FROM {RESULTS_SCHEMA}.stage_runs WHERE project = %s AND pipeline = %s AND run_id = %s AND status = 'running'",
        (project, pipeline, run_id),
    ).fetchone()
    return not running or running[0] == 0


def confirm(cur: Any, ctx: StageContext, doing: str) -> None:
    """Inside a transaction reading or writing staging: this run still holds the lease (until the transaction ends)."""
    project, pipeline, run_id = ctx.store.key.values()
    row = cur.execute(f"SELECT run_id FROM {LEASES} WHERE {_WHERE} FOR SHARE", (project, pipeline)).fetchone()
    if row is None or row[0] == run_id:  # no lease: staging from before leases existed
        return
    raise EngineError(
        f"pipeline {pipeline} of project {project}: run {row[0]!r} has taken over the staging tables since run {run_id!r} extracted; "
        f"run {run_id!r} stops rather than {doing} that run's rows. Clear this run from its extract stage to run it again",
        transient=False,
    )


def check(ctx: StageContext, doing: str) -> None:
    """``confirm`` in a transaction of its own: at the start of a stage."""
    with ctx.target.transaction("checking the staging lease") as cur:
        confirm(cur, ctx, doing)


def release(ctx: StageContext) -> None:
    """The report's last step: the next run may take staging (only this run's own lease is released)."""
    ctx.target.execute(
        f"UPDATE {LEASES} SET released_at = now() WHERE {_WHERE} AND run_id = %s AND released_at IS NULL",
        ctx.store.key.values(),
        doing="releasing the staging lease",
    )
