"""Hostile and broken input against the real engines: each case fails with its exact message and writes nothing
to the target but the failure record in the results schema; empty tables are a normal, proven run."""

from __future__ import annotations

import re
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import PROJECT_FILE, STAGES, TargetDB, pipeline_params, run_pipeline, run_stage
from .shop import TABLES, TARGET_TABLES, create_table_sql

pytestmark = pytest.mark.integration

STAGING = "databridge_staging"
RESULTS = "databridge"
NOT_MINE = (
    "pg_catalog",
    "information_schema",
    RESULTS,
    "databridge_history",
)  # results, and the versions kept for rollback

# One broken run per row: (case id, (text in the shop project, what it becomes), the stage that fails, the message).
# $file, $schema and $engine are filled in per source engine; "..." stands for what the server holds (its address,
# its other databases).
BROKEN_RUNS: list[tuple[str, tuple[str, str], str, str]] = [
    (
        "unknown source column",
        ("{source: email, transform: [trim, lower]}", "{source: emial, target: email, transform: [trim, lower]}"),
        "extract",
        "$file: pipeline shop, source table $schema.customers: unknown source column 'emial' (did you mean 'email'?)",
    ),
    (
        "unknown column in an expression",
        ("TRIM({first_name})", "TRIM({frist_name})"),
        "extract",
        "$file: pipeline shop, source table $schema.customers: unknown source column 'frist_name' (did you mean "
        "'first_name'?)",
    ),
    (
        "unknown column in a filter",
        ("CAST({newsletter} AS integer)", "CAST({news_letter} AS integer)"),
        "extract",
        "$file: pipeline shop, source table $schema.customers: unknown source column 'news_letter' (did you mean "
        "'newsletter'?)",
    ),
    (
        "unknown columns in two tables, all listed",
        (
            "{source: sku, transform: [trim, upper]}\n              - {source: name",
            "{source: skus, target: sku, transform: [trim, upper]}\n              - {source: nme",
        ),
        "extract",
        "$file: 2 problems\n"
        "  - pipeline shop, source table $schema.products: unknown source column 'skus' (did you mean 'sku'?)\n"
        "  - pipeline shop, source table $schema.products: unknown source column 'nme' (did you mean 'name'?)",
    ),
    (
        "source_types for a column nothing reads",
        (
            "      - source: $schema.products\n",
            "      - source: $schema.products\n        source_types: {categry: text}\n",
        ),
        "extract",
        "$file: pipeline shop, source table $schema.products: source_types names 'categry', which no mapping reads "
        "(did you mean 'category'?)",
    ),
    (
        "unknown source table",
        ("source: $schema.order_items", "source: $schema.order_item"),
        "extract",
        "$file: pipeline shop: source table $schema.order_item does not exist in $engine connection 'it_source' (...) "
        "(did you mean 'order_items'?)",
    ),
    (
        "unknown source schema",
        ("source: $schema.orders", "source: nowhere.orders"),
        "extract",
        "$file: pipeline shop: source table nowhere.orders does not exist in $engine connection 'it_source' (...) "
        "(no schema 'nowhere' there; schemas there: $schemas)",
    ),
    (
        "column spelled in another case",
        ("{source: quantity, type: integer}", "{source: Quantity, target: quantity, type: integer}"),
        "extract",
        "$file: pipeline shop, source table $schema.order_items: "
        "unknown source column 'Quantity' (did you mean 'quantity'?)",
    ),
    (
        "unknown source connection",
        (f"source_conn_id: {SOURCE_CONN}", "source_conn_id: it_nowhere"),
        "extract",
        "Airflow connection 'it_nowhere' is not defined: add it (Admin > Connections, or `airflow connections "
        "add it_nowhere ...`)",
    ),
    (
        "impossible type conversion",
        ("{source: discontinued, type: boolean}", "{source: discontinued, type: date}"),
        "transform",
        "transforming $schema.products into analytics.dim_product: column 'discontinued' cannot work on any row: "
        "cannot cast type boolean to date (fix the mapping's type, transform or default)",
    ),
]


def catalog(target: TargetDB, *skip: str) -> dict[str, str]:
    """Every relation, sequence and type of the target outside ``skip`` schemas, with an md5 of each table's rows."""
    rows = target.rows(
        """SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
        ORDER BY 1, 2""",
        (list(NOT_MINE + skip),),
    )
    found = {f"{s}.{r} ({k})": target.checksum(f'"{s}"."{r}"') if k == "r" else "" for s, r, k in rows}
    schemas = target.rows(
        "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(%s) AND nspname NOT LIKE 'pg\\_%%'",
        (list(NOT_MINE + skip),),
    )
    return found | {f"schema {s}": "" for (s,) in schemas}


def run_as_airflow(params: dict[str, Any], run_id: str) -> list[str]:
    """The stages in order up to the first failure, then the report (it runs whatever happened); the failures."""
    errors: list[str] = []
    for stage in STAGES:
        if errors and stage != "report":
            continue
        try:
            run_stage(params, stage, run_id)
        except AirflowException as exc:
            errors.append(f"{stage}: {exc}")
    return errors


def expected(message: str, shop: Source) -> str:
    schemas = {"postgres": "public", "sqlite": "main", "mysql": "..."}[shop.engine]  # every database of the server
    return (
        message.replace("$file", PROJECT_FILE)
        .replace("$schemas", schemas)
        .replace("$schema", shop.schema)
        .replace("$engine", shop.engine)
    )


def previous_run(target: TargetDB) -> None:
    """What an earlier run left: a loaded target table, which a broken run must leave as it is."""
    target.execute("CREATE SCHEMA analytics")
    target.execute("CREATE TABLE analytics.fact_order (order_id bigint PRIMARY KEY, status text)")
    target.execute("INSERT INTO analytics.fact_order VALUES (42, 'FROM AN EARLIER RUN')")


@pytest.mark.parametrize(("case", "edit", "stage", "message"), BROKEN_RUNS, ids=[c[0] for c in BROKEN_RUNS])
def test_broken_run_says_what_is_wrong_and_writes_nothing(
    shop: Source, target: TargetDB, case: str, edit: tuple[str, str], stage: str, message: str
) -> None:
    old, new = (expected(part, shop) for part in edit)
    assert old in shop.project(), case
    previous_run(target)
    before = catalog(target)

    errors = run_as_airflow(pipeline_params(shop.project().replace(old, new)), "run-broken")

    first = errors[0].split(": ", 1)[1]
    assert re.fullmatch(re.escape(expected(message, shop)).replace(re.escape("..."), ".*"), first, re.DOTALL), first
    assert errors[0].startswith(f"{stage}: ")
    assert errors[-1] == f"report: pipeline shop failed; report stored. {stage}: {first}"
    untouched = (STAGING,) if stage == "transform" else ()  # a transform failure keeps what extract staged
    assert catalog(target, *untouched) == before
    if untouched:  # ... but no ready table for the target that failed
        assert not [t for t in target.tables(STAGING) if t.endswith("__ready__analytics__dim_product")]
    [(succeeded, errors_stored)] = target.rows(
        "SELECT succeeded, report->'errors' FROM databridge.reports WHERE run_id = 'run-broken'"
    )
    assert succeeded is False and errors_stored == [f"{stage}: {first}"]


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_unknown_target_connection_touches_no_database(shop: Source, target: TargetDB) -> None:
    previous_run(target)
    before = catalog(target, *())
    params = pipeline_params(shop.project().replace(f"target_conn_id: {TARGET_CONN}", "target_conn_id: it_no_target"))

    errors = run_as_airflow(params, "run-broken")

    message = (
        "Airflow connection 'it_no_target' is not defined: add it (Admin > Connections, or `airflow connections add "
        "it_no_target ...`)"
    )
    assert errors == [f"extract: {message}", f"report: {message}"]
    assert catalog(target) == before and target.tables(RESULTS) == []


def test_empty_tables_run_succeeds_and_reports_zero(source: Source, target: TargetDB) -> None:
    for table in TABLES:
        source.db.execute(create_table_sql(source.engine, table))

    results = run_pipeline(source.project(), "run-empty")

    assert results["report"]["succeeded"] is True
    assert results["validate"]["checks"] == results["validate"]["passed"] > 0
    for table in TARGET_TABLES:
        assert target.count(f"analytics.{table}") == 0
    [(report,)] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-empty'")
    assert report["errors"] == [] and report["totals"]["source_rows"] == report["totals"]["loaded_rows"] == 0
    assert {t["target"]: (t["source_rows"], t["loaded_rows"], t["target_rows"]) for t in report["tables"]} == {
        f"analytics.{table}": (0, 0, 0) for table in TARGET_TABLES
    }
    assert (
        target.scalar("SELECT count(*) FROM databridge.validation_results WHERE run_id = 'run-empty' AND NOT passed")
        == 0
    )


# Legitimate names that look hostile: reserved words, spaces, dots, quotes, unicode, capitals. They must just work.
ODD_TABLES: dict[str, list[tuple[str, str, str]]] = {  # table: [(column, PostgreSQL/SQLite type, MariaDB type)]
    "select": [
        ("id", "integer PRIMARY KEY", "INT PRIMARY KEY"),
        ("from", "text", "TEXT"),
        ("Order Items", "integer", "INT"),
    ],
    "Order Items": [
        ("id", "integer PRIMARY KEY", "INT PRIMARY KEY"),
        ("select", "integer", "INT"),
        ('naïve "quoted"', "text", "TEXT"),
        ("a.b", "text", "TEXT"),
    ],
    'naïve "quoted"': [
        ("id", "integer PRIMARY KEY", "INT PRIMARY KEY"),
        ("ünï cödé", "text", "TEXT"),
        ("Mixed Case", "text", "TEXT"),
    ],
}
ODD_ROWS: dict[str, list[tuple[Any, ...]]] = {
    "select": [(1, "a", 10), (2, "b;--", 20)],
    "Order Items": [(1, 1, 'héllo "x"', "dot"), (2, 2, "skip me", "y"), (3, 2, "ok", None)],
    'naïve "quoted"': [(1, "日本", "Mc"), (2, "", None)],
}
ODD_PROJECT = '''\
name: odd_it
pipelines:
  - name: odd
    source_conn_id: it_source
    target_conn_id: it_target
    tables:
      - source: '$schema."select"'
        targets:
          - table: 'analytics."select"'
            role: dimension
            load: upsert
            keys: [id]
            columns:
              - {source: id}
              - {source: from}
              - {source: Order Items, type: integer}
              - {target: from + items, expression: "{from} || ' x' || CAST({Order Items} AS text)"}
      - source: '$schema."Order Items"'
        targets:
          - table: 'analytics."Order Items"'
            keys: [id]
            filter: "{naïve \\"quoted\\"} <> 'skip me'"
            columns:
              - {source: id}
              - {source: select}
              - {source: 'naïve "quoted"', transform: [upper]}
              - {source: a.b}
            foreign_keys:
              - {columns: [select], references: 'analytics."select"', referenced_columns: [id]}
      - source: '$schema."naïve ""quoted"""'
        targets:
          - table: 'analytics."naïve ""quoted"""'
            keys: [id]
            columns:
              - {source: id}
              - {source: ünï cödé}
              - {source: Mixed Case}
    validations:
      - {check: not_null, table: 'analytics."Order Items"', columns: ['naïve "quoted"']}
      - {check: foreign_key, table: 'analytics."Order Items"', columns: [select],
         references: 'analytics."select"', referenced_columns: [id]}
      - {check: custom, name: odd names, sql: 'SELECT count(*) FROM analytics."naïve ""quoted"""', expect: 2}
'''


def quote_for(engine: str, name: str) -> str:
    mark = "`" if engine == "mysql" else '"'
    return mark + name.replace(mark, mark * 2) + mark


def test_reserved_words_spaces_quotes_and_unicode_migrate_exactly(source: Source, target: TargetDB) -> None:
    for table, columns in ODD_TABLES.items():
        kind = 2 if source.engine == "mysql" else 1
        definition = ", ".join(f"{quote_for(source.engine, c[0])} {c[kind]}" for c in columns)
        source.db.execute(f"CREATE TABLE {quote_for(source.engine, table)} ({definition})")
        source.db.insert(quote_for(source.engine, table), ODD_ROWS[table])

    results = run_pipeline(ODD_PROJECT.replace("$schema", source.schema), "run-odd")

    assert results["report"]["succeeded"] is True and results["validate"]["checks"] == results["validate"]["passed"]
    assert target.rows('SELECT * FROM analytics."select" ORDER BY 1') == [
        (1, "a", 10, "a x10"),
        (2, "b;--", 20, "b;-- x20"),
    ]
    integer = "bigint" if source.engine == "sqlite" else "integer"  # SQLite integers are 64-bit
    assert target.column_types("analytics", "select") == {
        "id": integer,
        "from": "text",
        "Order Items": "integer",
        "from + items": "text",
    }
    assert target.rows('SELECT * FROM analytics."Order Items" ORDER BY 1') == [
        (1, 1, 'HÉLLO "X"', "dot"),
        (3, 2, "OK", None),
    ]
    assert target.rows('SELECT * FROM analytics."naïve ""quoted""" ORDER BY 1') == [(1, "日本", "Mc"), (2, "", None)]
    assert target.primary_key("analytics", 'naïve "quoted"') == ["id"]


# Huge values: long text, numbers at the edge of each type, a big JSON document. Types per engine.
LONG_TEXT = ('Zoë 日本 🎉\t"q" \\ \n' * 300_000)[:4_000_000]
BIG_DOC = {
    "items": [{"i": i, "s": '日本 "x"', "f": i / 7} for i in range(20_000)],
    "deep": {"a": {"b": {"c": [1, None, True]}}},
}
HUGE_TYPES = {  # column: (PostgreSQL, MariaDB, SQLite)
    "id": ("integer PRIMARY KEY", "INT PRIMARY KEY", "INTEGER PRIMARY KEY"),
    "long_text": ("text", "LONGTEXT", "TEXT"),
    "big_num": ("numeric", "DECIMAL(65,30)", "TEXT"),
    "big_int": ("bigint", "BIGINT", "INTEGER"),
    "big_double": ("double precision", "DOUBLE", "REAL"),
    "doc": ("jsonb", "JSON", "TEXT"),
}
HUGE_NUMBERS = {  # engine: (largest, smallest) of big_num as text
    "postgres": ("9" * 900 + "." + "9" * 100, "-" + "9" * 900 + "." + "0" * 99 + "1"),
    "mysql": ("9" * 35 + "." + "9" * 30, "-" + "9" * 35 + "." + "0" * 29 + "1"),
    "sqlite": ("9" * 60 + ".5", "-0." + "0" * 40 + "1"),  # text affinity: kept as written
}


def test_huge_values_arrive_exactly(source: Source, target: TargetDB) -> None:
    import json

    from .runner import passthrough_yaml

    kind = {"postgres": 0, "mysql": 1, "sqlite": 2}[source.engine]
    definition = ", ".join(f"{quote_for(source.engine, c)} {types[kind]}" for c, types in HUGE_TYPES.items())
    source.db.execute(f"CREATE TABLE huge ({definition})")
    largest, smallest = HUGE_NUMBERS[source.engine]
    doc = json.dumps(BIG_DOC)
    source.db.insert(
        "huge",
        [
            (1, LONG_TEXT, largest, 2**63 - 1, 1.7976931348623157e308, doc),
            (2, "", smallest, -(2**63), -2.2250738585072014e-308, "{}"),
        ],
    )
    project = passthrough_yaml("huge", SOURCE_CONN, TARGET_CONN, f"{source.schema}.huge", list(HUGE_TYPES)[1:])

    results = run_pipeline(project, "run-huge")

    assert results["report"]["succeeded"] is True
    rows = target.rows(
        "SELECT id, md5(long_text), length(long_text), big_num::text, big_int, big_double, doc "
        "FROM landing.huge ORDER BY id"
    )
    docs = [json.loads(r[6]) if isinstance(r[6], str) else r[6] for r in rows]
    assert [r[:6] for r in rows] == [
        (1, target.scalar("SELECT md5(%s)", (LONG_TEXT,)), len(LONG_TEXT), largest, 2**63 - 1, 1.7976931348623157e308),
        (2, "d41d8cd98f00b204e9800998ecf8427e", 0, smallest, -(2**63), -2.2250738585072014e-308),
    ]
    assert docs == [BIG_DOC, {}]


COPY_MARKERS = [(1, "\\.\n\\.\r\n"), (2, "a\\Nb"), (3, "\\N"), (4, "tab\there")]
"""Text that spells COPY's own end-of-data and NULL markers: data, to arrive as it is."""


@pytest.mark.parametrize("source", ["mysql", "sqlite"], indirect=True)  # PostgreSQL itself cannot hold a NUL in text
def test_text_holding_a_nul_names_column_and_row_and_writes_nothing(source: Source, target: TargetDB) -> None:
    from .runner import passthrough_yaml

    source.db.execute(f"CREATE TABLE notes (id {HUGE_TYPES['id'][1 if source.engine == 'mysql' else 2]}, body TEXT)")
    source.db.insert("notes", [*COPY_MARKERS, (5, "nul\x00here")])
    params = pipeline_params(passthrough_yaml("notes", SOURCE_CONN, TARGET_CONN, f"{source.schema}.notes", ["body"]))
    before = catalog(target)

    errors = run_as_airflow(params, "run-nul")

    assert errors[0] == (
        f"extract: source table {source.schema}.notes: column 'body' of row 5 (in reading order) holds a NUL "
        "character, which PostgreSQL text cannot store; remove the NUL characters from that column in the source"
    )
    assert target.tables(STAGING) == [] and catalog(target, STAGING) == before  # the staging schema is there, empty


def test_text_spelling_copy_markers_arrives_exactly(source: Source, target: TargetDB) -> None:
    from .runner import passthrough_yaml

    kind = {"postgres": 0, "mysql": 1, "sqlite": 2}[source.engine]
    source.db.execute(f"CREATE TABLE notes (id {HUGE_TYPES['id'][kind]}, body TEXT)")
    source.db.insert("notes", COPY_MARKERS)

    run_pipeline(passthrough_yaml("notes", SOURCE_CONN, TARGET_CONN, f"{source.schema}.notes", ["body"]), "run-markers")

    assert target.rows("SELECT * FROM landing.notes ORDER BY 1") == COPY_MARKERS
