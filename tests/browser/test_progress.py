"""The run monitor's progress bars: one per table and stage, drawn from the progress rows the stages write (a real run
in a real Airflow), and a table a stage is still on shown part-way with its rate and time left."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from databridge.engines.postgres import PostgresTarget
from databridge.engines.uri import info_from_uri
from databridge.runtime.progress import Progress, ProgressRows
from databridge.runtime.results import RunKey
from tests.browser.conftest import Airflow
from tests.browser.pages import RUN_TIMEOUT, Shots, assert_contrast, assert_fits, login
from tests.browser.test_resume import rest
from tests.conftest import PG

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

PROJECT = "progress_bars"
RUN_ID = "progress-bars-1"


def project_yaml(source_db: str) -> str:
    return f"""\
name: {PROJECT}
defaults:
  retries: 0
pipelines:
  - name: crm
    source_conn_id: bridge_src
    target_conn_id: bridge_tgt
    tables:
      - source: {source_db}.customers
        targets:
          - table: progress_ui.customers
            keys: [id]
            columns:
              - {{source: id}}
              - {{target: name, expression: "TRIM({{name}})"}}
"""


def wait_for(what: str, condition: Any, timeout: float = RUN_TIMEOUT / 1000) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := condition():
                return value
        except OSError:  # urllib's HTTPError (404 before the DAG is parsed) is one
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_the_monitor_draws_a_bar_per_table(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    (airflow.mappings / f"{PROJECT}.yaml").write_text(project_yaml(airflow.source_db))
    wait_for("the DAG to be parsed", lambda: rest(airflow, "GET", f"/dags/{PROJECT}"), timeout=120)
    rest(airflow, "PATCH", f"/dags/{PROJECT}", {"is_paused": False})
    rest(airflow, "POST", f"/dags/{PROJECT}/dagRuns", {"dag_run_id": RUN_ID, "logical_date": None, "conf": {}})
    state = wait_for(
        "the run to end",
        lambda: (
            rest(airflow, "GET", f"/dags/{PROJECT}/dagRuns/{RUN_ID}")["state"] in ("success", "failed")
            and rest(airflow, "GET", f"/dags/{PROJECT}/dagRuns/{RUN_ID}")["state"]
        ),
    )
    assert state == "success", airflow.log_tail()

    # A table a stage is still on, as its reporter records it part-way (250,000 of ~1,000,000 rows in 10 s).
    now = [0.0]
    target = PostgresTarget(info_from_uri(f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{airflow.target_db}"))
    rows = ProgressRows(target, RunKey(PROJECT, "crm", RUN_ID), logging.getLogger("test"))
    try:
        progress = Progress(
            logging.getLogger("test"),
            "load_facts",
            "progress_ui.orders",
            total=1_000_000,
            record=rows,
            clock=lambda: now[0],
        )
        now[0] = 10.0
        progress.add(250_000)
    finally:
        rows.close()
        target.close()

    page = login(browser, airflow, "viewer")
    page.goto(f"{airflow.url}/databridge/ui/monitor?dag_id={PROJECT}&run_id={RUN_ID}")
    expect(page.locator(".run-state .badge").first).to_have_text("success", timeout=RUN_TIMEOUT)
    bars = page.locator(".progress-row progress")
    expect(bars).to_have_count(5)  # extract, transform, load, proof of customers; the orders load part-way
    done = page.locator(".progress-row.done progress")
    expect(done).to_have_count(4)
    assert {done.nth(i).get_attribute("value") for i in range(4)} == {"100"}
    running = page.locator(".progress-row:not(.done)")
    expect(running.locator("progress")).to_have_attribute("value", "25")
    expect(running).to_contain_text("progress_ui.orders")
    expect(running).to_contain_text("25% · 250,000 of ~1,000,000 rows · 25,000 rows/s · 30 s left")
    extract = page.locator("tr", has=page.locator("td", has_text="extract")).first
    expect(extract.locator(".progress-row")).to_contain_text(f"{airflow.source_db}.customers")
    expect(extract.locator(".progress-row")).to_contain_text("100% · 200 ")
    validate = page.locator("tr", has=page.locator("td", has_text="validate")).first
    expect(validate.locator(".progress-name")).to_have_text("proof progress_ui.customers")
    assert_fits(page)
    assert_contrast(page)
    assert page.evaluate(
        "document.querySelector('.progress-row:not(.done) progress').getAttribute('aria-label')"
    ).startswith("progress_ui.orders: 250,000")
    shots.take(page, "progress-1-monitor-bars")
