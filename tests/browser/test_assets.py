"""Assets through a real Airflow (scripts/airflow.sh serve): a project scheduled after another runs when that one's
load has finished, and not before; one scheduled on a table it loads (found at run time by pattern, emitted through
the load's asset alias) too; the Assets page shows the tables."""

from __future__ import annotations

import json
import textwrap
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import Airflow
from tests.browser.pages import Shots, login
from tests.conftest import PG

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

UP, AFTER, ON_TABLE = "assets_up", "assets_after", "assets_on_table"
RUN_TIMEOUT = 420


def project(name: str, schedule: str, tables: str) -> str:
    return textwrap.dedent(f"""\
        name: {name}
        schedule: {schedule}
        defaults: {{retries: 0, chunking: {{chunks: 1}}}}
        pipelines:
          - name: main
            source_conn_id: bridge_src
            target_conn_id: bridge_tgt
            staging_schema: {name}_staging
            proof: {{on_failure: skip}}
        """) + textwrap.indent(tables, "    ")


class Api:
    """Airflow's REST API as the admin user (a JWT from /auth/token)."""

    def __init__(self, airflow: Airflow) -> None:
        self.url = airflow.url
        body = {"username": "admin", "password": airflow.passwords["admin"]}
        self.token = self._call("POST", "/auth/token", body, token=None)["access_token"]

    def _call(self, method: str, path: str, body: Any = None, token: str | None = "") -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, data=None if body is None else json.dumps(body).encode()
        )
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token or self.token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def patch(self, path: str, body: Any) -> Any:
        return self._call("PATCH", path, body)

    def post(self, path: str, body: Any) -> Any:
        return self._call("POST", path, body)

    def runs(self, dag: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v2/dags/{dag}/dagRuns?order_by=id")["dag_runs"])

    def dag_ids(self) -> set[str]:
        return {d["dag_id"] for d in self.get("/api/v2/dags?limit=100")["dags"]}


def wait_for(what: str, condition: Any, timeout: float = RUN_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := condition():
                return value
        except (TimeoutError, urllib.error.URLError):  # a busy api-server answers late: ask again
            pass
        time.sleep(2)
    pytest.fail(f"Airflow did not {what} within {timeout:.0f} s")


def finished(api: Api, dag: str) -> dict[str, Any] | None:
    runs = [r for r in api.runs(dag) if r["state"] in ("success", "failed")]
    return runs[0] if runs else None


def test_projects_scheduled_on_assets_run_after_the_load_and_not_before(
    airflow: Airflow, browser: Any, shots: Shots
) -> None:
    table_uri = f"postgres://{PG['host']}:{PG['port']}/{airflow.target_db}/asset_up/customers"
    source = airflow.source_db
    (airflow.mappings / f"{UP}.yaml").write_text(
        project(UP, "{}", f"include: ['{source}.customers']\ntarget_schema: asset_up\n")
    )
    table = (
        f"tables: [{{source: {source}.orders, targets: [{{table: {{schema}}.orders, keys: [id], columns: [{{source: "
        "id}, {source: total}]}]}]\n"
    )
    (airflow.mappings / f"{AFTER}.yaml").write_text(
        project(AFTER, f"{{after_projects: [{UP}]}}", table.replace("{schema}", "asset_after"))
    )
    (airflow.mappings / f"{ON_TABLE}.yaml").write_text(
        project(ON_TABLE, f"{{assets: ['{table_uri}']}}", table.replace("{schema}", "asset_on_table"))
    )
    api = Api(airflow)
    wait_for("parse the three projects", lambda: {UP, AFTER, ON_TABLE} <= api.dag_ids(), timeout=240)
    for dag in (UP, AFTER, ON_TABLE):
        api.patch(f"/api/v2/dags/{dag}", {"is_paused": False})

    time.sleep(
        10
    )  # the scheduler has looked at the unpaused DAGs several times: nothing may run before the upstream load
    assert (api.runs(AFTER), api.runs(ON_TABLE)) == ([], [])

    api.post(f"/api/v2/dags/{UP}/dagRuns", {"logical_date": None, "conf": {}})
    up = wait_for(f"finish a run of {UP}", lambda: finished(api, UP))
    assert up["state"] == "success"
    load = api.get(f"/api/v2/dags/{UP}/dagRuns/{up['dag_run_id']}/taskInstances/main.load_facts")
    for dag in (AFTER, ON_TABLE):
        run = wait_for(f"finish a run of {dag}", lambda dag=dag: finished(api, dag))
        assert (run["state"], run["run_type"]) == ("success", "asset_triggered"), dag
        assert run["queued_at"] >= load["end_date"], (dag, run["queued_at"], load["end_date"])
        assert len(api.runs(dag)) == 1
    events = api.get(f"/api/v2/assets/events?source_dag_id={UP}&limit=50")["asset_events"]
    assert {e["uri"] for e in events} >= {table_uri, f"databridge://{UP}/main"}

    page = login(browser, airflow, "admin")
    page.goto(f"{airflow.url}/assets")
    page.get_by_text(table_uri).first.wait_for()
    shots.take(page, "assets-page")
