"""What the browser tests do on a page: log in through Airflow's login page, open a plugin view, check that a page fits
the screen and reads well, read the target database. Shared by every browser test module (one Airflow for all)."""

from __future__ import annotations

from typing import Any

import psycopg

from tests.browser.conftest import Airflow, screenshots_dir
from tests.conftest import PG

WIDE = {"width": 1366, "height": 1500}
RUN_TIMEOUT = 150_000


class Shots:
    """Screenshots named by step, in the artifacts folder (its path is printed)."""

    def __init__(self) -> None:
        self.folder = screenshots_dir()
        print(f"\nbrowser screenshots: {self.folder}")

    def take(self, page: Any, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


def login(browser: Any, airflow: Airflow, user: str, **context: Any) -> Any:
    page = browser.new_context(viewport=context.pop("viewport", WIDE), **context).new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{airflow.url}/auth/login/?next=/")
    page.fill("#username", user)
    page.fill("#password", airflow.passwords[user])
    page.click("input[type=submit]")
    # Past the login page once the next one is on its way: the whole Airflow UI loading can outlast a timeout on a busy
    # machine.
    page.wait_for_url(lambda url: "/auth/login" not in url, wait_until="commit", timeout=60_000)
    return page


def plugin_page(page: Any, airflow: Airflow, route: str, title: str) -> Any:
    """An Airflow UI page showing one of the plugin's views in its iframe; the iframe's content."""
    page.goto(f"{airflow.url}/plugin/{route}")
    return page.frame_locator(f"iframe[title='{title}']")


def next_step(ui: Any) -> None:
    ui.locator(".wizard-nav button.primary").click()


WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
      && !(e.parentElement && e.parentElement.closest('.scroll')))
    .slice(0, 5)
    .map((e) => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def assert_fits(page: Any) -> None:
    """Nothing but the scrollable data tables is wider than the screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], page.evaluate(
        WIDER_THAN_SCREEN
    )


# The contrast ratio (WCAG 2) of each element's text against the first opaque background behind it.
LOW_CONTRAST = """(selector) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b]
    .map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(selector)]
    .filter((e) => e.offsetParent && !e.disabled && e.textContent.trim())
    .map((e) => {
      const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(background(e))];
      return [e.textContent.trim().slice(0, 30), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
    })
    .filter(([, ratio]) => ratio < 4.5);
}"""
TEXT = "button, a, .badge, .src-text, .tgt-text, .muted, .help, .check, .message, th, td, label, h1, h2, h3"


def assert_contrast(page: Any) -> None:
    """Every visible text of the page (buttons, links, badges, help) has a contrast of at least 4.5:1."""
    assert page.evaluate(LOW_CONTRAST, TEXT) == []


def target_rows(airflow: Airflow, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname=airflow.target_db) as conn:
        return conn.execute(sql).fetchall()
