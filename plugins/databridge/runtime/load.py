"""Load: each target table in one transaction, dimensions before facts, in foreign-key order."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import qualified, quote_ident, short_name
from databridge.compiler.plan import SourcePlan, TargetPlan
from databridge.errors import EngineError
from databridge.runtime import (
    bad_rows,
    enum_types,
    existing,
    lease,
    ledger,
    referencing,
    rejects,
    schema_change,
    schema_rebuild,
    versions,
)
from databridge.runtime.context import StageContext, rate, stopwatch
from databridge.runtime.locks import create_in_turn
from databridge.runtime.progress import progress_of


def load(ctx: StageContext, role: str) -> dict[str, Any]:
    """Load every target of ``role`` ('dimension' or 'fact') in load order."""
    stage = "load_dimensions" if role == "dimension" else "load_facts"
    summary = {}
    versions.purge_expired(ctx)
    extracted = ctx.store.table_stats("extract")
    transformed = ctx.store.table_stats("transform")
    for source, target in ctx.plan.targets(role):
        allowed = extracted.get(str(source.source), {}).get("allowed_values", {})
        ready_rows = int(transformed.get(str(target.table), {}).get("ready_rows") or 0)
        progress = progress_of(ctx, stage, str(target.table), total=ready_rows)
        summary[str(target.table)] = stat = _load_one(ctx, stage, source, target, allowed, ready_rows)
        progress.finish(int(stat["loaded_rows"]))
    if role == "fact":  # the last load stage: every table is in, so its keys and indexes are built, every key holds
        schema_rebuild.after_load(ctx)
        referencing.validate_all(ctx)
    return summary


def moved_into_target(cur: psycopg.Cursor[Any], ctx: StageContext, source: SourcePlan) -> bool:
    """Whether a load of this run made the pass-through table's staging table its target (SourcePlan.moves_staging):
    the load is in the ledger and the staging table is gone."""
    if not source.moves_staging:
        return False
    staging = qualified(ctx.plan.staging_schema, source.staging_table)
    if cur.execute("SELECT to_regclass(%s) IS NOT NULL", (staging,)).fetchone() == (True,):
        return False
    return ledger.last(cur, ledger.Place(ctx.store.key, "load", str(source.targets[0].table))) is not None


def load_statement(target: TargetPlan, ready: str) -> str:
    """The INSERT or MERGE that moves a ready table into its target, by load mode."""
    table = qualified(target.table.schema, target.table.name)
    names = [quote_ident(c.name) for c in target.columns]
    cols = ", ".join(names)
    if target.load != "upsert":
        return f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {ready}"
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in target.keys)
    updates = ", ".join(f"{n} = s.{n}" for n in names if n not in {quote_ident(k) for k in target.keys})
    matched = f"WHEN MATCHED THEN UPDATE SET {updates}" if updates else "WHEN MATCHED THEN DO NOTHING"
    values = ", ".join(f"s.{n}" for n in names)
    return (
        f"MERGE INTO {table} AS t USING {ready} AS s ON {on} {matched} WHEN NOT MATCHED THEN INSERT ({cols}) "
        f"VALUES ({values})"
    )


def _load_one(
    ctx: StageContext,
    stage: str,
    source: SourcePlan,
    target: TargetPlan,
    allowed: dict[str, list[str]],
    ready_rows: int,
) -> dict[str, Any]:
    ready = qualified(ctx.plan.staging_schema, source.ready_of(target))
    table = qualified(target.table.schema, target.table.name)
    place = ledger.Place(ctx.store.key, "load", str(target.table))
    with stopwatch() as elapsed:
        try:
            with ctx.target.conn.transaction(), ctx.target.conn.cursor() as cur:
                lease.confirm(cur, ctx, "loading")
                ledger.lock(cur, place)  # a retry waits for a killed attempt's transaction to end, then sees its commit
                create_in_turn(
                    cur, target.table.schema or "public", target.table.name
                )  # another load creating it commits first
                done = ledger.last(cur, place)
                # Only an append must not run twice in a run; replace and upsert repeat safely, and must repeat when
                # a cleared DAG run (same run_id) has transformed new source data since.
                written = Written(0)
                if done is not None and (target.load == "append" or moved_into_target(cur, ctx, source)):
                    ctx.log.info(
                        "load %s: already committed by an earlier try of this run (%d rows); skipped",
                        target.table,
                        done.rows,
                    )
                    loaded, rejected, failure = done.rows, _rejected_before(cur, ctx, target), None
                    skipped = existing.skipped_before(target, ready_rows, loaded, rejected)
                else:
                    _check_ready(cur, target, ready, ready_rows)
                    skipped = existing.settle(
                        cur, target, table, ready, ready_rows
                    )  # rows whose key the table holds: fail or skip
                    written = _write_rejecting(
                        ctx, cur, target, table, ready, allowed, move=_move_of(ctx, cur, source, target)
                    )
                    loaded, rejected, failure = written.rows, written.rejected, written.failure
                    _log_enum_types(ctx, target, written.enum_types)
                    if failure is None:
                        ledger.record(cur, place, 0 if done is None else done.batch + 1, loaded)
                total = (
                    None
                    if failure
                    else (loaded,)
                    if written.moved
                    else cur.execute(f"SELECT count(*) FROM {table}").fetchone()
                )
        except psycopg.Error as exc:
            from databridge.engines.errors import postgres_error

            raise postgres_error(exc, f"loading {target.table} ({target.load})") from None
    if failure is not None:
        raise EngineError(
            failure, transient=False
        )  # raised after the commit: the rejects are kept, the table is not touched
    stat = {
        "load": target.load,
        "loaded_rows": loaded,
        "target_rows": int(total[0]) if total else 0,
        "rejected_rows": rejected,
        "skipped_rows": skipped,
        "rows_per_second": rate(loaded, elapsed[0]),
        "enum_types": list(written.enum_types),
    }
    ctx.store.table_stat(stage, str(target.table), loaded, elapsed[0], **stat)
    ctx.log.info(
        "%s %s: %d rows (%s) in %.2fs; table holds %d",
        stage,
        target.table,
        loaded,
        target.load,
        elapsed[0],
        stat["target_rows"],
    )
    if skipped:
        ctx.log.info(
            "%s %s: %d incoming row(s) skipped, their key already in the table (on_existing: skip)",
            stage,
            target.table,
            skipped,
        )
    return stat


def _check_ready(cur: psycopg.Cursor[Any], target: TargetPlan, ready: str, ready_rows: int) -> None:
    """A crash of the target server empties unlogged tables: never load an emptied ready table as if it were the
    data."""
    if ready_rows and cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {ready})").fetchone() == (True,):
        raise EngineError(
            f"loading {target.table}: the ready table {ready} is empty but this run's transform wrote {ready_rows} "
            "rows into it (the target server restarted after a crash, which empties unlogged staging tables); clear "
            "this run from its extract stage",
            transient=False,
        )


@dataclass(frozen=True)
class Written:
    rows: int
    rejected: int = 0
    failure: str | None = None
    """Set when more rows were rejected than the table's max_rejects allows: nothing was loaded."""
    moved: bool = False
    """The ready table was moved into place (it is the target: it holds ``rows`` rows)."""
    enum_types: tuple[dict[str, Any], ...] = ()
    """The enum types a created table's ENUM columns got (enums: type), made or reused (runtime/enum_types.py)."""


@dataclass(frozen=True)
class Move:
    """A pass-through table's ready table (its staging table, SourcePlan.moves_staging), to move into a new target."""

    name: str
    """In the staging schema."""
    rows: int | None
    """Its rows, when known without a scan (the extract's ledger); None: counted."""


def _move_of(ctx: StageContext, cur: psycopg.Cursor[Any], source: SourcePlan, target: TargetPlan) -> Move | None:
    if not source.moves_staging:
        return None
    # An earlier load of this run that set rows aside took them out of the staging table: then it is counted.
    staged = (
        None
        if _rejected_before(cur, ctx, target)
        else ledger.staged_rows(cur, ledger.Place(ctx.store.key, "extract", str(source.source)))
    )
    return Move(source.staging_table, staged)


def _write_rejecting(
    ctx: StageContext,
    cur: psycopg.Cursor[Any],
    target: TargetPlan,
    table: str,
    ready: str,
    allowed: dict[str, list[str]],
    *,
    move: Move | None = None,
) -> Written:
    """The fast load first; when the target refuses rows, they are stored as rejects and the rest loaded, or, above
    max_rejects, nothing."""
    try:
        with cur.connection.transaction():
            return _write(ctx, cur, target, table, ready, allowed, move=move)
    except (psycopg.errors.IntegrityError, psycopg.errors.DataError, psycopg.errors.CardinalityViolation) as exc:
        error = exc
    rejected = _find_rejects(ctx, cur, target, table, ready, allowed)
    if rejected.count == 0:
        raise error  # no row to blame
    failure = rejects.judge(
        ctx,
        target,
        f"loading {target.table} ({target.load})",
        rejected,
        "fix those source rows or the target's constraints",
    )
    if failure:
        return Written(0, rejected.count, failure)
    bad_rows.set_aside(cur, ready)
    written = _write(ctx, cur, target, table, ready, allowed, move=None if move is None else Move(move.name, None))
    return dataclasses.replace(written, rejected=rejected.count)


def _find_rejects(
    ctx: StageContext,
    cur: psycopg.Cursor[Any],
    target: TargetPlan,
    table: str,
    ready: str,
    allowed: dict[str, list[str]],
) -> rejects.Rejected:
    """Ready rows that do not convert to an existing target's column types (its enum types included), then those
    breaking its constraints (or a created table's ENUM labels, as its CHECK or enum type holds them)."""
    bad_rows.start(cur)
    wanted, have = bad_rows.column_types(cur, table), bad_rows.column_types(cur, ready)
    changed = [bad_rows.Conversion(c, quote_ident(c), wanted[c]) for c in have if c in wanted and wanted[c] != have[c]]
    if changed:
        bad_rows.add_bad_conversions(cur, ready, changed)
    bad_rows.add_constraint_violations(cur, target, table, ready, allowed)
    ready_rows = int(cur.execute(f"SELECT count(*) FROM {ready}").fetchone()[0])  # type: ignore[index]
    return rejects.store(ctx, cur, target, "load", ready_rows)


def _rejected_before(cur: psycopg.Cursor[Any], ctx: StageContext, target: TargetPlan) -> int:
    where = "project = %s AND pipeline = %s AND run_id = %s AND table_name = %s AND stage = 'load'"
    query = f"SELECT count(*) FROM {rejects.REJECTS_TABLE} WHERE {where}"
    return int(cur.execute(query, (*ctx.store.key.values(), str(target.table))).fetchone()[0])  # type: ignore[index]


def _write(
    ctx: StageContext,
    cur: psycopg.Cursor[Any],
    target: TargetPlan,
    table: str,
    ready: str,
    allowed: dict[str, list[str]],
    *,
    move: Move | None = None,
) -> Written:
    """The rows loaded, whether the ready table was moved into place, and the enum types ENUM columns got. What the
    load replaces or changes is kept as this run's version (runtime/versions.py).

    ``move`` is a pass-through table's ready table (SourcePlan.moves_staging): a target that does not exist yet is
    that table itself, moved by rename; no row is copied."""
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(target.table.schema or 'public')}")
    keep = versions.keeper(ctx, cur, target, table)
    existing = _existing_columns(cur, target)
    typed = tuple(enum_types.prepare(cur, ctx.plan, target, table, ready, allowed, exists=bool(existing)))
    versions.before_write(cur, keep, ready)
    if not existing and move is not None:
        rows = _move(cur, target, table, ctx.plan.staging_schema, move)
        _add_allowed_value_checks(cur, target, table, enum_types.checked(ctx.plan, allowed))
        schema_rebuild.created(ctx, cur, target)
        return Written(rows, moved=True, enum_types=typed)
    if not existing:
        _create(cur, target, table, ready)
        _add_allowed_value_checks(cur, target, table, enum_types.checked(ctx.plan, allowed))
    else:
        for change in schema_change.reconcile(cur, target, table, ready):
            ctx.log.warning("%s", change)
            ctx.warnings.append(change)
    detached = referencing.truncate(cur, table) if target.load == "replace" else []
    statement = load_statement(target, ready)
    cur.execute(versions.append_statement(keep, statement) if target.load == "append" else statement)
    rows = _rows_written(cur, target, ready)
    referencing.put_back(cur, detached)
    if not existing:  # built over the rows: one that breaks NOT NULL or a default is listed, not lost
        schema_rebuild.created(ctx, cur, target)
    versions.after_write(cur, keep)
    return Written(rows, enum_types=typed)


def _log_enum_types(ctx: StageContext, target: TargetPlan, typed: tuple[dict[str, Any], ...]) -> None:
    for t in typed:
        ctx.log.info(
            "load %s: column %s is the enum type %s (%s, enums: type)",
            target.table,
            t["column"],
            t["type"],
            t["status"],
        )


def _rows_written(cur: psycopg.Cursor[Any], target: TargetPlan, ready: str) -> int:
    """The ready rows the statement wrote. A MERGE counts the rows it inserts or updates; when every column is a key
    (a link table) a match has nothing to update and is not counted, although the row is in the table as it should
    be: then every ready row counts."""
    if target.load == "upsert" and all(c.name in target.keys for c in target.columns):
        return int(cur.execute(f"SELECT count(*) FROM {ready}").fetchone()[0])  # type: ignore[index]
    return cur.rowcount


def _existing_columns(cur: psycopg.Cursor[Any], target: TargetPlan) -> list[str]:
    rows = cur.execute(
        """SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped""",
        (target.table.schema, target.table.name),
    ).fetchall()
    return [r[0] for r in rows]


def _move(cur: psycopg.Cursor[Any], target: TargetPlan, table: str, staging_schema: str, move: Move) -> int:
    """The ready table becomes the new target: renamed into place, then its primary key built in one sorted pass
    (cheaper than keeping an index up to date row by row). Returns its rows."""
    schema, name, ready_name = target.table.schema or "public", target.table.name, move.name
    rows = move.rows
    if rows is None:
        rows = int(cur.execute(f"SELECT count(*) FROM {qualified(staging_schema, ready_name)}").fetchone()[0])  # type: ignore[index]
    if schema != staging_schema:
        cur.execute(f"ALTER TABLE {qualified(staging_schema, ready_name)} SET SCHEMA {quote_ident(schema)}")
    if name != ready_name:
        cur.execute(f"ALTER TABLE {qualified(schema, ready_name)} RENAME TO {quote_ident(name)}")
    if target.keys:
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the key's sort in memory; this transaction only
        _add_primary_key(cur, target, table)
    return rows


def _create(cur: psycopg.Cursor[Any], target: TargetPlan, table: str, ready: str) -> None:
    """A new target table takes its column types from the ready table and its primary key from keys."""
    cur.execute(f"CREATE TABLE {table} (LIKE {ready})")
    if target.keys:
        _add_primary_key(cur, target, table)


def _add_primary_key(cur: psycopg.Cursor[Any], target: TargetPlan, table: str) -> None:
    cur.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(quote_ident(k) for k in target.keys)})")


def _add_allowed_value_checks(
    cur: psycopg.Cursor[Any], target: TargetPlan, table: str, allowed: Mapping[str, Sequence[str]]
) -> None:
    """A column loaded unchanged from an ENUM keeps the ENUM's rule: a CHECK on its labels (NULL still allowed)."""
    for column in target.columns:
        labels = allowed.get(column.unchanged_source or "")
        if labels:
            name = quote_ident(short_name(target.table.name, column.name, "allowed"))
            values = ", ".join(sql_literal(v) for v in labels)
            cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({quote_ident(column.name)} IN ({values}))")
