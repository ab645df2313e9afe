"""Fewer clicks in the wizard: a six-table migration walked end to end (connections, six tables, columns, preview,
schedule, validate, save, run) in fewer than 36 counted actions; search, multi-select and Add selected in Tables;
role, foreign keys and checks edited in the wizard; focus kept in Columns; Preview's source → transformed values and
JSON; the pair table at 390 px; the connection's own database preselected; a reopened project without "default null".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import MySQLdb
import pytest
import yaml

from tests.browser.conftest import Airflow
from tests.browser.pages import Shots, assert_fits, login, next_step, plugin_page, target_rows
from tests.conftest import MYSQL, unique_name

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]

WALK = "fc_six"
DETAIL = "fc_detail"
MOST_ACTIONS = 36
NARROW = {"width": 390, "height": 900}
SIX_RUN_TIMEOUT = 300_000

SIX_TABLES = [
    "CREATE TABLE suppliers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(80)) ENGINE=InnoDB",
    "CREATE TABLE products (id INT PRIMARY KEY, supplier_id INT NOT NULL, name VARCHAR(40) NOT NULL, tags "
    "SET('new','sale','eco'), price DECIMAL(8,2), FOREIGN KEY (supplier_id) REFERENCES suppliers(id)) ENGINE=InnoDB",
    "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, placed DATE, FOREIGN KEY (customer_id) "
    "REFERENCES customers(id)) ENGINE=InnoDB",
    "CREATE TABLE order_items (id INT PRIMARY KEY, order_id INT NOT NULL, product_id INT NOT NULL, qty INT NOT NULL,"
    " FOREIGN KEY (order_id) REFERENCES orders(id), FOREIGN KEY (product_id) REFERENCES products(id)) ENGINE=InnoDB",
    "CREATE TABLE payments (id INT PRIMARY KEY, order_id INT NOT NULL, amount DECIMAL(10,2), FOREIGN KEY "
    "(order_id) REFERENCES orders(id)) ENGINE=InnoDB",
]
ROWS = {"suppliers": 5, "customers": 20, "products": 10, "orders": 30, "order_items": 60, "payments": 30}


@pytest.fixture(scope="module")
def six(airflow: Airflow) -> Iterator[str]:
    """A separate MariaDB database on the source server with six small related tables (bridge_src browses it)."""
    name = unique_name("fcsix")
    conn = MySQLdb.connect(host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    cur.execute(f"USE `{name}`")
    for statement in SIX_TABLES:
        cur.execute(statement)
    cur.executemany("INSERT INTO suppliers VALUES (%s, %s)", [(i, f"supplier {i}") for i in range(1, 6)])
    cur.executemany(
        "INSERT INTO customers VALUES (%s, %s, %s)",
        [(i, f"  customer {i} ", f"C{i}@Example.org") for i in range(1, 21)],
    )
    tags = ["new,sale", "eco", "", "sale"]
    cur.executemany(
        "INSERT INTO products VALUES (%s, %s, %s, %s, %s)",
        [(i, i % 5 + 1, f"product {i}", tags[i % 4], i * 2.5) for i in range(1, 11)],
    )
    cur.executemany(
        "INSERT INTO orders VALUES (%s, %s, %s)", [(i, i % 20 + 1, f"2024-03-{i % 28 + 1:02d}") for i in range(1, 31)]
    )
    cur.executemany(
        "INSERT INTO order_items VALUES (%s, %s, %s, %s)",
        [(i, i % 30 + 1, i % 10 + 1, i % 4 + 1) for i in range(1, 61)],
    )
    cur.executemany("INSERT INTO payments VALUES (%s, %s, %s)", [(i, i, i * 10.5) for i in range(1, 31)])
    yield name
    cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


class Actions:
    """Every user action of the walk goes through here and is counted: click, fill, select_option, check, press."""

    def __init__(self) -> None:
        self.done: list[str] = []

    def _act(self, kind: str, locator: Any, *args: Any) -> None:
        self.done.append(f"{kind} {locator}")
        getattr(locator, kind)(*args)

    def click(self, locator: Any) -> None:
        self._act("click", locator)

    def fill(self, locator: Any, text: str) -> None:
        self._act("fill", locator, text)

    def select_option(self, locator: Any, value: str) -> None:
        self._act("select_option", locator, value)

    def check(self, locator: Any) -> None:
        self._act("check", locator)

    def press(self, locator: Any, key: str) -> None:
        self._act("press", locator, key)

    def next_step(self, ui: Any) -> None:
        self.click(ui.locator(".wizard-nav button.primary"))


def test_a_six_table_migration_in_fewer_than_36_actions(airflow: Airflow, browser: Any, shots: Shots, six: str) -> None:
    from playwright.sync_api import expect

    act = Actions()
    page = login(browser, airflow, "admin")
    page.on("console", lambda m: print(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    try:
        expect(ui.locator("#project-name")).to_be_visible(
            timeout=120_000
        )  # the first Airflow page of the session loads slowly
    finally:
        shots.take(page, "fewer-0-first-page")
    act.fill(ui.locator("#project-name"), WALK)
    act.select_option(ui.locator("#source-conn"), "bridge_src")
    act.select_option(ui.locator("#source-schema"), six)
    act.select_option(ui.locator("#target-conn"), "bridge_tgt")
    expect(ui.locator("#bulk-tables input[type=checkbox]")).to_have_count(6)
    act.check(ui.locator("#bulk-select-all"))
    act.fill(ui.locator("#bulk-target-schema"), "six")
    act.click(ui.locator("#bulk-add"))
    expect(ui.locator("#bulk-panel .message")).to_contain_text("Added 6 pairs, every column mapped")
    rows = ui.locator("#pair-table tbody tr")
    expect(rows).to_have_count(6)
    for i in range(6):
        expect(rows.nth(i).get_by_label("Key columns", exact=False)).to_have_value("id")  # keys from the primary keys
    expect(ui.locator("#pair-table")).to_contain_text("six.order_items")
    expect(rows.filter(has_text="six.customers").get_by_label("Role of", exact=False)).to_have_value("dimension")
    expect(rows.filter(has_text="six.payments").get_by_label("Role of", exact=False)).to_have_value("fact")
    shots.take(page, "fewer-1-tables-six")
    act.next_step(ui)
    expect(ui.locator("#mappings tbody tr").first).to_be_visible()  # every pair mapped already
    act.next_step(ui)
    expect(ui.locator("#preview-results .estimate")).to_have_count(6, timeout=90_000)
    act.next_step(ui)
    act.next_step(ui)
    expect(ui.locator("#validate-results")).to_contain_text("The project compiles", timeout=90_000)
    act.next_step(ui)
    act.click(ui.locator("#save-project"))
    expect(ui.locator("#save-result")).to_contain_text(f"{WALK}.yaml (new file)")
    act.click(ui.locator("#run-project"))
    expect(ui.locator("#run-result")).to_contain_text("started", timeout=90_000)
    act.click(ui.locator("#monitor").get_by_role("button", name="Resume DAG"))
    expect(ui.locator("#monitor .run-state .badge").first).to_have_text("success", timeout=SIX_RUN_TIMEOUT)
    shots.take(page, "fewer-6-run-six")
    print(f"\nsix-table walk: {len(act.done)} actions")
    assert len(act.done) < MOST_ACTIONS, act.done
    for table, count in ROWS.items():
        assert target_rows(airflow, f"SELECT count(*) FROM six.{table}") == [(count,)], table
    saved = yaml.safe_load((airflow.mappings / f"{WALK}.yaml").read_text())
    targets = {t["targets"][0]["table"]: t["targets"][0] for t in saved["pipelines"][0]["tables"]}
    assert {"columns": ["order_id"], "references": "six.orders", "referenced_columns": ["id"]} in targets[
        "six.payments"
    ]["foreign_keys"]
    page.context.close()


def test_tables_step_preselects_the_own_database_and_adds_a_searched_subset(
    airflow: Airflow, browser: Any, shots: Shots, six: str
) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#project-name").fill(DETAIL)
    ui.locator("#source-conn").select_option("bridge_src")
    expect(ui.locator("#source-schema")).to_have_value(airflow.source_db)  # the connection's own database
    expect(ui.locator("#bulk-panel")).to_have_attribute("open", "")
    ui.locator("#source-schema").select_option(six)
    ui.locator("#target-conn").select_option("bridge_tgt")
    expect(ui.locator("#bulk-tables input[type=checkbox]")).to_have_count(6)
    ui.locator("#bulk-search").fill("ORDER")
    boxes = ui.locator("#bulk-tables input[type=checkbox]")
    expect(boxes).to_have_count(2)  # orders, order_items
    ui.locator("#bulk-search").fill("")
    for name in ("customers", "orders", "products"):
        ui.locator(f"#bulk-tables input[data-table='{name}']").check()
    ui.locator("#bulk-target-schema").fill("detail")
    add = ui.get_by_role("button", name="Add selected (3)")
    add.click()
    rows = ui.locator("#pair-table tbody tr")
    expect(rows).to_have_count(3)
    expect(ui.locator("#pair-table")).to_contain_text("detail.products")
    expect(ui.locator("#pair-table")).not_to_contain_text("detail.payments")
    expect(rows.nth(0).get_by_label("Key columns", exact=False)).to_have_value("id")
    expect(rows.filter(has_text="detail.customers").locator("td").nth(5)).to_have_text("3")  # id, name, email mapped
    rows.filter(has_text="detail.products").get_by_label("Role of", exact=False).select_option("dimension")
    shots.take(page, "fewer-1-tables-1366")
    narrow = login(browser, airflow, "admin", viewport=NARROW)
    narrow.goto(f"{airflow.url}/databridge/ui/wizard")
    narrow.locator("#source-conn").select_option("bridge_src")
    narrow.locator("#source-schema").select_option(six)
    expect(narrow.locator("#bulk-tables input[type=checkbox]")).to_have_count(6)
    narrow.locator("#bulk-select-all").check()
    narrow.locator("#bulk-add").click()
    expect(narrow.locator("#pair-table tbody tr")).to_have_count(6)
    for label in ("Load mode of", "Key columns of", "Remove "):
        box = narrow.locator("#pair-table tbody tr").first.get_by_label(label, exact=False).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], (label, box)
    assert_fits(narrow)
    shots.take(narrow, "fewer-1-tables-390")
    narrow.locator("#pair-table").screenshot(path=str(shots.folder / "fewer-1-pairs-390.png"))
    narrow.context.close()
    page.context.close()


def walk_to_columns(page: Any, airflow: Airflow, six: str, expect: Any) -> Any:
    """A project of customers and orders (Add selected), saved; the Columns step of customers."""
    ui = plugin_page(page, airflow, "databridge-wizard", "Mapping wizard")
    ui.locator("#project-name").fill(DETAIL)
    ui.locator("#source-conn").select_option("bridge_src")
    ui.locator("#source-schema").select_option(six)
    ui.locator("#target-conn").select_option("bridge_tgt")
    expect(ui.locator("#bulk-tables input[type=checkbox]")).to_have_count(6)
    for name in ("customers", "orders", "products"):
        ui.locator(f"#bulk-tables input[data-table='{name}']").check()
    ui.locator("#bulk-target-schema").fill("detail")
    ui.locator("#bulk-add").click()
    expect(ui.locator("#pair-table tbody tr")).to_have_count(3)
    next_step(ui)
    return ui


def focused(ui: Any) -> str:
    return str(
        ui.locator("body").evaluate(
            "() => document.activeElement.getAttribute('aria-label') || document.activeElement.id"
        )
    )


def test_columns_keeps_focus_edits_foreign_keys_and_preview_shows_before_after(
    airflow: Airflow, browser: Any, shots: Shots, six: str
) -> None:
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin")
    ui = walk_to_columns(page, airflow, six, expect)
    ui.locator("#pair-picker").select_option(label=f"{six}.customers → detail.customers")
    expect(ui.locator("#mappings tbody tr")).to_have_count(3)
    ui.get_by_role("button", name="Transform name").click()
    assert focused(ui) == "Transform name"  # the same control after the redraw
    ui.get_by_label("TRIM").check()
    ui.get_by_label("UPPER").check()
    ui.get_by_role("button", name="Done").click()
    assert focused(ui) == "Transform name"
    ui.get_by_role("button", name="Remove mapping email").click()
    expect(ui.locator("#mappings tbody tr")).to_have_count(2)
    assert focused(ui) == "Remove mapping name"  # the row now in its place (the last one)
    ui.locator("#source-columns button[data-column='email']").click()
    ui.locator("#map-button").click()
    assert focused(ui) == "map-button"
    expect(ui.locator("#mappings tbody tr")).to_have_count(3)
    # Foreign keys, edited here rather than in YAML.
    ui.locator("#pair-picker").select_option(label=f"{six}.orders → detail.orders")
    fks = ui.locator("#foreign-keys")
    expect(fks).to_contain_text("customer_id → detail.customers (id)")  # generated from the source's reference
    fks.get_by_role("button", name="Remove foreign key customer_id of detail.orders").click()
    expect(fks).to_contain_text("No foreign key.")
    ui.locator("#fk-columns").fill("customer_id")
    ui.locator("#fk-references").fill("detail.customers")
    ui.locator("#fk-referenced-columns").fill("id")
    ui.locator("#add-foreign-key").click()
    expect(fks).to_contain_text("customer_id → detail.customers (id)")
    shots.take(page, "fewer-2-columns-1366")
    next_step(ui)
    results = ui.locator("#preview-results")
    expect(results.locator(".estimate")).to_have_count(3, timeout=90_000)
    expect(results.locator(".before-after").first).to_be_visible()
    pairs = results.locator(".before-after").evaluate_all(
        "(els) => els.map((e) => [e.firstChild.textContent, e.lastChild.textContent])"
    )
    assert ["  customer 1 ", "CUSTOMER 1"] in pairs, pairs[:5]  # the source value beside the transformed one
    expect(results).to_contain_text('["new","sale"]')  # a SET as a JSON array, not a Python repr
    expect(results).not_to_contain_text("['new'")
    shots.take(page, "fewer-3-preview-1366")
    next_step(ui)
    next_step(ui)
    checks = ui.locator("#checks")
    ui.locator("#check-table").fill("detail.orders")
    ui.locator("#check-columns").fill("customer_id, placed")
    ui.locator("#add-check").click()
    ui.locator("#check-kind").select_option("custom")
    ui.locator("#check-name").fill("no negative prices")
    ui.locator("#check-sql").fill("SELECT count(*) FROM detail.products WHERE price < 0")
    ui.locator("#check-on-failure").select_option("warn")
    ui.locator("#add-check").click()
    expect(checks.locator("#check-list li")).to_have_count(2)
    ui.locator("#run-validate").click()
    expect(ui.locator("#validate-results")).to_contain_text("The project compiles", timeout=90_000)
    next_step(ui)
    ui.locator("#save-project").click()
    expect(ui.locator("#save-result")).to_contain_text(f"{DETAIL}.yaml")
    saved = yaml.safe_load((airflow.mappings / f"{DETAIL}.yaml").read_text())
    pipeline = saved["pipelines"][0]
    targets = {t["targets"][0]["table"]: t["targets"][0] for t in pipeline["tables"]}
    assert targets["detail.orders"]["foreign_keys"] == [
        {"columns": ["customer_id"], "references": "detail.customers", "referenced_columns": ["id"]}
    ]
    assert {"source": "name", "transform": ["trim", "upper"]} in targets["detail.customers"]["columns"]
    assert targets["detail.customers"].get("role", "fact") == "dimension"
    assert {"check": "not_null", "table": "detail.orders", "columns": ["customer_id", "placed"]} in pipeline[
        "validations"
    ]
    assert {
        "check": "custom",
        "name": "no negative prices",
        "sql": "SELECT count(*) FROM detail.products WHERE price < 0",
        "on_failure": "warn",
    } in pipeline["validations"]
    page.context.close()


def test_a_reopened_project_reads_well_at_390_px(airflow: Airflow, browser: Any, shots: Shots) -> None:
    """The project saved above, reopened: its mappings show no "default null"; Columns and Preview fit 390 px."""
    from playwright.sync_api import expect

    page = login(browser, airflow, "admin", viewport=NARROW)
    page.goto(f"{airflow.url}/databridge/ui/wizard?project={DETAIL}")
    expect(page.locator("#project-name")).to_have_value(DETAIL)
    shots.take(page, "fewer-1-tables-reopened-390")
    page.locator(".stepper button").nth(1).click()
    expect(page.locator("#mappings tbody tr").first).to_be_visible()
    expect(page.locator("#mappings")).not_to_contain_text("default null")
    expect(page.locator("#mappings")).to_contain_text("trim, upper")
    assert_fits(page)
    shots.take(page, "fewer-2-columns-390")
    page.locator(".stepper button").nth(2).click()
    expect(page.locator("#preview-results .estimate")).to_have_count(3, timeout=90_000)
    assert_fits(page)
    shots.take(page, "fewer-3-preview-390")
    page.context.close()
