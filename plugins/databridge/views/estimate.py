"""How long each table's extract may take, measured on a calibration batch (the wizard's Validate step).

Up to ``calibration_rows`` rows go through the extract stage's own path: the engine's ``copy_rows`` streaming into
a COPY on a TEMP table of the target typed as the staging table is. The transaction is rolled back, so nothing is
left behind. The full row count divided by the measured rate is the estimate; it covers the extract stage only
(transform and load run inside PostgreSQL and are usually faster per row).
"""

from __future__ import annotations

import contextlib
from typing import Any

import psycopg

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import PipelinePlan, SourcePlan
from databridge.engines.base import SourceColumn, SourceEngine
from databridge.engines.errors import postgres_error
from databridge.engines.postgres import PostgresTarget
from databridge.generate.discover import expanded
from databridge.runtime.context import rate, stopwatch
from databridge.views import connections, preview
from databridge.views.service import DRAFT, compiled

CALIBRATION_TABLE = "databridge_calibration"
STAGE = "extract"
"""What the estimate covers."""


def estimate(text: str, calibration_rows: int) -> list[dict[str, Any]]:
    """One estimate per table mapping of every pipeline of a draft, in the plan's order."""
    _project, plan = compiled(text)
    return [found for pipeline in plan.pipelines for found in _pipeline(pipeline, calibration_rows)]


def _pipeline(pipeline: PipelinePlan, calibration_rows: int) -> list[dict[str, Any]]:
    target = preview.open_target_of(pipeline)
    try:
        with connections.source_engine(pipeline.source_conn_id) as source:
            pipeline = expanded(pipeline, source, DRAFT)  # the tables include takes, as a run would find them
            return [_table(source, target, pipeline, sp, calibration_rows) for sp in pipeline.sources]
    finally:
        target.close()


def _table(
    source: SourceEngine, target: PostgresTarget, pipeline: PipelinePlan, sp: SourcePlan, calibration_rows: int
) -> dict[str, Any]:
    columns, _warnings, _approx = preview.source_side(source, sp)
    rows = source.row_count(sp.source)
    with stopwatch() as elapsed:
        copied = calibrate(source, target, sp, columns, calibration_rows, pipeline.batch_size)
    per_second = rate(copied, elapsed[0])
    return {
        "pipeline": pipeline.name,
        "source": str(sp.source),
        "stage": STAGE,
        "rows": rows,
        "calibration_rows": copied,
        "calibration_seconds": round(elapsed[0], 4),
        "rows_per_second": per_second,
        "seconds": round(rows / per_second, 3) if per_second else 0.0,
    }


def calibrate(
    source: SourceEngine,
    target: PostgresTarget,
    sp: SourcePlan,
    columns: list[SourceColumn],
    limit: int,
    batch_size: int,
) -> int:
    """Copy at most ``limit`` rows into a TEMP table of the target, then roll back; returns the rows copied."""
    definition = ", ".join(f"{quote_ident(c.name)} {c.pg_type}" for c in columns)
    names = ", ".join(quote_ident(c.name) for c in columns)
    try:
        with target.conn.transaction() as tx, target.conn.cursor() as cur:
            cur.execute(f"CREATE TEMP TABLE {CALIBRATION_TABLE} ({definition}) ON COMMIT DROP")
            with cur.copy(f"COPY pg_temp.{CALIBRATION_TABLE} ({names}) FROM STDIN") as copy:
                sink = _CalibrationSink(copy, limit)
                with contextlib.suppress(_Enough):
                    source.copy_rows(sp.source, columns, sink, min(batch_size, limit))
            raise psycopg.Rollback(tx)
    except psycopg.Error as exc:
        raise postgres_error(exc, f"calibrating {sp.source}") from None
    return sink.rows


class _Enough(Exception):
    """Raised by the sink to stop an engine's copy_rows once the calibration batch is complete."""


class _CalibrationSink:
    """Hands rows (or COPY text, line by line) to the target's COPY unchanged and stops the read at ``limit``."""

    def __init__(self, copy: psycopg.Copy, limit: int) -> None:
        self.copy = copy
        self.limit = limit
        self.rows = 0
        self._pending = b""

    def write_row(self, row: Any) -> None:
        self.copy.write_row(row)
        self.rows += 1
        if self.rows >= self.limit:
            raise _Enough

    def write(self, buffer: bytes | str) -> None:
        data = self._pending + (buffer.encode() if isinstance(buffer, str) else bytes(buffer))
        *lines, self._pending = data.split(b"\n")
        taken = lines[: self.limit - self.rows]
        if taken:
            self.copy.write(b"\n".join(taken) + b"\n")
        self.rows += len(taken)
        if self.rows >= self.limit:
            raise _Enough
