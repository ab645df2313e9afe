"""Airflow's Viewer in the wizard: a project saved by an admin opens read-only with every step's content (the real
connection names, pairs, column mappings with their transforms, schedule in words, checks), the controls it may not
use disabled with the missing permission named, and every refusal naming the permission. Screenshots of each step."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import Airflow
from tests.browser.pages import Shots, assert_contrast, login
from tests.conftest import unique_name

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

EDIT, CONNECTIONS, TRIGGER = "'can edit on DAGs'", "'can read on Connections'", "'can create on DAG Runs'"


def project(name: str, source_db: str) -> dict[str, Any]:
    """A small project of the fixture's source and target, with a transform, custom SQL, a filter and a check."""
    columns = [
        {"source": "id", "target": "customer_id", "type": "bigint"},
        {"target": "full_name", "expression": "UPPER(TRIM({name}))", "type": "varchar(60)"},
        {"source": "email", "transform": ["trim", "lower"]},
        {"source": "joined", "target": "joined_month", "date_format": "YYYY-MM"},
    ]
    target = {
        "table": "public.viewer_customers",
        "load": "upsert",
        "keys": ["customer_id"],
        "filter": "{active} = 1",
        "columns": columns,
    }
    pipeline = {
        "name": "main",
        "source_conn_id": "bridge_src",
        "target_conn_id": "bridge_tgt",
        "tables": [{"source": f"{source_db}.customers", "targets": [target]}],
        "validations": [{"check": "not_null", "table": "public.viewer_customers", "columns": ["email"]}],
    }
    return {
        "name": name,
        "description": "What a viewer reads",
        "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Paris"},
        "pipelines": [pipeline],
    }


def saved_by_admin(airflow: Airflow, spec: dict[str, Any]) -> None:
    """POST /databridge/projects as admin, with a JWT from Airflow's /auth/token."""
    token = _post(airflow, "/auth/token", {"username": "admin", "password": airflow.passwords["admin"]})["access_token"]
    saved = _post(airflow, "/databridge/projects", {"project": spec}, token)
    assert saved["saved"] is True, saved


def _post(airflow: Airflow, path: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(
        f"{airflow.url}{path}", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


REFUSED = """async ([path, body]) => {
  const api = await import("/databridge/ui/static/js/api.js");
  try {
    await (body ? api.post(path, body) : api.get(path));
    return "not refused";
  } catch (err) {
    return api.explain(err);
  }
}"""


def test_a_viewer_reads_every_step_of_a_saved_project(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    name = unique_name("viewer_read")
    saved_by_admin(airflow, project(name, airflow.source_db))
    before = (airflow.mappings / f"{name}.yaml").read_text()
    page = login(browser, airflow, "viewer")
    # A Viewer may not read plugins, so Airflow's menu has no DataBridge entry for it: the wizard opens by its address.
    page.goto(f"{airflow.url}/databridge/ui/wizard?project={name}")
    ui = page
    note = ui.locator("#read-only-note")
    expect(note).to_contain_text("Read-only")
    expect(note).to_contain_text(f"{EDIT} permission in Airflow; your role (Viewer) lacks it")

    expect(ui.locator("#project-name")).to_have_value(name)
    expect(ui.get_by_text("Reading the saved project")).to_contain_text(f"{name} (read-only)")
    expect(ui.locator("#project-name")).to_be_disabled()
    expect(ui.locator("#project-name")).to_have_attribute(
        "title",
        f"Changing the project needs the {EDIT} permission in Airflow; your role (Viewer) lacks it. Ask an "
        "Airflow admin to grant it.",
    )
    expect(ui.locator("#source-conn")).to_have_value("bridge_src")  # the project's real connections, by name
    expect(ui.locator("#source-conn option:checked")).to_have_text("bridge_src (mysql)")
    expect(ui.locator("#target-conn option:checked")).to_have_text("bridge_tgt (postgres)")
    expect(ui.locator("#source-rights")).to_contain_text(
        f"Browsing the source's schemas and tables needs the {CONNECTIONS} permission"
    )
    expect(ui.locator("#source-test")).to_be_disabled()
    expect(ui.locator("#source-test")).to_have_attribute(
        "title",
        f"Testing a connection needs the {CONNECTIONS} permission in Airflow; your role (Viewer) lacks it. Ask "
        "an Airflow admin to grant it.",
    )
    expect(ui.locator("#pair-table tbody tr").first).to_contain_text("public.viewer_customers")
    expect(ui.locator("#open-project")).to_be_enabled()  # opening another project only reads
    assert_contrast(page)
    shots.take(page, "viewer-1-tables")

    ui.locator(".stepper button").nth(1).click()
    expect(ui.locator("#columns-rights")).to_contain_text(
        f"Listing the live columns of the source and target tables needs the {CONNECTIONS} permission"
    )
    mappings = ui.locator("#mappings tbody")
    expect(mappings.locator("tr")).to_have_count(4)
    expect(mappings).to_contain_text("UPPER(TRIM({name}))")
    expect(mappings).to_contain_text("trim, lower")
    expect(mappings).to_contain_text("format YYYY-MM")
    expect(mappings).to_contain_text("varchar(60)")
    expect(ui.locator("#row-filter-text")).to_have_text("{active} = 1")
    expect(ui.get_by_role("button", name="Transform full_name")).to_be_disabled()
    expect(ui.get_by_role("button", name="Remove mapping email")).to_be_disabled()
    shots.take(page, "viewer-2-columns")

    ui.locator(".stepper button").nth(2).click()
    expect(ui.locator("#run-preview")).to_be_disabled()
    expect(ui.locator("#run-preview")).to_have_attribute(
        "title",
        f"Previewing sample rows needs the {EDIT} and {CONNECTIONS} permissions in Airflow; your role (Viewer) "
        "lacks them. Ask an Airflow admin to grant them.",
    )
    expect(ui.locator("#preview-rights")).to_contain_text(f"{EDIT} and {CONNECTIONS} permissions")
    shots.take(page, "viewer-3-preview")

    ui.locator(".stepper button").nth(3).click()
    expect(ui.locator("#cron")).to_have_value("0 3 * * *")
    expect(ui.locator("#cron")).to_be_disabled()
    expect(ui.locator("#cron-words")).to_contain_text("At 03:00")  # the schedule in words: reading DAGs is enough
    expect(ui.locator("#timezone")).to_have_value("Europe/Paris")
    shots.take(page, "viewer-4-schedule")

    ui.locator(".stepper button").nth(4).click()
    expect(ui.locator("#validate-results")).to_contain_text("The project compiles")
    expect(ui.locator("#validate-results")).to_contain_text(
        f"data checks and time estimates were skipped. Reading the source databases needs the {EDIT} and "
        f"{CONNECTIONS} permissions"
    )
    expect(ui.locator(".step-body")).to_contain_text("public.viewer_customers: email not NULL")  # the project's check
    shots.take(page, "viewer-5-validate")

    ui.locator(".stepper button").nth(5).click()
    expect(ui.locator("#save-project")).to_be_disabled()
    expect(ui.locator("#save-project")).to_have_attribute(
        "title",
        f"Saving needs the {EDIT} permission in Airflow; your role (Viewer) lacks it. "
        "Ask an Airflow admin to grant it.",
    )
    expect(ui.locator("#run-project")).to_be_disabled()
    expect(ui.locator("#run-project")).to_have_attribute(
        "title",
        f"Running needs the {TRIGGER} permission in Airflow; your role (Viewer) lacks it. "
        "Ask an Airflow admin to grant it.",
    )
    expect(ui.locator("#save-rights")).to_contain_text(
        f"Saving needs the {EDIT} permission in Airflow; your role (Viewer) lacks it."
    )
    shots.take(page, "viewer-6-run")

    # What the server refuses, as the pages tell it: the permission checked and the role.
    browse = page.evaluate(REFUSED, [f"/connections/bridge_src/schemas/{airflow.source_db}/tables", None])
    assert (
        browse == f"Browsing a source's schemas and tables needs the {CONNECTIONS} permission in Airflow; your role "
        "(Viewer) lacks it. Ask an Airflow admin to grant it."
    )
    preview = page.evaluate(REFUSED, ["/preview", {"project": project(name, airflow.source_db)}])
    assert (
        f"Previewing sample rows needs the {EDIT} and {CONNECTIONS} permissions in Airflow; "
        "your role (Viewer) lacks them" in preview
    )
    save = page.evaluate(REFUSED, ["/projects", {"project": project(name, airflow.source_db), "overwrite": True}])
    assert f"Saving a project needs the {EDIT} permission in Airflow; your role (Viewer) lacks it" in save
    run = page.evaluate(REFUSED, [f"/api/v2/dags/{name}/dagRuns", {"logical_date": None, "conf": {}}])
    assert f"Running a project needs the {TRIGGER} permission in Airflow; your role (Viewer) lacks it" in run
    assert (airflow.mappings / f"{name}.yaml").read_text() == before
    page.context.close()


def test_a_viewer_sees_the_connections_by_name_only(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "viewer")
    page.goto(f"{airflow.url}/databridge/ui/connections")
    table = page.locator("table.data")
    expect(table).to_contain_text("bridge_src")
    expect(table).to_contain_text("bridge_tgt")
    expect(page.locator("table.data thead th")).to_have_text(["Connection", "Type", "Use", "Test"])
    expect(page.locator("#connections-rights")).to_contain_text(
        f"{CONNECTIONS} permission in Airflow; your role (Viewer) lacks it"
    )
    expect(page.get_by_role("button", name="Test connection bridge_src")).to_be_disabled()
    assert (
        "127.0.0.1" not in page.locator("#page").inner_text()
        and airflow.source_db not in page.locator("#page").inner_text()
    )
    shots.take(page, "viewer-connections")
    page.context.close()
