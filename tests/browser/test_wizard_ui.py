"""The UI in headless Chromium inside a real Airflow: log in through Airflow's login page, walk the wizard's six steps
on real MariaDB -> PostgreSQL tables, save, run until success in the monitor, cancel a second run, reopen and
re-save without change; a viewer sees the pages and gets readable 403 messages. Screenshots of every step are kept.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.browser.conftest import Airflow, screenshots_dir
from tests.browser.pages import (
    RUN_TIMEOUT,
    Shots,
    assert_contrast,
    assert_fits,
    login,
    next_step,
    plugin_page,
    target_rows,
)
from tests.conftest import REPO

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

PROJECT = "ui_bridge"


def test_make_airflow_serves_the_users_of_databridge_users_json(airflow: Airflow, browser: Any) -> None:
    """The Airflow that `make airflow` starts (scripts/airflow.sh serve, the fixture's): its four components are
    healthy, and admin and viewer log in through the login page with the passwords of databridge_users.json."""
    from playwright.sync_api import expect

    assert (
        "scripts/airflow.sh serve"
        in subprocess.run(["make", "-n", "airflow"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    )
    with urllib.request.urlopen(f"{airflow.url}/api/v2/monitor/health", timeout=10) as response:
        health = json.loads(response.read())
    assert {
        name: health[name]["status"] for name in ("metadatabase", "scheduler", "dag_processor", "triggerer")
    } == dict.fromkeys(("metadatabase", "scheduler", "dag_processor", "triggerer"), "healthy")
    users = json.loads((airflow.home / "databridge_users.json").read_text())
    assert {name: entry["role"] for name, entry in users.items()} == {"admin": "Admin", "viewer": "Viewer"}
    for user in users:
        page = login(browser, airflow, user)  # the passwords the fixture read from the same file
        expect(page.locator("#username")).to_have_count(0)
        assert page.goto(f"{airflow.url}/databridge/ui/reports").status == 200  # behind Airflow's login
        page.context.close()
    page = browser.new_context().new_page()
    page.goto(f"{airflow.url}/auth/login/?next=/")
    page.fill("#username", "viewer")
    page.fill("#password", "not-the-password")
    page.click("input[type=submit]")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    expect(page.locator("#username")).to_be_visible()
    page.context.close()


def test_admin_designs_saves_runs_and_cancels(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    step_tables(ui, airflow)
    shots.take(page, "1-tables")
    next_step(ui)
    step_columns(ui, expect)
    shots.take(page, "2-columns")
    next_step(ui)
    expect(ui.locator("#preview-results .estimate")).to_have_count(2)
    expect(ui.locator("#preview-results")).to_contain_text("CUSTOMER 1")
    expect(ui.locator("#preview-results")).to_contain_text("c1@example.org")
    shots.take(page, "3-preview")
    next_step(ui)
    step_schedule(ui, expect)
    shots.take(page, "4-schedule")
    next_step(ui)
    expect(ui.locator("#validate-results")).to_contain_text("The project compiles", timeout=60_000)
    expect(ui.locator("#validate-results")).to_contain_text("naive_timezone")  # the lint's fix for orders.placed
    expect(ui.locator("#validate-results")).to_contain_text("Time estimates")
    expect(ui.locator("#validate-results table").last).to_contain_text("500")  # orders: rows of the estimate
    shots.take(page, "5-validate")
    apply_the_lint_fix(ui, expect)
    next_step(ui)
    run_and_watch(page, ui, airflow, expect)
    shots.take(page, "6-run-success")
    cancel_a_run(ui, expect)
    shots.take(page, "6-run-cancelled")
    reopen_and_save_unchanged(page, airflow, expect)


def step_tables(ui: Any, airflow: Airflow) -> None:
    ui.locator("#project-name").fill(PROJECT)
    ui.locator("#project-description").fill("Customers and orders from the shop")
    ui.locator("#source-conn").select_option("bridge_src")
    ui.locator("#source-schema").select_option(airflow.source_db)
    ui.locator("#target-conn").select_option("bridge_tgt")
    ui.locator("#source-tables button[data-name='customers']").click()
    ui.locator("#target-table").fill("public.customers")
    ui.locator("#add-pair").click()
    ui.locator("#source-tables button[data-name='orders']").click()
    ui.locator("#target-table").fill("")
    ui.locator("#add-pair").click()
    rows = ui.locator("#pair-table tbody tr")
    rows.nth(0).locator("input").fill("id")
    rows.nth(1).locator("select").first.select_option("upsert")  # Load (Role is the second)
    rows.nth(1).locator("input").fill("id")
    assert rows.count() == 2 and "public.orders" in rows.nth(1).inner_text()


def step_columns(ui: Any, expect: Any) -> None:
    ui.locator("#new-target-column").fill("full_name")
    ui.get_by_role("button", name="Add column").click()
    ui.locator("#source-columns button[data-column='name']").click()
    ui.locator("#target-columns button[data-column='full_name']").click()
    expect(ui.locator("#source-columns button[data-column='name']")).to_have_attribute("aria-pressed", "true")
    expect(ui.locator("#target-columns button[data-column='full_name']")).to_have_attribute("aria-pressed", "true")
    ui.locator("#source-columns").screenshot(path=str(screenshots_dir() / "2-columns-selected.png"))
    ui.locator("#map-button").focus()
    ui.locator("#map-button").press("Enter")  # Map works from the keyboard
    ui.locator("#auto-map").click()
    expect(ui.locator("#mappings tbody tr")).to_have_count(5)
    ui.get_by_role("button", name="Transform full_name").click()
    ui.locator("#edit-value").select_option("")
    ui.locator("#edit-expression").fill("UPPER(TRIM({nmae}))")
    expect(ui.locator("#edit-expression ~ .check")).to_contain_text("did you mean 'name'")
    ui.locator("#edit-expression").fill("UPPER(TRIM({name}))")
    expect(ui.locator("#edit-expression ~ .check")).to_contain_text("✓")
    ui.locator("#edit-type").fill("varchar(60)")
    expect(ui.locator("#edit-type ~ .check")).to_contain_text("✓")
    ui.get_by_role("button", name="Done").click()
    ui.get_by_role("button", name="Transform email").click()
    ui.get_by_label("TRIM").check()
    ui.get_by_label("LOWER").check()
    ui.get_by_role("button", name="Done").click()
    expect(ui.locator("#mappings")).to_contain_text("UPPER(TRIM({name}))")
    ui.locator("#pair-picker").select_option("1:0")
    ui.locator("#auto-map").click()
    expect(ui.locator("#mappings tbody tr")).to_have_count(4)
    ui.locator("#pair-picker").select_option("0:0")


def step_schedule(ui: Any, expect: Any) -> None:
    ui.locator("#cron").fill("30 2 * * 1-5")
    ui.locator("#timezone").fill("Europe/Paris")
    expect(ui.locator("#cron-words")).to_contain_text("At 02:30, Monday through Friday")
    expect(ui.locator("#cron-words")).to_contain_text("Next runs:")
    ui.locator("#cron").fill("30 2 * * 9")
    expect(ui.locator("#cron-words")).to_contain_text("is not a cron expression")
    ui.locator("#cron").fill("30 2 * * 1-5")
    expect(ui.locator("#cron-words .ok")).to_be_visible()
    ui.locator("#start-date").fill("2099-01-01")  # no scheduled run during the test: only the triggered ones
    ui.locator("#defaults-retries").fill("1")
    ui.locator("#defaults-retry_delay_seconds").fill("5")
    ui.locator("#deadline-minutes").fill("30")
    ui.locator("#add-pipeline").click()  # a second pipeline depends on the first; removed again (this project has one)
    expect(ui.locator("#pipelines tbody tr")).to_have_count(2)
    expect(ui.locator("#pipelines tbody tr").nth(1).get_by_label("main")).to_be_checked()
    ui.get_by_role("button", name="Remove pipeline pipeline_2").click()
    expect(ui.locator("#pipelines tbody tr")).to_have_count(1)
    expect(ui.locator("#cron-words")).to_contain_text("At 02:30, Monday through Friday")  # the step was drawn again


def apply_the_lint_fix(ui: Any, expect: Any) -> None:
    """The fix the lint gave (the zone of naive date-times), set in step 1: validating again finds nothing."""
    ui.locator(".stepper button").nth(0).click()
    ui.get_by_text("Source options").click()
    ui.locator("#naive-timezone").fill("Europe/Paris")
    ui.locator(".stepper button").nth(4).click()
    expect(ui.locator("#validate-results")).to_contain_text("no problem found", timeout=60_000)


def run_and_watch(page: Any, ui: Any, airflow: Airflow, expect: Any) -> None:
    ui.locator("#save-project").click()
    expect(ui.locator("#save-result")).to_contain_text(f"{PROJECT}.yaml (new file)")
    saved = yaml.safe_load((airflow.mappings / f"{PROJECT}.yaml").read_text())
    columns = saved["pipelines"][0]["tables"][0]["targets"][0]["columns"]
    assert {"target": "full_name", "type": "varchar(60)", "expression": "UPPER(TRIM({name}))"} in columns
    assert {"source": "email", "transform": ["trim", "lower"]} in columns
    assert saved["schedule"]["cron"] == "30 2 * * 1-5" and saved["defaults"]["retries"] == 1
    assert saved["schedule"]["deadline_minutes"] == 30 and saved["pipelines"][0]["source_options"] == {
        "naive_timezone": "Europe/Paris"
    }
    ui.locator("#run-project").click()
    expect(ui.locator("#run-result")).to_contain_text("started", timeout=90_000)
    monitor = ui.locator("#monitor")
    resume = monitor.get_by_role("button", name="Resume DAG")
    expect(resume).to_be_visible()  # a new DAG is paused: the run waits until it is resumed
    resume.click()
    expect(monitor.get_by_role("button", name="Pause DAG")).to_be_visible()
    expect(monitor.locator(".run-state .badge").first).to_have_text("success", timeout=RUN_TIMEOUT)
    expect(monitor.locator("tbody tr").filter(has_text="load_facts")).to_contain_text("700")
    expect(monitor.get_by_role("link", name="Log of main.load_facts")).to_have_attribute(
        "href", re.compile(r"^/dags/ui_bridge/runs/.+/tasks/main\.load_facts$")
    )
    extract = monitor.get_by_role("link", name="Log of main.extract [0]")  # a mapped stage: a link per instance
    expect(extract).to_have_attribute("href", re.compile(r"^/dags/ui_bridge/runs/.+/tasks/main\.extract/mapped/0$"))
    with page.context.expect_page() as opened:  # Ctrl-click: the log in a new tab, the wizard stays
        extract.click(modifiers=["Control"])
    expect_task_log(opened.value, expect, r"tasks/main\.extract/mapped/0", r"extract \S+\.customers: 200 rows staged")
    opened.value.close()
    assert target_rows(airflow, "SELECT count(*) FROM public.customers") == [(200,)]
    assert target_rows(airflow, "SELECT full_name, email, active FROM public.customers WHERE id = 1") == [
        ("CUSTOMER 1", "c1@example.org", True)
    ]
    assert target_rows(airflow, "SELECT count(*) FROM public.orders") == [(500,)]


def expect_task_log(page: Any, expect: Any, task_path: str, line: str) -> None:
    """Airflow's page of a task instance, showing its log: a line the stage wrote."""
    expect(page).to_have_url(re.compile(rf"/dags/ui_bridge/runs/[^/]+/{task_path}"))
    expect(page.get_by_text(re.compile(line)).first).to_be_visible(timeout=30_000)


def cancel_a_run(ui: Any, expect: Any) -> None:
    first = ui.locator("#monitor h2 code").inner_text()
    ui.locator("#run-project").click()
    expect(ui.locator("#monitor h2 code")).not_to_have_text(first, timeout=30_000)
    monitor = ui.locator("#monitor")
    # Cancel once the run is under way (a stage running or done), before it ends.
    expect(monitor.locator("tbody .badge.running, tbody .badge.success").first).to_be_visible(timeout=60_000)
    monitor.get_by_role("button", name="Cancel run").click()
    ui.locator("dialog.confirm").get_by_role("button", name="Cancel the run").click()  # asked first
    expect(monitor).to_contain_text("Run cancelled by admin")
    expect(monitor.locator(".run-state .badge").first).to_have_text("cancelled", timeout=30_000)
    expect(monitor.locator("tbody tr").filter(has_text="report").locator(".badge")).not_to_have_text("success")


def reopen_and_save_unchanged(page: Any, airflow: Airflow, expect: Any) -> None:
    """Opening the saved project and saving it again writes the same file (nothing lost)."""
    path = airflow.mappings / f"{PROJECT}.yaml"
    before = path.read_text()
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#open-project").select_option(PROJECT)
    ui.get_by_role("button", name="Open", exact=True).click()
    expect(ui.locator("#project-name")).to_have_value(PROJECT)
    ui.locator(".stepper button").nth(5).click()
    ui.locator("#save-project").click()
    expect(ui.locator("#save-result")).to_contain_text("replaced")
    assert path.read_text() == before


def test_reports_and_connections_pages(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-connections", "Connections")
    expect(ui.locator("tr").filter(has_text="bridge_src")).to_contain_text("mysql")
    expect(ui.locator("tr").filter(has_text="bridge_tgt")).to_contain_text("source · target")
    ui.get_by_role("button", name="Test connection bridge_src").click()
    expect(ui.locator("table")).to_contain_text("OK in")
    shots.take(page, "connections")
    ui = plugin_page(page, airflow, "databridge-reports", "Reports")
    expect(ui.locator("section.run")).to_have_count(2)
    expect(ui.locator("section.run").nth(1)).to_contain_text("succeeded")
    expect(ui.locator("section.run").nth(1)).to_contain_text("700 rows loaded")
    shots.take(page, "reports")
    run_id = ui.locator("section.run").nth(1).locator("h2 code").inner_text()
    page.goto(f"{airflow.url}/dags/{PROJECT}/runs/{quote(run_id, safe='')}/plugin/databridge-run")
    tab = page.frame_locator("iframe[title='DataBridge']")  # the run's DataBridge tab in Airflow's DAG run page
    expect(tab.locator(".run-state .badge").first).to_have_text("success")
    shots.take(page, "dag-run-tab")
    tab.get_by_role("link", name="Log of main.load_facts").click()  # Airflow's page itself goes to the task's log
    expect_task_log(page, expect, r"tasks/main\.load_facts$", r"public\.orders: 500 rows")
    shots.take(page, "task-log")
    page.goto(f"{airflow.url}/dags/{PROJECT}/plugin/databridge-dag")
    tab = page.frame_locator("iframe[title='DataBridge reports']")  # the DAG's reports tab
    expect(tab.locator("section.run")).to_have_count(2)


def test_narrow_screen_and_dark_mode(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin", viewport={"width": 375, "height": 800}, color_scheme="dark")
    page.goto(f"{airflow.url}/databridge/ui/wizard?project={PROJECT}")
    expect(page.locator("#project-name")).to_have_value(PROJECT)
    page.locator(".stepper button").nth(1).click()
    expect(page.locator("#mappings tbody tr")).to_have_count(5)
    assert_fits(page)
    assert_contrast(page)
    shots.take(page, "narrow-dark-columns")
    page.goto(f"{airflow.url}/databridge/ui/reports?dag_id={PROJECT}")
    expect(page.locator("section.run")).to_have_count(2)
    assert_fits(page)
    assert_contrast(page)
    shots.take(page, "narrow-dark-reports")
    page.emulate_media(color_scheme="light")
    page.goto(f"{airflow.url}/databridge/ui/wizard?project={PROJECT}")
    page.locator(".stepper button").nth(1).click()
    expect(page.locator("#mappings tbody tr")).to_have_count(5)
    assert_contrast(page)


def test_a_viewer_sees_but_cannot_save_or_run(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    before = (airflow.mappings / f"{PROJECT}.yaml").read_text()
    page = login(browser, airflow, "viewer")
    # Airflow shows plugin views in its menu only to roles that may read plugins (Op and Admin): a viewer opens the
    # pages by address.
    page.goto(f"{airflow.url}/databridge/ui/wizard")
    ui = page
    ui.locator("#open-project").select_option(PROJECT)
    ui.get_by_role("button", name="Open", exact=True).click()
    expect(ui.locator("#source-conn option:checked")).to_have_text(
        "bridge_src (mysql)"
    )  # the project's own connection, by name
    ui.locator(".stepper button").nth(2).click()  # Preview reads the sources: off for a role that cannot edit DAGs
    expect(ui.locator("#run-preview")).to_be_disabled()
    expect(ui.locator("#preview-rights")).to_contain_text(
        "'can edit on DAGs' and 'can read on Connections' permissions"
    )
    ui.locator(".stepper button").nth(4).click()  # Validate: the compile check only, and why
    expect(ui.locator("#validate-results")).to_contain_text("data checks and time estimates were skipped")
    ui.locator(".stepper button").nth(5).click()  # Save and Run are off, each naming the permission it needs
    expect(ui.locator("#save-project")).to_be_disabled()
    expect(ui.locator("#save-project")).to_have_attribute(
        "title",
        re.compile(r"^Saving needs the 'can edit on DAGs' permission in Airflow; your role \(Viewer\) lacks it"),
    )
    expect(ui.locator("#run-project")).to_be_disabled()
    expect(ui.locator("#run-project")).to_have_attribute(
        "title", re.compile(r"^Running needs the 'can create on DAG Runs' permission")
    )
    expect(ui.locator("#save-rights")).to_contain_text("your role (Viewer) lacks it")
    shots.take(page, "viewer-403")
    assert (airflow.mappings / f"{PROJECT}.yaml").read_text() == before
    page.goto(f"{airflow.url}/databridge/ui/reports?dag_id={PROJECT}")
    expect(page.locator("section.run")).to_have_count(2)


@pytest.mark.parametrize("example", ["warehouse_sync", "demo_shop"])
def test_a_hand_written_project_walked_through_and_saved_loses_nothing(
    airflow: Airflow, browser: Any, example: str
) -> None:
    """Every step of the wizard visited on an example project (several pipelines, validations, foreign keys,
    source options), then saved: the spec read back equals the original one (comments and key order are not kept)."""
    from playwright.sync_api import expect

    from databridge.spec import load_project

    path = airflow.mappings / f"{example}.yaml"
    shutil.copy(REPO / "include" / "mappings" / f"{example}.yaml", path)
    original = load_project(path, path.name)
    page = login(browser, airflow, "admin")
    page.goto(f"{airflow.url}/databridge/ui/wizard?project={example}")
    expect(page.locator("#project-name")).to_have_value(example)
    for step in range(6):
        page.locator(".stepper button").nth(step).click()
        expect(page.locator(".step-body h2")).to_contain_text(f"{step + 1}.")
    page.locator("#save-project").click()
    expect(page.locator("#save-result")).to_contain_text("replaced")
    assert load_project(path, path.name) == original


def test_add_all_tables_migrates_a_whole_schema_in_a_handful_of_actions(
    airflow: Airflow, browser: Any, shots: Shots
) -> None:
    """Step 1's Add all tables (search, select all, snake_case, a target schema) maps every table with its keys;
    Auto-map
    all has nothing left to do; the project saved as it is runs to success."""
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#project-name").fill("ui_whole")
    ui.locator("#source-conn").select_option("bridge_src")
    ui.locator("#source-schema").select_option(airflow.source_db)
    ui.locator("#target-conn").select_option("bridge_tgt")
    expect(ui.locator("#bulk-panel")).to_have_attribute("open", "")  # open while the project has no pair
    ui.locator("#bulk-search").fill("ORD")
    expect(ui.locator("#bulk-tables input[type=checkbox]")).to_have_count(1)  # the search filters, ignoring case
    ui.locator("#bulk-search").fill("")
    ui.locator("#bulk-select-all").check()
    ui.locator("#bulk-naming").select_option("snake_case")
    ui.locator("#bulk-target-schema").fill("whole")
    ui.locator("#bulk-add").click()
    expect(ui.locator("#bulk-panel .message")).to_contain_text("Added 2 pairs, every column mapped")
    rows = ui.locator("#pair-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("whole.customers")
    expect(rows.nth(0).locator("input")).to_have_value("id")  # keys from the primary key
    ui.locator("#auto-map-all").click()
    expect(ui.locator("#auto-map-all + div .message")).to_contain_text("Every pair has its columns already")
    shots.take(page, "1-tables-add-all")
    ui.locator(".stepper button").nth(5).click()
    ui.locator("#save-project").click()
    expect(ui.locator("#save-result")).to_contain_text("ui_whole.yaml (new file)")
    ui.locator("#run-project").click()
    expect(ui.locator("#run-result")).to_contain_text("started", timeout=90_000)
    ui.locator("#monitor").get_by_role("button", name="Resume DAG").click()
    expect(ui.locator("#monitor .run-state .badge").first).to_have_text("success", timeout=RUN_TIMEOUT)
    assert target_rows(airflow, "SELECT count(*) FROM whole.customers") == [(200,)]
    assert target_rows(airflow, "SELECT count(*) FROM whole.orders") == [(500,)]


def test_screenshots_were_kept(shots: Shots) -> None:
    names = {p.stem for p in Path(shots.folder).glob("*.png")}
    assert {
        "1-tables",
        "2-columns",
        "3-preview",
        "4-schedule",
        "5-validate",
        "6-run-success",
        "6-run-cancelled",
        "viewer-403",
    } <= names
