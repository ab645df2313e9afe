"""Rejected rows: a few bad rows among thousands are set aside with their reason, the rest loads, the report counts
them; above the table's max_rejects the table fails, names the count and reasons, and nothing of it is written."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from .conftest import Source
from .runner import TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

ROWS = 3000
BAD_QTY = {500: "12x", 1500: "n/a"}
"""Rows whose qty is not an integer: the transform rejects them."""
LONG_CODE = {700: "ABCDEFGHIJ"}
"""A code longer than varchar(6): rejected, never cut."""
DUPLICATES = {2001: 2000, 2501: 2500}
"""Rows (by source id) whose order_no repeats an earlier row's: the load rejects the later one."""
NULL_KEYS = {2999}
"""A NULL order_no: the key of the target may not be NULL."""


def _source_rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, ROWS + 1):
        order_no = None if i in NULL_KEYS else DUPLICATES.get(i, i)
        rows.append((i, order_no, BAD_QTY.get(i, str(i % 50)), LONG_CODE.get(i, f"C{i % 7}"), f"note {i}"))
    return rows


def _project(source: Source, target: TargetDB, load: str = "replace", max_rejects: str = "10") -> str:
    return f"""\
name: rejects_it
pipelines:
  - name: rejects
    source_conn_id: {source.conn_id}
    target_conn_id: {target.conn_id}
    tables:
      - source: {source.schema}.orders_in
        targets:
          - table: sales.orders
            load: {load}
            keys: [order_no]
            max_rejects: {max_rejects}
            columns:
              - {{source: order_no, type: bigint}}
              - {{source: qty, type: integer}}
              - {{source: code, transform: [trim], type: varchar(6)}}
              - {{source: note}}
"""


@pytest.fixture
def orders(source: Source) -> Source:
    source.db.execute(
        "CREATE TABLE orders_in (id integer PRIMARY KEY, order_no integer, qty text, code text, note text)"
    )
    if source.engine == "postgres":
        with source.db.conn.cursor().copy("COPY orders_in FROM STDIN") as copy:
            for row in _source_rows():
                copy.write_row(row)
    else:
        source.db.insert("orders_in", _source_rows())
    return source


def _good_rows() -> list[tuple[Any, ...]]:
    bad = set(BAD_QTY) | set(LONG_CODE) | set(DUPLICATES) | NULL_KEYS
    return sorted((o, int(q), c, n) for i, o, q, c, n in _source_rows() if i not in bad)


def _rejects(target: TargetDB, run_id: str) -> list[tuple[Any, ...]]:
    return target.rows(
        """SELECT stage, column_name, reason, (row_data->>'order_no')::bigint FROM databridge.rejects
        WHERE run_id = %s ORDER BY stage DESC, 4 NULLS LAST, reason""",
        (run_id,),
    )


EXPECTED_REJECTS = [
    ("transform", "qty", 'invalid input syntax for type integer: "12x"', 500),
    ("transform", "code", "value too long for type character varying(6)", 700),
    ("transform", "qty", 'invalid input syntax for type integer: "n/a"', 1500),
    ("load", "order_no", "duplicate key (order_no)=(2000): an earlier row has it", 2000),
    ("load", "order_no", "duplicate key (order_no)=(2500): an earlier row has it", 2500),
    ("load", "order_no", 'null value in column "order_no" violates not-null constraint', None),
]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
@pytest.mark.parametrize("load", ["replace", "append", "upsert"])
def test_bad_rows_are_set_aside_and_the_rest_loads(orders: Source, target: TargetDB, load: str) -> None:
    result = run_pipeline(_project(orders, target, load), "rj-1")

    assert target.rows("SELECT order_no, qty, code, note FROM sales.orders ORDER BY order_no") == _good_rows()
    assert _rejects(target, "rj-1") == EXPECTED_REJECTS
    row = target.scalar("SELECT row_data FROM databridge.rejects WHERE run_id = 'rj-1' AND column_name = 'code'")
    assert row == {"order_no": 700, "qty": "0", "code": "ABCDEFGHIJ", "note": "note 700"}
    assert result["transform"]["sales.orders"]["rejected_rows"] == 3
    assert result["load_facts"]["sales.orders"]["rejected_rows"] == 3
    assert result["validate"]["passed"] == result["validate"]["checks"]
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'rj-1'")
    [table] = report[0]["tables"]
    assert (table["rejected_rows"], table["loaded_rows"]) == (6, ROWS - 6)
    assert any("3 of 3000 row(s) rejected (max_rejects 10), the rest loaded" in w for w in report[0]["warnings"])


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_rejects_over_the_threshold_fail_the_table_and_write_none_of_it(orders: Source, target: TargetDB) -> None:
    params = pipeline_params(_project(orders, target, max_rejects="2"))
    run_stage(params, "extract", "rj-2")

    with pytest.raises(AirflowFailException) as caught:
        run_stage(params, "transform", "rj-2")

    assert str(caught.value) == (
        f"transforming {orders.schema}.orders_in into sales.orders: 3 of 3000 row(s) rejected, more than "
        "max_rejects (2) allows; "
        "nothing of sales.orders written. column 'code': value too long for type character varying(6) (1 row); "
        "column 'qty': invalid input syntax for type integer: \"12x\" (1 row); column 'qty': invalid input "
        'syntax for type integer: "n/a" (1 row). '
        "Every rejected row is in databridge.rejects (run_id 'rj-2'); fix the mapping's type, transform or "
        "default, or raise max_rejects"
    )
    assert _rejects(target, "rj-2") == EXPECTED_REJECTS[:3]
    assert target.tables("sales") == []


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_load_rejects_over_a_percentage_leave_the_table_as_it_was(orders: Source, target: TargetDB) -> None:
    """New keys, but every note already in the table, which holds its notes unique."""
    run_pipeline(_project(orders, target, "append", max_rejects="10"), "rj-3")
    target.execute("CREATE UNIQUE INDEX orders_note ON sales.orders (note)")
    orders.db.execute("UPDATE orders_in SET order_no = order_no + 10000")
    before = target.checksum("sales.orders")
    params = pipeline_params(_project(orders, target, "append", max_rejects="'5%'"))
    for stage in ("extract", "transform"):
        run_stage(params, stage, "rj-4")

    with pytest.raises(AirflowFailException) as caught:
        run_stage(params, "load_facts", "rj-4")

    message = str(caught.value)
    assert message.startswith(
        f"loading sales.orders (append): {ROWS - 3} of {ROWS - 3} row(s) rejected, more than max_rejects (5%) allows"
    )
    assert "column 'note': key (note)=(note " in message and ") already exists in the target" in message
    assert target.checksum("sales.orders") == before
    assert target.scalar("SELECT count(*) FROM databridge.rejects WHERE run_id = 'rj-4' AND stage = 'load'") == ROWS - 3


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
@pytest.mark.parametrize("load", ["replace", "append", "upsert"])
def test_rows_breaking_the_target_tables_own_constraints_are_set_aside(
    orders: Source, target: TargetDB, load: str
) -> None:
    """An existing target with a CHECK and a foreign key: a missing parent and a failing CHECK reject their rows
    only."""
    target.execute("CREATE SCHEMA sales")
    target.execute("CREATE TABLE sales.valid_orders (order_no bigint PRIMARY KEY)")
    target.execute("INSERT INTO sales.valid_orders SELECT g FROM generate_series(1, 3000) g WHERE g NOT IN (100, 200)")
    target.execute(
        """CREATE TABLE sales.orders (order_no bigint PRIMARY KEY REFERENCES sales.valid_orders, qty integer,
        code varchar(6), note text CONSTRAINT note_is_not_300 CHECK (note <> 'note 300'))"""
    )

    result = run_pipeline(_project(orders, target, load), "rj-5")

    good = [r for r in _good_rows() if r[0] not in (100, 200, 300)]
    assert target.rows("SELECT order_no, qty, code, note FROM sales.orders ORDER BY order_no") == good
    assert _rejects(target, "rj-5") == sorted(
        [
            *EXPECTED_REJECTS,
            ("load", "order_no", "key (order_no)=(100) is not present in table sales.valid_orders", 100),
            ("load", "order_no", "key (order_no)=(200) is not present in table sales.valid_orders", 200),
            ("load", "(check)", 'violates check constraint "note_is_not_300"', 300),
        ],
        key=lambda r: (r[0] != "transform", r[3] is None, r[3] or 0),
    )
    assert result["load_facts"]["sales.orders"]["rejected_rows"] == 6
