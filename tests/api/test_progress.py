"""The run status route's per-table progress (what the monitor draws as bars): read from the progress rows the stages
write in the target's results schema, after a real run and for a table a stage is still working on."""

from __future__ import annotations

import logging
from pathlib import Path

import MySQLdb
import pytest

from databridge.engines.postgres import PostgresTarget
from databridge.operators.base import connection_info
from databridge.runtime.progress import Progress, ProgressRows
from databridge.runtime.results import RunKey
from tests.api.conftest import Api
from tests.api.test_wizard import project
from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields
from tests.e2e.conftest import dagbag

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_the_run_status_shows_each_tables_progress(
    api: Api, mappings: Path, mysql_database: str, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    conn.cursor().execute(
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, active TINYINT(1), "
        "joined DATE, note TEXT)"
    )
    conn.cursor().execute(
        "INSERT INTO customers VALUES (1, 'ada', 1, '2024-01-02', 'x'), (2, 'bob', 0, NULL, NULL), "
        "(3, 'cy', 1, NULL, NULL)"
    )
    conn.close()
    airflow_conn(monkeypatch, "wiz_src", **mysql_conn_fields(mysql_database))
    airflow_conn(monkeypatch, "wiz_tgt", **pg_conn_fields(pg_database))
    assert api.call("POST", "/projects", json={"project": project(mysql_database)}).status_code == 201
    run = dagbag(mappings, monkeypatch).dags["wizard_demo"].test()
    assert str(run.state) == "success"

    status = api.call("GET", f"/projects/wizard_demo/runs/{run.run_id}", user="viewer").json()
    stages = {s["stage"]: s for s in status["pipelines"][0]["stages"]}
    source = f"{mysql_database}.customers"
    [extract] = stages["extract"]["progress"]
    assert (
        extract["part"],
        extract["table"],
        extract["rows"],
        extract["done"],
        extract["percent"],
        extract["eta_seconds"],
    ) == ("extract", source, 3, True, 100.0, None)
    [transform] = stages["transform"]["progress"]
    assert (transform["table"], transform["rows"], transform["total"], transform["done"]) == (
        "public.customer",
        3,
        3,
        True,
    )
    [load] = stages["load_facts"]["progress"] or stages["load_dimensions"]["progress"]
    assert (load["table"], load["rows"], load["total"], load["done"]) == ("public.customer", 3, 3, True)
    [proof] = stages["validate"]["progress"]  # the proof runs in the validate task
    assert (proof["part"], proof["table"], proof["rows"], proof["done"]) == ("proof", "public.customer", 3, True)
    assert all(p["updated_seconds_ago"] >= 0 for p in (extract, transform, load, proof))
    assert "progress" not in stages["report"]

    # A stage still working on a table: its last progress row, written by the reporter through its own connection.
    now = [100.0]
    target = PostgresTarget(connection_info("wiz_tgt"))
    rows = ProgressRows(target, RunKey("wizard_demo", "crm", run.run_id), logging.getLogger("test"))
    try:
        progress = Progress(
            logging.getLogger("test"),
            "load_facts",
            "public.big",
            total=1_000_000,
            interval=5,
            record=rows,
            clock=lambda: now[0],
        )
        now[0] += 10
        progress.add(250_000)  # 25,000 rows/s: 750,000 rows left, 30 s
    finally:
        rows.close()
        target.close()
    status = api.call("GET", f"/projects/wizard_demo/runs/{run.run_id}", user="viewer").json()
    stages = {s["stage"]: s for s in status["pipelines"][0]["stages"]}
    big = next(p for p in stages["load_facts"]["progress"] if p["table"] == "public.big")
    assert big == {
        "part": "load_facts",
        "table": "public.big",
        "rows": 250_000,
        "total": 1_000_000,
        "percent": 25.0,
        "rows_per_second": 25_000.0,
        "eta_seconds": 30.0,
        "done": False,
        "updated_seconds_ago": big["updated_seconds_ago"],
    }
    assert 0 <= big["updated_seconds_ago"] < 60
