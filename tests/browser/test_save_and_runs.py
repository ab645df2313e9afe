"""Saving with a diff, unsaved work guarded, Cancel asked first and labelled cancelled with who did it, Reports opening
on the latest run, one number format, and a Test button that explains itself: in a real Airflow, in its iframes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.browser.conftest import Airflow
from tests.browser.pages import LOW_CONTRAST, TEXT, Shots, assert_contrast, login, next_step, plugin_page

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

SAVED = "sr_saved"
CANCELLED = "sr_cancel"


def test_save_shows_the_diff_and_unsaved_work_is_guarded(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#source-test").click()  # before a connection is chosen: what Test is for, not an error
    expect(ui.locator("section.source")).to_contain_text(
        "Choose a source connection first, then Test checks that DataBridge can reach it."
    )
    expect(ui.locator("section.source .message.error")).to_have_count(0)
    shots.take(page, "sr-1-test-explains")
    design(ui, airflow, expect)

    ui.locator(".topbar nav a", has_text="Reports").click()  # unsaved: leaving asks, in the page
    dialog = ui.locator("dialog.confirm")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Project sr_saved has changes that are not saved")
    shots.take(page, "sr-2-leave-guard")
    dialog.get_by_role("button", name="Stay and keep editing").click()
    expect(dialog).to_have_count(0)
    expect(ui.locator("h1")).to_have_text("Mapping wizard")

    ui.locator(".stepper button").nth(5).click()
    review = ui.locator("#save-review")
    expect(review).to_contain_text(f"{SAVED}.yaml is a new file: Save writes its")
    added = ui.locator("#save-diff .diff-line.added")
    expect(added.first).to_have_text(re.compile(rf"name: {SAVED}$"))
    assert ui.locator("#save-diff .diff-line.removed").count() == 0 and added.count() > 10
    shots.take(page, "sr-3-diff-new-file")
    ui.locator("#save-project").click()
    expect(ui.locator("#save-result")).to_contain_text(f"{SAVED}.yaml (new file)")
    expect(review).to_contain_text(re.compile(rf"No change: \S*/{SAVED}\.yaml already holds exactly this project"))
    expect(ui.locator("#save-diff")).to_have_count(0)
    assert wizard_frame(page).evaluate(LOW_CONTRAST, TEXT) == []

    ui.locator(".stepper button").nth(0).click()
    ui.locator("#project-description").fill("Customers, once more")
    ui.locator(".stepper button").nth(5).click()
    expect(review).to_contain_text(re.compile(rf"Save replaces \S*/{SAVED}\.yaml: 1 line added, 0 lines removed"))
    expect(ui.locator("#save-diff .diff-line.added")).to_have_text([re.compile(r"description: Customers, once more$")])
    expect(ui.locator("#save-diff .diff-line.same").first).to_be_visible()  # context around the change
    ui.locator("#save-review").screenshot(path=str(shots.folder / "sr-4-diff-changed.png"))
    assert wizard_frame(page).evaluate(LOW_CONTRAST, "#save-review .diff-line, #save-review .message") == []

    ui.locator(".stepper button").nth(0).click()  # opening a project over unsaved changes asks first
    ui.locator("#open-project").select_option(SAVED)
    ui.get_by_role("button", name="Open", exact=True).click()
    expect(dialog).to_contain_text("Opening sr_saved discards them")
    dialog.get_by_role("button", name="Stay and keep editing").click()
    expect(ui.locator("#project-description")).to_have_value("Customers, once more")
    ui.get_by_role("button", name="Open", exact=True).click()
    dialog.get_by_role("button", name=f"Discard and open {SAVED}").click()
    expect(ui.locator("#project-description")).to_have_value("")
    ui.locator(".topbar nav a", has_text="Reports").click()  # nothing unsaved now: no question
    expect(ui.locator("h1")).to_have_text("Reports")
    expect(dialog).to_have_count(0)


def wizard_frame(page: Any) -> Any:
    """The wizard's iframe as a frame (to evaluate in it)."""
    return page.locator("iframe[title='Mapping wizard']").element_handle().content_frame()


def design(ui: Any, airflow: Airflow, expect: Any) -> None:
    """A one-table project: customers into public.sr_customers, every column mapped by name."""
    ui.locator("#project-name").fill(SAVED)
    ui.locator("#source-conn").select_option("bridge_src")
    ui.locator("#source-schema").select_option(airflow.source_db)
    ui.locator("#target-conn").select_option("bridge_tgt")
    ui.locator("#source-tables button[data-name='customers']").click()
    ui.locator("#target-table").fill("public.sr_customers")
    ui.locator("#add-pair").click()
    ui.locator("#pair-table tbody tr").nth(0).locator("input").first.fill("id")
    next_step(ui)
    ui.locator("#auto-map").click()
    expect(ui.locator("#mappings tbody tr")).to_have_count(5)


def test_closing_the_tab_with_unsaved_changes_asks_the_browser(airflow: Airflow, browser: Any) -> None:
    """Airflow's iframe may not show the browser's own question (sandboxed without allow-modals): the wizard asks on
    Airflow's page around it."""
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#project-name").fill("sr_unsaved")
    expect(ui.locator("#project-name")).to_have_value("sr_unsaved")
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()  # the tab stays

    page.on("dialog", answer)
    page.close(run_before_unload=True)
    for _ in range(50):
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked == ["beforeunload"] and not page.is_closed()


def test_cancel_asks_and_the_run_reads_cancelled_by_whom(airflow: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    (airflow.mappings / f"{CANCELLED}.yaml").write_text(yaml.safe_dump(cancel_project(airflow), sort_keys=False))
    page = login(browser, airflow, "admin")
    page.goto(f"{airflow.url}/databridge/ui/wizard?project={CANCELLED}")
    page.locator(".stepper button").nth(5).click()
    page.locator("#run-project").click()
    expect(page.locator("#run-result")).to_contain_text("started", timeout=150_000)
    monitor = page.locator("#monitor")
    expect(monitor.locator(".run-state .badge").first).to_have_text("queued")  # a new DAG is paused: the run waits
    run_id = monitor.locator("h2 code").inner_text()

    monitor.get_by_role("button", name="Cancel run").click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_contain_text(f"Cancel run {run_id}?")
    expect(dialog).to_contain_text("The run is labelled cancelled, with your name.")
    shots.take(page, "sr-5-cancel-confirm")
    dialog.get_by_role("button", name="Keep it running").click()
    expect(dialog).to_have_count(0)
    expect(monitor.locator(".run-state .badge").first).not_to_have_text("cancelled")
    expect(monitor.get_by_role("button", name="Cancel run")).to_be_enabled()

    monitor.get_by_role("button", name="Cancel run").click()
    dialog.get_by_role("button", name="Cancel the run").click()
    expect(monitor).to_contain_text("Run cancelled by admin")
    expect(monitor.locator(".run-state .badge").first).to_have_text("cancelled")
    expect(monitor.locator(".run-state")).to_contain_text("by admin,")
    expect(monitor.get_by_role("button", name="Cancel run")).to_be_disabled()
    shots.take(page, "sr-6-cancelled-run")
    assert_contrast(page)

    page.goto(f"{airflow.url}/dags/{CANCELLED}/runs/{quote(run_id, safe='')}/plugin/databridge-run")
    tab = page.frame_locator("iframe[title='DataBridge']")  # the DAG run's DataBridge tab in Airflow's UI
    expect(tab.locator(".run-state .badge").first).to_have_text("cancelled")
    expect(tab.locator(".run-state")).to_contain_text("by admin,")
    shots.take(page, "sr-7-dag-run-tab-cancelled")

    reports = plugin_page(page, airflow, "databridge-reports", "Reports")  # no project named: the latest run's
    expect(reports.locator("#report-project")).to_have_value(CANCELLED)
    expect(reports.locator("#latest-run")).to_contain_text(run_id)
    first = reports.locator("section.run").first
    expect(first.locator("h2 code")).to_have_text(run_id)
    expect(first.locator("h2 .badge")).to_have_text("cancelled")
    expect(first).to_contain_text("cancelled by admin,")
    shots.take(page, "sr-8-reports-latest-cancelled")


def cancel_project(airflow: Airflow) -> dict[str, Any]:
    return {
        "name": CANCELLED,
        "pipelines": [
            {
                "name": "main",
                "source_conn_id": "bridge_src",
                "target_conn_id": "bridge_tgt",
                "tables": [
                    {
                        "source": f"{airflow.source_db}.customers",
                        "targets": [
                            {
                                "table": "public.sr_cancel_customers",
                                "keys": ["id"],
                                "columns": [{"source": "id"}, {"source": "name"}],
                            }
                        ],
                    }
                ],
            }
        ],
    }


def test_numbers_have_one_format_on_every_page(airflow: Airflow, browser: Any) -> None:
    page = login(browser, airflow, "admin")
    page.goto(f"{airflow.url}/databridge/ui/reports")
    shown = page.evaluate("""async () => {
        const { fmt, duration } = await import('/databridge/ui/static/js/dom.js');
        return [fmt(109057.4), fmt(20402), fmt(0.4), fmt(null),
                duration(4.25), duration(38.4), duration(125), duration(3840), duration(undefined)];
    }""")
    assert shown == ["109,057", "20,402", "0", "—", "4.3 s", "38 s", "2 min 5 s", "1 h 4 min", "—"]
