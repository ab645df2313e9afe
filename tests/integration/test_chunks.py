"""Chunked extract on real PostgreSQL, MariaDB and SQLite sources: every row in exactly one chunk (skewed keys, NULL
keys, tables without a key), the same split for the same data, and chunked runs that load exactly the source rows."""

from __future__ import annotations

import collections
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from bson import ObjectId

from databridge.compiler.plan import TableRef
from databridge.engines import open_source
from databridge.engines.capabilities import ChunkableSource
from databridge.engines.chunks import HASH, Split
from databridge.operators.base import connection_info
from tests.conftest import airflow_conn

from .conftest import TARGET_CONN, Source
from .mongo_source import mongo_client, mongo_conn_fields, mongo_database
from .runner import STAGES, TargetDB, pipeline_params, run_stage

pytestmark = pytest.mark.integration
__all__ = ["mongo_database"]  # the fixture, used by name

ROWS = 3000
KEYED = {
    "postgres": "CREATE TABLE events (id integer PRIMARY KEY, grp integer, day date, note text)",
    "mysql": "CREATE TABLE events (id INT PRIMARY KEY, grp INT, day DATE, note TEXT)",
    "sqlite": "CREATE TABLE events (id INTEGER PRIMARY KEY, grp INTEGER, day DATE, note TEXT)",
}
NO_KEY = {  # no primary key, and repeated rows
    "postgres": "CREATE TABLE loose (id integer, note text)",
    "mysql": "CREATE TABLE loose (id INT, note TEXT)",
    "sqlite": "CREATE TABLE loose (id INTEGER, note TEXT)",
}


def event(i: int) -> tuple[Any, ...]:
    """Skewed on purpose: 70% of the rows share grp 1, every tenth grp is NULL; ids have a large gap."""
    grp = None if i % 10 == 0 else (1 if i % 10 < 8 else i)
    key = i if i < ROWS // 2 else i + 1_000_000
    return (key, grp, dt.date(2024, 1, 1) + dt.timedelta(days=i % 400), f"row {i}\ttab\\slash")


def fill(source: Source) -> list[tuple[Any, ...]]:
    source.db.execute(KEYED[source.engine])
    source.db.execute(NO_KEY[source.engine])
    rows = [event(i) for i in range(ROWS)]
    mark = source.db.mark
    cur = source.db.conn.cursor()
    native = [(r[0], r[1], r[2].isoformat() if source.engine == "sqlite" else r[2], r[3]) for r in rows]
    cur.executemany(f"INSERT INTO events VALUES ({mark}, {mark}, {mark}, {mark})", native)
    cur.executemany(f"INSERT INTO loose VALUES ({mark}, {mark})", [(i % 700, f"n{i % 700}") for i in range(ROWS)])
    if source.engine == "sqlite":
        source.db.conn.commit()
    return rows


class Collect:
    """A sink keeping the first value of every row (rows, or COPY text lines from a PostgreSQL source)."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def write_row(self, row: Any) -> None:
        self.ids.append(int(row[0]))

    def write(self, buffer: bytes | str) -> None:
        data = buffer.encode() if isinstance(buffer, str) else bytes(buffer)
        self.ids += [int(line.split(b"\t", 1)[0]) for line in data.splitlines()]


def chunk_ids(engine: Any, table: str, split: Split) -> list[list[int]]:
    ref = TableRef(None, table)
    columns = engine.columns(ref)
    out = []
    for index in range(split.count):
        sink = Collect()
        chunk = split.chunk(index)
        assert engine.copy_rows(ref, columns, sink, 500, chunk=chunk) == len(sink.ids) == engine.row_count(ref, chunk)
        out.append(sink.ids)
    return out


@pytest.mark.parametrize("key", ["id", "grp", "day"])
def test_every_row_is_in_exactly_one_chunk_and_the_split_is_deterministic(source: Source, key: str) -> None:
    rows = fill(source)
    engine = open_source(connection_info(source.conn_id))
    try:
        assert isinstance(engine, ChunkableSource)
        split = engine.split(TableRef(None, "events"), key, 4)
        assert split == engine.split(TableRef(None, "events"), key, 4)  # same data, same boundaries
        assert list(split.bounds) == sorted(set(split.bounds))
        chunks = chunk_ids(engine, "events", split)
    finally:
        engine.close()
    assert sorted(i for c in chunks for i in c) == sorted(r[0] for r in rows)
    if key == "grp":  # 70% share one value: the split cannot cut inside it, and the NULLs are all in chunk 0
        assert split.count < 4
        assert {r[0] for r in rows if r[1] is None} <= set(chunks[0])
    else:
        assert split.count == 4 and all(len(c) > ROWS // 8 for c in chunks)


def test_a_table_without_a_key_is_still_split_into_disjoint_chunks(source: Source) -> None:
    fill(source)
    engine = open_source(connection_info(source.conn_id))
    try:
        assert isinstance(engine, ChunkableSource)
        split = engine.split(TableRef(None, "loose"), None, 3)
        chunks = chunk_ids(engine, "loose", split)
    finally:
        engine.close()
    expected = {"postgres": "ctid", "mysql": "row", "sqlite": "rowid"}[source.engine]
    assert split.key == expected and (split.method == HASH) == (source.engine == "mysql")
    got = collections.Counter(i for c in chunks for i in c)
    assert got == collections.Counter(i % 700 for i in range(ROWS))
    if source.engine != "postgres":  # the PostgreSQL table fits in a few pages: it may be one chunk
        assert split.count == 3 and all(chunks)


def chunked_project(source: Source, chunks: int = 4, min_rows: int = 0, extra: str = "") -> str:
    return f"""\
name: chunked_it
defaults: {{chunking: {{chunks: 2, min_rows: {min_rows}}}}}
pipelines:
  - name: chunked
    source_conn_id: {source.conn_id}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {source.schema}.events
        chunks: {chunks}{extra}
        targets:
          - table: landing.events
            keys: [id]
            columns: [{{source: id}}, {{source: grp}}, {{source: day}}, {{source: note}}]
      - source: {source.schema}.loose
        targets:
          - table: landing.loose
            columns: [{{source: id}}, {{source: note}}]
"""


def run_chunked(yaml_text: str, run_id: str, instances: int) -> None:
    """The extract's mapped instances at once (as workers would run them), then the other stages in order."""
    params = pipeline_params(yaml_text)
    with ThreadPoolExecutor(instances) as pool:
        list(pool.map(lambda k: run_stage(params, "extract", run_id, chunk=k), range(instances)))
    for stage in STAGES[1:]:
        run_stage(params, stage, run_id)


def test_a_chunked_run_loads_exactly_the_source_rows(source: Source, target: TargetDB) -> None:
    rows = fill(source)
    run_chunked(chunked_project(source, extra="\n        chunk_key: grp"), "run-1", 4)
    landed = target.rows("SELECT id, grp, day, note FROM landing.events ORDER BY id")
    assert landed == sorted(rows)
    assert target.count("landing.loose") == ROWS
    chunks = dict(
        target.rows(
            "SELECT table_name, array[count(*), count(finished_at), sum(staged_rows)] FROM "
            "databridge.extract_chunks GROUP BY 1"
        )
    )
    assert chunks[f"{source.schema}.loose"] == [2, 2, ROWS]  # the project's default: 2 chunks
    events = chunks[f"{source.schema}.events"]  # 4 asked; fewer, as 70% of the keys are one value
    assert 1 < events[0] < 4 and events[1:] == [events[0], ROWS]
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-1' AND succeeded")
    assert report[0]["totals"]["source_rows"] == 2 * ROWS and report[0]["totals"]["loaded_rows"] == 2 * ROWS
    assert {t["target"]: t["extract_chunks"] for t in report[0]["tables"]} == {
        "landing.events": events[0],
        "landing.loose": 2,
    }
    assert target.scalar("SELECT count(*) FROM databridge.validation_results WHERE NOT passed") == 0

    # A retried chunk that had committed is not read again: no duplicate, same totals.
    params = pipeline_params(chunked_project(source, extra="\n        chunk_key: grp"))
    assert run_stage(params, "extract", "run-1", chunk=1)[f"{source.schema}.events"]["staged_rows"] == ROWS
    assert target.count("landing.events") == ROWS
    assert target.tables("databridge_staging") == []  # both pass-through: moved into their targets by the load


def test_a_table_under_the_row_threshold_is_one_chunk(source: Source, target: TargetDB) -> None:
    fill(source)
    params = pipeline_params(chunked_project(source, min_rows=10 * ROWS))  # the catalog's estimate may be a little off
    assert run_stage(params, "extract", "run-1", chunk=1) == {}  # nothing for instance 1: every table is one chunk
    summary = run_stage(params, "extract", "run-1", chunk=0)
    assert {s["staged_rows"] for s in summary.values()} == {ROWS} and "chunks" not in summary[f"{source.schema}.events"]
    assert target.rows("SELECT DISTINCT chunks FROM databridge.extract_chunks") == [(1,)]


# --- MongoDB: _id ranges -------------------------------------------------------------------------------------------


def mongo_engine(database: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    airflow_conn(monkeypatch, "it_mongo", **mongo_conn_fields(database))
    return open_source(connection_info("it_mongo"))


class Rows:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def write_row(self, row: Any) -> None:
        self.rows.append(tuple(row))


def mongo_rows(engine: Any, table: str, split: Split, column: str) -> list[list[str]]:
    """``column`` of every row of every chunk, as text."""
    ref = TableRef(None, table)
    columns = engine.columns(ref)
    at = [c.name for c in columns].index(column)
    out = []
    for index in range(split.count):
        chunk, sink = split.chunk(index), Rows()
        assert engine.copy_rows(ref, columns, sink, 500, chunk=chunk) == len(sink.rows) == engine.row_count(ref, chunk)
        out.append([str(r[at]) for r in sink.rows])
    return out


def test_mongo_collections_and_their_arrays_split_by_id(mongo_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [{"_id": ObjectId(), "n": i, "items": [{"k": j} for j in range(i % 3)]} for i in range(2000)]
    mongo_client()[mongo_database].orders.insert_many(docs)
    engine = mongo_engine(mongo_database, monkeypatch)
    try:
        split = engine.split(TableRef(None, "orders"), None, 4)
        assert split.count == 4 and split == engine.split(TableRef(None, "orders"), None, 4)
        parents = mongo_rows(engine, "orders", split, "_id")
        children = mongo_rows(engine, "orders.items", split, "_parent_id")
    finally:
        engine.close()
    assert sorted(i for c in parents for i in c) == sorted(str(d["_id"]) for d in docs) and all(
        len(c) == 500 for c in parents
    )
    expected = collections.Counter(str(d["_id"]) for d in docs for _ in d["items"])
    assert collections.Counter(i for c in children for i in c) == expected
    assert all(set(p) >= set(c) for p, c in zip(parents, children, strict=True))  # elements go with their document


def test_mongo_ids_of_another_type_than_the_boundaries_land_in_the_first_chunk(
    mongo_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs: list[dict[str, Any]] = (
        [{"_id": i * 3, "v": i} for i in range(900)]
        + [{"_id": f"s{i}", "v": 1000 + i} for i in range(5)]
        + [{"_id": None, "v": -1}]
    )
    mongo_client()[mongo_database].mixed.insert_many(docs)
    engine = mongo_engine(mongo_database, monkeypatch)
    try:
        split = engine.split(TableRef(None, "mixed"), None, 3)
        chunks = mongo_rows(engine, "mixed", split, "v")
    finally:
        engine.close()
    assert split.count == 3 and all(isinstance(b, int) for b in split.bounds)
    assert sorted(i for c in chunks for i in c) == sorted(str(d["v"]) for d in docs)
    assert {"1000", "1004", "-1"} <= set(chunks[0])


def test_a_chunked_mongo_run_loads_every_document_and_element(
    mongo_database: str, monkeypatch: pytest.MonkeyPatch, target: TargetDB
) -> None:
    docs = [{"_id": ObjectId(), "n": i, "items": [{"k": j} for j in range(i % 3)]} for i in range(1500)]
    mongo_client()[mongo_database].orders.insert_many(docs)
    airflow_conn(monkeypatch, "it_mongo", **mongo_conn_fields(mongo_database))
    project = f"""\
name: mongo_chunks
defaults: {{chunking: {{chunks: 3, min_rows: 0}}}}
pipelines:
  - name: m
    source_conn_id: it_mongo
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {mongo_database}.orders
        targets: [{{table: landing.orders, keys: [_id], columns: [{{source: _id}}, {{source: n}}], role: dimension}}]
      - source: {mongo_database}."orders.items"
        targets: [{{table: landing.items, columns: [{{source: _parent_id}}, {{source: _index}}, {{source: k}}]}}]
"""
    run_chunked(project, "run-1", 3)
    assert target.count("landing.orders") == 1500 and target.count("landing.items") == sum(i % 3 for i in range(1500))
    assert target.scalar("SELECT sum(n) FROM landing.orders") == sum(range(1500))
    assert target.rows("SELECT DISTINCT chunks FROM databridge.extract_chunks") == [(3,)]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_later_instances_and_retries_read_the_stored_ranges_even_if_the_data_moved(
    source: Source, target: TargetDB
) -> None:
    fill(source)
    params = pipeline_params(chunked_project(source))
    run_stage(params, "extract", "run-1", chunk=0)  # splits every table, copies chunk 0
    stored = target.rows("SELECT table_name, chunk, lower, upper FROM databridge.extract_chunks ORDER BY 1, 2")
    source.db.execute("DELETE FROM events WHERE id < 1000")  # a new split would now cut elsewhere
    engine = open_source(connection_info(source.conn_id))
    try:
        assert isinstance(engine, ChunkableSource)
        fresh = engine.split(TableRef(None, "events"), "id", 4)
    finally:
        engine.close()
    for k in (1, 2, 3, 1):  # the last one a retry
        run_stage(params, "extract", "run-1", chunk=k)
    assert target.rows("SELECT table_name, chunk, lower, upper FROM databridge.extract_chunks ORDER BY 1, 2") == stored
    events = [(lower, upper) for table, _, lower, upper in stored if table.endswith(".events")]
    assert events[1][0] != {"type": "int", "value": fresh.bounds[0]}
    staged = target.count(f'databridge_staging."{params["sources"][0]["staging_table"]}"')
    assert staged == ROWS - 1000 + sum(
        1 for i in range(1000) if event(i)[0] < events[0][1]["value"]
    )  # chunk 0 was read before the delete


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_tables_parallel_limits_its_chunks_running_at_once(source: Source, target: TargetDB) -> None:
    rows = fill(source)
    project = chunked_project(source, extra="\n        parallel: 1").replace(
        "defaults: {", "defaults: {commit_rows: 200, ", 1
    )
    run_chunked(project, "run-1", 4)  # four instances at once, as four workers would run them
    spans = target.rows(
        "SELECT started_at, finished_at FROM databridge.extract_chunks WHERE table_name = %s ORDER BY started_at",
        (f"{source.schema}.events",),
    )
    assert len(spans) == 4
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False)), spans  # one at a time
    loose = target.rows(
        "SELECT started_at, finished_at FROM databridge.extract_chunks WHERE table_name = %s",
        (f"{source.schema}.loose",),
    )
    assert len(loose) == 2  # no limit of its own
    assert target.rows("SELECT id, grp, day, note FROM landing.events ORDER BY id") == sorted(rows)
