"""The SQL DataBridge writes, as exact strings: column mappings, custom expressions, transform and load statements."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from databridge.compiler.columns import ColumnProblem, compile_column, to_pg_format
from databridge.compiler.expressions import ExpressionError, check_expression, check_select, sql_literal
from databridge.compiler.plan import ColumnPlan, SourcePlan, TableRef, TargetPlan
from databridge.compiler.sql_check import Scope
from databridge.compiler.target_types import check_type
from databridge.runtime.load import load_statement
from databridge.runtime.transform import transform_sql
from databridge.spec.models import ColumnMapping

CHECK_SCOPE = Scope(
    check=True, tables=frozenset({("public", "fact_order"), ("public", "t")}), schemas=frozenset({"databridge"})
)
SERVER_STATE = (
    "which custom SQL may not use: only pure, row-local functions are allowed "
    "(the README's 'What custom SQL may do' lists them)"
)
NOT_A_SCALAR = "must be a single expression; statements and subqueries (SELECT ...) are not allowed"
ONLY_READ = "must be one SELECT that only reads: SELECT INTO is not allowed"


def column_sql(**mapping: Any) -> str:
    return compile_column(ColumnMapping(**mapping), []).sql


# --- one column mapping -------------------------------------------------------------------------------------


def test_source_column_is_quoted_and_read() -> None:
    reads: list[str] = []
    assert compile_column(ColumnMapping(source="id"), reads) == ColumnPlan("id", '"id"', None, unchanged_source="id")
    assert reads == ["id"]


@pytest.mark.parametrize(
    ("source", "sql"),
    [
        ("Order Date", '"Order Date"'),
        ("Total", '"Total"'),
        ('a"b', '"a""b"'),
        ("prénom", '"prénom"'),
        ("order", '"order"'),
    ],
)
def test_odd_source_names_are_quoted(source: str, sql: str) -> None:
    assert compile_column(ColumnMapping(source=source), []) == ColumnPlan(source, sql, None, unchanged_source=source)


def test_target_renames_the_column() -> None:
    assert compile_column(ColumnMapping(source="id", target="customer_id"), []).name == "customer_id"


@pytest.mark.parametrize(
    ("transform", "sql"),
    [
        (["trim"], 'btrim(CAST("name" AS text))'),
        (["upper"], 'upper(CAST("name" AS text))'),
        (["lower"], 'lower(CAST("name" AS text))'),
        (["trim", "upper"], 'upper(CAST(btrim(CAST("name" AS text)) AS text))'),
        (["lower", "trim"], 'btrim(CAST(lower(CAST("name" AS text)) AS text))'),
    ],
)
def test_string_transforms_apply_in_the_order_written(transform: list[str], sql: str) -> None:
    assert column_sql(source="name", transform=transform) == sql


def test_date_format_uses_to_char() -> None:
    assert (
        column_sql(source="signed_up_at", date_format="YYYY-MM")
        == "to_char(CAST(\"signed_up_at\" AS timestamp), 'YYYY-MM')"
    )


def test_date_format_accepts_strftime() -> None:
    assert (
        column_sql(source="ordered_at", date_format="%Y-%m-%d")
        == "to_char(CAST(\"ordered_at\" AS timestamp), 'YYYY-MM-DD')"
    )


@pytest.mark.parametrize(
    ("strftime", "to_char"),
    [
        ("%Y-%m-%d %H:%M:%S", "YYYY-MM-DD HH24:MI:SS"),
        ("%d/%m/%y %I %p", "DD/MM/YY HH12 AM"),
        ("%A %d %B %Y", "FMDay DD FMMonth YYYY"),
        ("%a %b %j", "Dy Mon DDD"),
        ("%H:%M:%S.%f %z %Z", "HH24:MI:SS.US OF TZ"),
        ("%Y at %H", 'YYYY "a""t" HH24'),
        ("100%%", "100%"),
        ("YYYY-MM-DD", "YYYY-MM-DD"),
    ],
)
def test_strftime_codes_become_to_char_patterns(strftime: str, to_char: str) -> None:
    assert to_pg_format(strftime) == to_char


def test_default_replaces_null_and_empty_string() -> None:
    assert column_sql(source="category", default="none") == (
        'CASE WHEN "category" IS NULL OR CAST("category" AS text) = \'\' THEN \'none\' ELSE "category" END'
    )


@pytest.mark.parametrize(
    ("value", "literal"),
    [(0, "'0'"), (2.5, "'2.5'"), (True, "'true'"), (False, "'false'"), ("O'Brien", "'O''Brien'"), ("", "''")],
)
def test_defaults_are_untyped_string_literals(value: str | int | float | bool, literal: str) -> None:
    assert sql_literal(value) == literal


def test_type_casts_the_value() -> None:
    plan = compile_column(ColumnMapping(source="unit_price", type="numeric(10,2)"), [])
    assert plan == ColumnPlan("unit_price", 'CAST("unit_price" AS numeric(10,2))', "numeric(10,2)")


def test_transform_then_default_then_type() -> None:
    cleaned = 'upper(CAST(btrim(CAST("country" AS text)) AS text))'
    assert column_sql(source="country", transform=["trim", "upper"], default="ZZ", type="char(2)") == (
        f"CAST(COALESCE(NULLIF({cleaned}, ''), 'ZZ') AS char(2))"
    )


def test_date_format_comes_before_default() -> None:
    formatted = "to_char(CAST(\"d\" AS timestamp), 'YYYY')"
    assert column_sql(source="d", date_format="%Y", default="never") == (f"COALESCE(NULLIF({formatted}, ''), 'never')")


@pytest.mark.parametrize(
    ("field", "mapping"),
    [
        ("type", {"source": "n", "type": "integr"}),
        ("date_format", {"source": "d", "date_format": "%Q"}),
        ("date_format", {"source": "d", "date_format": " "}),
        ("expression", {"target": "x", "expression": "{a};"}),
    ],
)
def test_a_field_that_cannot_compile_is_named(field: str, mapping: dict[str, Any]) -> None:
    with pytest.raises(ColumnProblem) as caught:
        compile_column(ColumnMapping(**mapping), [])
    assert caught.value.field == field


# --- custom expressions -------------------------------------------------------------------------------------


def test_expression_placeholders_become_quoted_columns() -> None:
    reads: list[str] = []
    plan = compile_column(
        ColumnMapping(target="full_name", expression="TRIM({first_name}) || ' ' || TRIM({last_name})"), reads
    )
    assert plan == ColumnPlan("full_name", '(TRIM("first_name") || \' \' || TRIM("last_name"))')
    assert reads == ["first_name", "last_name"]


def test_expression_quotes_odd_column_names() -> None:
    checked = check_expression('{order} || {Order Date} || {a"b} || {prénom} || {Total} || {order}')
    assert checked.sql == '"order" || "Order Date" || "a""b" || "prénom" || "Total" || "order"'
    assert checked.columns == ("order", "Order Date", 'a"b', "prénom", "Total")


def test_expression_of_one_placeholder_alone() -> None:
    assert column_sql(target="copy", expression="{order}") == '("order")'


def test_braces_inside_string_literals_are_text() -> None:
    checked = check_expression("""{payload} || '{"source": "erp"}' || '{status}' || 'it''s {x}'""")
    assert checked.sql == """"payload" || '{"source": "erp"}' || '{status}' || 'it''s {x}'"""
    assert checked.columns == ("payload",)


def test_expression_keeps_case_and_functions() -> None:
    checked = check_expression("CASE WHEN UPPER({currency}) = 'EUR' THEN {amount} ELSE NULL END")
    assert checked.sql == 'CASE WHEN UPPER("currency") = \'EUR\' THEN "amount" ELSE NULL END'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty; write a SQL expression such as UPPER({name})"),
        ("{a}{b}", "has two {column} placeholders side by side; join them with an operator, e.g. {a} || {b}"),
        ("upper({a}", "is not valid SQL: Expecting ) near '{a}'"),
        ("COMMIT", NOT_A_SCALAR),
        ("TRUNCATE shop.orders", NOT_A_SCALAR),
        ("{a} IN (SELECT 1)", NOT_A_SCALAR),
        ("lo_import('/etc/passwd')", f"calls lo_import(), {SERVER_STATE}"),
        ("pg_catalog.pg_sleep(1)", f"calls pg_catalog.pg_sleep(), {SERVER_STATE}"),
        ("set_config('role', 'x', false)", f"calls set_config(), {SERVER_STATE}"),
    ],
)
def test_unsafe_or_broken_expressions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_expression(text)
    assert str(caught.value) == message


def test_custom_validation_is_normalised() -> None:
    assert check_select("select count(*) from public.fact_order where total < 0", CHECK_SCOPE) == (
        'SELECT COUNT(*) FROM "public"."fact_order" WHERE total < 0'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("UPDATE t SET a = 1", "must be one SELECT returning one value"),
        ("SELECT count(*) INTO x FROM t", ONLY_READ),
        (
            "WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone",
            "must be one SELECT that only reads: WITH is not allowed",
        ),
        ("SELECT pg_sleep(10)", f"calls pg_sleep(), {SERVER_STATE}"),
        ("SELECT 1; SELECT 2", "contains a semicolon; write one expression, not statements"),
    ],
)
def test_custom_validation_must_only_read(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_select(text, CHECK_SCOPE)
    assert str(caught.value) == message


# --- target types -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "integer",
        "numeric(12, 2)",
        "double precision",
        "character varying(20)",
        "timestamp with time zone",
        "text[]",
        "public.mood",
        '"My Schema"."My Type"',
    ],
)
def test_known_types_are_kept_as_written(text: str) -> None:
    assert check_type(f" {text} ") == text


@pytest.mark.parametrize("text", ["integr", "int; drop table x", "text) AS x; --", "varchar(10", "mood"])
def test_unknown_types_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=rf"^unknown type {re.escape(repr(text))}"):
        check_type(text)


# --- transform and load statements --------------------------------------------------------------------------

STAGING = "databridge_staging"
ORDERS = TargetPlan(
    table=TableRef("analytics", "Orders"),
    role="fact",
    load="replace",
    keys=("order_id",),
    columns=(
        ColumnPlan("order_id", '"id"', None),
        ColumnPlan("status", 'upper(CAST("status" AS text))', None),
        ColumnPlan("Order Date", 'CAST("ordered at" AS date)', "date"),
    ),
    foreign_keys=(),
    filter_sql=None,
    ready_table="main__ready__analytics__Orders",
)
SOURCE = SourcePlan(
    source=TableRef("shop", "orders"),
    columns=("id", "status", "ordered at"),
    excluded=(),
    staging_table="main__raw__shop__orders",
    targets=(ORDERS,),
)
READY = '"databridge_staging"."main__ready__analytics__Orders"'


CREATE_READY = (
    'CREATE UNLOGGED TABLE "databridge_staging"."main__ready__analytics__Orders" AS SELECT '
    '"id" AS "order_id", upper(CAST("status" AS text)) AS "status", CAST("ordered at" AS date) AS "Order Date" '
    'FROM "databridge_staging"."main__raw__shop__orders" WITH NO DATA'
)
FILL_READY = (
    'INSERT INTO "databridge_staging"."main__ready__analytics__Orders" ("order_id", "status", "Order Date") '
    'SELECT "id", upper(CAST("status" AS text)), CAST("ordered at" AS date) '
    'FROM "databridge_staging"."main__raw__shop__orders"'
)


def test_transform_sql_without_filter() -> None:
    assert transform_sql(STAGING, SOURCE, ORDERS) == (CREATE_READY, FILL_READY)


def test_transform_sql_with_filter() -> None:
    target = replace(ORDERS, filter_sql="\"status\" <> 'cancelled'")
    assert transform_sql(STAGING, SOURCE, target) == (CREATE_READY, FILL_READY + " WHERE \"status\" <> 'cancelled'")


@pytest.mark.parametrize(
    ("mapping", "unchanged"),
    [
        ({"source": "mood"}, "mood"),
        ({"source": "mood", "target": "feeling", "type": "varchar(10)"}, "mood"),
        ({"source": "mood", "type": "text"}, "mood"),
        ({"source": "mood", "type": "integer"}, None),
        ({"source": "mood", "transform": ["upper"]}, None),
        ({"source": "mood", "default": "happy"}, None),
        ({"target": "m", "expression": "{mood}"}, None),
    ],
)
def test_a_column_is_unchanged_only_when_its_text_is(mapping: dict[str, Any], unchanged: str | None) -> None:
    assert compile_column(ColumnMapping(**mapping), []).unchanged_source == unchanged


def test_length_limited_types_are_filled_by_assignment_so_long_values_fail() -> None:
    plan = compile_column(ColumnMapping(source="country", type="varchar(2)"), [])
    assert plan.sql == 'CAST("country" AS varchar(2))'
    assert plan.insert_sql == 'CAST("country" AS text)'
    assert compile_column(ColumnMapping(source="n", type="integer"), []).insert_sql == 'CAST("n" AS integer)'


@pytest.mark.parametrize("load", ["replace", "append"])
def test_replace_and_append_insert_every_column(load: str) -> None:
    assert load_statement(replace(ORDERS, load=load), READY) == (
        'INSERT INTO "analytics"."Orders" ("order_id", "status", "Order Date") '
        f'SELECT "order_id", "status", "Order Date" FROM {READY}'
    )


def test_upsert_merges_on_the_keys() -> None:
    assert load_statement(replace(ORDERS, load="upsert"), READY) == (
        f'MERGE INTO "analytics"."Orders" AS t USING {READY} AS s ON t."order_id" = s."order_id" '
        'WHEN MATCHED THEN UPDATE SET "status" = s."status", "Order Date" = s."Order Date" '
        'WHEN NOT MATCHED THEN INSERT ("order_id", "status", "Order Date") '
        'VALUES (s."order_id", s."status", s."Order Date")'
    )


def test_upsert_on_a_composite_key() -> None:
    target = replace(ORDERS, load="upsert", keys=("order_id", "Order Date"))
    assert load_statement(target, READY) == (
        f'MERGE INTO "analytics"."Orders" AS t USING {READY} AS s '
        'ON t."order_id" = s."order_id" AND t."Order Date" = s."Order Date" '
        'WHEN MATCHED THEN UPDATE SET "status" = s."status" '
        'WHEN NOT MATCHED THEN INSERT ("order_id", "status", "Order Date") '
        'VALUES (s."order_id", s."status", s."Order Date")'
    )


def test_upsert_where_every_column_is_a_key_does_nothing_on_match() -> None:
    target = replace(ORDERS, load="upsert", keys=("order_id", "status", "Order Date"))
    assert load_statement(target, READY) == (
        f'MERGE INTO "analytics"."Orders" AS t USING {READY} AS s '
        'ON t."order_id" = s."order_id" AND t."status" = s."status" AND t."Order Date" = s."Order Date" '
        "WHEN MATCHED THEN DO NOTHING "
        'WHEN NOT MATCHED THEN INSERT ("order_id", "status", "Order Date") '
        'VALUES (s."order_id", s."status", s."Order Date")'
    )
