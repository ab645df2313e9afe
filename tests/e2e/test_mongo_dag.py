"""The MongoDB catalogue example runs through Airflow (dag.test) from the real MongoDB-wire server into PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import airflow_conn, pg_conn_fields, pg_connect
from tests.e2e.conftest import copy_project, dagbag
from tests.e2e.test_dag_runs import count, states
from tests.integration.mongo_source import fill_catalog, mongo_client, mongo_conn_fields, mongo_database

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["mongo_database"]  # the fixture, used by name


def test_mongo_catalog_runs_end_to_end(
    airflow_db: None, mongo_database: str, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_catalog(mongo_database)
    copy_project("mongo_catalog", mappings, {"source: catalog.": f"source: {mongo_database}."})
    airflow_conn(monkeypatch, "catalog_mongo", **mongo_conn_fields(mongo_database))
    airflow_conn(monkeypatch, "databridge_target", **pg_conn_fields(pg_database))

    dag_run = dagbag(mappings, monkeypatch).dags["mongo_catalog"].test()

    assert str(dag_run.state) == "success", states(dag_run)
    db = mongo_client()[mongo_database]
    items = sum(len(o["items"]) for o in db.orders.find({}, {"items": 1}))
    assert count(pg_database, "store.dim_product") == db.products.count_documents({}) == 40
    assert count(pg_database, "store.fact_order") == db.orders.count_documents({}) == 200
    assert count(pg_database, "store.fact_order_item") == items
    assert count(pg_database, "databridge.reports", "WHERE project = 'mongo_catalog' AND succeeded") == 1
    assert count(pg_database, "databridge.validation_results", "WHERE NOT passed") == 0
    with pg_connect(pg_database) as conn:
        fks = conn.execute(
            "SELECT count(*) FROM databridge.validation_results WHERE check_name LIKE '%fact_order_item(order_id)%'"
        ).fetchone()
    assert fks == (1,)
