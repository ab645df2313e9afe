"""What the run views take from Airflow's REST API v2, and the one model read left (views/airflow_state.py), checked
against the Airflow installed: an upgrade that renames a field fails here by name, not in a user's run monitor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from databridge.views import airflow_state
from tests.api.conftest import Api, assert_error
from tests.api.test_wizard import project
from tests.conftest import airflow_conn, pg_conn_fields, unique_name
from tests.e2e.conftest import dagbag

pytestmark = [pytest.mark.integration]

USED = {
    "DAGRunResponse": {"dag_id", "dag_run_id", "state", "run_type", "start_date", "end_date", "note"},
    "DAGRunCollectionResponse": {"dag_runs", "total_entries"},
    "DAGRunPatchBody": {"state", "note"},
    "DAGRunsBatchBody": {"dag_ids", "order_by", "page_limit"},
    "TaskInstanceResponse": {"dag_id", "task_id", "map_index", "state", "hostname"},
    "TaskInstanceCollectionResponse": {"task_instances", "total_entries"},
    "PoolResponse": {
        "name",
        "slots",
        "open_slots",
        "queued_slots",
        "running_slots",
        "deferred_slots",
        "scheduled_slots",
    },
    "PoolCollectionResponse": {"pools", "total_entries"},
}
"""Per schema of Airflow's REST API v2, the fields views/runs.py reads or sends."""
PATHS = {
    "/api/v2/dags/{dag_id}/dagRuns": "get",
    "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}": "patch",
    "/api/v2/dags/{dag_id}/dagRuns/list": "post",
    "/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances": "get",
    "/api/v2/pools": "get",
}


def test_the_rest_fields_the_run_views_use_are_airflows(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    missing = {name: sorted(fields - set(schemas.get(name, {}).get("properties", {}))) for name, fields in USED.items()}
    assert {name: gone for name, gone in missing.items() if gone} == {}
    assert {path: method for path, method in PATHS.items() if method not in spec["paths"].get(path, {})} == {}


def test_the_stored_connection_columns_are_what_the_rest_api_answers(api: Api) -> None:
    conn_id = unique_name("db_state")
    fields = {
        "connection_id": conn_id,
        "conn_type": "postgres",
        "host": "db.example.org",
        "port": 5433,
        "login": "etl",
        "schema": "shop",
    }
    created = api.call("POST", "/api/v2/connections", json={**fields, "password": "not-listed-1"})
    assert created.status_code == 201, created.text
    try:
        answered = api.call("GET", f"/api/v2/connections/{conn_id}").json()
        rows = {row[0]: row for row in airflow_state.stored_connections()}
        rest = tuple(answered[name] for name in ("connection_id", "conn_type", "host", "port", "login", "schema"))
        assert rows[conn_id] == rest and "not-listed-1" not in repr(rows[conn_id])
    finally:
        api.call("DELETE", f"/api/v2/connections/{conn_id}")


def test_the_queue_lists_every_pool_past_one_page_of_the_rest_api(api: Api) -> None:
    names = [unique_name("db_pool") for _ in range(130)]
    bulk: dict[str, Any] = {"actions": [{"action": "create", "entities": [{"name": n, "slots": 2} for n in names]}]}
    assert api.call("PATCH", "/api/v2/pools", json=bulk).status_code == 200
    try:
        pools = api.call("GET", "/queue", user="viewer").json()["pools"]
        assert set(names) <= set(pools)
        assert pools[names[-1]] == {"total": 2, "running": 0, "deferred": 0, "queued": 0, "open": 2, "scheduled": 0}
    finally:
        api.call("PATCH", "/api/v2/pools", json={"actions": [{"action": "delete", "entities": names}]})


def test_the_run_views_answer_with_the_users_own_rights_on_each_dag(
    api: Api, mappings: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's REST API answers each user for the DAGs their role may read: so do the latest run and a project's
    runs."""
    airflow_conn(monkeypatch, "wiz_src", conn_type="mysql", host="127.0.0.1", login="root", schema="shop")
    airflow_conn(monkeypatch, "wiz_tgt", **pg_conn_fields(pg_database))
    mine, other = unique_name("rights_mine"), unique_name("rights_other")
    for name in (mine, other):
        assert api.call("POST", "/projects", json={"project": {**project("shop"), "name": name}}).status_code == 201
    _dags_in_the_database(mappings, monkeypatch, mine, other)
    for name in (mine, other):  # the other project's run is the newest
        started = api.call(
            "POST", f"/api/v2/dags/{name}/dagRuns", json={"dag_run_id": "r1", "logical_date": None, "conf": {}}
        )
        assert started.status_code == 200, started.text
    token = _user_reading_one_dag(api, mine)

    def as_one_dag_reader(path: str) -> Any:
        return api.client.get(f"/databridge{path}", headers={"Authorization": f"Bearer {token}"})

    assert api.call("GET", "/runs/latest").json()["dag_id"] == other
    latest = as_one_dag_reader("/runs/latest")
    assert latest.status_code == 200, latest.text
    assert (latest.json()["dag_id"], latest.json()["run_id"]) == (mine, "r1")
    assert as_one_dag_reader(f"/projects/{mine}/runs").json()["runs"][0]["run_id"] == "r1"
    assert api.call("GET", f"/projects/{other}/runs").json()["runs"][0]["run_id"] == "r1"
    assert_error(as_one_dag_reader(f"/projects/{other}/runs"), 403, "AUTH_ERROR")
    assert_error(as_one_dag_reader(f"/projects/{other}/runs/r1"), 403, "AUTH_ERROR")


def _dags_in_the_database(mappings: Path, monkeypatch: pytest.MonkeyPatch, *dag_ids: str) -> None:
    """The projects' DAGs parsed and written to the metadata database, as the dag-processor does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    bag = dagbag(mappings, monkeypatch)
    assert set(dag_ids) <= set(bag.dags), bag.import_errors
    DagBundlesManager().sync_bundles_to_db()  # type: ignore[no-untyped-call]
    sync_bag_to_db(bag, "dags-folder", None)


def _user_reading_one_dag(api: Api, dag_id: str) -> str:
    """A user whose role is a Viewer's on one DAG only (DAG:<dag_id> instead of DAGs); their token."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    name = unique_name("one_dag")
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        role = sm.add_role(name)
        for permission in sm.find_role("Viewer").permissions:
            if permission.resource.name != "DAGs":
                sm.add_permission_to_role(role, permission)
        sm.add_permission_to_role(role, sm.create_permission("can_read", f"DAG:{dag_id}"))
        sm.add_user(name, name, "Test", f"{name}@example.org", role, password="one-dag-pass-1")
    response = api.client.post("/auth/token", json={"username": name, "password": "one-dag-pass-1"})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])
