"""compile_project: pipeline order, load order, staging names, what is extracted, implied checks, the plan as JSON."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from databridge.compiler import PipelinePlan, ProjectPlan, compile_project
from databridge.compiler.identifiers import MAX_IDENTIFIER_BYTES, short_name
from databridge.compiler.order import order_pipelines
from databridge.compiler.plan import CheckPlan, SchedulePlan, TableRef, TaskDefaults, from_json, to_json
from databridge.errors import SpecError
from databridge.spec import load_project, parse_project

EXAMPLES = sorted((Path(__file__).parents[2] / "include" / "mappings").glob("*.yaml"))


def compile_yaml(text: str) -> ProjectPlan:
    return compile_project(parse_project(textwrap.dedent(text), "test.yaml"), "test.yaml")


def pipelines_yaml(*pipelines: tuple[str, list[str]]) -> str:
    """A multi-pipeline project: one (name, depends_on) per pipeline, each moving shop.<name> to public.<name>."""
    lines = ["name: ordering", "strategy: multi-pipeline", "pipelines:"]
    for name, depends_on in pipelines:
        lines += [
            f"  - name: {name}",
            f"    depends_on: [{', '.join(depends_on)}]",
            "    source_conn_id: src",
            "    target_conn_id: tgt",
            f"    tables: [{{source: shop.{name}, targets: [{{table: {name}, columns: [{{source: id}}]}}]}}]",
        ]
    return "\n".join(lines)


# --- the example projects ---------------------------------------------------------------------------------------


def test_there_are_example_projects() -> None:
    assert {"demo_shop.yaml", "warehouse_sync.yaml"} <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_project_compiles(path: Path) -> None:
    plan = compile_project(load_project(path), str(path))
    assert plan.name == path.stem
    assert plan.file == str(path)
    assert all(p.sources and p.load_order for p in plan.pipelines)


def test_warehouse_sync_settings_reach_the_plan() -> None:
    path = str(next(p for p in EXAMPLES if p.name == "warehouse_sync.yaml"))
    plan = compile_project(load_project(path), path)
    assert plan.tags == ("erp", "warehouse")
    assert plan.schedule == SchedulePlan("0 2 * * *", "Europe/Paris", "2026-01-01", False)
    assert plan.defaults == TaskDefaults(3, 10, True, 600, 60)
    assert [(p.name, p.depends_on) for p in plan.pipelines] == [("ingest", ()), ("publish", ("ingest",))]
    assert {p.batch_size for p in plan.pipelines} == {10_000}


# --- pipeline order -----------------------------------------------------------------------------------------


def test_pipelines_follow_depends_on_chains() -> None:
    plan = compile_yaml(pipelines_yaml(("report", ["publish"]), ("publish", ["ingest"]), ("ingest", [])))
    assert [p.name for p in plan.pipelines] == ["ingest", "publish", "report"]


def test_independent_pipelines_keep_their_written_order() -> None:
    plan = compile_yaml(pipelines_yaml(("zeta", []), ("alpha", []), ("mid", [])))
    assert [p.name for p in plan.pipelines] == ["zeta", "alpha", "mid"]


def test_pipeline_order_is_stable_around_dependencies() -> None:
    order = order_pipelines(
        ["publish", "audit", "ingest", "report", "cleanup"],
        {"publish": ["ingest"], "report": ["publish", "audit"], "cleanup": []},
    )
    assert order == ["audit", "ingest", "publish", "report", "cleanup"]


def test_pipeline_order_ignores_unknown_dependencies() -> None:
    assert order_pipelines(["b", "a"], {"b": ["gone"]}) == ["b", "a"]


# --- target load order --------------------------------------------------------------------------------------

STAR = """
    name: star
    pipelines:
      - name: main
        source_conn_id: src
        target_conn_id: tgt
        tables:
          - source: shop.order_items
            targets:
              - table: analytics.fact_order_line
                columns: [{source: order_id}, {source: sku}]
                foreign_keys:
                  - {columns: [order_id], references: analytics.fact_order}
                  - {columns: [sku], references: dim_product}
          - source: shop.orders
            targets:
              - table: analytics.fact_order
                role: fact
                columns: [{source: id}, {source: customer_id}]
                foreign_keys:
                  - {columns: [customer_id], references: analytics.dim_customer}
                  - {columns: [id], references: elsewhere.not_in_this_pipeline}
          - source: shop.customers
            targets:
              - table: analytics.dim_customer
                role: dimension
                columns: [{source: id}, {source: region_id}]
                foreign_keys:
                  - {columns: [region_id], references: analytics.dim_region}
          - source: shop.regions
            targets:
              - {table: analytics.dim_region, role: dimension, columns: [{source: id}]}
          - source: shop.products
            targets:
              - {table: dim_product, role: dimension, columns: [{source: sku}]}
"""


def test_dimensions_load_before_facts_each_after_what_it_references() -> None:
    (pipeline,) = compile_yaml(STAR).pipelines
    assert [str(t) for t in pipeline.load_order] == [
        "analytics.dim_region",
        "analytics.dim_customer",
        "public.dim_product",
        "analytics.fact_order",
        "analytics.fact_order_line",
    ]


def test_targets_by_role_follow_load_order() -> None:
    (pipeline,) = compile_yaml(STAR).pipelines
    assert [(str(s.source), str(t.table)) for s, t in pipeline.targets("dimension")] == [
        ("shop.regions", "analytics.dim_region"),
        ("shop.customers", "analytics.dim_customer"),
        ("shop.products", "public.dim_product"),
    ]
    assert [str(t.table) for _, t in pipeline.targets("fact")] == ["analytics.fact_order", "analytics.fact_order_line"]


def test_target_tables_default_to_public_and_role_to_fact() -> None:
    (pipeline,) = compile_yaml(STAR).pipelines
    (line,), (product,) = pipeline.sources[0].targets, pipeline.sources[4].targets
    assert (line.table, line.role, line.load) == (TableRef("analytics", "fact_order_line"), "fact", "replace")
    assert product.table == TableRef("public", "dim_product")


# --- staging names ------------------------------------------------------------------------------------------


def test_staging_and_ready_tables_are_named_after_project_pipeline_and_table() -> None:
    (pipeline,) = compile_yaml(STAR).pipelines
    orders = pipeline.sources[1]
    assert orders.staging_table == "star__main__raw__shop__orders"
    assert orders.targets[0].ready_table == "star__main__ready__analytics__fact_order"


def test_two_projects_with_the_same_pipeline_names_do_not_share_staging_tables() -> None:
    (first,) = compile_yaml(STAR).pipelines
    (second,) = compile_yaml(STAR.replace("name: star", "name: galaxy")).pipelines
    assert first.sources[1].staging_table != second.sources[1].staging_table


def test_short_name_keeps_short_names_whole() -> None:
    assert short_name("main", "raw", "shop", "orders") == "main__raw__shop__orders"
    assert short_name("main", "raw", "", "orders") == "main__raw____orders"


def test_short_name_truncates_long_names_with_a_hash() -> None:
    name = short_name("pipeline", "raw", "schema", "t" * 80)
    assert len(name.encode()) == MAX_IDENTIFIER_BYTES
    assert re.fullmatch(r"pipeline__raw__schema__t{28}__[0-9a-f]{10}", name)


def test_short_name_is_distinct_for_long_names_with_a_common_head() -> None:
    names = {short_name("p", "raw", "s", "t" * 70 + suffix) for suffix in ("a", "b", "ab", "")}
    assert len(names) == 4
    assert all(len(n.encode()) <= MAX_IDENTIFIER_BYTES for n in names)


def test_short_name_is_distinct_when_parts_hold_the_separator() -> None:
    assert short_name("p", "raw", "a__b", "c") != short_name("p", "raw", "a", "b__c")
    assert short_name("p", "raw", "a_", "b") != short_name("p", "raw", "a", "_b")


def test_short_name_cuts_unicode_on_a_character_boundary() -> None:
    name = short_name("p", "raw", "s", "é" * 40)
    assert len(name.encode()) <= MAX_IDENTIFIER_BYTES
    assert re.fullmatch(r"p__raw__s__é{20}__[0-9a-f]{10}", name)


# --- what is extracted --------------------------------------------------------------------------------------

CUSTOMERS = """
    name: crm
    pipelines:
      - name: main
        source_conn_id: src
        target_conn_id: tgt
        tables:
          - source: shop.customers
            targets:
              - table: dim_customer
                keys: [customer_id]
                filter: "{status} <> 'deleted' AND {id} > 0"
                columns:
                  - {source: id, target: customer_id}
                  - {target: full_name, expression: "{first_name} || ' ' || {last_name} || {first_name}"}
                  - {source: email}
                  - {source: internal_notes, exclude: true}
                  - {source: phone, exclude: true}
              - table: customer_contact
                columns:
                  - {source: email, target: contact_email}
                  - {source: phone}
                  - {source: signed_up_at, date_format: YYYY-MM}
                  - {source: internal_notes, exclude: true}
"""


def test_extracted_columns_are_those_used_once_each_in_order_of_first_use() -> None:
    (source,) = compile_yaml(CUSTOMERS).pipelines[0].sources
    assert source.columns == ("id", "first_name", "last_name", "email", "status", "phone", "signed_up_at")


def test_excluded_columns_are_listed_unless_another_target_uses_them() -> None:
    (source,) = compile_yaml(CUSTOMERS).pipelines[0].sources
    assert source.excluded == ("internal_notes",)


def test_excluded_columns_are_not_target_columns() -> None:
    (source,) = compile_yaml(CUSTOMERS).pipelines[0].sources
    assert [c.name for c in source.targets[0].columns] == ["customer_id", "full_name", "email"]
    assert source.targets[0].filter_sql == '"status" <> \'deleted\' AND "id" > 0'


# --- checks -------------------------------------------------------------------------------------------------


def test_keys_and_foreign_keys_are_checked_without_being_asked() -> None:
    (pipeline,) = compile_yaml(STAR).pipelines
    customer, fact_order = TableRef("analytics", "dim_customer"), TableRef("analytics", "fact_order")
    assert pipeline.checks == (
        CheckPlan(
            "foreign_key",
            "analytics.fact_order_line(order_id) -> analytics.fact_order",
            "fail",
            TableRef("analytics", "fact_order_line"),
            ("order_id",),
            fact_order,
            ("order_id",),
        ),
        CheckPlan(
            "foreign_key",
            "analytics.fact_order_line(sku) -> public.dim_product",
            "fail",
            TableRef("analytics", "fact_order_line"),
            ("sku",),
            TableRef("public", "dim_product"),
            ("sku",),
        ),
        CheckPlan(
            "foreign_key",
            "analytics.fact_order(customer_id) -> analytics.dim_customer",
            "fail",
            fact_order,
            ("customer_id",),
            customer,
            ("customer_id",),
        ),
        CheckPlan(
            "foreign_key",
            "analytics.fact_order(id) -> elsewhere.not_in_this_pipeline",
            "fail",
            fact_order,
            ("id",),
            TableRef("elsewhere", "not_in_this_pipeline"),
            ("id",),
        ),
        CheckPlan(
            "foreign_key",
            "analytics.dim_customer(region_id) -> analytics.dim_region",
            "fail",
            customer,
            ("region_id",),
            TableRef("analytics", "dim_region"),
            ("region_id",),
        ),
    )


def test_declared_validations_follow_the_implied_checks() -> None:
    plan = compile_yaml(
        CUSTOMERS
        + """
        validations:
          - {check: not_null, table: public.dim_customer, columns: [email], on_failure: warn}
          - {check: foreign_key, table: customer_contact, columns: [contact_email], references: dim_customer,
             referenced_columns: [email]}
          - {check: custom, name: no test accounts, sql: "select count(*) from dim_customer where email like '%@test'"}
    """
    )
    customer, contact = TableRef("public", "dim_customer"), TableRef("public", "customer_contact")
    assert plan.pipelines[0].checks == (
        CheckPlan("not_null", "keys of public.dim_customer not null", "fail", customer, ("customer_id",)),
        CheckPlan("not_null", "public.dim_customer(email) not null", "warn", customer, ("email",)),
        CheckPlan(
            "foreign_key",
            "public.customer_contact(contact_email) -> public.dim_customer",
            "fail",
            contact,
            ("contact_email",),
            customer,
            ("email",),
        ),
        CheckPlan(
            "custom",
            "no test accounts",
            "fail",
            sql="""SELECT COUNT(*) FROM "public"."dim_customer" WHERE email LIKE '%@test'""",
            expect=0,
        ),
    )


# --- the plan as JSON ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_pipeline_plan_survives_a_json_round_trip(path: Path) -> None:
    plan = compile_project(load_project(path), str(path))
    for pipeline in plan.pipelines:
        data = json.loads(json.dumps(to_json(pipeline)))
        assert from_json(PipelinePlan, data) == pipeline


def test_project_plan_survives_a_json_round_trip() -> None:
    plan = compile_yaml(STAR)
    assert from_json(ProjectPlan, json.loads(json.dumps(to_json(plan)))) == plan


# --- staging types chosen by the user ------------------------------------------------------------------------


def test_source_types_reach_the_plan_checked() -> None:
    text = STAR.replace(
        "          - source: shop.orders\n",
        "          - source: shop.orders\n            source_types: {customer_id: integer}\n",
    )
    (pipeline,) = compile_yaml(text).pipelines
    assert pipeline.sources[1].staging_types == (("customer_id", "integer"),)


def test_source_types_with_an_unknown_type_name_the_field() -> None:
    text = STAR.replace(
        "          - source: shop.orders\n",
        "          - source: shop.orders\n            source_types: {customer_id: integr}\n",
    )
    with pytest.raises(SpecError) as caught:
        compile_yaml(text)
    assert str(caught.value).startswith(
        "test.yaml: pipelines[0].tables[1].source_types.customer_id: unknown type 'integr' (did you mean 'integer'?)"
    )


PASS_THROUGH = """\
name: moves
pipelines:
  - name: p
    source_conn_id: src
    target_conn_id: tgt
    tables:
      - source: shop.orders
        targets:
          - table: landing.orders
            keys: [id]{target_extra}
            columns:
              - {{source: id}}
              - {{source: total{column_extra}}}
"""


@pytest.mark.parametrize(
    ("target_extra", "column_extra", "moves"),
    [
        ("", "", True),
        ("\n            load: append", "", False),
        ('\n            filter: "{total} > 0"', "", False),
        ("", ", type: 'numeric(12,2)'", False),
        ("", ", transform: [trim]", False),
        ("", ", default: '0'", False),
        ("", ", target: amount", False),
    ],
)
def test_only_a_pass_through_replace_moves_its_staging_table(target_extra: str, column_extra: str, moves: bool) -> None:
    plan = compile_yaml(PASS_THROUGH.format(target_extra=target_extra, column_extra=column_extra))
    [source] = plan.pipelines[0].sources
    assert source.moves_staging is moves
    assert source.ready_of(source.targets[0]) == (source.staging_table if moves else source.targets[0].ready_table)


def test_a_source_feeding_two_targets_or_reordered_columns_is_copied() -> None:
    two = (
        PASS_THROUGH.format(target_extra="", column_extra="")
        + "          - table: landing.orders_copy\n            columns: [{source: id}]\n"
    )
    assert not compile_yaml(two).pipelines[0].sources[0].moves_staging
    reordered = PASS_THROUGH.format(target_extra="", column_extra="").replace(
        "- {source: id}\n              - {source: total}", "- {source: total}\n              - {source: id}"
    )
    assert "- {source: total}\n              - {source: id}" in reordered
    assert compile_yaml(reordered).pipelines[0].sources[0].columns == ("total", "id")
    assert compile_yaml(reordered).pipelines[0].sources[0].moves_staging  # staging follows the mapping order
