"""The Arrow path: MySQL read as Arrow by ConnectorX and staged by binary COPY, batch by batch with the ledger.

Every value must come through exactly as the row path brings it; every case the Arrow path cannot take must still
load by the row path.
"""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal

import pytest
from airflow.sdk.exceptions import AirflowFailException

from .conftest import Source
from .runner import TargetDB, passthrough_yaml, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

COLUMNS = ["n", "big", "small", "price", "ratio", "label", "body", "doc", "flag", "day", "at"]
DDL = """CREATE TABLE vals (id INT PRIMARY KEY, n INT, big BIGINT, small TINYINT, price DECIMAL(28,10), ratio DOUBLE,
  label VARCHAR(20), body TEXT, doc JSON, flag TINYINT(1), day DATE, at DATETIME(6))"""
ROWS = [
    (
        1,
        -2147483648,
        -9223372036854775808,
        -128,
        Decimal("-123456789012345678.0123456789"),
        0.1,
        "tab\there",
        "line\nbreak\\back\\slash\r\ncrlf 'quote' \"dq\" 🦆",
        '{"a": [1, 2.5, null], "b": "x\\ty"}',
        1,
        dt.date(1, 1, 1),
        dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
    ),
    (
        2,
        2147483647,
        9223372036854775807,
        127,
        Decimal("0.0000000001"),
        5e-324,
        "",
        "",
        "[]",
        0,
        dt.date(9999, 12, 31),
        dt.datetime(1000, 1, 1),
    ),
    (3, None, None, None, None, None, None, None, None, None, None, None),
    (
        4,
        0,
        0,
        0,
        Decimal("0"),
        -1.7976931348623157e308,
        "\\N",
        "NULL",
        '"s"',
        1,
        dt.date(2024, 1, 1),
        dt.datetime(2024, 1, 1, 0, 0, 0, 1),
    ),
    (5, 1, 1, 1, Decimal("100.5000000000"), 0.0, "x", "y", "{}", 0, dt.date(2000, 2, 29), dt.datetime(1970, 1, 1)),
]
DOUBLES = [0.1, 5e-324, -1.7976931348623157e308, 1 / 3, 2**53 + 0.0, 123456.78901234567]


def _bits(value: float) -> bytes:
    return struct.pack(">d", value)


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_arrow_path_keeps_every_value(source: Source, target: TargetDB) -> None:
    source.db.execute(DDL)
    for row in ROWS:
        source.db.execute(f"INSERT INTO vals VALUES ({', '.join(['%s'] * len(row))})", row)
    for i, value in enumerate(DOUBLES, start=10):
        source.db.execute("INSERT INTO vals (id, ratio) VALUES (%s, %s)", (i, value))
    source.db.execute(
        f"INSERT INTO vals (id, ratio, label) VALUES {', '.join(f'({i}, {i} / 7e0, {i})' for i in range(100, 350))}"
    )
    total = len(ROWS) + len(DOUBLES) + 250
    # Batches of 100 rows: several transactions, each with its ledger row.
    project = passthrough_yaml("fast", source.conn_id, target.conn_id, f"{source.schema}.vals", COLUMNS).replace(
        "pipelines:", "defaults:\n  commit_rows: 100\npipelines:", 1
    )
    result = run_pipeline(project, "fast-1")
    stat = result["extract"][f"{source.schema}.vals"]
    assert stat["path"] == "arrow"
    assert stat["staged_rows"] == total
    batches = target.scalar(
        "SELECT count(*) FROM databridge.batch_ledger WHERE run_id = 'fast-1' AND stage = 'extract'"
    )
    assert batches == -(-total // 100)
    assert (
        target.scalar("SELECT count(*) FROM landing.vals WHERE id >= 100 AND ratio = id / 7e0 AND label = id::text")
        == 250
    )

    got = target.rows(f"SELECT id, {', '.join(COLUMNS)} FROM landing.vals WHERE id < 10 ORDER BY id")
    for row, want in zip(got, ROWS, strict=True):
        assert row[:8] == want[:8]
        assert row[9] == (None if want[9] is None else bool(want[9]))
        assert row[10:] == want[10:]
    docs = target.rows("SELECT id, doc FROM landing.vals WHERE id < 10 ORDER BY id")
    assert [d for _, d in docs] == [{"a": [1, 2.5, None], "b": "x\ty"}, [], None, "s", {}]
    ratios = dict(target.rows("SELECT id, ratio FROM landing.vals WHERE id >= 10"))
    assert [_bits(ratios[i]) for i in range(10, 10 + len(DOUBLES))] == [_bits(v) for v in DOUBLES]
    types = target.column_types("landing", "vals")
    assert (types["flag"], types["price"], types["label"]) == ("boolean", "numeric(28,10)", "character varying(20)")


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_zero_dates_fall_back_to_the_row_path(source: Source, target: TargetDB) -> None:
    source.db.execute("SET SESSION sql_mode = ''")
    source.db.execute("CREATE TABLE zd (id INT PRIMARY KEY, day DATE, at DATETIME)")
    source.db.execute(
        "INSERT INTO zd VALUES (1, '0000-00-00', '2024-01-02 03:04:05'), (2, '2024-05-06', '0000-00-00 00:00:00')"
    )
    project = passthrough_yaml(
        "zd", source.conn_id, target.conn_id, f"{source.schema}.zd", ["day", "at"], "zero_dates: 'null'"
    )
    stat = run_stage(pipeline_params(project), "extract", "zd-1")[f"{source.schema}.zd"]
    assert stat["path"] == "rows"
    assert stat["staged_rows"] == 2
    assert target.rows(
        f'SELECT id, day, at FROM databridge_staging."{target.tables("databridge_staging")[0]}" ORDER BY id'
    ) == [
        (1, None, dt.datetime(2024, 1, 2, 3, 4, 5)),
        (2, dt.date(2024, 5, 6), None),
    ]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_zero_date_in_a_later_batch_rewrites_that_batch_by_rows(source: Source, target: TargetDB) -> None:
    source.db.execute("SET SESSION sql_mode = ''")
    source.db.execute("CREATE TABLE zl (id INT PRIMARY KEY, day DATE)")
    source.db.execute(
        f"INSERT INTO zl VALUES {', '.join(f'({i}, DATE(20240101) + INTERVAL {i} DAY)' for i in range(1, 301))}"
    )
    source.db.execute("UPDATE zl SET day = '2024-00-10' WHERE id = 250")
    project = passthrough_yaml(
        "zl", source.conn_id, target.conn_id, f"{source.schema}.zl", ["day"], "zero_dates: 'null'"
    ).replace("pipelines:", "defaults:\n  commit_rows: 100\npipelines:", 1)
    result = run_pipeline(project, "zl-1")
    assert result["extract"][f"{source.schema}.zl"]["path"] == "arrow+rows"
    ledger = target.rows(
        "SELECT batch, rows FROM databridge.batch_ledger WHERE run_id = 'zl-1' AND stage = 'extract' ORDER BY batch"
    )
    assert ledger == [(0, 100), (1, 100), (2, 100)]
    assert target.rows("SELECT id FROM landing.zl WHERE day IS NULL") == [(250,)]
    assert target.scalar("SELECT count(*) FROM landing.zl WHERE day = DATE '2024-01-01' + id") == 299


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_nul_in_text_names_its_column_and_row_and_stages_nothing(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE nul (id INT PRIMARY KEY, label VARCHAR(20))")
    source.db.execute("INSERT INTO nul VALUES (1, 'a'), (2, 'b\\0c'), (3, 'd')")
    project = passthrough_yaml("nul", source.conn_id, target.conn_id, f"{source.schema}.nul", ["label"])
    message = str(pytest.raises(AirflowFailException, run_stage, pipeline_params(project), "extract", "nul-1").value)
    assert "column 'label' of row 2 (in reading order) holds a NUL character" in message
    assert not target.scalar(
        "SELECT count(*) FROM databridge.batch_ledger WHERE run_id = 'nul-1' AND stage = 'extract'"
    )


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_columns_without_an_exact_arrow_reading_keep_the_row_path(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE kinds (id INT PRIMARY KEY, u INT UNSIGNED, mood ENUM('a', 'b'))")
    source.db.execute("INSERT INTO kinds VALUES (1, 4294967295, 'a')")
    project = passthrough_yaml("kinds", source.conn_id, target.conn_id, f"{source.schema}.kinds", ["u", "mood"])
    stat = run_stage(pipeline_params(project), "extract", "kinds-1")[f"{source.schema}.kinds"]
    assert stat["path"] == "rows"
