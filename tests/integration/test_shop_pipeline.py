"""The shop moved from each source engine into PostgreSQL: exact rows, types, keys, results, reruns and upserts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.conftest import airflow_conn, grant_sandbox, pg_admin, pg_conn_fields, unique_name

from .conftest import TARGET_CONN, Source
from .runner import SUPERUSER_WARNING, TargetDB, pipeline_params, run_pipeline, run_stage
from .shop import NOTES, TARGET_TABLES

pytestmark = pytest.mark.integration

D = Decimal

DIM_CUSTOMER = [
    (1, "Zoë Müller", "zoe.mueller@example.com", "DE", 120, dt.date(2023, 1, 15), NOTES[1]),
    (2, "Hiro 日本", "hiro@example.jp", "ZZ", 0, dt.date(2023, 2, 28), NOTES[2]),
    (3, "Seán O'Brien", "sean@example.ie", "ZZ", 0, dt.date(2024, 12, 31), NOTES[3]),
    (4, "Ann Smith", "ann@example.com", "GB", 5000, dt.date(2022, 6, 1), NOTES[4]),
    (5, "Émile Zola", "emile@example.fr", "ZZ", 0, dt.date(2021, 7, 14), NOTES[5]),
    (6, "Li Wu", "li@example.cn", "CN", 7, dt.date(2020, 1, 1), ""),
    (7, "Max Mustermann", "max@example.de", "AT", 1, dt.date(2019, 3, 3), None),
]
CUSTOMER_CONTACT = [
    (1, "zoe.mueller@example.com", "2023-01"),
    (3, "sean@example.ie", "2024-12"),
    (5, "emile@example.fr", "2021-07"),
    (7, "max@example.de", "2019-03"),
]
DIM_PRODUCT = [
    ("SKU-001", 'Mug "Big" 日本', "kitchen", D("9.99"), False),
    ("SKU-002", "Garden Hose\\Pro", "uncategorised", D("19.50"), True),
    ("SKU-003", "Zoë's Lamp", "uncategorised", D("12.50"), None),
    ("SKU-004", "Müller\tTab\nNewline", "toys", D("0.10"), False),
]
FACT_ORDER = [
    (1, 1, dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02", "PAID", D("4.99")),
    (2, 1, dt.datetime(2024, 2, 29, 23, 59, 59), "2024-02-29", "SHIPPED", D("0.00")),
    (3, 2, dt.datetime(2024, 12, 31, 0, 0), "2024-12-31", "CANCELLED", D("0.00")),
    (4, 3, dt.datetime(2025, 1, 1, 12, 0), "2025-01-01", "PAID", D("19.50")),
]
FACT_ORDER_LINE = [
    (1, 1, "SKU-001", 2, D("9.99"), D("19.98")),
    (1, 2, "SKU-002", 3, D("19.50"), D("52.65")),
    (2, 1, "SKU-003", 4, D("12.50"), D("37.50")),
    (3, 1, "SKU-001", 1, D("9.99"), D("9.49")),
    (4, 1, "SKU-004", 10, D("0.10"), D("1.00")),
    (4, 2, "SKU-002", 1, D("19.50"), D("19.50")),
]
EXPECTED_ROWS = {
    "dim_customer": DIM_CUSTOMER,
    "customer_contact": CUSTOMER_CONTACT,
    "dim_product": DIM_PRODUCT,
    "fact_order": FACT_ORDER,
    "fact_order_line": FACT_ORDER_LINE,
}
COLUMN_TYPES = {
    "dim_customer": [
        ("customer_id", "bigint"),
        ("full_name", "text"),
        ("email", "text"),
        ("country_code", "character(2)"),
        ("loyalty_points", "integer"),
        ("signup_date", "date"),
        ("notes", "text"),
    ],
    "customer_contact": [("customer_id", "bigint"), ("contact_email", "text"), ("signup_month", "text")],
    "dim_product": [
        ("sku", "text"),
        ("product_name", "text"),
        ("category", "text"),
        ("unit_price", "numeric(10,2)"),
        ("discontinued", "boolean"),
    ],
    "fact_order": [
        ("order_id", "bigint"),
        ("customer_id", "bigint"),
        ("ordered_at", "timestamp without time zone"),
        ("order_day", "text"),
        ("status", "text"),
        ("shipping_cost", "numeric(10,2)"),
    ],
    "fact_order_line": [
        ("order_id", "bigint"),
        ("line_no", "integer"),
        ("sku", "text"),
        ("quantity", "integer"),
        ("unit_price", "numeric(10,2)"),
        ("line_total", "numeric(12,2)"),
    ],
}
PRIMARY_KEYS = {
    "dim_customer": ["customer_id"],
    "customer_contact": ["customer_id"],
    "dim_product": ["sku"],
    "fact_order": ["order_id"],
    "fact_order_line": ["order_id", "line_no"],
}
CHECKS = 26  # 9 row counts, 5 key not-null, 4 foreign keys, 3 declared, 5 proofs (one per target table)


def table_rows(target: TargetDB, table: str) -> list[tuple[object, ...]]:
    return target.rows(f"SELECT * FROM analytics.{table} ORDER BY {', '.join(PRIMARY_KEYS[table])}")


MYSQL_WIDTHS = {
    ("dim_customer", "email"): 255, ("customer_contact", "contact_email"): 255, ("dim_product", "sku"): 20,
    ("dim_product", "product_name"): 100, ("dim_product", "category"): 50, ("fact_order", "status"): 20,
    ("fact_order_line", "sku"): 20,
}  # fmt: skip
"""Columns cleaned up by trim/upper/lower (or given a default) from a MySQL VARCHAR(n): they keep its width."""


def column_types(table: str, engine: str) -> list[tuple[str, str]]:
    """COLUMN_TYPES as created from ``engine`` (the other engines' source columns are text)."""
    widths = MYSQL_WIDTHS if engine == "mysql" else {}
    return [
        (name, f"character varying({widths[table, name]})" if (table, name) in widths else kind)
        for name, kind in COLUMN_TYPES[table]
    ]


def test_run_moves_exact_rows_types_and_keys(shop: Source, target: TargetDB) -> None:
    results = run_pipeline(shop.project(), "run-1")

    extracted = {table: stat["staged_rows"] for table, stat in results["extract"].items()}
    assert extracted == {
        f"{shop.schema}.customers": 7,
        f"{shop.schema}.products": 4,
        f"{shop.schema}.orders": 4,
        f"{shop.schema}.order_items": 6,
    }
    assert results["validate"] == {"checks": CHECKS, "passed": CHECKS}
    assert {k: results["report"][k] for k in ("succeeded", "tables", "source_rows", "loaded_rows")} == {
        "succeeded": True, "tables": 5, "source_rows": 21, "loaded_rows": 25,
    }  # fmt: skip
    assert target.tables("analytics") == sorted(TARGET_TABLES)
    for table in TARGET_TABLES:
        assert table_rows(target, table) == EXPECTED_ROWS[table], table
        assert list(target.column_types("analytics", table).items()) == column_types(table, shop.engine), table
        assert target.primary_key("analytics", table) == PRIMARY_KEYS[table], table


def test_text_and_numbers_arrive_byte_for_byte(shop: Source, target: TargetDB) -> None:
    run_pipeline(shop.project(), "run-1")
    notes = dict(target.rows("SELECT customer_id, convert_to(notes, 'UTF8') FROM analytics.dim_customer"))
    assert notes == {i: None if text is None else text.encode() for i, text in NOTES.items()}
    totals = target.scalar(
        "SELECT string_agg(line_total::text, ',' ORDER BY order_id, line_no) FROM analytics.fact_order_line"
    )
    assert totals == "19.98,52.65,37.50,9.49,1.00,19.50"
    assert (
        target.scalar("SELECT string_agg(unit_price::text, ',' ORDER BY sku) FROM analytics.dim_product")
        == "9.99,19.50,12.50,0.10"
    )


def test_results_schema_holds_report_stages_and_validations(shop: Source, target: TargetDB) -> None:
    run_pipeline(shop.project(), "run-1")

    reports = target.rows("SELECT project, pipeline, run_id, succeeded, report FROM databridge.reports")
    assert [r[:4] for r in reports] == [("shop_it", "shop", "run-1", True)]
    report = reports[0][4]
    assert (report["succeeded"], report["errors"], report["warnings"], report["not_run"]) == (
        True,
        [],
        [SUPERUSER_WARNING],
        [],
    )
    assert report["totals"]["loaded_rows"] == 25
    assert {t["target"]: t["target_rows"] for t in report["tables"]} == {
        f"analytics.{t}": len(EXPECTED_ROWS[t]) for t in TARGET_TABLES
    }
    stages = target.rows(
        "SELECT stage, status, error FROM databridge.stage_runs WHERE run_id = 'run-1' ORDER BY started_at"
    )
    assert stages == [
        (s, "success", None) for s in ("extract", "transform", "load_dimensions", "load_facts", "validate", "report")
    ]
    validations = target.rows(
        "SELECT check_name, passed, on_failure, detail FROM databridge.validation_results WHERE run_id = 'run-1'"
    )
    assert len(validations) == CHECKS and all(passed for _, passed, _, _ in validations)
    by_name = {name: (on_failure, detail) for name, _, on_failure, detail in validations}
    assert by_name["no negative line totals"] == ("fail", "returned 0, expected 0")
    assert by_name["analytics.fact_order(ordered_at) not null"] == ("warn", "no NULL in ordered_at")
    assert by_name["row count analytics.customer_contact"] == (
        "fail",
        "expected 4, transformed 4, loaded 4 (replace), target holds 4",
    )


def test_second_run_leaves_identical_content(shop: Source, target: TargetDB) -> None:
    project = shop.project()
    run_pipeline(project, "run-1")
    first = {table: target.checksum(f"analytics.{table}") for table in TARGET_TABLES}

    again = run_pipeline(project, "run-2")

    assert {table: target.checksum(f"analytics.{table}") for table in TARGET_TABLES} == first
    for table, keys in PRIMARY_KEYS.items():
        distinct = target.scalar(f"SELECT count(DISTINCT ({', '.join(keys)})) FROM analytics.{table}")
        assert target.count(f"analytics.{table}") == distinct == len(EXPECTED_ROWS[table]), table
    assert again["validate"] == {"checks": CHECKS, "passed": CHECKS}
    assert target.rows("SELECT run_id, succeeded FROM databridge.reports ORDER BY run_id") == [
        ("run-1", True),
        ("run-2", True),
    ]


def test_retried_load_with_the_same_run_id_appends_nothing(shop: Source, target: TargetDB) -> None:
    project = shop.project(lines_load="append")
    run_pipeline(project, "run-1")
    before = target.checksum("analytics.fact_order_line")

    retry = run_stage(pipeline_params(project), "load_facts", "run-1")

    line_stat = retry["analytics.fact_order_line"]
    assert (line_stat["load"], line_stat["loaded_rows"], line_stat["target_rows"]) == ("append", 6, 6)
    assert target.count("analytics.fact_order_line") == 6
    assert target.checksum("analytics.fact_order_line") == before
    ledger = target.rows(
        "SELECT DISTINCT ON (table_name) table_name, rows FROM databridge.batch_ledger WHERE stage = 'load' AND "
        "run_id = 'run-1' ORDER BY table_name, batch DESC"
    )
    assert ledger == sorted((f"analytics.{t}", len(EXPECTED_ROWS[t])) for t in TARGET_TABLES)
    assert run_stage(pipeline_params(project), "validate", "run-1") == {"checks": CHECKS, "passed": CHECKS}


NEW_CUSTOMER = (
    8,
    " Nia",
    "Okoro ",
    " NIA@Example.NG",
    " ng",
    42,
    dt.datetime(2025, 5, 5, 5, 5, 5),
    True,
    "new\tcustomer",
)


def test_upsert_updates_changed_rows_and_inserts_new_ones(shop: Source, target: TargetDB) -> None:
    project = shop.project()
    run_pipeline(project, "run-1")
    others = "(SELECT * FROM analytics.dim_customer WHERE customer_id NOT IN (2, 8))"
    untouched = target.checksum(others)

    m = shop.db.mark
    shop.db.execute(f"UPDATE customers SET email = {m} WHERE id = {m}", ("  Hiro.Tanaka@Example.JP ", 2))
    shop.db.insert("customers", [NEW_CUSTOMER])
    results = run_pipeline(project, "run-2")

    stat = results["load_dimensions"]["analytics.dim_customer"]
    assert (stat["load"], stat["loaded_rows"], stat["target_rows"]) == ("upsert", 8, 8)
    assert target.count("analytics.dim_customer") == 8
    rows = {r[0]: r for r in table_rows(target, "dim_customer")}
    assert rows[2] == (2, "Hiro 日本", "hiro.tanaka@example.jp", "ZZ", 0, dt.date(2023, 2, 28), NOTES[2])
    assert rows[8] == (8, "Nia Okoro", "nia@example.ng", "NG", 42, dt.date(2025, 5, 5), "new\tcustomer")
    assert target.checksum(others) == untouched
    assert [r[0] for r in table_rows(target, "customer_contact")] == [1, 3, 5, 7, 8]


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_cleared_run_loads_the_changed_source_again(shop: Source, target: TargetDB) -> None:
    """Airflow's Clear runs a DAG run again under its run_id: replace and upsert tables must take the new data."""
    project = shop.project()
    run_pipeline(project, "run-1")
    m = shop.db.mark
    shop.db.execute(f"UPDATE customers SET email = {m} WHERE id = {m}", ("hiro.tanaka@example.jp", 2))
    shop.db.execute(f"UPDATE products SET name = {m} WHERE sku = {m}", ("Garden Hose", "SKU-002"))

    results = run_pipeline(project, "run-1")

    assert target.scalar("SELECT email FROM analytics.dim_customer WHERE customer_id = 2") == "hiro.tanaka@example.jp"
    assert target.scalar("SELECT product_name FROM analytics.dim_product WHERE sku = 'SKU-002'") == "Garden Hose"
    assert results["validate"] == {"checks": CHECKS, "passed": CHECKS}


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_a_non_superuser_owner_runs_the_whole_pipeline_without_a_warning(
    shop: Source, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's recommended target role: owns its database, is a member of the sandbox role, nothing more."""
    owner = unique_name("databridge_owner")
    with pg_admin() as admin:
        admin.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER")
        grant_sandbox(admin, owner)
        admin.execute(f'ALTER DATABASE "{target.dbname}" OWNER TO {owner}')
    airflow_conn(monkeypatch, TARGET_CONN, **(pg_conn_fields(target.dbname) | {"login": owner}))
    try:
        results = run_pipeline(shop.project(), "run-1")
        assert results["validate"] == {"checks": CHECKS, "passed": CHECKS}
        assert results["report"]["succeeded"] is True
        assert target.scalar("SELECT report->'warnings' FROM databridge.reports WHERE run_id = 'run-1'") == []
        owners = target.rows(
            "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('analytics', 'databridge_staging')"
        )
        assert owners == [(owner,)]  # the ready tables the sandbox created were handed back
        assert (
            target.rows(
                "SELECT table_name FROM information_schema.role_table_grants WHERE grantee = 'databridge_sandbox'"
            )
            == []
        )
    finally:
        target.conn.execute(f'ALTER DATABASE "{target.dbname}" OWNER TO postgres')
        target.conn.execute(f"REASSIGN OWNED BY {owner} TO postgres")
        target.conn.execute(f"DROP OWNED BY {owner}")
        with pg_admin() as admin:
            admin.execute(f"DROP ROLE {owner}")
