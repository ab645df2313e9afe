"""Resuming a cron project runs nothing by itself, and the UI says what it will run and when before it is pressed; a
problem found by Validate leads to the step and control that fix it; a new project's start date is today.

A real Airflow (the session's scripts/airflow.sh serve, scheduler heartbeat 1 s): the project's cron fired ten minutes
ago, after the start date, which Airflow's own cron timetable would run at once when the DAG is resumed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import urllib.request
import zoneinfo
from typing import Any

import pytest
import yaml
from croniter import croniter

from tests.browser.conftest import Airflow
from tests.browser.pages import Shots, login, plugin_page

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

PROJECT = "resume_quiet"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
SCHEDULER_WAIT_S = 30


def rest(airflow: Airflow, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Airflow's REST API v2 as admin (a JWT from /auth/token)."""
    token = _call(airflow, "POST", "/auth/token", {"username": "admin", "password": airflow.passwords["admin"]})[
        "access_token"
    ]
    return _call(airflow, method, f"/api/v2{path}", body, token)


def _call(airflow: Airflow, method: str, path: str, body: dict[str, Any] | None, token: str = "") -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{airflow.url}{path}", data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_resuming_a_cron_project_runs_nothing_until_its_next_fire_time(
    airflow: Airflow, browser: Any, shots: Shots
) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    add_a_pair_without_columns(ui, airflow)
    follow_the_problem_to_the_columns_step(page, ui, airflow, expect, shots)
    fired = dt.datetime.now(PARIS).replace(second=0, microsecond=0) - dt.timedelta(minutes=10)
    cron = f"{fired.minute} {fired.hour} * * *"
    today = schedule_in_paris(ui, cron, expect)
    save(ui, airflow, expect, today)
    resume_in_the_monitor(page, ui, airflow, cron, expect, shots)
    time.sleep(SCHEDULER_WAIT_S)  # the scheduler loops every second; the dag-processor re-parses every few
    runs = rest(airflow, "GET", f"/dags/{PROJECT}/dagRuns")
    assert runs["total_entries"] == 0, [r["dag_run_id"] for r in runs["dag_runs"]]
    rest(airflow, "PATCH", f"/dags/{PROJECT}", {"is_paused": True})
    start_date_kept_on_reopen(page, airflow, expect, today)


def add_a_pair_without_columns(ui: Any, airflow: Airflow) -> None:
    ui.locator("#project-name").fill(PROJECT)
    ui.locator("#source-conn").select_option("bridge_src")
    ui.locator("#source-schema").select_option(airflow.source_db)
    ui.locator("#target-conn").select_option("bridge_tgt")
    ui.locator("#source-tables button[data-name='customers']").click()
    ui.locator("#target-table").fill("public.quiet_customers")
    ui.locator("#add-pair").click()


def follow_the_problem_to_the_columns_step(page: Any, ui: Any, airflow: Airflow, expect: Any, shots: Shots) -> None:
    """Validate names the pair once, in the wizard's words, and its button opens step 2 with the pair picked out."""
    ui.locator(".stepper button").nth(4).click()
    results = ui.locator("#validate-results")
    expect(results).to_contain_text("no column is mapped: map its columns in step 2 (Columns)", timeout=60_000)
    text = results.inner_text()
    assert text.count("no column is mapped") == 1 and "list should have" not in text, text
    assert f"Pair {airflow.source_db}.customers → public.quiet_customers (pipeline main): " in text, text
    shots.take(page, "resume-1-validate-problem")
    results.get_by_role("button", name="Go to step 2 (Columns)").click()
    expect(ui.locator(".stepper button[aria-current=step]")).to_contain_text("Columns")
    expect(ui.locator("#pair-picker")).to_have_class(re.compile(r"\bhighlight\b"))
    expect(ui.locator("#pair-picker")).to_be_focused()
    shots.take(page, "resume-2-columns-highlighted")
    ui.locator("#auto-map").click()
    expect(ui.locator("#mappings tbody tr")).to_have_count(5)


def schedule_in_paris(ui: Any, cron: str, expect: Any) -> str:
    """The start date of a new project is today in its time zone, shown as it is saved."""
    ui.locator(".stepper button").nth(3).click()
    expect(ui.locator("#start-date")).to_have_value(dt.datetime.now(dt.UTC).date().isoformat())
    ui.locator("#timezone").fill("Europe/Paris")
    ui.locator("#timezone").press("Tab")
    today = dt.datetime.now(PARIS).date().isoformat()
    expect(ui.locator("#start-date")).to_have_value(today)
    ui.locator("#cron").fill(cron)
    expect(ui.locator("#cron-words")).to_contain_text("Next runs")
    return today


def save(ui: Any, airflow: Airflow, expect: Any, today: str) -> None:
    ui.locator(".stepper button").nth(5).click()
    ui.locator("#save-project").click()
    expect(ui.locator("#save-result")).to_contain_text(f"{PROJECT}.yaml (new file)")
    expect(ui.locator("#run-now-statement")).to_have_text("Run now starts one run now: a full replace of 1 table.")
    saved = yaml.safe_load((airflow.mappings / f"{PROJECT}.yaml").read_text())
    assert str(saved["schedule"]["start_date"]) == today and saved["schedule"]["timezone"] == "Europe/Paris", saved


def resume_in_the_monitor(page: Any, ui: Any, airflow: Airflow, cron: str, expect: Any, shots: Shots) -> None:
    """Before the resume the monitor says what will run and when; Airflow's next run is after now, not the past fire."""
    ui.locator("#project-monitor").click()
    resume = ui.get_by_role("button", name="Resume DAG")
    expect(resume).to_be_enabled(timeout=90_000)  # once the dag-processor has read the new file
    fire = croniter(cron, dt.datetime.now(PARIS)).get_next(dt.datetime)
    when = f"{fire:%a} {fire.day} {fire:%b} {fire:%H:%M} Europe/Paris"
    expect(ui.locator("#resume-statement")).to_have_text(
        f"Resuming lets Airflow run this project on its schedule: the next run is {when}, a full replace of 1 "
        "table. Nothing runs now."
    )
    shots.take(page, "resume-3-statement")
    dag = rest(airflow, "GET", f"/dags/{PROJECT}")
    assert dag["is_paused"] is True
    assert dt.datetime.fromisoformat(dag["next_dagrun_run_after"]) == fire, dag["next_dagrun_run_after"]
    resume.click()
    expect(ui.get_by_role("button", name="Pause DAG")).to_be_visible()
    expect(ui.locator("#resume-statement")).to_be_empty()
    shots.take(page, "resume-4-resumed")


def start_date_kept_on_reopen(page: Any, airflow: Airflow, expect: Any, today: str) -> None:
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#open-project").select_option(PROJECT)
    ui.get_by_role("button", name="Open", exact=True).click()
    expect(ui.locator("#project-name")).to_have_value(PROJECT)
    ui.locator(".stepper button").nth(3).click()
    expect(ui.locator("#start-date")).to_have_value(today)
