"""The staging lease: one run at a time owns a pipeline's staging tables; a dead run's lease is taken over, a live
run's never.

Staging tables are named per project and pipeline, not per run, so two runs of one project (a second Airflow,
``airflow dags test`` beside the scheduler, a cleared old run) would overwrite each other's staged rows. The extract
takes the lease for its run; transform, load and validate check it at their start and again inside each transaction
that reads staging (a share lock on the lease row, so it cannot change hands mid-transaction); the report releases it.

**What holds it.** Two things, as a run lives in two ways:

- while a stage of the run is running, a PostgreSQL session advisory lock (``locks.lease``: project and pipeline),
  taken shared, so that the chunk instances of one extract hold it together, on a connection of the stage's own,
  for as long as the stage runs (``held``). A process that dies takes its connection with it, and the server drops
  the lock: at once when the process is killed, within about a minute when its host is lost (the session asks
  for short TCP keepalives). A stage takes the lock in the transaction that checks the lease row, with the row
  locked; a run taking the lease over locks the row before it looks at the lock, so the two never interleave;
- between stages, the lease row (``databridge.staging_leases``): the run's id, when it took the lease, the stage
  running (``stage``, cleared when the last instance of a stage ends), since when none is (``idle_since``), and a
  note saying how the lease last changed hands.

**Live or stale.** A run meeting a lease that another run holds and has not released decides (``judge``):

1. The holder's lock is held now: live (one of its stages is running). Refused.
2. Else Airflow's word, when Airflow knows the holder (a run of this DAG): running or queued, live (between stages,
   or a killed task Airflow has not noticed yet: it fails or retries it); success or failed, stale (it ended and
   its report did not release the lease).
3. Else (Airflow does not know it: a second ``airflow dags test`` of the same date deleted it, it is another
   Airflow's, or stages run outside Airflow): a stage of it began and never ended (``stage`` set, its lock gone):
   stale, that stage's process died. Between stages: live while its last stage ended less than ``IDLE_GRACE`` ago,
   stale after.

A stale lease is taken over: staging holds the dead run's rows, so this run's extract starts from scratch, and a
warning in its log and its report names the run whose lease it took and why. A refusal names the holder, says why
it is taken as live, and how to go on. ``python -m databridge.cli leases`` lists the leases with the same verdict
(without Airflow's word: it runs outside a task), and releases one by hand with a reason.

A run whose lease was taken over fails at its next stage (or transaction) instead of loading the other run's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

from databridge.engines.postgres import PostgresTarget
from databridge.errors import EngineError
from databridge.runtime import ledger, locks
from databridge.runtime.context import StageContext
from databridge.runtime.results import RESULTS_SCHEMA

LEASES = f"{RESULTS_SCHEMA}.staging_leases"
IDLE_GRACE = dt.timedelta(minutes=10)
"""How long a run Airflow cannot vouch for may sit between two stages before its lease is taken as stale: longer than
a task waits for a worker slot on a busy but healthy Airflow."""
_WHERE = "project = %s AND pipeline = %s"
_COLUMNS = (
    "project, pipeline, run_id, taken_at, released_at, stage, clock_timestamp() - coalesce(idle_since, taken_at), note"
)
BY_HAND = "released by hand"
"""How the note of a lease released with ``databridge.cli leases release`` begins."""
_KEEPALIVES = "SET tcp_keepalives_idle = 20; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3"

RunFinished = Callable[[str], bool | None]
"""Whether a run of this project has ended (success or failed) as Airflow knows it; None when it does not know the
run (another Airflow's, deleted, or stages driven outside Airflow)."""


def no_word(run_id: str) -> bool | None:
    """A RunFinished for where Airflow cannot be asked (the command line)."""
    return None


@dataclass(frozen=True)
class Lease:
    project: str
    pipeline: str
    run_id: str
    taken_at: dt.datetime
    released_at: dt.datetime | None
    stage: str | None
    """The holder's stage running now, or running when its process died; None between stages."""
    idle: dt.timedelta
    """Since the holder's last stage ended (or since it took the lease)."""
    note: str | None


@dataclass(frozen=True)
class Verdict:
    live: bool
    why: str


def read(cur: Any, project: str, pipeline: str, lock: str = "FOR UPDATE") -> Lease | None:
    row = cur.execute(f"SELECT {_COLUMNS} FROM {LEASES} WHERE {_WHERE} {lock}", (project, pipeline)).fetchone()
    return Lease(*row) if row else None


def read_all(cur: Any) -> list[Lease]:
    return [
        Lease(*row) for row in cur.execute(f"SELECT {_COLUMNS} FROM {LEASES} ORDER BY project, pipeline").fetchall()
    ]


def judge(cur: Any, lease: Lease, finished: RunFinished) -> Verdict:
    """Whether the holder of an unreleased lease is live (the rule is in the module's docstring)."""
    if not locks.free(cur, locks.lease(lease.project, lease.pipeline)):
        return Verdict(
            True, f"its stage {lease.stage} is running now" if lease.stage else "one of its stages is running now"
        )
    ended = finished(lease.run_id)
    if ended is not None:
        return _airflow_says(lease, ended)
    if lease.stage is not None:
        return Verdict(
            False,
            f"its stage {lease.stage} stopped without ending (its database session is gone: its process was "
            "killed or its host lost)",
        )
    if lease.idle < IDLE_GRACE:
        return Verdict(
            True,
            f"it is between stages (its last stage ended {_span(lease.idle)} ago) and Airflow gave no word on it; "
            f"a run idle for {_span(IDLE_GRACE)} is taken as stopped",
        )
    return Verdict(False, f"none of its stages has run for {_span(lease.idle)} and Airflow gave no word on it")


def _airflow_says(lease: Lease, ended: bool) -> Verdict:
    if ended:
        return Verdict(False, "it has ended in Airflow, and its report stage did not release the lease")
    if lease.stage is not None:
        return Verdict(
            True,
            f"Airflow has it running, though the database session of its stage {lease.stage} is gone (a killed "
            "task: Airflow fails or retries it once it notices; or mark the run failed)",
        )
    return Verdict(True, "Airflow has it running (it is between stages)")


def _span(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"


Claim = Callable[[Any, StageContext], bool]
"""Runs in the transaction that starts a stage's hold, and locks the lease row: whether this run holds the lease
(then the stage takes the lock), or an error."""


def taking(finished: RunFinished) -> Claim:
    """The extract's claim: hold the lease, or stop naming the live run that holds it.

    Held by this run and not released: a retry or a cleared extract, which goes on where the ledger says. Released
    by this run: the run is started again after it ended, and reads again the tables it had read whole (the source
    may have changed); chunks of split tables are kept, as a cleared chunk instance may run alone. Taken from another
    run (which released it, or whose lease is stale): staging holds that run's rows, so this run's extract starts
    from scratch. Either way the transform refuses staging whose extract is incomplete (``require_complete``).
    """

    def claim(cur: Any, ctx: StageContext) -> bool:
        project, pipeline, run_id = ctx.store.key.values()
        cur.execute(
            f"INSERT INTO {LEASES} (project, pipeline, run_id, taken_at) VALUES (%s, %s, %s, now()) "
            "ON CONFLICT DO NOTHING",
            (project, pipeline, run_id),
        )
        lease = read(cur, project, pipeline)
        assert lease is not None
        if lease.run_id != run_id:
            _take_over(cur, ctx, lease, finished)
        elif lease.released_at is not None:
            _reopen(cur, ctx)
            _forget_whole_tables(cur, ctx)
        return True

    return claim


def _take_over(cur: Any, ctx: StageContext, lease: Lease, finished: RunFinished) -> None:
    verdict = (
        Verdict(False, lease.note or "its report released it") if lease.released_at else judge(cur, lease, finished)
    )
    if verdict.live:
        raise _refusal(ctx, lease, verdict)
    note = None if lease.released_at else f"taken over from run {lease.run_id!r}: {verdict.why}"
    cur.execute(
        f"UPDATE {LEASES} SET run_id = %s, taken_at = now(), released_at = NULL, stage = NULL, idle_since = "
        f"NULL, note = %s WHERE {_WHERE}",
        (ctx.store.key.run_id, note, lease.project, lease.pipeline),
    )
    ledger.forget_extract(cur, ctx.store.key)
    _announce(ctx, lease, verdict)


def _announce(ctx: StageContext, lease: Lease, verdict: Verdict) -> None:
    """A released lease changes hands as it should (a log line); a stale one is taken over (a warning in the report)."""
    if lease.released_at:
        ctx.log.info("staging of pipeline %s: lease taken from run %s (%s)", lease.pipeline, lease.run_id, verdict.why)
        return
    ctx.warn(
        f"pipeline {lease.pipeline}: took over the staging lease of run {lease.run_id!r} (held since "
        f"{lease.taken_at:%Y-%m-%d %H:%M:%S} UTC), "
        f"as {verdict.why}; this run does not use the rows that run staged and extracts from scratch"
    )


def _refusal(ctx: StageContext, lease: Lease, verdict: Verdict) -> EngineError:
    return EngineError(
        f"pipeline {lease.pipeline} of project {lease.project}: run {lease.run_id!r} holds its staging tables (since "
        f"{lease.taken_at:%Y-%m-%d %H:%M:%S} UTC) and is live: {verdict.why}; run {ctx.store.key.run_id!r} stops so as "
        "not to overwrite them. Start it again once that run has ended; if you know it has stopped, release its lease: "
        f"python -m databridge.cli leases release {lease.project} {lease.pipeline} --target-uri postgresql://... "
        '--reason "..."',
        transient=False,
    )


def _reopen(cur: Any, ctx: StageContext) -> None:
    """The run holds staging again (started again after its report released it) until its report runs again."""
    cur.execute(f"UPDATE {LEASES} SET released_at = NULL, note = NULL WHERE {_WHERE}", ctx.store.key.values()[:2])


def _forget_whole_tables(cur: Any, ctx: StageContext) -> None:
    tables = [str(s.source) for s in ctx.plan.sources]
    whole = [t for t, (done, total) in ledger.progress(cur, ctx.store.key, tables).items() if total == 1 and done == 1]
    ledger.forget_extract(cur, ctx.store.key, whole, keep_splits=True)


def keeping(doing: str) -> Claim:
    """The claim of transform, loads and validate: this run holds the lease, unless another run took staging over."""

    def claim(cur: Any, ctx: StageContext) -> bool:
        lease = read(cur, ctx.store.key.project, ctx.store.key.pipeline)
        if lease is None:  # no lease: staging from before leases existed
            return False
        if lease.run_id != ctx.store.key.run_id:
            raise _taken_over(ctx, lease.run_id, doing)
        if lease.released_at is not None and (lease.note or "").startswith(BY_HAND):
            raise EngineError(
                f"pipeline {lease.pipeline} of project {lease.project}: the staging lease of run {lease.run_id!r} "
                f"was {lease.note}; the run stops rather than {doing} rows another run may be staging. Clear this "
                "run from its extract stage to run it again",
                transient=False,
            )
        if lease.released_at is not None:  # a stage cleared after the report ran
            _reopen(cur, ctx)
        return True

    return claim


def reporting(cur: Any, ctx: StageContext) -> bool:
    """The report's claim: it runs whatever happened, holding the lease while it runs if this run has it."""
    lease = read(cur, ctx.store.key.project, ctx.store.key.pipeline)
    return lease is not None and lease.run_id == ctx.store.key.run_id


@contextmanager
def held(ctx: StageContext, stage: str, claim: Claim) -> Iterator[None]:
    """Run a stage holding the lease's lock on a session of its own, if ``claim`` says this run holds the lease."""
    with closing(PostgresTarget(ctx.target.info)) as session:
        holds = _hold(session, ctx, stage, claim)
        try:
            yield
        finally:
            if holds:
                _let_go(session, ctx)


def _hold(session: PostgresTarget, ctx: StageContext, stage: str, claim: Claim) -> bool:
    project, pipeline, run_id = ctx.store.key.values()
    with session.transaction("taking the staging lease") as cur:
        cur.execute(_KEEPALIVES)
        cur.execute("SELECT set_config('application_name', left(%s, 63), false)", (f"databridge lease {run_id}",))
        if not claim(cur, ctx):
            return False
        cur.execute(f"SELECT pg_advisory_lock_shared({locks.KEY})", locks.lease(project, pipeline))
        cur.execute(f"UPDATE {LEASES} SET stage = %s WHERE {_WHERE}", (stage, project, pipeline))
    return True


def _let_go(session: PostgresTarget, ctx: StageContext) -> None:
    """The stage ended: unlock; when no other instance of the run still holds the lock, the run is between stages."""
    project, pipeline, run_id = ctx.store.key.values()
    key = locks.lease(project, pipeline)
    try:
        with session.transaction("letting go of the staging lease") as cur:
            mine = cur.execute(
                f"SELECT 1 FROM {LEASES} WHERE {_WHERE} AND run_id = %s FOR UPDATE", (project, pipeline, run_id)
            ).fetchone()
            cur.execute(f"SELECT pg_advisory_unlock_shared({locks.KEY})", key)
            if mine and locks.free(cur, key):
                cur.execute(f"UPDATE {LEASES} SET stage = NULL, idle_since = now() WHERE {_WHERE}", (project, pipeline))
    except EngineError as exc:  # the target is gone: closing the session lets go of the lock all the same
        ctx.log.warning("pipeline %s: could not record the end of the stage in its staging lease: %s", pipeline, exc)


def require_complete(ctx: StageContext) -> None:
    """Before the transform: this run holds staging and its extract committed every chunk of every table. A chunk
    instance cleared alone after staging was taken back from another run must not leave the others' rows out."""
    with ctx.target.transaction("checking the extract is complete") as cur:
        confirm(cur, ctx, "transforming")
        done = ledger.progress(cur, ctx.store.key, [str(s.source) for s in ctx.plan.sources])
    missing = [f"{table} ({n} of {total} chunk(s) staged)" for table, (n, total) in done.items() if n < total]
    if missing:
        raise EngineError(
            f"pipeline {ctx.plan.name}: the extract of run {ctx.store.key.run_id!r} is incomplete: "
            f"{', '.join(missing)}; clear this run from its extract stage (every chunk instance) to stage them",
            transient=False,
        )


def confirm(cur: Any, ctx: StageContext, doing: str) -> None:
    """Inside a transaction reading or writing staging: this run still holds the lease (until the transaction ends)."""
    project, pipeline, run_id = ctx.store.key.values()
    row = cur.execute(f"SELECT run_id FROM {LEASES} WHERE {_WHERE} FOR SHARE", (project, pipeline)).fetchone()
    if row is not None and row[0] != run_id:  # no lease: staging from before leases existed
        raise _taken_over(ctx, row[0], doing)


def _taken_over(ctx: StageContext, holder: str, doing: str) -> EngineError:
    project, pipeline, run_id = ctx.store.key.values()
    return EngineError(
        f"pipeline {pipeline} of project {project}: run {holder!r} has taken over the staging tables since run "
        f"{run_id!r} extracted; run {run_id!r} stops rather than {doing} that run's rows. Clear this run from its "
        "extract stage to run it again",
        transient=False,
    )


def release(ctx: StageContext) -> None:
    """The report's last step: the next run may take staging (only this run's own lease is released)."""
    ctx.target.execute(
        f"UPDATE {LEASES} SET released_at = now() WHERE {_WHERE} AND run_id = %s AND released_at IS NULL",
        ctx.store.key.values(),
        doing="releasing the staging lease",
    )
