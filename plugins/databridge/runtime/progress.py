"""Progress of a long stage: rows done, rows per second and an ETA, logged and recorded every few seconds.

Every stage that moves a table's rows (extract, transform, load, proof) reports them through one ``Progress`` per
table (or chunk). It is told of rows as batches commit; it looks at the clock then, and at most every
``interval`` seconds (``defaults.progress_seconds``) it logs one line and writes the table's row in
``databridge.table_progress``. That write goes through its own connection, one short autocommitted statement, so the
run monitor sees it while the stage's own transaction is still open. Nothing is done per row; a failing write only
stops the recording (the stage goes on), saying so once in the log.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import psycopg

from databridge.runtime.context import StageContext
from databridge.runtime.results import RESULTS_SCHEMA, RunKey

PROGRESS_TABLE = f"{RESULTS_SCHEMA}.table_progress"
Clock = Callable[[], float]


@dataclass(frozen=True)
class Snapshot:
    """What a table's progress row holds at one moment."""

    stage: str
    table: str
    chunk: int
    rows: int
    total: int | None
    """The source's estimate of the rows to do (None: unknown)."""
    rows_per_second: float
    eta_seconds: float | None
    done: bool

    def line(self) -> str:
        """The log line: ``extract erp.orders: 1,200,000 of ~10,000,000 rows (12%), 180,000 rows/s, ETA 49s``."""
        where = f"{self.stage} {self.table}" + (f" (chunk {self.chunk + 1})" if self.chunk else "")
        of = f" of ~{self.total:,}" if self.total else ""
        share = f" ({min(100, self.rows * 100 // self.total)}%)" if self.total else ""
        eta = f", ETA {duration(self.eta_seconds)}" if self.eta_seconds is not None else ""
        return f"{where}: {self.rows:,}{of} rows{share}, {self.rows_per_second:,.0f} rows/s{eta}"


def duration(seconds: float) -> str:
    """``49s``, ``3m05s``, ``2h07m``."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def eta(rows: int, total: int | None, rows_per_second: float) -> float | None:
    """Seconds left at the current rate; None without an estimate, a rate, or rows left (the estimate was low)."""
    if not total or rows_per_second <= 0 or rows >= total:
        return None
    return (total - rows) / rows_per_second


class Progress:
    """The progress of one table (or chunk) in one stage: ``add`` rows as they commit, ``finish`` at the end.

    ``rows`` starts at what earlier attempts did (``done_before``); the rate counts this attempt's rows only.
    ``record`` receives each snapshot reported (the table's progress row); ``clock`` is seconds, monotonic."""

    def __init__(
        self,
        log: Any,
        stage: str,
        table: str,
        *,
        total: int | None = None,
        chunk: int = 0,
        interval: float = 5.0,
        done_before: int = 0,
        record: Callable[[Snapshot], None] | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.log, self.stage, self.table, self.chunk = log, stage, table, chunk
        self.total = total if total and total > 0 else None
        self.interval, self.record, self.clock = interval, record, clock
        self.rows = self._before = done_before
        self._start = self._last = clock()
        self.lines = 0
        """Lines logged so far."""
        if record is not None:
            record(self.snapshot(self._start))

    def add(self, rows: int) -> None:
        """Rows just done; logs and records when ``interval`` seconds have passed since the last report."""
        self.rows += rows
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            snap = self.snapshot(now)
            self.log.info("%s", snap.line())
            self.lines += 1
            if self.record is not None:
                self.record(snap)

    def finish(self, rows: int | None = None) -> Snapshot:
        """The table is done (with ``rows`` when the stage counted them itself); its final row is recorded."""
        if rows is not None:
            self.rows = rows
        snap = self.snapshot(self.clock(), done=True)
        if self.record is not None:
            self.record(snap)
        return snap

    def snapshot(self, now: float, *, done: bool = False) -> Snapshot:
        elapsed = now - self._start
        speed = (self.rows - self._before) / elapsed if elapsed > 0 else 0.0
        return Snapshot(
            self.stage,
            self.table,
            self.chunk,
            self.rows,
            self.total,
            round(speed, 1),
            None if done else eta(self.rows, self.total, speed),
            done,
        )


class TerminalBar:
    """The progress drawn as a bar redrawn in place on a terminal (``python -m databridge.cli``, ``airflow dags test``
    run from a shell); where the output is not a terminal (a task's log, a pipe) there is no bar, only the log lines."""

    def __init__(self, stream: TextIO, width: int) -> None:
        self.stream, self.width = stream, width

    @classmethod
    def on(cls, stream: TextIO, width: int | None = None) -> TerminalBar | None:
        if not stream.isatty():
            return None
        return cls(stream, width or shutil.get_terminal_size((100, 24)).columns)

    def __call__(self, snap: Snapshot) -> None:
        percent = 100 if snap.done else min(100, snap.rows * 100 // snap.total) if snap.total else None
        tail = f" {percent:3d}%" if percent is not None else ""
        tail += f" {snap.rows:,} rows, {snap.rows_per_second:,.0f}/s" + (
            f", ETA {duration(snap.eta_seconds)}" if snap.eta_seconds is not None else ""
        )
        head = f"{snap.stage} {snap.table}"
        room = self.width - 1 - len(tail) - len(head) - 3
        if room < 10:  # a narrow terminal: the name gives way first
            head = head[: max(8, len(head) + room - 10)]
            room = 10
        cells = min(room, 30)
        filled = cells * (percent or 0) // 100 if percent is not None else 0
        line = f"{head} [{'#' * filled}{'-' * (cells - filled)}]{tail}"[: self.width - 1]
        self.stream.write("\r" + line.ljust(self.width - 1) + ("\n" if snap.done else ""))
        self.stream.flush()


def both(*sinks: Callable[[Snapshot], None] | None) -> Callable[[Snapshot], None] | None:
    """One record callable calling each given sink."""
    given = [s for s in sinks if s is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]

    def record(snap: Snapshot) -> None:
        for sink in given:
            sink(snap)

    return record


class ProgressRows:
    """Writes snapshots into ``table_progress`` of the target through a connection of its own (autocommit: each write
    is its own transaction, visible at once). Opened on the first write; ``close`` when the stage ends."""

    def __init__(self, target: Any, key: RunKey, log: Any) -> None:
        self.target, self.key, self.log = target, key, log
        self._conn: psycopg.Connection[Any] | None = None
        self._broken = False

    def __call__(self, snap: Snapshot) -> None:
        if self._broken:
            return
        try:
            if self._conn is None:
                from databridge.engines.postgres import connect

                self._conn = connect(self.target.info, autocommit=True)
            self._conn.execute(
                f"""INSERT INTO {PROGRESS_TABLE} (project, pipeline, run_id, stage, table_name, chunk, rows, total,
                rows_per_second, eta_seconds, done) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (project, pipeline, run_id, stage, table_name, chunk) DO UPDATE SET rows = EXCLUDED.rows,
                total = EXCLUDED.total, rows_per_second = EXCLUDED.rows_per_second, eta_seconds = EXCLUDED.eta_seconds,
                done = EXCLUDED.done, updated_at = clock_timestamp()""",
                (
                    *self.key.values(),
                    snap.stage,
                    snap.table,
                    snap.chunk,
                    snap.rows,
                    snap.total,
                    snap.rows_per_second,
                    snap.eta_seconds,
                    snap.done,
                ),
            )
        except Exception as exc:  # noqa: BLE001 - progress is a view of the work, never a reason to fail it
            self._broken = True
            self.log.warning(
                "progress of %s %s is no longer recorded in %s (%s); the stage goes on",
                snap.stage,
                snap.table,
                PROGRESS_TABLE,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def progress_of(
    ctx: StageContext, stage: str, table: str, *, total: int | None = None, chunk: int = 0, done_before: int = 0
) -> Progress:
    """A table's reporter in a stage, recording through the stage's progress writer (``progress_rows``)."""
    record = both(progress_rows(ctx), TerminalBar.on(sys.stderr))
    return Progress(
        ctx.log,
        stage,
        table,
        total=total,
        chunk=chunk,
        interval=ctx.plan.progress_seconds,
        done_before=done_before,
        record=record,
    )


def progress_rows(ctx: StageContext) -> ProgressRows:
    """The stage's one progress writer (one extra connection per stage, opened on first use)."""
    if ctx.progress_rows is None:
        ctx.progress_rows = ProgressRows(ctx.target, ctx.store.key, ctx.log)
    rows: ProgressRows = ctx.progress_rows
    return rows


def close(ctx: StageContext) -> None:
    """Close the stage's progress writer, if it opened a connection."""
    if ctx.progress_rows is not None:
        ctx.progress_rows.close()
