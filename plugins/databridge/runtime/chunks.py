"""The chunks of a run: each table's split decided once per run and kept in the target, each chunk copied once.

Every mapped extract task instance may be the first to reach a table: the first one (under a transaction-scoped
advisory lock in the target) counts the table, splits it and stores one row per chunk in ``extract_chunks``, and
creates the shared staging table in that same transaction; the others, and every retry, read the stored split. A
chunk's COPY and the row marking it done commit together, so a retried chunk that had committed is not read again,
and one that had not left nothing behind. The table's extract statistics are the sums over its finished chunks.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from databridge.compiler.plan import SourcePlan
from databridge.engines.base import SourceColumn, SourceEngine, TableInfo
from databridge.engines.capabilities import ChunkableSource, batchable, chunkable
from databridge.engines.chunks import (
    ORDERABLE_KEY_TYPES,
    RANGE,
    Chunk,
    Split,
    decode_bound,
    encode_bound,
)
from databridge.engines.postgres import CTID
from databridge.runtime import lease, ledger
from databridge.runtime.batches import Batches, copy_batches, copy_into
from databridge.runtime.context import StageContext, rate
from databridge.runtime.progress import Progress
from databridge.runtime.results import RESULTS_SCHEMA

_CHUNKS = f"{RESULTS_SCHEMA}.extract_chunks"
_WHERE = "project = %s AND pipeline = %s AND run_id = %s AND table_name = %s"
ONE_CHUNK = Split(RANGE, "")


def chunks_of(
    ctx: StageContext, source: SourceEngine, plan: SourcePlan, create_staging: Callable[[Any], None]
) -> list[Chunk]:
    """The table's chunks in this run, split now if no instance did yet; ``create_staging(cur)`` runs once, with
    the split, when the table has more than one chunk."""
    if plan.chunks == 1 or not chunkable(source):
        return [ONE_CHUNK.chunk(0)]
    with ctx.target.transaction(f"splitting {plan.source} into chunks") as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_lock_key(ctx, plan),))
        rows = cur.execute(
            f"SELECT chunk, chunks, method, key, lower, upper FROM {_CHUNKS} WHERE {_WHERE} ORDER BY chunk",
            _params(ctx, plan),
        ).fetchall()
        if not rows:
            rows = _store_split(ctx, cur, _split(ctx, source, plan), plan, create_staging)
    return [
        Chunk(index, count, method, key, _decode(lower), _decode(upper))
        for index, count, method, key, lower, upper in rows
    ]


def _store_split(
    ctx: StageContext, cur: Any, split: Split, plan: SourcePlan, create_staging: Callable[[Any], None]
) -> list[tuple[Any, ...]]:
    rows = [_row(split.chunk(i)) for i in range(split.count)]
    cur.executemany(
        f"""INSERT INTO {_CHUNKS} (project, pipeline, run_id, table_name, chunk, chunks, method, key, lower, upper)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        [(*_params(ctx, plan), *r[:4], json.dumps(r[4]), json.dumps(r[5])) for r in rows],
    )
    if split.count > 1:
        create_staging(cur)
    ctx.log.info(
        "extract %s: split into %d chunk(s) by %s %s", plan.source, split.count, split.method, split.key or "-"
    )
    return rows


def _split(ctx: StageContext, source: ChunkableSource, plan: SourcePlan) -> Split:
    """The split of a table large enough to be split. Its size is the catalog's estimate (no scan; a COUNT(*) when
    the catalog has none): the threshold need not be exact, the boundaries (exact quantiles) are."""
    info = source.describe(plan.source)
    if plan.chunk_min_rows > 0:
        rows = info.approx_rows if info.approx_rows is not None else source.row_count(plan.source)
        if rows < plan.chunk_min_rows:
            return ONE_CHUNK
    return source.split(plan.source, plan.chunk_key or orderable_key(info), plan.chunks)


def orderable_key(info: TableInfo) -> str | None:
    """The primary key when it is one column of an integer, numeric, date or timestamp type."""
    if len(info.primary_key) != 1:
        return None
    column = next(c for c in info.columns if c.name == info.primary_key[0])
    return column.name if column.pg_type.split("(")[0].startswith(ORDERABLE_KEY_TYPES) else None


SLOT_WAIT_SECONDS = 0.5
"""How often an instance waiting for one of its table's ``parallel`` slots tries again."""


@contextlib.contextmanager
def slot(ctx: StageContext, plan: SourcePlan, chunk: Chunk) -> Iterator[None]:
    """Hold one of the table's ``parallel`` slots while its chunk is copied: a session advisory lock in the target,
    so the limit holds across workers, and a killed instance's slot frees itself with its connection."""
    if plan.parallel is None or chunk.count <= plan.parallel:
        yield
        return
    key = f"databridge-slot/{_lock_key(ctx, plan)}"
    waited, taken = 0.0, None
    while taken is None:
        for n in range(plan.parallel):
            if ctx.target.scalar(
                "SELECT pg_try_advisory_lock(hashtext(%s), %s)", (key, n), doing=f"taking a slot of {plan.source}"
            ):
                taken = n
                break
        else:
            if waited == 0:
                ctx.log.info(
                    "extract %s: %s waits, as %d of its chunks (parallel) are being copied",
                    plan.source,
                    chunk.describe(),
                    plan.parallel,
                )
            time.sleep(SLOT_WAIT_SECONDS)
            waited += SLOT_WAIT_SECONDS
    try:
        yield
    finally:
        ctx.target.scalar(
            "SELECT pg_advisory_unlock(hashtext(%s), %s)", (key, taken), doing=f"freeing a slot of {plan.source}"
        )


def copy_chunk(
    ctx: StageContext,
    source: ChunkableSource,
    plan: SourcePlan,
    columns: list[SourceColumn],
    chunk: Chunk,
    staging: str,
    stat: dict[str, Any],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Copy one chunk into the shared staging table unless a former attempt did; returns the table's totals.

    A range of a real key is copied in batches (a retry goes on after the last committed one); a chunk of row
    locators or hashes, or of a source that cannot read in batches, in one transaction (a retry reads it again,
    nothing of the failed attempt being kept)."""
    if chunk.method == RANGE and chunk.key != CTID and batchable(source):
        _started(ctx, plan, chunk)
        copy_batches(
            ctx,
            Batches(
                source,
                plan,
                columns,
                chunk,
                staging,
                on_last=lambda cur: _finished(ctx, cur, source, plan, chunk),
                progress=progress,
            ),
        )
    else:
        _copy_at_once(ctx, source, plan, columns, chunk, staging, progress)
    with ctx.target.transaction(f"adding up the chunks of {plan.source}") as cur:
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", (_lock_key(ctx, plan),)
        )  # sums see every committed chunk
        if progress is not None:
            committed = ledger.last(cur, ledger.Place(ctx.store.key, "extract", str(plan.source), chunk.index))
            progress.finish(committed.rows if committed else 0)
        return _record_totals(ctx, cur, plan, stat)


def _copy_at_once(
    ctx: StageContext,
    source: ChunkableSource,
    plan: SourcePlan,
    columns: list[SourceColumn],
    chunk: Chunk,
    staging: str,
    progress: Progress | None = None,
) -> None:
    params = (*_params(ctx, plan), chunk.index)
    with ctx.target.transaction(f"staging {chunk.describe()} of {plan.source} into {staging}") as cur:
        lease.confirm(cur, ctx, "writing into")
        done = cur.execute(
            f"SELECT finished_at IS NOT NULL FROM {_CHUNKS} WHERE {_WHERE} AND chunk = %s FOR UPDATE", params
        ).fetchone()
        if done and done[0]:
            ctx.log.info("extract %s: %s was copied by an earlier attempt", plan.source, chunk.describe())
            return
        cur.execute(f"UPDATE {_CHUNKS} SET started_at = clock_timestamp() WHERE {_WHERE} AND chunk = %s", params)
        staged, _path = copy_into(cur, staging, source, plan.source, columns, ctx.plan.batch_size, chunk, progress)
        ledger.record(cur, ledger.Place(ctx.store.key, "extract", str(plan.source), chunk.index), 0, staged)
        _finished(ctx, cur, source, plan, chunk)


def _started(ctx: StageContext, plan: SourcePlan, chunk: Chunk) -> None:
    ctx.target.execute(
        f"UPDATE {_CHUNKS} SET started_at = coalesce(started_at, clock_timestamp()) WHERE {_WHERE} AND chunk = %s",
        (*_params(ctx, plan), chunk.index),
        doing=f"starting {chunk.describe()} of {plan.source}",
    )


def _finished(ctx: StageContext, cur: Any, source: ChunkableSource, plan: SourcePlan, chunk: Chunk) -> None:
    """Mark the chunk done, in the transaction of its last rows: its row counts, where and how long it ran."""
    source_rows = source.row_count(plan.source, chunk)
    committed = ledger.last(cur, ledger.Place(ctx.store.key, "extract", str(plan.source), chunk.index))
    staged = committed.rows if committed else 0
    cur.execute(
        f"""UPDATE {_CHUNKS} SET source_rows = %s, staged_rows = %s, finished_at = clock_timestamp(), hostname = %s,
        seconds = extract(epoch FROM clock_timestamp() - started_at) WHERE {_WHERE} AND chunk = %s""",
        (source_rows, staged, socket.gethostname(), *_params(ctx, plan), chunk.index),
    )
    ctx.log.info("extract %s: %s, %d rows", plan.source, chunk.describe(), staged)


def _record_totals(ctx: StageContext, cur: Any, plan: SourcePlan, stat: dict[str, Any]) -> dict[str, Any]:
    row = cur.execute(
        f"""SELECT coalesce(sum(source_rows), 0), coalesce(sum(staged_rows), 0), count(*), count(finished_at),
        coalesce(extract(epoch FROM max(finished_at) - min(started_at)), 0), coalesce(sum(seconds), 0)
        FROM {_CHUNKS} WHERE {_WHERE}""",
        _params(ctx, plan),
    ).fetchone()
    source_rows, staged, chunks, done, wall, busy = (
        int(row[0]),
        int(row[1]),
        int(row[2]),
        int(row[3]),
        float(row[4]),
        float(row[5]),
    )
    totals = {
        **stat,
        "source_rows": source_rows,
        "staged_rows": staged,
        "rows_per_second": rate(staged, wall),
        "chunks": chunks,
        "chunks_done": done,
        "chunk_seconds": round(busy, 3),
    }
    cur.execute(
        f"""INSERT INTO {RESULTS_SCHEMA}.table_stats
        (project, pipeline, run_id, stage, table_name, rows, seconds, detail)
        VALUES (%s, %s, %s, 'extract', %s, %s, %s, %s) ON CONFLICT (project, pipeline, run_id, stage, table_name)
        DO UPDATE SET rows = EXCLUDED.rows, seconds = EXCLUDED.seconds, detail = EXCLUDED.detail,
        recorded_at = now()""",
        (*_params(ctx, plan)[:3], str(plan.source), staged, wall, json.dumps(totals, default=str)),
    )
    return totals


def _params(ctx: StageContext, plan: SourcePlan) -> tuple[str, str, str, str]:
    return (*ctx.store.key.values(), str(plan.source))


def _lock_key(ctx: StageContext, plan: SourcePlan) -> str:
    return "databridge-chunks/" + "/".join(_params(ctx, plan))


def _row(chunk: Chunk) -> tuple[Any, ...]:
    return (chunk.index, chunk.count, chunk.method, chunk.key, _encode(chunk.lower), _encode(chunk.upper))


def _encode(value: Any) -> Any:
    return None if value is None else encode_bound(value)


def _decode(data: Any) -> Any:
    return None if data is None else decode_bound(data)
