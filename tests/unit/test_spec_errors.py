"""Broken project files: each one is refused with one SpecError naming the file, the field and what to write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from databridge.compiler import compile_project
from databridge.errors import SpecError
from databridge.spec import load_project, parse_project

BROKEN = Path(__file__).parent / "broken"

T0 = "pipelines[0].tables[0].targets[0]"
"""The one target table most fixtures have."""
TYPE_HELP = (
    "use a PostgreSQL type (text, varchar(n), integer, bigint, numeric(p,s), boolean, date, timestamp, timestamptz, "
    "jsonb, ...) or a schema-qualified user type such as public.mood"
)
CRON_HELP = (
    "write five fields like '0 3 * * *' or a preset: @continuous, @daily, @hourly, @monthly, @once, @quarterly, "
    "@weekly, @yearly"
)
NOT_A_SCALAR = "must be a single expression; statements and subqueries (SELECT ...) are not allowed"
SERVER_STATE = (
    "which custom SQL may not use: only pure, row-local functions are allowed "
    "(the README's 'What custom SQL may do' lists them)"
)
NO_AGGREGATES = "aggregates and window functions are not allowed, only scalar expressions over one row"
READ_ONLY = "must be one SELECT that only reads: SELECT INTO is not allowed"


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
    "unknown_check_key.yaml": (
        "pipelines[0].validations[0].on_failur: unknown field 'on_failur' (did you mean 'on_failure'?)"
    ),
    "retries_not_a_number.yaml": (
        "defaults.retries: input should be a valid integer, unable to parse string as an integer (got 'many')"
    ),
    "retries_negative.yaml": "defaults.retries: input should be greater than or equal to 0 (got -1)",
    "deadline_zero.yaml": "schedule.deadline_minutes: input should be greater than 0 (got 0)",
    "deadline_with_unit.yaml": (
        "schedule.deadline_minutes: input should be a valid integer, unable to parse string as an integer (got '2h')"
    ),
    "keep_versions_negative.yaml": "defaults.keep_versions_days: input should be greater than or equal to 0 (got -2)",
    "max_rejects_bad.yaml": (
        f"{T0}.max_rejects: max_rejects '5 rows': write a count of rows (0, 100) or a percentage such as '0.5%'"
    ),
    "load_typo.yaml": (
        f"{T0}.load: 'upsrt' is not allowed; write one of 'replace', 'append' or 'upsert' (did you mean 'upsert'?)"
    ),
    "role_typo.yaml": (
        f"{T0}.role: 'dimention' is not allowed; write one of 'dimension' or 'fact' (did you mean 'dimension'?)"
    ),
    "check_kind_typo.yaml": (
        "pipelines[0].validations[0]: check 'not_nul' is unknown; write one of 'not_null', 'foreign_key', 'custom' "
        "(did you mean 'not_null'?)"
    ),
    "missing_name.yaml": "name: is required but missing",
    "missing_pipelines.yaml": "pipelines: is required but missing",
    "missing_source_conn_id.yaml": "pipelines[0].source_conn_id: is required but missing",
    "missing_tables.yaml": (
        'pipelines[0].tables: list the source tables, or take them by pattern with include, e.g. include: ["shop.*"]'
    ),
    "missing_targets.yaml": "pipelines[0].tables[0].targets: is required but missing",
    "columns_empty.yaml": (
        f"{T0}.columns: no column is mapped: list at least one column, or leave columns out to take every source "
        "column unchanged"
    ),
    "name_with_spaces.yaml": (
        "name: 'my shop' must start with a letter and hold only letters, digits and underscores (at most 63)"
    ),
    "name_leading_digit.yaml": (
        "name: '1shop' must start with a letter and hold only letters, digits and underscores (at most 63)"
    ),
    "cron_four_fields.yaml": f"schedule.cron: '0 3 * *' is not a cron expression; {CRON_HELP}",
    "cron_preset_typo.yaml": f"schedule.cron: '@dayly' is not a cron expression (did you mean '@daily'?); {CRON_HELP}",
    "timezone_unknown.yaml": (
        "schedule.timezone: unknown time zone 'Europe/Pariss' (did you mean 'Europe/Paris'?); "
        "write an IANA name such as UTC or Europe/Paris"
    ),
    # tables taken by pattern (spec checks)
    "include_not_qualified.yaml": (
        "pipelines[0].include[1]: 'orders*' is not a pattern of schema.table; write e.g. shop.* (every table of "
        "shop) or shop.order_*"
    ),
    "naming_typo.yaml": (
        "naming: 'snake' is not allowed; write one of 'as_is', 'lower' or 'snake_case' (did you mean 'snake_case'?)"
    ),
    "exclude_without_include.yaml": (
        'pipelines[0].exclude: exclude leaves out tables that include takes; add include, e.g. include: ["shop.*"]'
    ),
    "target_schema_without_include.yaml": (
        "pipelines[0].target_schema: names the schema of the tables include takes; add include, or write the schema "
        "in each target table's name"
    ),
    "target_schema_staging.yaml": (
        "pipelines[0].target_schema: schema 'databridge_staging' is this pipeline's staging schema; put the target "
        "table in a schema of its own, e.g. analytics"
    ),
    # names that must exist, be unique, or not loop (spec checks)
    "single_pipeline_with_two.yaml": (
        "strategy: single-pipeline allows one pipeline but 2 are defined; write strategy: multi-pipeline"
    ),
    "duplicate_pipeline_names.yaml": "pipelines[1].name: pipeline 'load' is defined twice; give each a distinct name",
    "depends_on_unknown.yaml": "pipelines[1].depends_on[0]: unknown pipeline 'ingset' (did you mean 'ingest'?)",
    "depends_on_itself.yaml": "pipelines[0].depends_on[0]: pipeline 'main' cannot depend on itself",
    "depends_on_cycle.yaml": (
        "pipelines[0].depends_on: pipelines depend on each other in a cycle: a -> b -> c -> a; remove one of "
        "these dependencies"
    ),
    "duplicate_target_column.yaml": f"{T0}.columns[1]: target column 'id' is defined twice; give each a distinct name",
    "column_source_and_expression.yaml": (
        f"{T0}.columns[1]: give either source or expression, not both (an expression names its columns as {{column}})"
    ),
    "column_without_source.yaml": f"{T0}.columns[1]: needs source (a source column) or expression (custom SQL)",
    "expression_without_target.yaml": (
        f"{T0}.columns[1].target: a column computed by an expression needs target: its name in the target table"
    ),
    "excluded_with_other_fields.yaml": (
        f"{T0}.columns[1]: an excluded column takes only source; remove target, transform"
    ),
    "upsert_without_keys.yaml": f"{T0}.keys: upsert needs keys: list the target columns that identify a row",
    "on_existing_skip_without_keys.yaml": (
        f"{T0}.keys: on_existing: skip needs keys: list the target columns that identify a row"
    ),
    "on_existing_skip_with_upsert.yaml": (
        f"{T0}.on_existing: on_existing: skip is for load: append (an upsert updates the rows already in the target); "
        "remove on_existing or write load: append"
    ),
    "on_existing_typo.yaml": f"{T0}.on_existing: 'ignore' is not allowed; write one of 'fail' or 'skip'",
    "keys_unknown_column.yaml": f"{T0}.keys[0]: unknown target column 'order_di' (did you mean 'order_id'?)",
    "foreign_key_unknown_column.yaml": (
        f"{T0}.foreign_keys[0].columns[0]: unknown target column 'custmer_id' (did you mean 'customer_id'?)"
    ),
    "referenced_columns_count.yaml": (
        f"{T0}.foreign_keys[0].referenced_columns: lists 1 column(s) but columns lists 2; give one referenced "
        "column per column"
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
    "not_null_unknown_column.yaml": (
        "pipelines[0].validations[0].columns[0]: unknown target column 'emial' (did you mean 'email'?)"
    ),
    # custom SQL (compiler, sqlglot)
    "expression_statement.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_subquery.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_semicolon.yaml": (
        f"{T0}.columns[1].expression: contains a semicolon; write one expression, not statements"
    ),
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
    "date_format_bad_code.yaml": (
        f"{T0}.columns[1].date_format: date_format '%Y-%q': '%q' is not a supported strftime code"
    ),
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
    # hostile and broken input: the YAML itself
    "yaml_duplicate_key.yaml": "line 12, column 13: invalid YAML: key 'load' is given twice in this mapping; keep one",
    "yaml_tab_indent.yaml": (
        "line 4, column 1: invalid YAML: found character '\\t' that cannot start any token; indent with spaces "
        "(YAML does not allow tabs)"
    ),
    "yaml_two_documents.yaml": (
        "line 3, column 1: invalid YAML: expected a single document in the stream, but found another document; "
        "a project file holds one YAML document: remove the second '---'"
    ),
    "yaml_python_tag.yaml": (
        "line 2, column 7: invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'; a project is plain YAML: remove the tag"
    ),
    "yaml_deep_nesting.yaml": "invalid YAML: lists or mappings nest hundreds of levels deep; a project is a few levels",
    "yaml_alias_bomb.yaml": problems(
        "name: input should be a valid string (got [['x', 'x', 'x', 'x', 'x', 'x', ...], [['x', 'x', 'x', 'x...)",
        "pipelines: is empty: list at least 1 item",
    ),
    "not_utf8.yaml": "is not UTF-8 text (byte 0xe9 at offset 39); save the file as UTF-8",
    # hostile and broken input: wrong types and values
    "name_not_a_string.yaml": "name: YAML read True (from yes/no/on/off/true/false); put the text in quotes",
    "pipelines_empty.yaml": "pipelines: is empty: list at least 1 item",
    "tables_not_a_list.yaml": "pipelines[0].tables: input should be a valid list (got 'shop.orders')",
    "columns_mapping_not_list.yaml": f"{T0}.columns: input should be a valid list (got {{'id': 'order_id'}})",
    "keys_not_a_list.yaml": f"{T0}.keys: input should be a valid list (got 'id')",
    "transform_not_a_list.yaml": f"{T0}.columns[1].transform: input should be a valid list (got 'trim')",
    "transform_typo.yaml": (
        f"{T0}.columns[1].transform[0]: 'strip' is not allowed; write one of 'trim', "
        "'upper' or 'lower' (did you mean 'trim'?)"
    ),
    "default_list.yaml": f"{T0}.columns[1].default: write one value: text, a number or true/false (got [0, 1])",
    "expect_mapping.yaml": (
        "pipelines[0].validations[0].expect: write one value: text, a number or true/false (got {'rows': 0})"
    ),
    "validation_not_a_mapping.yaml": (
        "pipelines[0].validations[0]: input should be a valid dictionary or object to extract fields from (got "
        "'not_null'); write a mapping of keys (key: value, ...)"
    ),
    "catchup_not_boolean.yaml": (
        "schedule.catchup: input should be a valid boolean, unable to interpret input (got 'maybe')"
    ),
    "start_date_word.yaml": (
        "schedule.start_date: input should be a valid date or datetime, input is too short (got 'yesterday'); "
        "write a date as YYYY-MM-DD"
    ),
    "batch_size_too_small.yaml": "defaults.batch_size: input should be greater than or equal to 100 (got 10)",
    "source_conn_id_typo.yaml": problems(
        "pipelines[0].source_conn_id: is required but missing",
        "pipelines[0].source_conn: unknown field 'source_conn' (did you mean 'source_conn_id'?)",
    ),
    "target_unknown_key.yaml": (
        f"{T0}.primary_key: unknown field 'primary_key' (allowed: columns, filter, foreign_keys, keys, load, "
        "max_rejects, on_existing, on_schema_change, role, table)"
    ),
    "staging_schema_spaces.yaml": (
        "pipelines[0].staging_schema: 'my staging' must start with a letter and hold only letters, digits and "
        "underscores (at most 63)"
    ),
    "attachments_bucket.yaml": (
        "pipelines[0].attachments.bucket: 'My_Bucket' is not an S3 bucket name: write 3 to 63 lowercase letters, "
        "digits, dots and hyphens, starting and ending with a letter or digit"
    ),
    "attachments_prefix.yaml": (
        "pipelines[0].attachments.prefix: '/couchdb/' is not a key prefix: write parts of letters, digits and !_.*'()- "
        "joined by '/', without a leading or trailing '/'"
    ),
    "naive_timezone_unknown.yaml": (
        "pipelines[0].source_options.naive_timezone: unknown time zone 'Paris'; write an IANA name such as UTC "
        "or Europe/Paris"
    ),
    "zero_dates_typo.yaml": (
        "pipelines[0].source_options.zero_dates: 'zero' is not allowed; write one of 'null' or 'fail'"
    ),
    # hostile and broken input: names PostgreSQL would cut, places that are not the user's, repeated keys
    "column_name_too_long.yaml": (
        f"{T0}.columns[1]: target column 'total_amount_including_taxes_shipping_and_handling_before_discount' "
        "is 66 bytes long; PostgreSQL keeps only 63: shorten it"
    ),
    "table_name_too_long.yaml": (
        f"{T0}.table: name '{'fact_' * 14}' is 70 bytes long; PostgreSQL keeps only 63: shorten it"
    ),
    "target_in_results_schema.yaml": (
        f"{T0}.table: schema 'databridge' holds DataBridge's run results; put the target table in a schema of "
        "its own, e.g. analytics"
    ),
    "target_in_staging_schema.yaml": (
        f"{T0}.table: schema 'databridge_staging' is this pipeline's staging schema; put the target table in a "
        "schema of its own, e.g. analytics"
    ),
    "target_in_pg_catalog.yaml": (
        f"{T0}.table: schema 'pg_catalog' belongs to PostgreSQL; put the target table in a schema of its own, "
        "e.g. analytics"
    ),
    "keys_listed_twice.yaml": f"{T0}.keys[1]: key column 'id' is listed twice; list each key column once",
    "source_with_nul.yaml": (
        f"{T0}.columns[1].source: name 'to\\x00tal' contains a NUL character, which PostgreSQL cannot store; remove it"
    ),
    # hostile and broken input: custom SQL tricks
    "expression_star.yaml": (
        f"{T0}.columns[1].expression: uses *; an expression gives one value: name the columns it needs as {{column}}"
    ),
    "expression_exists.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_in_subquery.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_cte.yaml": f"{T0}.columns[1].expression: {NOT_A_SCALAR}",
    "expression_pg_read_file.yaml": f"{T0}.columns[1].expression: calls pg_read_file(), {SERVER_STATE}",
    "expression_unclosed_string.yaml": (
        f"{T0}.columns[1].expression: cannot be read as SQL: a quote (' or \") or $$ is left open; close it"
    ),
    "expression_side_by_side.yaml": (
        f"{T0}.columns[1].expression: has two {{column}} placeholders side by side; join them with an operator, "
        "e.g. {a} || {b}"
    ),
    "filter_subquery.yaml": f"{T0}.filter: {NOT_A_SCALAR}",
    "custom_validation_cte_delete.yaml": (
        "pipelines[0].validations[0].sql: must be one SELECT that only reads: WITH is not allowed"
    ),
    "custom_validation_select_into.yaml": f"pipelines[0].validations[0].sql: {READ_ONLY}",
    "custom_validation_two_statements.yaml": (
        "pipelines[0].validations[0].sql: contains a semicolon; write one expression, not statements"
    ),
    "custom_validation_dblink.yaml": f"pipelines[0].validations[0].sql: calls dblink_exec(), {SERVER_STATE}",
    # hostile and broken input: types PostgreSQL would refuse when creating the table
    "source_types_typo.yaml": (
        f"pipelines[0].tables[0].source_types.total: unknown type 'integr' (did you mean 'integer'?); {TYPE_HELP}"
    ),
    "type_unclosed_paren.yaml": (
        f"{T0}.columns[1].type: unknown type 'numeric(10' (did you mean 'numeric'?); {TYPE_HELP}"
    ),
    "type_precision_too_large.yaml": f"{T0}.columns[1].type: 'numeric(2000,2)': the size of numeric must be 1 to 1000",
    "type_zero_length.yaml": f"{T0}.columns[1].type: 'varchar(0)': the size of varchar must be 1 to 10485760",
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


# Input that looks hostile but is legitimate: it must compile, to exactly this SQL (a string literal is data).
NOTE = '"naïve ""quoted"""'
"""The source column `naïve "quoted"` as PostgreSQL reads it."""
LEGITIMATE = [
    ("{naïve \"quoted\"} || ';'", f"({NOTE} || ';')"),
    ("{naïve \"quoted\"} || '-- not a comment /* nor this */'", f"({NOTE} || '-- not a comment /* nor this */')"),
    ('{naïve "quoted"} || $$; DROP TABLE x; $$', f"({NOTE} || '; DROP TABLE x; ')"),
    ("COALESCE({select}, {Order Items})", '(COALESCE("select", "Order Items"))'),
    ('\'{"not": "a column"}\'', """('{"not": "a column"}')"""),
]


@pytest.mark.parametrize(("expression", "sql"), LEGITIMATE)
def test_hostile_looking_but_legitimate_expression_compiles(expression: str, sql: str) -> None:
    text = f"""\
name: shop
pipelines:
  - name: main
    source_conn_id: shop_db
    target_conn_id: warehouse
    tables:
      - source: 'shop."Order Items"'
        targets:
          - table: 'analytics."select"'
            columns:
              - {{source: 'naïve "quoted"'}}
              - target: 'out put'
                expression: {json.dumps(expression)}
"""
    plan = compile_project(parse_project(text, "legit.yaml"), "legit.yaml")
    [target] = plan.pipelines[0].sources[0].targets
    assert (target.table.schema, target.table.name) == ("analytics", "select")
    assert [c.sql for c in target.columns] == [NOTE, sql]
