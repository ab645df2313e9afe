"""Each way a run can fail: the exact message a user reads, and proof that nothing was half-written."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from tests.conftest import PG, airflow_conn, pg_conn_fields

from .conftest import TARGET_CONN, Source
from .runner import PROJECT_FILE, SUPERUSER_WARNING, TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

STAGING = "databridge_staging"


def fails(call: Callable[[], Any]) -> str:
    """The message of the permanent failure ``call`` raises."""
    with pytest.raises(AirflowFailException) as caught:
        call()
    return str(caught.value)


def stage_runs(target: TargetDB, run_id: str) -> dict[str, tuple[str, str | None]]:
    rows = target.rows("SELECT stage, status, error FROM databridge.stage_runs WHERE run_id = %s", (run_id,))
    return {stage: (status, error) for stage, status, error in rows}


def test_unknown_source_column_fails_extract_before_staging(shop: Source, target: TargetDB) -> None:
    project = shop.project().replace(
        "{source: email, transform: [trim, lower]}", "{source: emial, target: email, transform: [trim, lower]}"
    )

    message = fails(lambda: run_stage(pipeline_params(project), "extract", "run-1"))

    assert message == (
        f"{PROJECT_FILE}: pipeline shop, source table {shop.schema}.customers: unknown source column 'emial' "
        "(did you mean 'email'?)"
    )
    assert target.tables(STAGING) == []
    assert stage_runs(target, "run-1") == {"extract": ("failed", message)}


def test_unknown_source_table_names_the_closest(shop: Source, target: TargetDB) -> None:
    project = shop.project().replace(f"source: {shop.schema}.products", f"source: {shop.schema}.prodcuts")

    message = fails(lambda: run_stage(pipeline_params(project), "extract", "run-1"))

    assert message.startswith(
        f"{PROJECT_FILE}: pipeline shop: source table {shop.schema}.prodcuts does not exist in {shop.engine} "
        "connection 'it_source' ("
    )
    assert message.endswith(") (did you mean 'products'?)")
    assert target.tables(STAGING) == []


def test_cast_failing_on_the_data_names_the_column_and_writes_no_target(shop: Source, target: TargetDB) -> None:
    project = shop.project().replace(
        "{source: status, transform: [trim, upper]}", "{source: status, transform: [trim, upper], type: integer}"
    )
    params = pipeline_params(project)
    run_stage(params, "extract", "run-1")

    message = fails(lambda: run_stage(params, "transform", "run-1"))

    assert message == (
        f"transforming {shop.schema}.orders into analytics.fact_order: 4 of 4 row(s) rejected, more than "
        "max_rejects (0) allows; "
        "nothing of analytics.fact_order written. column 'status': invalid input syntax for type integer: "
        '"PAID" (2 rows); '
        "column 'status': invalid input syntax for type integer: \"CANCELLED\" (1 row); "
        "column 'status': invalid input syntax for type integer: \"SHIPPED\" (1 row). Every rejected row is in "
        "databridge.rejects "
        "(run_id 'run-1'); fix the mapping's type, transform or default, or raise max_rejects"
    )
    assert (
        target.scalar("SELECT count(*) FROM databridge.rejects WHERE run_id = 'run-1' AND column_name = 'status'") == 4
    )
    assert [t for t in target.tables(STAGING) if "__ready__analytics__fact_order" in t] == []
    assert [t for t in target.tables(STAGING) if "__raw__" in t]  # the staged rows are there, only the transform failed
    assert target.tables("analytics") == []


def test_value_longer_than_a_declared_varchar_fails_instead_of_being_cut(shop: Source, target: TargetDB) -> None:
    project = shop.project().replace(
        "{source: status, transform: [trim, upper]}", "{source: status, transform: [trim, upper], type: varchar(4)}"
    )
    params = pipeline_params(project)
    run_stage(params, "extract", "run-1")

    message = fails(lambda: run_stage(params, "transform", "run-1"))

    assert message.startswith(
        f"transforming {shop.schema}.orders into analytics.fact_order: 2 of 4 row(s) rejected, more than max_rejects "
        "(0) allows; nothing of analytics.fact_order written. column 'status': value too long for type character "
        "varying(4) (2 rows). "
    )
    assert target.tables("analytics") == []


def test_report_after_a_failed_stage_stores_failure_and_fails_the_run(shop: Source, target: TargetDB) -> None:
    project = shop.project().replace(
        "{source: status, transform: [trim, upper]}", "{source: status, transform: [trim, upper], type: integer}"
    )
    params = pipeline_params(project)
    run_stage(params, "extract", "run-1")
    transform_error = fails(lambda: run_stage(params, "transform", "run-1"))

    message = fails(lambda: run_stage(params, "report", "run-1"))

    assert message == f"pipeline shop failed; report stored. transform: {transform_error}"
    [(succeeded, report)] = target.rows("SELECT succeeded, report FROM databridge.reports WHERE run_id = 'run-1'")
    assert succeeded is False and report["succeeded"] is False
    assert report["errors"] == [f"transform: {transform_error}"]
    assert report["not_run"] == ["load_dimensions", "load_facts", "validate"]
    assert {s: v["status"] for s, v in report["stages"].items()} == {
        "extract": "success",
        "transform": "failed",
        "load_dimensions": "not run",
        "load_facts": "not run",
        "validate": "not run",
    }
    assert stage_runs(target, "run-1")["report"] == ("failed", message)


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_load_into_a_table_missing_a_mapped_column_leaves_it_unchanged(shop: Source, target: TargetDB) -> None:
    target.execute("CREATE SCHEMA analytics")
    target.execute(
        "CREATE TABLE analytics.dim_product (sku text PRIMARY KEY, product_nam text, category text, unit_price "
        "numeric(10,2), discontinued boolean)"
    )
    target.execute("INSERT INTO analytics.dim_product VALUES ('OLD-1', 'kept', 'legacy', 1.50, true)")
    before = target.checksum("analytics.dim_product")
    params = pipeline_params(shop.project())
    run_stage(params, "extract", "run-1")
    run_stage(params, "transform", "run-1")

    message = fails(lambda: run_stage(params, "load_dimensions", "run-1"))

    assert message == (
        "target table analytics.dim_product differs from the mapping: column 'product_name' is missing (the mapping "
        "gives text) (did you mean 'product_nam'?); add the missing columns to the table, fix the mapping's target "
        "names, or set the target's on_schema_change: alter (adds them)"
    )
    assert target.checksum("analytics.dim_product") == before
    assert target.rows("SELECT * FROM analytics.dim_product") == [("OLD-1", "kept", "legacy", Decimal("1.50"), True)]
    assert (
        target.scalar(
            "SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'load' AND table_name = 'analytics.dim_product'"
        )
        == 0
    )


FAILING_CHECKS = """\
      - check: custom
        name: three customers
        sql: SELECT count(*) FROM analytics.dim_customer
        expect: 3
"""
WARNING_CHECKS = """\
      - check: custom
        name: ninety-nine products
        sql: SELECT count(*) FROM analytics.dim_product
        expect: 99
        on_failure: warn
"""


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_failed_validation_lists_the_failure_and_stores_every_result(shop: Source, target: TargetDB) -> None:
    params = pipeline_params(shop.project(extra_validations=FAILING_CHECKS + WARNING_CHECKS))
    for stage in ("extract", "transform", "load_dimensions", "load_facts"):
        run_stage(params, stage, "run-1")

    message = fails(lambda: run_stage(params, "validate", "run-1"))

    assert message == "1 validation(s) failed:\n  - -: three customers: returned 7, expected 3"
    results = target.rows(
        "SELECT check_name, passed, on_failure, detail FROM databridge.validation_results WHERE NOT passed ORDER BY 1"
    )
    assert results == [
        ("ninety-nine products", False, "warn", "returned 4, expected 99"),
        ("three customers", False, "fail", "returned 7, expected 3"),
    ]
    assert (
        target.scalar("SELECT count(*) FROM databridge.validation_results WHERE passed") == 26
    )  # 21 checks and 5 proofs
    assert (
        fails(lambda: run_stage(params, "report", "run-1"))
        == f"pipeline shop failed; report stored. validate: {message}"
    )


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_warning_validation_is_reported_without_failing(shop: Source, target: TargetDB) -> None:
    results = run_pipeline(shop.project(extra_validations=WARNING_CHECKS), "run-1")

    assert results["validate"] == {"checks": 27, "passed": 26}
    assert results["report"]["succeeded"] is True
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-1' AND succeeded")
    assert report[0]["warnings"] == [SUPERUSER_WARNING, "validation ninety-nine products: returned 4, expected 99"]


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_unknown_airflow_connection_says_how_to_add_it(shop: Source, target: TargetDB) -> None:
    params = pipeline_params(shop.project().replace("source_conn_id: it_source", "source_conn_id: it_nowhere"))

    message = fails(lambda: run_stage(params, "extract", "run-1"))

    assert (
        message
        == "Airflow connection 'it_nowhere' is not defined: add it (Admin > Connections, or `airflow connections "
        "add it_nowhere ...`)"
    )
    assert stage_runs(target, "run-1") == {"extract": ("failed", message)}
    assert target.tables(STAGING) == []


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_unknown_target_connection_fails_every_stage(shop: Source, target: TargetDB) -> None:
    params = pipeline_params(shop.project().replace(f"target_conn_id: {TARGET_CONN}", "target_conn_id: it_no_target"))
    expected = (
        "Airflow connection 'it_no_target' is not defined: add it (Admin > Connections, or `airflow connections add "
        "it_no_target ...`)"
    )
    assert fails(lambda: run_stage(params, "extract", "run-1")) == expected
    assert fails(lambda: run_stage(params, "report", "run-1")) == expected
    assert target.tables("databridge") == []


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_source_of_an_unsupported_type_lists_the_supported_ones(
    shop: Source, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    airflow_conn(
        monkeypatch, "it_oracle", conn_type="oracle", host="127.0.0.1", port=1521, login="scott", schema="shop"
    )
    params = pipeline_params(shop.project().replace("source_conn_id: it_source", "source_conn_id: it_oracle"))

    message = fails(lambda: run_stage(params, "extract", "run-1"))

    assert message == (
        "oracle connection 'it_oracle' (127.0.0.1:1521/shop): connections of type 'oracle' cannot be read as a "
        "source yet; use one of: couchdb, mariadb, mongo, mssql, mysql, postgres, postgresql, sqlite"
    )
    assert target.tables(STAGING) == []


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_target_of_another_engine_is_refused(shop: Source, target: TargetDB, monkeypatch: pytest.MonkeyPatch) -> None:
    airflow_conn(
        monkeypatch, "it_mysql_target", conn_type="mysql", host="127.0.0.1", port=3306, login="root", schema="x"
    )
    params = pipeline_params(
        shop.project().replace(f"target_conn_id: {TARGET_CONN}", "target_conn_id: it_mysql_target")
    )

    message = fails(lambda: run_stage(params, "extract", "run-1"))

    assert message == "connection 'it_mysql_target' is of type 'mysql'; the target must be a postgres connection"


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_source_table_that_cannot_be_read_fails_cleanly(shop: Source, target: TargetDB) -> None:
    """A driver error while reading a PostgreSQL source is an EngineError like the other engines', and is recorded."""
    shop.db.execute("ALTER TABLE products RENAME TO products_data")
    shop.db.execute(
        "CREATE FUNCTION broken() RETURNS SETOF products_data LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk "
        "on fire'; END $$"
    )
    shop.db.execute("CREATE VIEW products AS SELECT * FROM broken()")

    message = fails(lambda: run_stage(pipeline_params(shop.project()), "extract", "run-1"))

    assert message == "PostgreSQL: counting the rows of public.products: disk on fire"
    assert stage_runs(target, "run-1") == {"extract": ("failed", message)}


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_failing_cast_in_a_filtered_target_names_the_column_that_failed(shop: Source, target: TargetDB) -> None:
    """'segment' only fails on a customer the filter drops; the column that broke the kept rows is 'email_number'."""
    contact_month = '              - {source: signed_up_at, target: signup_month, date_format: "YYYY-MM"}\n'
    project = shop.project().replace(
        contact_month,
        contact_month
        + "              - {target: segment, expression: \"CASE WHEN {id} = 2 THEN 'vip' ELSE '1' END\", type: "
        "integer}\n" + "              - {source: email, target: email_number, type: integer}\n",
    )
    params = pipeline_params(project)
    run_stage(params, "extract", "run-1")

    message = fails(lambda: run_stage(params, "transform", "run-1"))

    assert message.startswith(
        "transforming main.customers into analytics.customer_contact: 4 of 4 row(s) rejected, more than "
        "max_rejects (0) allows; "
        "nothing of analytics.customer_contact written. column 'email_number': invalid input syntax for type integer: "
        '"  Zoe.Mueller@Example.COM " (1 row); '
    )
    assert "segment" not in message


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_missing_target_database_fails_without_retrying(
    shop: Source, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    airflow_conn(monkeypatch, "it_nodb", **pg_conn_fields("no_such_database"))
    params = pipeline_params(shop.project().replace(f"target_conn_id: {TARGET_CONN}", "target_conn_id: it_nodb"))

    message = fails(lambda: run_stage(params, "extract", "run-1"))  # AirflowFailException: no retry for a wrong name

    assert message == (
        f"PostgreSQL: cannot connect with postgres connection 'it_nodb' ({PG['host']}:{PG['port']}/no_such_database): "
        f'connection failed: connection to server at "{PG["host"]}", port {PG["port"]} failed: '
        'FATAL:  database "no_such_database" does not exist'
    )


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_filter_failing_on_the_data_is_named_as_the_filter(shop: Source, target: TargetDB) -> None:
    project = shop.project().replace(
        'filter: "CAST({newsletter} AS integer) = 1"', 'filter: "CAST({email} AS integer) = 1"'
    )
    params = pipeline_params(project)
    run_stage(params, "extract", "run-1")

    message = fails(lambda: run_stage(params, "transform", "run-1"))

    assert message.startswith(
        "transforming main.customers into analytics.customer_contact: 7 of 7 row(s) rejected, more than "
        "max_rejects (0) allows; "
        "nothing of analytics.customer_contact written. the filter: invalid input syntax for type integer: "
        '"  Zoe.Mueller@Example.COM " (1 row); '
    )
    assert message.endswith("; fix the filter, or the mapping's type, transform or default, or raise max_rejects")
