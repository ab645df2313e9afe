"""The UI's pages: behind Airflow's login (an anonymous browser goes to the login page), static files served to a
signed-in user only (401 otherwise), the user's rights in the page, and registered in Airflow's UI as external views
(nav entries and a DAG-run tab)."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e

PAGES = ("wizard", "reports", "connections", "monitor")


@pytest.mark.parametrize("page", PAGES)
def test_a_page_needs_a_login_and_an_anonymous_browser_goes_to_it(api: Api, page: str) -> None:
    response = api.call("GET", f"/ui/{page}?dag_id=x", user=None, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"].endswith(f"/auth/login/?next=%2Fdatabridge%2Fui%2F{page}%3Fdag_id%3Dx")


@pytest.mark.parametrize("path", ["/ui", "/ui/"])
def test_the_ui_root_needs_a_login_too(api: Api, path: str) -> None:
    response = api.call("GET", path, user=None, follow_redirects=False)
    assert response.status_code == 302 and "/auth/login/?next=" in response.headers["location"]


@pytest.mark.parametrize("user", ["admin", "viewer"])
@pytest.mark.parametrize("page", PAGES)
def test_a_signed_in_user_gets_the_page(api: Api, page: str, user: str) -> None:
    response = api.call("GET", f"/ui/{page}", user=user)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert (
        f'data-page="{page}"' in response.text
        and f'<span class="user" title="Signed in to Airflow">{user}</span>' in response.text
    )
    assert "/databridge/ui/static/js/app.js" in response.text


def test_an_unknown_page_is_refused(api: Api) -> None:
    assert api.call("GET", "/ui/nothing").status_code == 422


def test_the_ui_root_opens_the_wizard(api: Api) -> None:
    response = api.call("GET", "/ui/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "/databridge/ui/wizard"


STATIC = [
    "static/databridge.css",
    "static/js/app.js",
    "static/js/wizard.js",
    "static/js/steps/columns.js",
    "static/icon.svg",
]


@pytest.mark.parametrize("path", STATIC)
def test_static_files_are_served_to_a_signed_in_user(api: Api, path: str) -> None:
    response = api.call("GET", f"/ui/{path}", user="viewer")
    assert response.status_code == 200 and len(response.content) > 100
    assert response.headers["cache-control"] == "private, no-cache" and response.headers["etag"]


@pytest.mark.parametrize("path", STATIC)
def test_static_files_need_a_login(api: Api, path: str) -> None:
    """A script or style sheet is not a page: 401 in the API's error shape, no redirect."""
    response = api.call("GET", f"/ui/{path}", user=None, follow_redirects=False)
    assert_error(response, 401, "AUTH_ERROR", "not authenticated")


@pytest.mark.parametrize(
    "path",
    ["static/nothing.js", "static/", "static//etc/passwd", "static/%2e%2e/ui.py", "static/js/%2e%2e/%2e%2e/ui.py"],
)
def test_nothing_outside_the_static_folder_is_served(api: Api, path: str) -> None:
    assert_error(api.call("GET", f"/ui/{path}"), 404, "NOT_FOUND")


@pytest.mark.parametrize(("user", "can"), [("admin", "true"), ("viewer", "false"), ("reader", "false")])
def test_the_page_says_whether_the_user_may_preview(api: Api, user: str, can: str) -> None:
    """The Preview button and Validate's data checks are off (with the reason) for a role without DAG edit."""
    assert f'data-can-preview="{can}"' in api.call("GET", "/ui/wizard", user=user).text


def test_the_pages_are_in_airflows_navigation(api: Api) -> None:
    plugins = api.call("GET", "/api/v2/plugins").json()["plugins"]
    views = {v["url_route"]: v for p in plugins if p["name"] == "databridge" for v in p["external_views"]}
    assert {views[r]["href"] for r in ("databridge-wizard", "databridge-reports", "databridge-connections")} == {
        "/databridge/ui/wizard",
        "/databridge/ui/reports",
        "/databridge/ui/connections",
    }
    assert (
        views["databridge-run"]["destination"] == "dag_run"
        and "{DAG_ID}" in views["databridge-run"]["href"]
        and "{RUN_ID}" in views["databridge-run"]["href"]
    )
