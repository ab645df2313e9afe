"""Versions: what each run replaced or changed in a target table, kept in the history schema for rollback.

One row of ``databridge.versions`` per run and table says what the load did (``kind``) and where the before-state is:

- created: the table did not exist; rolling back drops it;
- replaced: a copy of the previous rows, made before TRUNCATE + INSERT;
- appended: a copy of the rows the run added (RETURNING *), so exactly those can be deleted again;
- upserted: the old values of the rows the MERGE updated, and the keys it inserted.

The first load of a run wins: a repeated load in the same run keeps the state from before the run's first one.
Versions older than the pipeline's ``keep_versions_days`` are dropped by the next load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.identifiers import qualified, quote_ident, short_name
from databridge.compiler.plan import TargetPlan
from databridge.runtime.context import StageContext
from databridge.runtime.results import HISTORY_SCHEMA, RESULTS_SCHEMA, RunKey

VERSIONS_TABLE = f"{RESULTS_SCHEMA}.versions"
ACTION = "databridge_action"
"""The column of an upsert's history table that says whether the run 'updated' or 'inserted' the key."""


@dataclass(frozen=True)
class Keeper:
    """Keeps the version of one target table that one load is about to change."""

    key: RunKey
    target: TargetPlan
    table: str
    days: int
    existed: bool
    kept_kind: str | None
    """The kind of this run's version already kept by an earlier load of the table in the run, if any."""

    @property
    def first(self) -> bool:
        """No version of this run and table is kept yet (a repeated load keeps nothing more, but an upsert's new
        keys)."""
        return self.kept_kind is None

    @property
    def history(self) -> str:
        return qualified(HISTORY_SCHEMA, history_name(self.key, str(self.target.table)))

    @property
    def active(self) -> bool:
        return self.days > 0


def keeper(ctx: StageContext, cur: psycopg.Cursor[Any], target: TargetPlan, table: str) -> Keeper:
    existed = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (True,)
    where = "project = %s AND pipeline = %s AND run_id = %s AND table_name = %s"
    kept = cur.execute(
        f"SELECT kind FROM {VERSIONS_TABLE} WHERE {where}", (*ctx.store.key.values(), str(target.table))
    ).fetchone()
    return Keeper(ctx.store.key, target, table, ctx.plan.keep_versions_days, existed, kept[0] if kept else None)


def history_name(key: RunKey, table: str) -> str:
    """The history table of one run's version of a target table: the table's name and a digest of the run."""
    digest = hashlib.sha1("\x00".join((*key.values(), table)).encode()).hexdigest()[:12]
    return short_name(table.replace(".", "__")[:40], digest)


def record(cur: psycopg.Cursor[Any], keep: Keeper, kind: str, history: str | None) -> None:
    rows = int(cur.execute(f"SELECT count(*) FROM {history}").fetchone()[0]) if history else None  # type: ignore[index]
    cur.execute(
        f"""INSERT INTO {VERSIONS_TABLE}
        (project, pipeline, run_id, table_name, target_table, keys, load_mode, kind, history_table, rows, expires_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() + make_interval(days => %s))
        ON CONFLICT (project, pipeline, run_id, table_name) DO UPDATE SET rows = EXCLUDED.rows""",
        (
            *keep.key.values(),
            str(keep.target.table),
            keep.table,
            list(keep.target.keys),
            keep.target.load,
            kind,
            history,
            rows,
            keep.days,
        ),
    )


def before_write(cur: psycopg.Cursor[Any], keep: Keeper, ready: str) -> None:
    """Keep the before-state of a load; an append's rows are kept as they go in, by ``append_statement``."""
    if not keep.active or not (keep.first or (keep.kept_kind == "upserted" and keep.target.load == "upsert")):
        return
    if not keep.existed:
        if keep.first:
            record(cur, keep, "created", None)
        return
    if keep.target.load == "replace":
        cur.execute(f"CREATE TABLE {keep.history} AS SELECT * FROM {keep.table}")
        record(cur, keep, "replaced", keep.history)
    elif keep.target.load == "append":
        cur.execute(f"CREATE TABLE {keep.history} (LIKE {keep.table})")
        record(cur, keep, "appended", keep.history)
    else:
        _keep_upserted(cur, keep, ready)


def append_statement(keep: Keeper, insert: str) -> str:
    """The append's INSERT, also copying the rows it adds into the history table."""
    if not (keep.active and keep.first and keep.existed):
        return insert
    return f"WITH added AS ({insert} RETURNING *) INSERT INTO {keep.history} SELECT * FROM added"


def after_write(cur: psycopg.Cursor[Any], keep: Keeper) -> None:
    """An append's version holds its row count once the rows are in."""
    if keep.active and keep.first and keep.existed and keep.target.load == "append":
        cur.execute(
            f"UPDATE {VERSIONS_TABLE} SET rows = (SELECT count(*) FROM {keep.history}) "
            "WHERE project = %s AND pipeline = %s AND run_id = %s AND table_name = %s",
            (*keep.key.values(), str(keep.target.table)),
        )


def _keep_upserted(cur: psycopg.Cursor[Any], keep: Keeper, ready: str) -> None:
    """The old values of the rows the MERGE will update, and the keys it will insert (new ones only, on a repeat)."""
    keys = [quote_ident(k) for k in keep.target.keys]
    on = " AND ".join(f"t.{k} = s.{k}" for k in keys)

    def unseen(alias: str) -> str:
        return f"NOT EXISTS (SELECT 1 FROM {keep.history} h WHERE {' AND '.join(f'h.{k} = {alias}.{k}' for k in keys)})"

    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {keep.history} AS SELECT t.*, ''::text AS {ACTION} "
        f"FROM {keep.table} t WITH NO DATA"
    )
    cur.execute(
        f"INSERT INTO {keep.history} SELECT t.*, 'updated' FROM {keep.table} t WHERE EXISTS (SELECT 1 FROM "
        f"{ready} s WHERE {on}) AND {unseen('t')}"
    )
    cur.execute(
        f"""INSERT INTO {keep.history} ({", ".join(keys)}, {ACTION})
        SELECT DISTINCT {", ".join(f"s.{k}" for k in keys)}, 'inserted'
        FROM {ready} s WHERE NOT EXISTS (SELECT 1 FROM {keep.table} t WHERE {on}) AND {unseen("s")}"""
    )
    record(cur, keep, "upserted", keep.history)


def purge_expired(ctx: StageContext) -> int:
    """Drop the versions of this pipeline whose retention has passed; returns how many went."""
    where = "project = %s AND pipeline = %s AND expires_at < now()"
    with ctx.target.transaction("dropping expired versions") as cur:
        expired = cur.execute(
            f"SELECT history_table FROM {VERSIONS_TABLE} WHERE {where}", (ctx.plan.project, ctx.plan.name)
        ).fetchall()
        for (history,) in expired:
            if history:
                cur.execute(f"DROP TABLE IF EXISTS {history}")
        cur.execute(f"DELETE FROM {VERSIONS_TABLE} WHERE {where}", (ctx.plan.project, ctx.plan.name))
    if expired:
        ctx.log.info("dropped %d version(s) kept longer than %d day(s)", len(expired), ctx.plan.keep_versions_days)
    return len(expired)
