"""GET /projects/{dag_id}/schedule: what resuming the project's DAG lets Airflow run and when, and what Run now
starts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from croniter import croniter

from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e


def project(schedule: dict[str, Any] | None) -> dict[str, Any]:
    tables: list[dict[str, Any]] = [
        {"source": f"shop.{t}", "targets": [{"table": f"public.{t}"}]} for t in ("customers", "orders", "items")
    ]
    tables[2]["targets"].append({"table": "public.items_log", "load": "append"})
    pipeline = {"name": "crm", "source_conn_id": "src", "target_conn_id": "tgt", "tables": tables}
    return {"name": "nightly_words", "pipelines": [pipeline]} | ({"schedule": schedule} if schedule else {})


def test_a_cron_project_says_its_next_run_and_that_nothing_runs_now(api: Api, mappings: Path) -> None:
    assert (
        api.call(
            "POST", "/projects", json={"project": project({"cron": "0 2 * * *", "timezone": "Europe/Paris"})}
        ).status_code
        == 201
    )
    said = api.call("GET", "/projects/nightly_words/schedule", user="viewer").json()
    fire = croniter("0 2 * * *", dt.datetime.now(zoneinfo.ZoneInfo("Europe/Paris"))).get_next(dt.datetime)
    when = f"{fire:%a} {fire.day} {fire:%b} 02:00 Europe/Paris"
    work = "a full replace of 3 tables and an append to 1 table"
    assert (
        said["resume"]
        == f"Resuming lets Airflow run this project on its schedule: the next run is {when}, {work}. Nothing runs now."
    )
    assert said["run_now"] == f"Run now starts one run now: {work}."
    assert dt.datetime.fromisoformat(said["next_run"]) == fire
    assert said["resume_queued"].startswith(
        "Resuming starts this queued run, then lets Airflow run this project on its schedule"
    )


def test_a_start_date_ahead_puts_the_next_run_on_it(api: Api, mappings: Path) -> None:
    start = dt.date.today() + dt.timedelta(days=40)
    schedule = {"cron": "0 0 * * *", "timezone": "UTC", "start_date": start.isoformat()}
    assert api.call("POST", "/projects", json={"project": project(schedule)}).status_code == 201
    said = api.call("GET", "/projects/nightly_words/schedule").json()
    assert said["next_run"] == f"{start.isoformat()}T00:00:00+00:00"


def test_a_project_without_a_schedule_says_nothing_runs_by_itself(api: Api, mappings: Path) -> None:
    assert api.call("POST", "/projects", json={"project": project(None)}).status_code == 201
    said = api.call("GET", "/projects/nightly_words/schedule").json()
    assert said["next_run"] is None
    assert said["resume"] == "This project has no schedule: resuming runs nothing by itself; Run now starts a run."


def test_an_unknown_project_is_not_found(api: Api, mappings: Path) -> None:
    assert_error(api.call("GET", "/projects/nothing_here/schedule"), 404, "NOT_FOUND", "nothing_here")
    assert_error(api.call("GET", "/projects/nothing_here/schedule", user=None), 401, "AUTH_ERROR")
