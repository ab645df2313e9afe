"""Chunking without a database: the ranges of a split, their WHERE text, stored boundaries, the settings' precedence,
the mapped extract in the DAG, and how mapped instances fold into one stage (the report and the run-status view)."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from typing import Any

import pytest

from databridge.compiler import compile_project
from databridge.engines.chunks import (
    HASH,
    RANGE,
    Split,
    decode_bound,
    distinct_bounds,
    encode_bound,
    quantile_offsets,
    range_predicate,
)
from databridge.errors import SpecError
from databridge.render.dag import build_dag
from databridge.runtime.results import merge_stages, stage_key
from databridge.spec import parse_project
from databridge.views.runs import _state


def project(defaults: str = "", pipeline: str = "", table: str = "") -> Any:
    text = f"""\
    name: chunky
    {defaults}
    pipelines:
      - name: p
        source_conn_id: src
        target_conn_id: tgt
        {pipeline}
        tables:
          - source: shop.orders
            {table}
            targets: [{{table: orders, columns: [{{source: id}}]}}]
          - source: shop.small
            targets: [{{table: small, columns: [{{source: id}}]}}]
    """
    return compile_project(parse_project(textwrap.dedent(text), "chunky.yaml"), "chunky.yaml")


def test_ranges_are_half_open_with_nulls_in_the_first_and_no_gaps() -> None:
    split = Split(RANGE, "id", (10, 20))
    chunks = [split.chunk(i) for i in range(split.count)]
    assert [(c.lower, c.upper) for c in chunks] == [(None, 10), (10, 20), (20, None)]
    where = [range_predicate('"id"', c, str) for c in chunks]
    assert where == ['("id" IS NULL OR "id" < 10)', '"id" >= 10 AND "id" < 20', '"id" >= 20']


def test_membership_by_the_predicates_puts_every_value_in_exactly_one_chunk() -> None:
    split = Split(RANGE, "k", (3, 7, 8))
    values: list[int | None] = [None, -5, 0, 2, 3, 6, 7, 8, 9, 1000]
    for value in values:
        owners = [i for i in range(split.count) if _holds(split.chunk(i), value)]
        assert len(owners) == 1, (value, owners)


def _holds(chunk: Any, value: int | None) -> bool:
    """What range_predicate's SQL means, in Python."""
    if value is None:
        return chunk.index == 0
    return (chunk.lower is None or value >= chunk.lower) and (chunk.upper is None or value < chunk.upper)


def test_quantile_offsets_and_repeated_values() -> None:
    assert quantile_offsets(1000, 4) == [250, 500, 750]
    assert quantile_offsets(2, 4) == [1]  # fewer rows than chunks: fewer boundaries
    assert quantile_offsets(0, 4) == []
    assert distinct_bounds([1, 1, 1, 5, None]) == (1, 5)  # a skewed key: no empty chunk between equal boundaries


def test_a_hash_split_has_one_bucket_per_chunk() -> None:
    split = Split(HASH, "row", parts=3)
    assert split.count == 3 and split.chunk(2).describe() == "chunk 3/3 (hash of the row mod 3 = 2)"


@pytest.mark.parametrize(
    "value",
    [
        7,
        2**62,
        "M\u00fcller '; --",
        Decimal("12.50"),
        1.5,
        dt.date(2024, 2, 29),
        dt.datetime(2024, 1, 1, 12, 30, tzinfo=dt.UTC),
    ],
)
def test_a_stored_boundary_reads_back_as_the_same_value(value: Any) -> None:
    back = decode_bound(encode_bound(value))
    assert back == value and type(back) is type(value)


def test_a_boundary_type_that_cannot_be_stored_says_what_to_do() -> None:
    with pytest.raises(TypeError, match="choose another chunk_key"):
        encode_bound(b"bytes")


def test_defaults_split_large_tables_in_four_from_a_million_rows() -> None:
    pipeline = project().pipelines[0]
    assert [(s.chunks, s.chunk_min_rows, s.chunk_key) for s in pipeline.sources] == [(4, 1_000_000, None)] * 2
    assert (pipeline.extract_chunks, pipeline.extract_parallel) == (4, None)


def test_table_settings_override_the_pipeline_which_replaces_the_project() -> None:
    plan = project(
        defaults="defaults: {chunking: {chunks: 2, min_rows: 10, parallel: 8}}",
        pipeline="chunking: {chunks: 3, min_rows: 500, parallel: 2}",
        table="chunks: 6\n            chunk_min_rows: 0\n            chunk_key: ordered_at",
    )
    pipeline = plan.pipelines[0]
    assert [(s.chunks, s.chunk_min_rows, s.chunk_key) for s in pipeline.sources] == [
        (6, 0, "ordered_at"),
        (3, 500, None),
    ]
    assert (pipeline.extract_chunks, pipeline.extract_parallel) == (6, 2)


def test_bad_chunk_settings_name_the_field() -> None:
    with pytest.raises(SpecError) as error:
        project(defaults="defaults: {chunking: {chunkz: 3}}", table="chunks: 0")
    assert str(error.value) == (
        "chunky.yaml: 2 problems\n  - defaults.chunking.chunkz: unknown field 'chunkz' (did you mean 'chunks'?)\n"
        "  - pipelines[0].tables[0].chunks: input should be greater than or equal to 1 (got 0)"
    )


def test_extract_is_mapped_over_chunk_indexes_with_the_parallelism_limit() -> None:
    dag = build_dag(project(pipeline="chunking: {chunks: 3, parallel: 2}"))
    extract = dag.get_task("p.extract")
    assert extract.expand_input.value == {"chunk": [0, 1, 2]}
    assert extract.partial_kwargs["max_active_tis_per_dagrun"] == 2
    assert [t.task_id for t in dag.tasks] == [
        f"p.{s}" for s in ("extract", "transform", "load_dimensions", "load_facts", "validate", "report")
    ]


def test_a_project_without_chunking_keeps_one_plain_extract_task() -> None:
    dag = build_dag(project(defaults="defaults: {chunking: {chunks: 1}}"))
    assert type(dag.get_task("p.extract")).__name__ == "ExtractOperator"


def test_mapped_instances_fold_into_one_stage() -> None:
    rows = [
        (stage_key("extract", 0), "success", 3.0, None, ["w1"]),
        (stage_key("extract", 1), "failed", 5.0, "lost connection", ["w1", "w2"]),
        (stage_key("extract", 2), "running", 1.0, None, []),
        ("transform", "success", 2.0, None, []),
    ]
    merged = merge_stages(rows)
    assert merged["extract"] == {
        "status": "failed",
        "seconds": 5.0,
        "error": "lost connection",
        "warnings": ["w1", "w2"],
    }
    assert merge_stages(rows[::2])["extract"]["status"] == "running"
    assert merged["transform"]["status"] == "success"


def test_run_status_shows_a_mapped_stage_by_its_worst_instance_with_hosts() -> None:
    assert _state([{"map_index": -1, "state": "success", "hostname": "a"}]) == {"state": "success"}
    instances = [
        {"map_index": 0, "state": "success", "hostname": "w1"},
        {"map_index": 1, "state": "running", "hostname": "w2"},
    ]
    assert _state(instances) == {"state": "running", "instances": instances}
    assert _state([{**i, "state": "success"} for i in instances])["state"] == "success"
    assert _state([])["state"] is None


# --- SQL Server: no server runs here, so its chunk SQL is checked by sqlglot's T-SQL parser ---------------------


def test_sql_server_chunk_statements_are_exact_tsql() -> None:
    from databridge.engines import mssql
    from databridge.engines.base import SourceColumn
    from tests.unit.test_mssql import roundtrips

    columns = [SourceColumn("Id", "int", False, "integer"), SourceColumn("Placed", "datetime2(7)", True, "timestamp")]
    split = Split(RANGE, "Placed", (dt.datetime(2024, 1, 1, 9, 30), dt.datetime(2024, 6, 1)))
    first, middle, last = (mssql.select_sql("dbo", "Order Items", columns, split.chunk(i)) for i in range(3))
    head = "SELECT [Id], CONVERT(VARCHAR(27), [Placed], 121) FROM [dbo].[Order Items] WHERE "
    assert roundtrips(first) == head + "([Placed] IS NULL OR [Placed] < CAST('2024-01-01T09:30:00' AS DATETIME2))"
    assert (
        roundtrips(middle)
        == head
        + "[Placed] >= CAST('2024-01-01T09:30:00' AS DATETIME2) AND [Placed] < CAST('2024-06-01T00:00:00' AS DATETIME2)"
    )
    assert roundtrips(last) == head + "[Placed] >= CAST('2024-06-01T00:00:00' AS DATETIME2)"
    at = mssql.OFFSET_FETCH.format(key="[Id]", table="[dbo].[Order Items]", offset=250)
    assert roundtrips(at) == (
        "SELECT [Id] FROM [dbo].[Order Items] WHERE NOT [Id] IS NULL ORDER BY [Id] OFFSET 250 "
        "ROWS FETCH NEXT 1 ROWS ONLY"
    )
    key_split = Split(RANGE, "Id", (100,))
    assert (
        roundtrips(mssql.count_sql("dbo", "t") + mssql.chunk_where(key_split.chunk(1)))
        == "SELECT COUNT_BIG(*) FROM [dbo].[t] WHERE [Id] >= 100"
    )
    assert (
        mssql.tsql_literal("O'Brien") == "N'O''Brien'"
        and mssql.tsql_literal(dt.date(2024, 2, 29)) == "CAST('2024-02-29' AS DATE)"
    )
    assert mssql.chunk_where(None) == mssql.chunk_where(Split(RANGE, "").chunk(0)) == ""
