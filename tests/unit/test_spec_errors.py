"""Broken project files: each one is refused with one SpecError naming the file, the field and what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

from databridge.compiler import compile_project
from databridge.errors import SpecError
from databridge.spec import load_project

BROKEN = Path(__file__).parent / "broken"

T0 = "pipelines[0].tables[0].targets[0]"
"""The one target table most fixtures have."""
TYPE_HELP = (
    "use a PostgreSQL type (text, varchar(n), integer, bigint, numeric(p,s), boolean, date, timestamp, timestamptz, "
    "jsonb, ...) or a schema-qualified user type such as public.mood"
)
CRON_HELP = "write five fields like '0 3 * * *' or a preset: @continuous, @daily, @hourly, @monthly, @once, @quarterly, @weekly, @yearly"
NOT_A_SCALAR = "must be a single expression; statements and subqueries (SELECT ...) are not allowed"
SERVER_STATE = "which is not allowed in a mapping (it reads or changes server state)"
NO_AGGREGATES = "aggregates and window functions are not allowed, only scalar expressions over one row"


def problems(*lines: str) -> str:
    """The message of a SpecError with several problems, after the file name."""
    return "\n".join([f"{len(lines)} problems", *(f"  - {line}" for line in lines)])


# The whole message after "<file>: ", for every file in tests/unit/broken/.
EXPECTED = {
    # reading the file
    "malformed_yaml.yaml": "line 5, column 4: invalid YAML: expected <block end>, but found '<block mapping start>'",
    "empty.yaml": "the file is empty: a project needs at least 'name' and 'pipelines'",
    "top_level_list.yaml": "a project is a mapping of keys (name, pipelines, ...), not a list",
    # the shape of the project (pydantic)
    "unknown_top_level_key.yaml": "descripton: unknown field 'descripton' (did you mean 'description'?)",
    "unknown_column_key.yaml": f"{T0}.columns[1].sorce: unknown field 'sorce' (did you mean 'source'?)",
    "unknown_check_key.yaml": "pipelines[0].validations[0].on_failur: unknown field 'on_failur' (did you mean 'on_failure'?)",
    "retries_not_a_number.yaml": "defaults.retries: input should be a valid integer, unable to parse string as an integer (got 'many')",
    "retries_negative.yaml": "defaults.retries: input should be greater than or equal to 0 (got -1)",
    "deadline_zero.yaml": "schedule.deadline_minutes: input should be greater than 0 (got 0)",
    "deadline_with_unit.yaml": "schedule.deadline_minutes: input should be a valid integer, unable to parse string as an integer (got '2h')",
    "load_typo.yaml": f"{T0}.load: 'upsrt' is not allowed; write one of 'replace', 'append' or 'upsert' (did you mean 'upsert'?)",
    "role_typo.yaml": f"{T0}.role: 'dimention' is not allowed; write one of 'dimension' or 'fact' (did you mean 'dimension'?)",
    "check_kind_typo.yaml": (
        "pipelines[0].validations[0]: check 'not_nul' is unknown; write one of 'not_null', 'foreign_key', 'custom' "
        "(did you mean 'not_null'?)"
    ),
    "missing_name.yaml": "name: is required but missing",
    "missing_pipelines.yaml": "pipelines: is required but missing",
    "missing_source_conn_id.yaml": "pipelines[0].source_conn_id: is required but missing",
    "missing_tables.yaml": "pipelines[0].tables: is required but missing",
    "missing_targets.yaml": "pipelines[0].tables[0].targets: is required but missing",
    "missing_columns.yaml": f"{T0}.columns: is required but missing",
    "name_with_spaces.yaml": "name: 'my shop' must start with a letter and hold only letters, digits and underscores (at most 63)",
    "name_leading_digit.yaml": "name: '1shop' must start with a letter and hold only letters, digits and underscores (at most 63)",
    "cron_four_fields.yaml": f"schedule.cron: '0 3 * *' is not a cron expression; {CRON_HELP}",
    "cron_preset_typo.yaml": f"schedule.cron: '@dayly' is not a cron expression (did you mean '@daily'?); {CRON_HELP}",
    "timezone_unknown.yaml": (
        "schedule.timezone: unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?); "
        "write an IANA name such as UTC or Europe/Paris"
    ),
    # names that must exist, be unique, or not loop (spec checks)
    "single_pipeline_with_two.yaml": "strategy: single-pipeline allows one pipeline but 2 are defined; write strategy: multi-pipeline",
    "duplicate_pipeline_names.yaml": "pipelines[1].name: pipeline 'load' is defined twice; give each a distinct name",
    "depends_on_unknown.yaml": "pipelines[1].depends_on[0]: unknown pipeline 'ingset' (did you mean 'ingest'?)",
    "depends_on_itself.yaml": "pipelines[0].depends_on[0]: pipeline 'main' cannot depend on itself",
    "depends_on_cycle.yaml": (
        "pipelines[0].depends_on: pipelines depend on each other in a cycle: a -> b -> c -> a; remove one of these dependencies"
    ),
    "duplicate_target_column.yaml": f"{T0}.columns[1]: target column 'id' is defined twice; give each a distinct name",
    "column_source_and_expression.yaml": (
        f"{T0}.columns[1]: give either source or expression, not both (an expression names its columns as {{column}})"
    ),
    "column_without_source.yaml": f"{T0}.columns[1]: needs source (a source column) or expression (custom SQL)",
    "expression_without_target.yaml": (
        f"{T0}.columns[1].target: a column computed by an expression needs target: its name in the target table"
    ),
    "excluded_with_other_fields.yaml": f"{T0}.columns[1]: an excluded column takes only source; remove target, transform",
    "upsert_without_keys.yaml": f"{T0}.keys: upsert needs keys: list the target columns that identify a row",
    "keys_unknown_column.yaml": f"{T0}.keys[0]: unknown target column 'order_di' (did you mean 'order_id'?)",
    "foreign_key_unknown_column.yaml": (
        f"{T0}.foreign_keys[0].columns[0]: unknown target column 'custmer_id' (did you mean 'customer_id'?)"
    ),
    "referenced_columns_count.yaml": (
        f"{T0}.foreign_keys[0].referenced_columns: lists 1 column(s) but columns lists 2; give one referenced column per column"
    ),
    "two_mappings_one_target.yaml": (
        "pipelines[0].tables[1].targets[0].table: target table 'analytics.orders' is already fed by another mapping "
        "in this pipeline; merge the two mappings or use another table"
    ),
    "source_listed_twice.yaml": (
        "pipelines[0].tables[1].source: source table 'shop.orders' is listed twice in this pipeline; "
        "list all its targets under one entry"
    ),
    "bad_table_names.yaml": problems(
        "pipelines[0].tables[0].source: 'shop.orders.x' is not a table name: write table or schema.table "
        "(quote parts holding dots)",
        f"{T0}.table: '\"analytics.orders' has an unclosed double quote",
    ),
    "validation_unknown_table.yaml": (
        "pipelines[0].validations[0].table: 'analytics.order' is not a target table of this pipeline "
        "(did you mean 'analytics.orders'?)"
    ),
    "not_null_unknown_column.yaml": "pipelines[0].validations[0].columns[0]: unknown target column 'emial' (did you mean 'email'?)",
    # custom SQL (compiler, sqlglot)
    "expression_statement.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_subquery.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_semicolon.yaml": f"{T0}.columns[1].expression: contains a semicolon; write one expression, not statements",
    "expression_line_comment.yaml": (
        f"{T0}.columns[1].expression: contains a comment; remove it (comments are not allowed in expressions)"
    ),
    "expression_block_comment.yaml": (
        f"{T0}.columns[1].expression: contains a comment; remove it (comments are not allowed in expressions)"
    ),
    "expression_bare_column.yaml": (
        f"{T0}.columns[1].expression: names 'total' directly; write columns of this row as {{column}}, e.g. {{total}}"
    ),
    "expression_other_table.yaml": (
        f"{T0}.columns[1].expression: names 'o.total' directly; write columns of this row as {{column}}, e.g. {{total}}"
    ),
    "expression_pg_sleep.yaml": f"{T0}.columns[1].expression: calls pg_sleep(), {SERVER_STATE}",
    "expression_query_to_xml.yaml": f"{T0}.columns[1].expression: calls query_to_xml(), {SERVER_STATE}",
    "expression_aggregate.yaml": f"{T0}.columns[1].expression: uses count(): {NO_AGGREGATES}",
    "expression_window.yaml": f"{T0}.columns[1].expression: uses row_number(): {NO_AGGREGATES}",
    "expression_invalid_sql.yaml": (
        f"{T0}.columns[1].expression: is not valid SQL: Required keyword: 'expression' missing for Mul near '*'"
    ),
    "filter_bare_column.yaml": (
        f"{T0}.filter: names 'status' directly; write columns of this row as {{column}}, e.g. {{status}}"
    ),
    "custom_validation_delete.yaml": "pipelines[0].validations[0].sql: must be one SELECT returning one value",
    # types and formats (compiler)
    "type_typo.yaml": f"{T0}.columns[1].type: unknown type 'integr' (did you mean 'integer'?); {TYPE_HELP}",
    "type_injection.yaml": f"{T0}.columns[1].type: unknown type 'int; drop table x' (did you mean 'int'?); {TYPE_HELP}",
    "date_format_bad_code.yaml": f"{T0}.columns[1].date_format: date_format '%Y-%q': '%q' is not a supported strftime code",
    # load order (compiler)
    "dimension_references_fact.yaml": (
        "pipelines[0].tables: dimension analytics.dim_customer references fact analytics.fact_order, but dimensions "
        "load first; make analytics.fact_order a dimension or drop the reference"
    ),
    "foreign_key_cycle.yaml": (
        "pipelines[0].tables: target tables reference each other in a cycle: analytics.dim_customer -> "
        "analytics.dim_region -> analytics.dim_customer; drop one foreign key"
    ),
    # several mistakes: one error listing them all, the count first
    "several_problems.yaml": problems(
        "name: 'my shop' must start with a letter and hold only letters, digits and underscores (at most 63)",
        "strategy: 'single-pipelin' is not allowed; write one of 'single-pipeline' or 'multi-pipeline' "
        "(did you mean 'single-pipeline'?)",
        "defaults.retries: input should be greater than or equal to 0 (got -3)",
        f"{T0}.columns[0].tranform: unknown field 'tranform' (did you mean 'transform'?)",
    ),
    "several_compile_problems.yaml": problems(
        f"{T0}.columns[0].type: unknown type 'integr' (did you mean 'integer'?); {TYPE_HELP}",
        f"{T0}.columns[1].expression: uses sum(): {NO_AGGREGATES}",
        f"{T0}.columns[2].date_format: date_format '%Y-%Q': '%Q' is not a supported strftime code",
        f"{T0}.filter: contains a comment; remove it (comments are not allowed in expressions)",
        "pipelines[0].validations[0].sql: must be one SELECT returning one value",
    ),
}


def load_and_compile(path: str) -> None:
    compile_project(load_project(path), path)


def test_every_fixture_has_an_expected_message() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_project_is_refused_with_exact_message(name: str) -> None:
    path = str(BROKEN / name)
    with pytest.raises(SpecError) as caught:
        load_and_compile(path)
    assert str(caught.value) == f"{path}: {EXPECTED[name]}"
    assert caught.value.file == path


def test_message_starts_with_the_file_name_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN.parent)
    with pytest.raises(SpecError, match=r"^broken/empty\.yaml: the file is empty"):
        load_and_compile("broken/empty.yaml")


def test_several_problems_are_kept_as_values() -> None:
    with pytest.raises(SpecError) as caught:
        load_and_compile(str(BROKEN / "several_problems.yaml"))
    assert [path for path, _ in caught.value.problems] == [
        "name",
        "strategy",
        "defaults.retries",
        f"{T0}.columns[0].tranform",
    ]


def test_missing_file_is_a_spec_error() -> None:
    path = str(BROKEN / "no_such_file.yaml")
    with pytest.raises(SpecError, match=r"^.*no_such_file\.yaml: cannot read the file: \[Errno 2\] No such file"):
        load_project(path)
