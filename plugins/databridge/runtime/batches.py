"""Extract in batches read in key order, each committed with its ledger row, so a retry goes on after the last one.

A table or chunk with a usable key (one orderable column: the chunk key, or a one-column primary key) is read as
consecutive key ranges of about ``commit_rows`` rows (each streamed in fetches of ``batch_size``). Where a batch ends
is asked of the source (the key ``commit_rows`` keys on, an index scan), so each batch is a half-open range ``lower <=
key < upper`` like a chunk,
and NULL keys come with the first batch of chunk 0. A batch's COPY and its ledger row commit in one transaction, under
a lock on the chunk; a retried, cleared or concurrent attempt reads the last ledger row there and starts at its
``upper``. Nothing is read twice and nothing is skipped, whatever point a process was killed at.

Every COPY into staging goes through ``copy_into``: a source offering Arrow batches (engines/mysql.py) is written by
binary COPY, else row by row; either way inside the caller's transaction, so the ledger row commits with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import SourcePlan, TableRef
from databridge.engines.base import RowPathNeeded, SourceColumn, SourceEngine
from databridge.engines.capabilities import BatchableSource, ChunkableSource, chunkable, reads_arrow, relays_binary_copy
from databridge.engines.chunks import Chunk
from databridge.engines.postgres import NulGuard
from databridge.runtime import lease, ledger
from databridge.runtime.aside import Aside
from databridge.runtime.context import StageContext
from databridge.runtime.progress import Progress
from databridge.runtime.readahead import ReadAhead, RowPath

Hook = Callable[[Any], None]
"""Work done in a batch's transaction: creating the staging table (first batch), marking the chunk done (last)."""


@dataclass
class Attempt:
    """What this attempt did to one chunk."""

    copied: int = 0
    batches: int = 0
    resumed_at: int | None = None
    """The batch (1-based) this attempt went on at, when an earlier one had committed some."""
    done_before: bool = False
    """An earlier attempt had finished the chunk."""
    paths: set[str] = field(default_factory=set)
    """How this attempt's batches were written: "arrow", "rows"."""


@dataclass(frozen=True)
class Batches:
    """One chunk (or whole table) to copy in batches into ``staging``."""

    source: BatchableSource
    plan: SourcePlan
    columns: list[SourceColumn]
    chunk: Chunk
    staging: str
    on_first: Hook | None = None
    on_last: Hook | None = None
    aside: Aside | None = None
    """Where the next batch's bound is looked up while this one is copied (runtime/aside.py); None: in line."""
    progress: Progress | None = None
    """Told of each committed batch's rows (runtime/progress.py)."""


def copy_batches(ctx: StageContext, job: Batches) -> Attempt:
    """Copy the batches the ledger does not hold yet; returns what this attempt did.

    A source offering Arrow batches is read ahead (runtime/readahead.py) while each batch is written."""
    attempt = Attempt()
    place = ledger.Place(ctx.store.key, "extract", str(job.plan.source), job.chunk.index)
    ahead = (
        ReadAhead(job.source, job.plan.source, job.columns, job.chunk, ctx.plan.batch_size, ctx.plan.commit_rows)
        if reads_arrow(job.source)
        else None
    )
    try:
        while not _next_batch(ctx, job, place, attempt, ahead):
            pass
    finally:
        if ahead is not None:
            ahead.close()
    if attempt.resumed_at is not None:
        ctx.log.info("extract %s: resumed at batch %d after an earlier attempt", job.plan.source, attempt.resumed_at)
    return attempt


def _next_batch(
    ctx: StageContext, job: Batches, place: ledger.Place, attempt: Attempt, ahead: ReadAhead | None = None
) -> bool:
    """Copy the next batch in its own transaction; True when the chunk is complete."""
    with ctx.target.transaction(f"staging a batch of {job.plan.source} into {job.staging}") as cur:
        lease.confirm(cur, ctx, "writing into")
        ledger.lock(cur, place)
        last = ledger.last(cur, place)
        if last is not None and last.final:
            attempt.done_before = attempt.batches == 0
            return True
        if last is None and job.on_first is not None:
            job.on_first(cur)
        number = 0 if last is None else last.batch + 1
        if last is not None and attempt.batches == 0:
            attempt.resumed_at = number + 1
        lower = job.chunk.lower if last is None else last.upper
        done = (
            _copy_ahead(cur, job, ahead, lower, last is None, ctx.plan.batch_size)
            if ahead is not None and not ahead.off
            else None
        )
        if done is None:
            part = job.chunk.part(lower, job.chunk.upper, first=last is None)
            end = _bound(job, part, ctx.plan.commit_rows)
            part = job.chunk.part(part.lower, part.upper if end is None else end, first=last is None)
            rows, path = copy_into(
                cur, job.staging, job.source, job.plan.source, job.columns, ctx.plan.batch_size, part
            )
        else:
            part, end, rows, path = done
        attempt.paths.add(path)
        ledger.record(
            cur,
            place,
            number,
            rows,
            lower=part.lower,
            upper=part.upper,
            final=end is None,
            resumed=attempt.resumed_at == number + 1,
        )
        attempt.copied += rows
        attempt.batches += 1
        if end is None and job.on_last is not None:
            job.on_last(cur)
    if job.progress is not None:
        job.progress.add(rows)  # a clock check per batch, after its commit
    return end is None


def _copy_ahead(
    cur: Any, job: Batches, ahead: ReadAhead, lower: Any, first: bool, batch_size: int
) -> tuple[Chunk, Any, int, str] | None:
    """The batch at ``lower`` as read ahead, written by binary COPY in a savepoint: (range, end, rows, path), or None
    when it goes by rows. Values met mid-way that only the row path reads right undo it and write it by rows."""
    begun = ahead.begin(lower, first)
    if isinstance(begun, RowPath):
        return None
    try:
        rows = _copy_binary(cur, job.staging, job.columns, ahead.buffers())
    except RowPathNeeded:
        rows, path = copy_into(cur, job.staging, job.source, job.plan.source, job.columns, batch_size, begun.part)
        return begun.part, begun.end, rows, path
    ahead.advance(begun.end)
    return begun.part, begun.end, rows, "arrow"


def _copy_binary(
    cur: Any,
    staging: str,
    columns: list[SourceColumn],
    stream: Iterable[tuple[bytes, int]],
    progress: Progress | None = None,
) -> int:
    """Write an encoded Arrow stream ((data, rows) pairs, engines/arrow.py ``encoded``) by binary COPY in a savepoint,
    so that RowPathNeeded raised by the stream undoes what it wrote; returns the rows."""
    column_list = ", ".join(quote_ident(c.name) for c in columns)
    rows = 0
    with cur.connection.transaction(), cur.copy(f"COPY {staging} ({column_list}) FROM STDIN (FORMAT BINARY)") as copy:
        for data, count in stream:
            copy.write(data)
            rows += count
            if progress is not None:
                progress.add(count)
    return rows


def _bound(job: Batches, part: Chunk, rows: int) -> Any:
    """Where the batch starting at ``part`` ends (None: it takes the rest); the following batch's end is then looked
    up aside, while this batch is copied."""

    def ask(lower: Chunk) -> Callable[[Any], Any]:
        return lambda engine: engine.next_bound(job.plan.source, lower, rows)

    if job.aside is None:
        return job.source.next_bound(job.plan.source, part, rows)
    end = job.aside.take(("bound", part), ask(part))
    if end is not None:
        following = job.chunk.part(end, job.chunk.upper, first=False)
        job.aside.submit(("bound", following), ask(following))
    return end


def copy_into(
    cur: Any,
    staging: str,
    source: SourceEngine | ChunkableSource,
    table: TableRef,
    columns: list[SourceColumn],
    batch_size: int,
    chunk: Chunk | None = None,
    progress: Progress | None = None,
) -> tuple[int, str]:
    """COPY the rows of ``chunk`` (None: all) into ``staging`` in the transaction of ``cur``; returns the rows and the
    path taken: "arrow" (binary COPY of Arrow batches, when the source offers them), "binary" (a PostgreSQL source's
    own binary COPY) or "rows".

    The Arrow COPY runs in a savepoint: when the source finds mid-way that only its row path reads these rows right,
    what it wrote is undone and the rows are written again, row by row, in the same transaction.

    ``progress`` is told of the rows of each Arrow batch as it is written (a whole table copied in one transaction);
    the other paths report once the COPY ends."""
    column_list = ", ".join(quote_ident(c.name) for c in columns)
    batches = source.arrow_batches(table, columns, batch_size, chunk) if reads_arrow(source) else None
    if batches is not None:
        from databridge.engines import arrow  # pyarrow loads only in a task that takes this path, never at DAG parse

        try:
            return _copy_binary(cur, staging, columns, arrow.encoded(batches, columns, str(table)), progress), "arrow"
        except RowPathNeeded:
            pass
    if relays_binary_copy(source):  # a PostgreSQL source: its binary COPY, in the staging types, relayed as it comes
        with cur.copy(f"COPY {staging} ({column_list}) FROM STDIN (FORMAT BINARY)") as copy:
            return source.copy_binary(table, columns, copy.write, chunk), "binary"
    with cur.copy(f"COPY {staging} ({column_list}) FROM STDIN") as copy:
        sink = NulGuard(copy, table, columns)
        if chunk is None:
            return source.copy_rows(table, columns, sink, batch_size), "rows"
        assert chunkable(source)  # only those are read in parts
        return source.copy_rows(table, columns, sink, batch_size, chunk=chunk), "rows"


def path_stat(paths: set[str]) -> dict[str, str]:
    """The extract statistic naming how the rows were written ("arrow", "rows", or both joined by "+")."""
    return {"path": "+".join(sorted(paths))} if paths else {}
