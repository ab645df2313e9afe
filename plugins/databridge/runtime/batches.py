"""Extract in batches read in key order, each committed with its ledger row, so a retry goes on after the last one.

A table or chunk with a usable key (one orderable column: the chunk key, or a one-column primary key) is read as
consecutive key ranges of about ``commit_rows`` rows (each streamed in fetches of ``batch_size``). Where a batch ends
is asked of the source (the key ``commit_rows`` keys on, an index scan), so each batch is a half-open range ``lower <= key < upper`` like a chunk,
and NULL keys come with the first batch of chunk 0. A batch's COPY and its ledger row commit in one transaction, under
a lock on the chunk; a retried, cleared or concurrent attempt reads the last ledger row there and starts at its
``upper``. Nothing is read twice and nothing is skipped, whatever point a process was killed at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import SourcePlan
from databridge.engines.base import SourceColumn
from databridge.engines.chunks import BatchableSource, Chunk
from databridge.engines.postgres import NulGuard
from databridge.runtime import lease, ledger
from databridge.runtime.context import StageContext

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


def copy_batches(ctx: StageContext, job: Batches) -> Attempt:
    """Copy the batches the ledger does not hold yet; returns what this attempt did."""
    attempt = Attempt()
    place = ledger.Place(ctx.store.key, "extract", str(job.plan.source), job.chunk.index)
    while not _next_batch(ctx, job, place, attempt):
        pass
    if attempt.resumed_at is not None:
        ctx.log.info("extract %s: resumed at batch %d after an earlier attempt", job.plan.source, attempt.resumed_at)
    return attempt


def _next_batch(ctx: StageContext, job: Batches, place: ledger.Place, attempt: Attempt) -> bool:
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
        part = job.chunk.part(job.chunk.lower if last is None else last.upper, job.chunk.upper, first=last is None)
        end = job.source.next_bound(job.plan.source, part, ctx.plan.commit_rows)
        part = job.chunk.part(part.lower, part.upper if end is None else end, first=last is None)
        rows = _copy(cur, job, part, ctx.plan.batch_size)
        ledger.record(cur, place, number, rows, lower=part.lower, upper=part.upper, final=end is None, resumed=attempt.resumed_at == number + 1)
        attempt.copied += rows
        attempt.batches += 1
        if end is None and job.on_last is not None:
            job.on_last(cur)
    return end is None


def _copy(cur: Any, job: Batches, part: Chunk, batch_size: int) -> int:
    column_list = ", ".join(quote_ident(c.name) for c in job.columns)
    with cur.copy(f"COPY {job.staging} ({column_list}) FROM STDIN") as copy:
        return job.source.copy_rows(job.plan.source, job.columns, NulGuard(copy, job.plan.source, job.columns), batch_size, chunk=part)
