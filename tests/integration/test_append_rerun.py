"""An append meeting rows whose keys its target already holds (a rerun after a run that succeeded, or a source that
overlaps what was loaded): the load stops before writing anything with one message, and stores no rejects; with
``on_existing: skip`` it appends only the rows not there yet and the report counts the skipped ones."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.runtime.report import format_report

from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

ROWS = 1000
HINT = (
    "To update those rows write load: upsert; to make the table equal to the source, load: replace; to append only "
    "the rows not there yet, on_existing: skip"
)


def _project(source: Source, options: str = "") -> str:
    return f"""\
name: append_it
pipelines:
  - name: append
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {source.schema}.orders_in
        targets:
          - table: sales.orders
            load: append
            keys: [order_no]{options}
            columns:
              - {{source: order_no}}
              - {{source: qty}}
              - {{source: note}}
"""


def _insert(source: Source, rows: list[tuple[Any, ...]]) -> None:
    cur = source.db.conn.cursor()
    cur.executemany("INSERT INTO orders_in VALUES (%s, %s, %s, %s)", rows)
    cur.close()


def _rows(first: int, last: int, note: str = "first") -> list[tuple[Any, ...]]:
    """Source rows (id, order_no, qty, note) for order numbers first..last."""
    return [(n, n, n % 7, f"{note} {n}") for n in range(first, last + 1)]


@pytest.fixture
def loaded(source: Source, target: TargetDB) -> Source:
    """Orders 1..ROWS in the source, appended to the target by a first run that succeeded."""
    source.db.execute(
        "CREATE TABLE orders_in (id integer PRIMARY KEY, order_no integer, qty integer, note varchar(40))"
    )
    _insert(source, _rows(1, ROWS))
    assert run_pipeline(_project(source), "run-1")["report"]["succeeded"]
    return source


def _overlap(source: Source, overlap: str) -> int:
    """A rerun as it is ("all"), or the source moved on: half of it new rows ("half"). Returns the rows in the
    target."""
    if overlap == "half":
        source.db.execute(f"DELETE FROM orders_in WHERE order_no <= {ROWS // 2}")
        _insert(source, _rows(ROWS + 1, ROWS + ROWS // 2, note="new"))
    return ROWS


def _counts(target: TargetDB, run_id: str) -> tuple[int, int, int]:
    """This run's rejects, load ledger rows and kept versions."""
    return (
        target.scalar("SELECT count(*) FROM databridge.rejects"),
        target.scalar("SELECT count(*) FROM databridge.batch_ledger WHERE run_id = %s AND stage = 'load'", (run_id,)),
        target.scalar("SELECT count(*) FROM databridge.versions WHERE run_id = %s", (run_id,)),
    )


@pytest.mark.parametrize("source", ["postgres", "mysql"], indirect=True)
@pytest.mark.parametrize("overlap", ["all", "half"])
def test_an_append_meeting_keys_already_in_the_target_fails_fast_and_writes_nothing(
    loaded: Source, target: TargetDB, overlap: str
) -> None:
    _overlap(loaded, overlap)
    params = pipeline_params(_project(loaded))
    before = target.checksum("sales.orders")
    for stage in ("extract", "transform"):
        run_stage(params, stage, "run-2")

    with pytest.raises(AirflowFailException) as caught:
        run_stage(params, "load_facts", "run-2")

    present, first = (ROWS, 1) if overlap == "all" else (ROWS // 2, ROWS // 2 + 1)
    keys = ", ".join(str(first + i) for i in range(5))
    message = (
        f"loading sales.orders (append): {present} of {ROWS} incoming row(s) have a key sales.orders already holds "
        f"(order_no = {keys}, ...); nothing written. {HINT}"
    )
    assert str(caught.value) == message
    assert target.checksum("sales.orders") == before
    assert _counts(target, "run-2") == (0, 0, 0)
    with pytest.raises(AirflowFailException):
        run_stage(params, "report", "run-2")
    [(report,)] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-2'")
    assert report["errors"] == [f"load_facts: {message}"]


@pytest.mark.parametrize("source", ["postgres", "mysql"], indirect=True)
@pytest.mark.parametrize("overlap", ["all", "half"])
def test_on_existing_skip_appends_only_the_rows_not_there_yet(loaded: Source, target: TargetDB, overlap: str) -> None:
    _overlap(loaded, overlap)
    if overlap == "half":  # rows already loaded changed in the source since: the target keeps its own
        loaded.db.execute("UPDATE orders_in SET note = 'changed' WHERE order_no <= 600")
    before = target.rows("SELECT order_no, qty, note FROM sales.orders ORDER BY order_no")

    results = run_pipeline(_project(loaded, "\n            on_existing: skip"), "run-2")

    skipped, added = (ROWS, 0) if overlap == "all" else (ROWS // 2, ROWS // 2)
    stat = results["load_facts"]["sales.orders"]
    assert (stat["loaded_rows"], stat["skipped_rows"], stat["rejected_rows"], stat["target_rows"]) == (
        added,
        skipped,
        0,
        ROWS + added,
    )
    assert (
        target.rows(f"SELECT order_no, qty, note FROM sales.orders WHERE order_no <= {ROWS} ORDER BY order_no")
        == before
    )
    assert target.rows(
        f"SELECT order_no, note FROM sales.orders WHERE order_no > {ROWS} ORDER BY order_no LIMIT 1"
    ) == ([(ROWS + 1, f"new {ROWS + 1}")] if added else [])
    assert results["validate"]["passed"] == results["validate"]["checks"]
    assert target.scalar("SELECT count(*) FROM databridge.rejects") == 0
    [(report,)] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-2'")
    [table] = report["tables"]
    assert (table["loaded_rows"], table["skipped_rows"], table["rejected_rows"]) == (added, skipped, 0)
    assert (
        f"Skipped rows, their key already in the target (on_existing: skip):\n  sales.orders: {skipped} row(s)"
        in format_report(report)
    )
    [proof] = report["proofs"]
    assert proof["status"] == "proven"
    assert proof["detail"].startswith(f"{added} rows proven: ready -> target")
    assert proof["detail"].endswith(
        f"source -> target not compared: {skipped} row(s) skipped, their key already in the target (on_existing: skip)"
    )
    [count] = [v for v in report["validations"] if v["check"] == "row count sales.orders"]
    assert count["passed"] and count["detail"].endswith(
        f", skipped {skipped} whose key the target already held (on_existing: skip)"
    )


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_a_table_made_beforehand_is_checked_by_its_primary_key_in_its_own_types(
    source: Source, target: TargetDB
) -> None:
    """No keys in the mapping: the table's primary key (bigint, the source's integer cast to it) tells the rows."""
    source.db.execute(
        "CREATE TABLE orders_in (id integer PRIMARY KEY, order_no integer, qty integer, note varchar(40))"
    )
    _insert(source, _rows(1, ROWS))
    target.execute("CREATE SCHEMA sales")
    target.execute("CREATE TABLE sales.orders (order_no bigint PRIMARY KEY, qty bigint, note text)")
    target.execute("INSERT INTO sales.orders SELECT g, 0, 'earlier' FROM generate_series(995, 1010) g")
    params = pipeline_params(_project(source).replace("\n            keys: [order_no]", ""))
    for stage in ("extract", "transform"):
        run_stage(params, stage, "run-1")

    with pytest.raises(AirflowFailException) as caught:
        run_stage(params, "load_facts", "run-1")

    assert str(caught.value).startswith(
        f"loading sales.orders (append): 6 of {ROWS} incoming row(s) have a key sales.orders already holds "
        "(order_no = 995, 996, 997, 998, 999, ...); "
    )
    assert _counts(target, "run-1") == (0, 0, 0) and target.count("sales.orders") == 16


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_skipping_leaves_keys_repeated_within_the_source_to_the_rejects(loaded: Source, target: TargetDB) -> None:
    """Two new rows repeat a new key: above max_rejects the load fails with the rejects kept; raised, a retry of the
    load in the same run loads the rest and still counts the rows skipped by the failed try."""
    _overlap(loaded, "half")
    _insert(loaded, [(5001, ROWS + 1, 1, "again"), (5002, ROWS + 2, 1, "again")])
    for stage in ("extract", "transform"):
        run_stage(pipeline_params(_project(loaded, "\n            on_existing: skip")), stage, "run-2")

    with pytest.raises(AirflowFailException) as caught:
        run_stage(
            pipeline_params(_project(loaded, "\n            on_existing: skip\n            max_rejects: 1")),
            "load_facts",
            "run-2",
        )

    assert str(caught.value).startswith(
        f"loading sales.orders (append): 2 of {ROWS // 2 + 2} row(s) rejected, more than max_rejects (1) allows"
    )
    assert target.count("sales.orders") == ROWS
    params = pipeline_params(_project(loaded, "\n            on_existing: skip\n            max_rejects: 2"))
    stat = run_stage(params, "load_facts", "run-2")["sales.orders"]
    assert (stat["loaded_rows"], stat["skipped_rows"], stat["rejected_rows"]) == (ROWS // 2, ROWS // 2, 2)
    assert [r[0] for r in target.rows("SELECT reason FROM databridge.rejects ORDER BY 1")] == [
        f"duplicate key (order_no)=({ROWS + 1}): an earlier row has it",
        f"duplicate key (order_no)=({ROWS + 2}): an earlier row has it",
    ]
    result = run_stage(params, "validate", "run-2")
    assert result["passed"] == result["checks"]
