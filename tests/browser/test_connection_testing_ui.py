"""The Connections page and the wizard's Test button in an Airflow that keeps its default `[core] test_connection =
Disabled`: Test answers with the sentence naming the setting that enables it (not a "your role" message).

This module starts its own Airflow (scripts/airflow.sh serve, as the shared one) with that setting and its own
metadata database, since the shared one enables testing for the other modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Airflow, served
from tests.browser.pages import Shots, login, plugin_page
from tests.conftest import pg_admin, unique_name

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

SETTING_SENTENCE = "testing connections is disabled in this Airflow ([core] test_connection = Disabled)"


@pytest.fixture(scope="module")
def airflow_untested(databases: dict[str, str]) -> Iterator[Airflow]:
    """Airflow as `make airflow` starts it, with [core] test_connection = Disabled (Airflow's default)."""
    meta = unique_name("uimeta_untested")
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{meta}"')
    try:
        # Airflow's own default; make airflow turns it on unless told
        with served({**databases, "meta": meta}, "untested", {"AIRFLOW__CORE__TEST_CONNECTION": "Disabled"}) as server:
            yield server
    finally:
        with pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{meta}" WITH (FORCE)')


def test_test_buttons_say_which_setting_enables_testing(airflow_untested: Airflow, browser: Any, shots: Shots) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow_untested, "admin")
    ui = plugin_page(page, airflow_untested, "databridge-connections", "Connections")
    row = ui.locator("tr").filter(has_text="bridge_src")
    expect(row).to_contain_text("mysql")
    row.get_by_role("button", name="Test connection bridge_src").click()
    expect(row).to_contain_text(SETTING_SENTENCE)
    expect(row).to_contain_text("AIRFLOW__CORE__TEST_CONNECTION=Enabled")
    expect(row).not_to_contain_text("your Airflow role")
    shots.take(page, "connections-test-disabled")

    ui = plugin_page(page, airflow_untested, "databridge-wizard", "Mapping wizard")
    ui.locator("#source-conn").select_option("bridge_src")
    ui.locator("#source-test").click()
    expect(ui.locator("section.panel.source")).to_contain_text(SETTING_SENTENCE)
    shots.take(page, "wizard-test-disabled")
