"""The example projects run through Airflow (dag.test) against the real servers and prove themselves."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields, pg_connect
from tests.e2e.conftest import build_demo_source, copy_project, dagbag

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DEMO_TABLES = {
    "analytics.dim_customer": "customers",
    "analytics.dim_product": "products",
    "analytics.fact_order": "orders",
    "analytics.fact_order_line": "order_items",
}


def run(dag: Any) -> Any:
    return dag.test()


def states(dag_run: Any) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def count(dbname: str, table: str, where: str = "") -> int:
    with pg_connect(dbname) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0])  # type: ignore[index]


@pytest.fixture
def demo_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "shop.db"
    build_demo_source(path)
    airflow_conn(monkeypatch, "demo_shop_source", conn_type="sqlite", host=str(path))
    return path


def test_demo_project_runs_end_to_end(
    airflow_db: None, demo_source: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    airflow_conn(monkeypatch, "databridge_target", **pg_conn_fields(pg_database))
    dag_run = run(dagbag().dags["demo_shop"])
    assert str(dag_run.state) == "success", states(dag_run)
    source = sqlite3.connect(demo_source)
    for target, table in DEMO_TABLES.items():
        assert count(pg_database, target) == source.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    opted_in = source.execute("SELECT count(*) FROM customers WHERE newsletter = 1").fetchone()[0]
    assert count(pg_database, "analytics.customer_contact") == opted_in
    assert count(pg_database, "databridge.reports", "WHERE project = 'demo_shop' AND succeeded") == 1
    assert count(pg_database, "databridge.validation_results", "WHERE NOT passed") == 0
    assert count(pg_database, "databridge.validation_results") >= 20


def test_failed_validation_fails_the_run_and_the_report_says_so(
    airflow_db: None, demo_source: Path, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    airflow_conn(monkeypatch, "databridge_target", **pg_conn_fields(pg_database))
    copy_project(
        "demo_shop", mappings, {"WHERE line_total < 0\n        expect: 0": "WHERE line_total < 0\n        expect: 1"}
    )
    dag_run = run(dagbag(mappings, monkeypatch).dags["demo_shop"])
    assert str(dag_run.state) == "failed"
    assert states(dag_run)["shop.validate"] == "failed"
    assert states(dag_run)["shop.report"] == "failed"
    with pg_connect(pg_database) as conn:
        succeeded, errors = conn.execute("SELECT succeeded, report->'errors' FROM databridge.reports").fetchone()  # type: ignore[misc]
    assert succeeded is False
    assert "no negative line totals: returned 0, expected 1" in errors[0]


def make_erp(database: str) -> None:
    conn = MySQLdb.connect(
        host=MYSQL["host"],
        port=MYSQL["port"],
        user=MYSQL["user"],
        passwd="",
        db=database,
        charset="utf8mb4",
        autocommit=True,
    )
    try:
        _fill_erp(conn.cursor())
    finally:
        conn.close()


def _fill_erp(cur: Any) -> None:
    cur.execute(
        "CREATE TABLE suppliers (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, country CHAR(2), rating "
        "TINYINT, active TINYINT(1))"
    )
    cur.execute(
        """CREATE TABLE purchase_orders (id BIGINT PRIMARY KEY, supplier_id INT NOT NULL, amount DECIMAL(12,2),
        currency CHAR(3), status ENUM('open','closed','cancelled'), created_at DATETIME, memo TEXT)"""
    )
    cur.executemany(
        "INSERT INTO suppliers VALUES (%s, %s, %s, %s, %s)",
        [(1, " Acme ", "fr", 5, 1), (2, "Globex", None, None, 0), (3, "Initech", "de", 3, None)],
    )
    cur.executemany(
        "INSERT INTO purchase_orders VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            (100, 1, "1250.50", "eur", "open", "2026-03-01 10:00:00", "first"),
            (101, 1, "99.99", "usd", "closed", "2026-03-15 12:30:00", None),
            (102, 2, "10.00", "EUR", "cancelled", "2026-04-01 08:00:00", "never shipped"),
            (103, 3, "0.01", "EUR", "closed", "2026-04-02 09:00:00", "tab\there"),
        ],
    )


def test_multi_pipeline_project_runs_its_pipelines_in_order(
    airflow_db: None,
    mysql_database: str,
    pg_database: str,
    pg_database_2: str,
    mappings: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_erp(mysql_database)
    copy_project("warehouse_sync", mappings, {"source: erp.": f"source: {mysql_database}."})
    airflow_conn(monkeypatch, "erp_mariadb", **mysql_conn_fields(mysql_database))
    airflow_conn(monkeypatch, "warehouse_staging", **pg_conn_fields(pg_database))
    airflow_conn(monkeypatch, "warehouse_prod", **pg_conn_fields(pg_database_2))
    dag_run = run(dagbag(mappings, monkeypatch).dags["warehouse_sync"])
    assert str(dag_run.state) == "success", states(dag_run)
    tis = {ti.task_id: ti for ti in dag_run.get_task_instances()}
    assert tis["publish.extract"].start_date >= tis["ingest.report"].end_date
    assert count(pg_database, "erp_raw.suppliers") == 3
    assert count(pg_database, "erp_raw.purchase_orders") == 4
    assert count(pg_database_2, "warehouse.fact_purchase") == 3
    with pg_connect(pg_database_2) as conn:
        suppliers = conn.execute(
            "SELECT supplier_id, supplier_name, country, rating, is_active FROM warehouse.dim_supplier ORDER BY 1"
        ).fetchall()
        purchases = conn.execute(
            "SELECT purchase_id, amount::text, currency, amount_eur::text, created_month FROM "
            "warehouse.fact_purchase ORDER BY 1"
        ).fetchall()
    assert suppliers == [(1, "Acme", "FR", 5, True), (2, "Globex", "??", 0, False), (3, "Initech", "DE", 3, None)]
    assert purchases == [
        (100, "1250.50", "EUR", "1250.50", "2026-03"),
        (101, "99.99", "USD", None, "2026-03"),
        (103, "0.01", "EUR", "0.01", "2026-04"),
    ]
