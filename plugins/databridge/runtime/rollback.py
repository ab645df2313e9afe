"""Rollback: put a project's target tables back as they were before a run, from the versions the runs kept.

``plan_rollback`` says what would change (a dry run writes nothing); ``apply_rollback`` does it, each pipeline in
one transaction, newest change first. A run whose tables a later run changed again is refused, unless those later
runs are rolled back too (``with_later``): undoing only the older change would lose or garble the newer one.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from databridge.compiler.identifiers import quote_ident
from databridge.engines.postgres import PostgresTarget
from databridge.errors import DataBridgeError
from databridge.runtime import referencing
from databridge.runtime.lease import LEASES
from databridge.runtime.versions import ACTION, VERSIONS_TABLE

_VERSIONS_SQL = f"""SELECT pipeline, run_id, table_name,
    target_table, keys, load_mode, kind, history_table, rows, created_at
    FROM {VERSIONS_TABLE} WHERE project = %s AND rolled_back_at IS NULL ORDER BY created_at"""


@dataclass(frozen=True)
class Version:
    """What one run did to one target table, and where its before-state is kept."""

    pipeline: str
    run_id: str
    table: str
    target_table: str
    keys: tuple[str, ...]
    load_mode: str
    kind: str
    history: str | None
    rows: int | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Step:
    version: Version
    description: str


@dataclass(frozen=True)
class RollbackPlan:
    project: str
    run_id: str
    runs: tuple[str, ...]
    """Every run rolled back: the one asked for and, with ``with_later``, the later ones that changed its tables."""
    steps: tuple[Step, ...]
    """Newest change first."""

    def describe(self) -> list[str]:
        return [f"run {s.version.run_id}, pipeline {s.version.pipeline}: {s.description}" for s in self.steps]


def undo_command(project_file: str, run_id: str, python: str = sys.executable) -> str:
    """The command that rolls a project back to its state before ``run_id`` (shown in the report).

    Absolute paths, the interpreter's and the file's: the report is read in a task log or by `report`, far from the
    worker's working directory, and the command must run as printed wherever it is pasted."""
    argv = [python or "python3", "-m", "databridge.cli", "rollback", os.path.abspath(project_file), "--run", run_id]
    return shlex.join(argv)


def shown_from(command: str, cwd: Path) -> str:
    """A command with its absolute paths inside ``cwd`` made relative to it (shorter, and still runs from there)."""
    argv = shlex.split(command)
    return shlex.join([_relative(arg, cwd) for arg in argv])


def _relative(arg: str, cwd: Path) -> str:
    path = Path(arg)
    if not path.is_absolute() or not path.is_relative_to(cwd) or path == cwd:
        return arg
    relative = str(path.relative_to(cwd))
    return relative if "/" in relative else f"./{relative}"  # a bare name would be looked up on PATH


def plan_rollback(
    target: PostgresTarget, project: str, run_id: str, *, with_later: bool = False, required: bool = True
) -> RollbackPlan:
    """What rolling ``project`` back to before ``run_id`` changes; raises DataBridgeError when it cannot or may not.

    Not ``required``, a target holding nothing of the run (another pipeline's target) gives a plan without steps."""
    live = [_version(r) for r in target.rows(_VERSIONS_SQL, (project,), doing="reading the kept versions")]
    if not any(v.run_id == run_id for v in live):
        if not required:
            return RollbackPlan(project, run_id, (), ())
        raise DataBridgeError(
            f"project {project!r}: nothing of run {run_id!r} is kept in this target (an unknown run, one already "
            "rolled back, or one older than keep_versions_days)"
        )
    runs = runs_to_undo(live, run_id)
    if len(runs) > 1 and not with_later:
        raise DataBridgeError(_refusal(project, run_id, live, runs))
    with target.transaction("reading the kept versions") as cur:
        steps = [Step(v, _describe(cur, v)) for v in reversed(live) if v.run_id in runs]
    return RollbackPlan(project, run_id, tuple(runs), tuple(steps))


def runs_to_undo(live: Sequence[Version], run_id: str) -> list[str]:
    """The run and every later run that changed a table one of these runs changed (until none is left to add)."""
    runs, tables = [run_id], {v.table for v in live if v.run_id == run_id}
    start = min(v.created_at for v in live if v.run_id == run_id)
    changed = True
    while changed:
        changed = False
        for v in live:
            if v.created_at > start and v.run_id not in runs and v.table in tables:
                runs.append(v.run_id)
                tables |= {w.table for w in live if w.run_id == v.run_id}
                changed = True
    return runs


def _refusal(project: str, run_id: str, live: Sequence[Version], runs: Sequence[str]) -> str:
    later = [f"{r} ({', '.join(sorted({v.table for v in live if v.run_id == r}))})" for r in runs[1:]]
    return (
        f"project {project!r}: cannot roll back run {run_id!r} alone: later run(s) changed the same tables since: "
        f"{'; '.join(later)}. Roll those back first, or add --with-later to roll them back too"
    )


def _version(row: tuple[Any, ...]) -> Version:
    pipeline, run_id, table, target_table, keys, mode, kind, history, rows, created_at = row
    return Version(pipeline, run_id, table, target_table, tuple(keys), mode, kind, history, rows, created_at)


def _describe(cur: psycopg.Cursor[Any], v: Version) -> str:
    if v.kind == "created":
        return f"drop {v.table} (the run created it)"
    if v.kind == "replaced":
        return f"put back the {v.rows} rows {v.table} held before the run ({v.load_mode})"
    if v.kind == "appended":
        return f"delete the {v.rows} rows the run appended to {v.table}"
    counts = dict(cur.execute(f"SELECT {ACTION}, count(*) FROM {v.history} GROUP BY 1").fetchall())
    return (
        f"delete the {counts.get('inserted', 0)} rows the run inserted into {v.table} and put back the old values "
        f"of the {counts.get('updated', 0)} rows it updated (upsert)"
    )


def apply_rollback(target: PostgresTarget, plan: RollbackPlan, *, force: bool = False) -> None:
    """Undo every step, each pipeline's steps in one transaction (newest first); the versions used are dropped.

    A pipeline whose staging lease is held (a run is going on, or ended without its report) is refused unless
    ``force``: rolling back under a live run would mix its load with the restored rows. The lease row is share-locked
    for the transaction, so no run can start its extract meanwhile.
    """
    pipelines = list(dict.fromkeys(s.version.pipeline for s in plan.steps))
    for pipeline in pipelines:
        with target.transaction(f"rolling back pipeline {pipeline} of project {plan.project}") as cur:
            _no_live_run(cur, plan.project, pipeline, force)
            detached: list[referencing.Key] = []
            for step in plan.steps:
                if step.version.pipeline == pipeline:
                    detached += _undo(cur, step.version)
                    _retire(cur, plan.project, step.version)
            referencing.put_back(cur, detached, validate=True)


def _no_live_run(cur: psycopg.Cursor[Any], project: str, pipeline: str, force: bool) -> None:
    exists = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (LEASES,)).fetchone()
    if not exists or not exists[0]:
        return
    row = cur.execute(
        f"SELECT run_id, taken_at FROM {LEASES} WHERE project = %s AND pipeline = %s AND released_at IS NULL FOR SHARE",
        (project, pipeline),
    ).fetchone()
    if row and not force:
        raise DataBridgeError(
            f"pipeline {pipeline} of project {project}: run {row[0]!r} holds its staging since "
            f"{row[1]:%Y-%m-%d %H:%M:%S} UTC (it is running, or it ended without its report stage); nothing was "
            "rolled back. Roll back once that run has ended, or add --force if you know it has stopped"
        )


def _undo(cur: psycopg.Cursor[Any], v: Version) -> list[referencing.Key]:
    """Undo one step; the foreign keys of other tables a replaced table's refill took off (to put back after)."""
    if v.kind == "created":
        # The keys other tables of the run hold to it (rebuilt after the load, a cycle included) go with it.
        cur.execute(f"DROP TABLE IF EXISTS {v.target_table} CASCADE")
    elif v.kind == "replaced":
        cols = _columns(cur, v.history or "")
        detached = referencing.truncate(cur, v.target_table)
        cur.execute(f"INSERT INTO {v.target_table} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM {v.history}")
        return detached
    elif v.kind == "appended":
        _delete_appended(cur, v)
    else:
        _restore_upserted(cur, v)
    return []


def _delete_appended(cur: psycopg.Cursor[Any], v: Version) -> None:
    """Delete as many copies of each appended row as the run added (rows are matched on all their values)."""
    cur.execute(
        f"""WITH added AS (SELECT h::text AS r, count(*) AS k FROM {v.history} h GROUP BY 1),
        alike AS (SELECT t.ctid AS c, t::text AS r FROM {v.target_table} t WHERE t::text IN (SELECT r FROM added)),
        numbered AS (SELECT c, r, row_number() OVER (PARTITION BY r ORDER BY c DESC) AS n FROM alike)
        DELETE FROM {v.target_table} t USING numbered x JOIN added a ON a.r = x.r AND x.n <= a.k WHERE t.ctid = x.c"""
    )
    if cur.rowcount != v.rows:
        raise DataBridgeError(
            f"{v.table}: only {cur.rowcount} of the {v.rows} rows run {v.run_id!r} appended are still in the table "
            "as they were added (changed or deleted since); nothing rolled back"
        )


def _restore_upserted(cur: psycopg.Cursor[Any], v: Version) -> None:
    """Delete every key the MERGE touched, then put back the rows it updated as they were."""
    on = " AND ".join(f"t.{quote_ident(k)} = h.{quote_ident(k)}" for k in v.keys)
    cur.execute(f"DELETE FROM {v.target_table} t USING {v.history} h WHERE {on}")
    cols = _columns(cur, v.target_table)
    cur.execute(
        f"INSERT INTO {v.target_table} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM {v.history} WHERE "
        f"{ACTION} = 'updated'"
    )


def _retire(cur: psycopg.Cursor[Any], project: str, v: Version) -> None:
    cur.execute(
        f"UPDATE {VERSIONS_TABLE} SET rolled_back_at = now(), history_table = NULL "
        "WHERE project = %s AND pipeline = %s AND run_id = %s AND table_name = %s",
        (project, v.pipeline, v.run_id, v.table),
    )
    if v.history:
        cur.execute(f"DROP TABLE IF EXISTS {v.history}")


def _columns(cur: psycopg.Cursor[Any], table: str) -> str:
    query = """SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped
        AND attgenerated = '' AND attname <> %s ORDER BY attnum"""
    return ", ".join(quote_ident(r[0]) for r in cur.execute(query, (table, ACTION)).fetchall())
