"""Extract: stream each source table into a typed staging table in the target with COPY, batch by batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import SourcePlan
from databridge.engines.base import SourceColumn, SourceEngine
from databridge.engines.capabilities import batchable, chunkable, drain_warnings
from databridge.engines.chunks import RANGE, Chunk
from databridge.engines.map_like import within
from databridge.errors import MissingTable, SpecError
from databridge.runtime import lease, ledger, schema_rebuild
from databridge.runtime.aside import Aside
from databridge.runtime.batches import Batches, copy_batches, copy_into, path_stat
from databridge.runtime.chunks import chunks_of, copy_chunk, orderable_key, slot
from databridge.runtime.context import StageContext, rate, stopwatch
from databridge.runtime.load import moved_into_target
from databridge.runtime.progress import Progress, progress_of
from databridge.spec.names import did_you_mean, unknown_source_column

UNMAPPED_SHOWN = 10
"""Unmapped source columns named in the warning (the rest are counted)."""


def extract(ctx: StageContext, source: SourceEngine, project_file: str, instance: int | None = None) -> dict[str, Any]:
    """Check every table and column first (nothing is written if one is wrong), then copy them all.

    ``instance`` k (a mapped task instance) copies chunk k of every table split into more than k chunks (and, for
    k = 0, every table read whole); None copies every chunk of every table.
    """
    if instance and not chunkable(source):
        return {}  # every table of this source is one chunk, read by instance 0
    resolved = preflight(ctx, source, project_file)
    if not instance:  # one instance reads the tables' schema objects for the load (runtime/schema_rebuild.py)
        schema_rebuild.read_source(ctx, source, [plan for plan, _ in resolved])
    schema = ctx.plan.staging_schema
    with ctx.target.transaction(f"creating schema {schema}") as cur:  # chunk instances start together: one at a time
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"databridge-schema/{schema}",))
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    summary = {}
    for plan, columns in resolved:
        if (stat := _extract_table(ctx, source, plan, columns, instance)) is not None:
            summary[str(plan.source)] = stat
    return summary


def _extract_table(
    ctx: StageContext, source: SourceEngine, plan: SourcePlan, columns: list[SourceColumn], instance: int | None
) -> dict[str, Any] | None:
    """This instance's share of one table: the whole table, some of its chunks, or nothing."""
    staging = qualified(ctx.plan.staging_schema, plan.staging_table)
    forget_lost_staging(ctx, plan, staging)
    chunks = chunks_of(ctx, source, plan, lambda cur: _create_staging(cur, staging, columns, logged=plan.moves_staging))
    mine = [c for c in chunks if instance is None or c.index == instance]
    if not mine:
        return None
    if len(chunks) == 1:
        return _copy_table(ctx, source, plan, columns)
    assert chunkable(source)  # only those are split
    stat: dict[str, Any] = {}
    for chunk in mine:
        with slot(ctx, plan, chunk):
            stat = copy_chunk(
                ctx, source, plan, columns, chunk, staging, _enum_stat(columns), _progress(ctx, source, plan, chunk)
            )
        for warning in drain_warnings(source):
            ctx.warn(warning)
    ctx.log.info(
        "extract %s: %d of %d chunk(s) done, %d rows staged so far",
        plan.source,
        stat["chunks_done"],
        stat["chunks"],
        stat["staged_rows"],
    )
    return stat


def preflight(
    ctx: StageContext, source: SourceEngine, project_file: str
) -> list[tuple[SourcePlan, list[SourceColumn]]]:
    """Resolve every source table's columns; raise one SpecError listing every unknown table and column."""
    problems: list[tuple[str, str]] = []
    resolved = []
    for plan in ctx.plan.sources:
        try:
            available = {c.name: c for c in source.columns(plan.source)}
        except MissingTable as exc:
            problems.append((f"pipeline {ctx.plan.name}", str(exc)))
            continue
        where = f"pipeline {ctx.plan.name}, source table {plan.source}"
        for name in plan.columns:
            if name not in available:
                problems.append((where, unknown_source_column(name, available)))
        if warning := unmapped_warning(plan, available):
            ctx.warn(warning)
        for name, _type in plan.staging_types:
            if name not in plan.columns:
                problems.append(
                    (where, f"source_types names {name!r}, which no mapping reads{did_you_mean(name, plan.columns)}")
                )
        if plan.chunk_key and plan.chunk_key not in available:
            problems.append(
                (
                    where,
                    f"chunk_key {plan.chunk_key!r} is not a column of the source "
                    f"table{did_you_mean(plan.chunk_key, available)}",
                )
            )
        overrides = dict(plan.staging_types)
        resolved.append((plan, [_staged_as(available[n], overrides) for n in plan.columns if n in available]))
    if problems:
        raise SpecError(project_file, problems)
    return resolved


def unmapped_warning(plan: SourcePlan, available: Mapping[str, SourceColumn]) -> str | None:
    """The source columns no mapping reads or excludes, counted, with the first few named. The sub-paths of an object
    read (or excluded) whole are not among them, nor is an object whose sub-paths are read one by one."""
    taken = {*plan.columns, *plan.excluded}
    objects = {n for n, c in available.items() if c.pg_type == "jsonb"}
    unmapped = [
        n
        for n in available
        if n not in taken and not within(n, taken & objects) and not (n in objects and _read_by_path(n, taken))
    ]
    if not unmapped:
        return None
    more = len(unmapped) - UNMAPPED_SHOWN
    shown = ", ".join(unmapped[:UNMAPPED_SHOWN]) + (f" and {more} more" if more > 0 else "")
    columns, them = ("column", "it") if len(unmapped) == 1 else ("columns", "them")
    return (
        f"{plan.source}: {len(unmapped)} source {columns} not mapped: {shown} (map {them}, or list {them} with "
        "exclude: true)"
    )


def _read_by_path(name: str, taken: set[str]) -> bool:
    return any(t.startswith(f"{name}.") for t in taken)


def _staged_as(column: SourceColumn, overrides: dict[str, str]) -> SourceColumn:
    """The column with the staging type the user chose in source_types, if any."""
    chosen = overrides.get(column.name)
    return (
        column
        if chosen is None
        else dataclasses.replace(column, pg_type=chosen, note=f"staged as {chosen} (source_types)")
    )


def _create_staging(cur: Any, staging: str, columns: list[SourceColumn], *, logged: bool = False) -> None:
    """The typed staging table (replacing an earlier run's), its columns commented with their notes.

    Unlogged (no WAL: cheap to write, emptied by a crash), unless ``logged``: a pass-through table's staging may become
    its target table (SourcePlan.moves_staging), and COPY writes WAL far cheaper than a second copy would."""
    definition = ", ".join(f"{quote_ident(c.name)} {c.pg_type}" for c in columns)
    cur.execute(f"DROP TABLE IF EXISTS {staging}")
    cur.execute(f"CREATE {'' if logged else 'UNLOGGED '}TABLE {staging} ({definition})")
    for column in (c for c in columns if c.note):
        cur.execute(f"COMMENT ON COLUMN {staging}.{quote_ident(column.name)} IS {sql_literal(column.note)}")


def _enum_stat(columns: list[SourceColumn]) -> dict[str, Any]:
    """The labels of ENUM columns, kept with the extract statistics for the load stage's CHECK constraints."""
    enums = {c.name: list(c.allowed_values) for c in columns if c.allowed_values}
    return {"allowed_values": enums} if enums else {}


def _copy_table(
    ctx: StageContext, source: SourceEngine, plan: SourcePlan, columns: list[SourceColumn]
) -> dict[str, Any]:
    """A table read whole: in batches of its key when it has a usable one, else in one transaction."""
    staging = qualified(ctx.plan.staging_schema, plan.staging_table)
    ctx.log.info("extract %s -> %s", plan.source, staging)
    key = batch_key(source, plan)
    progress = _progress(ctx, source, plan)
    aside = Aside(source)  # the row count, and each next batch's bound, asked while rows are copied
    count: Callable[[Any], int] = lambda engine: engine.row_count(plan.source)  # noqa: E731
    try:
        aside.submit("count", count)
        with stopwatch() as elapsed:
            if key is None:
                copied, paths = _copy_whole(ctx, source, plan, columns, staging, progress)
            else:
                assert batchable(source)
                create = lambda cur: _create_staging(cur, staging, columns, logged=plan.moves_staging)  # noqa: E731
                job = Batches(
                    source,
                    plan,
                    columns,
                    Chunk(0, 1, RANGE, key),
                    staging,
                    on_first=create,
                    aside=aside,
                    progress=progress,
                )
                attempt = copy_batches(ctx, job)
                copied, paths = attempt.copied, attempt.paths
        source_rows = aside.take("count", count)
    finally:
        aside.close()
    for warning in drain_warnings(source):
        ctx.warn(warning)
    with ctx.target.transaction(f"reading the extract ledger of {plan.source}") as cur:
        staged = ledger.staged_rows(cur, ledger.Place(ctx.store.key, "extract", str(plan.source)))
    progress.finish(staged)
    if staged != source_rows:
        ctx.warn(f"{plan.source}: counted {source_rows} rows but read {staged} (is the source being written to?)")
    stat: dict[str, Any] = {
        "source_rows": source_rows,
        "staged_rows": staged,
        "rows_per_second": rate(copied, elapsed[0]),
        **path_stat(paths),
        **_enum_stat(columns),
    }
    ctx.store.table_stat("extract", str(plan.source), staged, elapsed[0], **stat)
    ctx.log.info(
        "extract %s: %d rows staged (%d by this attempt) in %.2fs (%.0f rows/s)",
        plan.source,
        staged,
        copied,
        elapsed[0],
        stat["rows_per_second"],
    )
    return stat


def batch_key(source: SourceEngine, plan: SourcePlan) -> str | None:
    """The key a table read whole is read in batches of: the chunk key, else a one-column orderable primary key."""
    if not batchable(source):
        return None
    return plan.chunk_key or orderable_key(source.describe(plan.source))


def _progress(ctx: StageContext, source: SourceEngine, plan: SourcePlan, chunk: Chunk | None = None) -> Progress:
    """The reporter of a table (or one chunk of it), its total the source's row estimate (a chunk's share of it),
    starting from the rows earlier attempts committed."""
    estimate = source.describe(plan.source).approx_rows
    share = estimate // chunk.count if estimate is not None and chunk is not None else estimate
    index = chunk.index if chunk is not None else 0
    place = ledger.Place(ctx.store.key, "extract", str(plan.source), index)
    with ctx.target.transaction(f"reading the extract ledger of {plan.source}") as cur:
        before = last.rows if (last := ledger.last(cur, place)) is not None else 0
    return progress_of(ctx, "extract", str(plan.source), total=share, chunk=index, done_before=before)


def _copy_whole(
    ctx: StageContext,
    source: SourceEngine,
    plan: SourcePlan,
    columns: list[SourceColumn],
    staging: str,
    progress: Progress | None = None,
) -> tuple[int, set[str]]:
    """The table in one transaction with its one ledger row (a retry reads it all again, unless it was committed).

    Returns the rows copied and how they were written (nothing, when an earlier attempt had)."""
    place = ledger.Place(ctx.store.key, "extract", str(plan.source))
    with ctx.target.transaction(f"staging {plan.source} into {staging}") as cur:
        lease.confirm(cur, ctx, "writing into")
        ledger.lock(cur, place)
        if (last := ledger.last(cur, place)) is not None and last.final:
            ctx.log.info("extract %s: staged by an earlier attempt", plan.source)
            return 0, set()
        _create_staging(cur, staging, columns, logged=plan.moves_staging)
        staged, path = copy_into(cur, staging, source, plan.source, columns, ctx.plan.batch_size, progress=progress)
        ledger.record(cur, place, 0, staged)
    return staged, {path}


def forget_lost_staging(ctx: StageContext, plan: SourcePlan, staging: str) -> None:
    """After a crash PostgreSQL empties unlogged tables: batches the ledger holds are gone, so read the table again."""
    place = ledger.Place(ctx.store.key, "extract", str(plan.source), -1)
    with ctx.target.transaction(f"checking the staging of {plan.source}") as cur:
        ledger.lock(cur, place)
        if not ledger.staged_rows(cur, place):
            return
        exists = cur.execute("SELECT to_regclass(%s) IS NOT NULL", (staging,)).fetchone()
        if exists and exists[0] and cur.execute(f"SELECT EXISTS (SELECT 1 FROM {staging})").fetchone() == (True,):
            return
        if moved_into_target(cur, ctx, plan):
            return  # not lost: this run's load made it the target table
        ledger.forget_extract(cur, ctx.store.key, [str(plan.source)])
    ctx.warn(
        f"{plan.source}: the staging table lost the rows of earlier attempts (the target server restarted after "
        "a crash); read again from the start"
    )
