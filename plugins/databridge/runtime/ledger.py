"""The batch ledger: each batch a stage commits, recorded in the transaction that commits its rows.

A batch's rows and its ledger row commit together, so the ledger never claims rows the target does not hold and
never misses rows it holds: a retried or cleared task reads where its table (or chunk) stopped and goes on from
there. Extract batches record their key range (``lower <= key < upper``, as JSON like the chunk bounds); a table
without a usable key is one batch per chunk; a load is one batch per table (its one transaction).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from databridge.engines.chunks import decode_bound, encode_bound
from databridge.runtime.results import RESULTS_SCHEMA, RunKey

LEDGER = f"{RESULTS_SCHEMA}.batch_ledger"
_WHERE = "project = %s AND pipeline = %s AND run_id = %s AND stage = %s AND table_name = %s"


@dataclass(frozen=True)
class Place:
    """Where a ledger position is: one chunk of one table in one stage of one run."""

    key: RunKey
    stage: str
    table: str
    chunk: int = 0

    def params(self) -> tuple[str, ...]:
        return (*self.key.values(), self.stage, self.table)


@dataclass(frozen=True)
class Committed:
    """The last committed batch of a chunk."""

    batch: int
    upper: Any
    final: bool
    rows: int
    """Rows of every committed batch of the chunk."""


def lock(cur: Any, place: Place) -> None:
    """Serialise the attempts on one chunk (a retry beside a process still finishing): held to the commit."""
    cur.execute(
        "SELECT pg_advisory_xact_lock(hashtext(%s))",
        ("databridge-ledger/" + "/".join(map(str, (*place.params(), place.chunk))),),
    )


def last(cur: Any, place: Place) -> Committed | None:
    row = cur.execute(
        f"""SELECT batch, upper, final, sum(rows) OVER () FROM {LEDGER} WHERE {_WHERE} AND chunk = %s
        ORDER BY batch DESC LIMIT 1""",
        (*place.params(), place.chunk),
    ).fetchone()
    if row is None:
        return None
    return Committed(int(row[0]), None if row[1] is None else decode_bound(row[1]), bool(row[2]), int(row[3]))


def record(
    cur: Any,
    place: Place,
    batch: int,
    rows: int,
    *,
    lower: Any = None,
    upper: Any = None,
    final: bool = True,
    resumed: bool = False,
) -> None:
    cur.execute(
        f"""INSERT INTO {LEDGER} (project, pipeline, run_id, stage, table_name, chunk, batch, lower, upper, rows,
        final, resumed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (*place.params(), place.chunk, batch, _json(lower), _json(upper), rows, final, resumed),
    )


def staged_rows(cur: Any, place: Place) -> int:
    """Rows committed for the table, every chunk."""
    return int(cur.execute(f"SELECT coalesce(sum(rows), 0) FROM {LEDGER} WHERE {_WHERE}", place.params()).fetchone()[0])


_RUN = "project = %s AND pipeline = %s AND run_id = %s"
_PROGRESS = f"""SELECT t.name,
    (SELECT count(*) FROM {LEDGER} l WHERE {_RUN} AND stage = 'extract' AND table_name = t.name AND final),
    coalesce((SELECT max(chunks) FROM {RESULTS_SCHEMA}.extract_chunks WHERE {_RUN} AND table_name = t.name), 1)
    FROM unnest(%s::text[]) AS t(name)"""


def progress(cur: Any, key: RunKey, tables: list[str]) -> dict[str, tuple[int, int]]:
    """Per table: (chunks whose last batch is committed in this run, chunks)."""
    rows = cur.execute(_PROGRESS, (*key.values(), *key.values(), tables)).fetchall()
    return {name: (int(done), int(total)) for name, done, total in rows}


def forget_extract(cur: Any, key: RunKey, tables: list[str] | None = None, *, keep_splits: bool = False) -> None:
    """Drop a run's extract batches (of ``tables``, or all), and their chunk splits unless ``keep_splits``: staging no
    longer holds their rows, or they must be read again."""
    only, params = ("", key.values()) if tables is None else (" AND table_name = ANY(%s)", (*key.values(), tables))
    cur.execute(f"DELETE FROM {LEDGER} WHERE {_RUN} AND stage = 'extract'{only}", params)
    if not keep_splits:
        cur.execute(f"DELETE FROM {RESULTS_SCHEMA}.extract_chunks WHERE {_RUN}{only}", params)


def resumes(cur: Any, key: RunKey) -> dict[str, list[str]]:
    """Per table, where the extract went on after a failure: "chunk 2/4 resumed at batch 7 of 12"."""
    rows = cur.execute(
        f"""SELECT table_name, chunk, array_agg(batch + 1 ORDER BY batch) FILTER (WHERE resumed), max(batch) + 1,
        bool_or(final), (SELECT max(chunks) FROM {RESULTS_SCHEMA}.extract_chunks c WHERE c.project = l.project
        AND c.pipeline = l.pipeline AND c.run_id = l.run_id AND c.table_name = l.table_name)
        FROM {LEDGER} l WHERE project = %s AND pipeline = %s AND run_id = %s AND stage = 'extract'
        GROUP BY project, pipeline, run_id, stage, table_name, chunk HAVING bool_or(resumed)
        ORDER BY table_name, chunk""",
        key.values(),
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, chunk, at, batches, final, chunks in rows:
        where = f"chunk {chunk + 1}/{chunks} " if chunks and chunks > 1 else ""
        of = f" of {batches}" if final else ""
        out.setdefault(table, []).extend(f"{where}resumed at batch {n}{of}" for n in at)
    return out


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(encode_bound(value))
