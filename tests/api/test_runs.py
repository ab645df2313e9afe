"""Runs through the API: a real run's per-stage status and history, queue statistics, and Airflow REST v2's own
trigger / pause / cancel on a DataBridge DAG (the plugin does not repeat those)."""

from __future__ import annotations

from pathlib import Path

import MySQLdb
import pytest

from tests.api.conftest import Api, assert_error
from tests.api.test_wizard import project
from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields
from tests.e2e.conftest import dagbag

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_run_is_followed_stage_by_stage(
    api: Api, mappings: Path, mysql_database: str, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    conn.cursor().execute(
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, active TINYINT(1), "
        "joined DATE, note TEXT)"
    )
    conn.cursor().execute("INSERT INTO customers VALUES (1, 'ada', 1, '2024-01-02', 'x'), (2, 'bob', 0, NULL, NULL)")
    conn.close()
    airflow_conn(monkeypatch, "wiz_src", **mysql_conn_fields(mysql_database))
    airflow_conn(monkeypatch, "wiz_tgt", **pg_conn_fields(pg_database))
    assert api.call("POST", "/projects", json={"project": project(mysql_database)}).status_code == 201
    dag = dagbag(mappings, monkeypatch).dags["wizard_demo"]
    run = dag.test()
    assert str(run.state) == "success"

    status = api.call("GET", f"/projects/wizard_demo/runs/{run.run_id}", user="viewer").json()
    assert status["state"] == "success"
    stages = {s["stage"]: s for s in status["pipelines"][0]["stages"]}
    assert [s for s in stages] == ["extract", "transform", "load_dimensions", "load_facts", "validate", "report"]
    assert (
        stages["extract"]["state"] == "success"
        and stages["extract"]["rows"] == 2
        and stages["extract"]["error"] is None
    )
    # The extract is mapped over the default 4 chunk indexes: one state for the stage, and each instance with its host.
    assert [(i["map_index"], i["state"], bool(i["hostname"])) for i in stages["extract"]["instances"]] == [
        (k, "success", True) for k in range(4)
    ]
    assert "instances" not in stages["transform"]
    assert stages["load_facts"]["rows"] == 2 and stages["load_facts"]["rows_per_second"] > 0

    runs = api.call("GET", "/projects/wizard_demo/runs", user="viewer").json()["runs"]
    assert runs[0]["run_id"] == run.run_id and runs[0]["reports"][0]["succeeded"] is True
    queue = api.call("GET", "/queue", user="viewer").json()
    assert "default_pool" in queue["pools"] and set(queue["task_instances"]) >= {"queued", "running"}
    assert_error(api.call("GET", "/projects/wizard_demo/runs/nope"), 404, "NOT_FOUND", "no run 'nope'")

    # Airflow's REST API v2 starts, pauses and cancels; a Viewer may not.
    trigger = {"dag_run_id": "api_run_1", "logical_date": None, "conf": {}}
    assert api.call("POST", "/api/v2/dags/wizard_demo/dagRuns", user="viewer", json=trigger).status_code == 403
    assert api.call("POST", "/api/v2/dags/wizard_demo/dagRuns", json=trigger).status_code == 200
    assert api.call("PATCH", "/api/v2/dags/wizard_demo", user="viewer", json={"is_paused": True}).status_code == 403
    assert api.call("PATCH", "/api/v2/dags/wizard_demo", json={"is_paused": True}).json()["is_paused"] is True
    assert (
        api.call("PATCH", "/api/v2/dags/wizard_demo/dagRuns/api_run_1", json={"state": "failed"}).json()["state"]
        == "failed"
    )
    assert api.call("GET", "/projects/wizard_demo/runs/api_run_1").json()["state"] == "failed"


@pytest.mark.parametrize("path", ["/queue", "/projects/x/runs", "/projects/x/runs/r"])
def test_run_routes_need_a_login(api: Api, path: str) -> None:
    assert_error(api.call("GET", path, user=None), 401, "AUTH_ERROR")
