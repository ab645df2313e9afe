"""An existing target table that differs from the plan: named before anything is written, altered, or kept."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.runtime.schema_change import holds

from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration


def _project(source: Source, rule: str = "") -> str:
    return f"""\
name: change_it
pipelines:
  - name: change
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {source.schema}.items
        targets:
          - table: sales.items
            keys: [id]{rule}
            columns:
              - {{source: id, type: bigint}}
              - {{source: qty, type: bigint}}
              - {{source: label, type: "varchar(40)"}}
              - {{source: price, type: "numeric(12,2)"}}
"""


@pytest.fixture
def items(source: Source, target: TargetDB) -> Source:
    source.db.execute("CREATE TABLE items (id integer PRIMARY KEY, qty bigint, label varchar(40), price numeric(12,2))")
    source.db.insert("items", [(1, 5_000_000_000 // 2, "a", 1.5), (2, 7, "bb", 2.25)])
    target.execute("CREATE SCHEMA sales")
    target.execute(
        "CREATE TABLE sales.items (id bigint PRIMARY KEY, qty integer, label varchar(10), price numeric(20,4))"
    )
    target.execute("INSERT INTO sales.items VALUES (99, 1, 'old', 0)")
    return source


def _load(source: Source, rule: str = "") -> dict[str, object]:
    params = pipeline_params(_project(source, rule))
    for stage in ("extract", "transform", "load_dimensions"):
        run_stage(params, stage, "run-1")
    return run_stage(params, "load_facts", "run-1")


@pytest.mark.parametrize("source", ["postgres", "mysql"], indirect=True)
def test_a_differing_table_is_named_column_by_column_and_left_as_it_was(items: Source, target: TargetDB) -> None:
    with pytest.raises(AirflowFailException) as caught:
        _load(items)
    assert str(caught.value) == (
        "target table sales.items differs from the mapping: column 'qty' is integer in the table, the mapping "
        "gives bigint; "
        "column 'label' is character varying(10) in the table, the mapping gives character varying(40); change the "
        "mapping's `type:` to the table's, alter the table yourself, or set the target's on_schema_change: alter "
        "(widens the table's types) or keep (loads into the table's own types; values that do not convert are rejected)"
    )  # price: numeric(20,4) holds every numeric(12,2), so it is no difference
    assert target.rows("SELECT * FROM sales.items") == [(99, 1, "old", 0)]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_alter_widens_the_table_and_says_so(items: Source, target: TargetDB) -> None:
    results = run_pipeline(_project(items, "\n            on_schema_change: alter"), "run-1")
    assert target.column_types("sales", "items")["qty"] == "bigint"
    assert target.column_types("sales", "items")["label"] == "character varying(40)"
    assert target.rows("SELECT id, qty, label FROM sales.items ORDER BY id") == [(1, 2_500_000_000, "a"), (2, 7, "bb")]
    warnings = target.scalar("SELECT report->'warnings' FROM databridge.reports WHERE run_id = 'run-1'")
    assert "sales.items: widened column qty from integer to bigint (on_schema_change: alter)" in warnings
    assert results["validate"]["passed"] == results["validate"]["checks"]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_keep_loads_into_the_tables_own_types_and_rejects_what_does_not_fit(items: Source, target: TargetDB) -> None:
    results = run_pipeline(_project(items, "\n            on_schema_change: keep\n            max_rejects: 1"), "run-1")
    assert target.column_types("sales", "items")["qty"] == "integer"
    assert target.rows("SELECT id, qty FROM sales.items ORDER BY id") == [(2, 7)]  # 2,500,000,000 is no integer
    assert results["load_facts"]["sales.items"]["rejected_rows"] == 1


@pytest.mark.parametrize(
    ("wide", "narrow", "held"),
    [
        ("bigint", "integer", True),
        ("integer", "bigint", False),
        ("numeric", "bigint", True),
        ("numeric(10,0)", "bigint", False),
        ("numeric(20,4)", "numeric(12,2)", True),
        ("numeric(12,4)", "numeric(12,2)", False),
        ("numeric", "numeric(12,2)", True),
        ("numeric(12,2)", "numeric", False),
        ("text", "character varying(40)", True),
        ("character varying(40)", "text", False),
        ("character varying(50)", "character varying(40)", True),
        ("character varying", "character varying(40)", True),
        ("double precision", "real", True),
        ("timestamp with time zone", "timestamp without time zone", False),
        ("date", "date", True),
    ],
)
def test_which_types_hold_which(wide: str, narrow: str, held: bool) -> None:
    assert holds(wide, narrow) is held
