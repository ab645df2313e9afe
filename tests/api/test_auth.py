"""Every route of the plugin: Airflow's login (401), its permissions (403 for a Viewer on edits), one error shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e

DRAFT = {"yaml": "name: x\n"}
# Every route of the plugin: (method, path, body, what a Viewer gets: None = allowed, else the status).
# test_every_route_is_listed keeps this table complete: a new route fails it until it is added here.
ROUTES = [
    ("GET", "/health", None, None),
    ("GET", "/openapi.json", None, None),
    ("GET", "/docs", None, None),
    ("GET", "/spec/schema", None, None),
    ("GET", "/projects", None, None),
    ("GET", "/projects/{dag_id}", None, None),
    ("GET", "/projects/{dag_id}/runs", None, None),
    ("GET", "/projects/{dag_id}/runs/{run_id}", None, None),
    ("GET", "/queue", None, None),
    ("POST", "/schedule/describe", {"cron": "@daily"}, None),
    ("POST", "/projects", DRAFT, 403),
    ("POST", "/validate", DRAFT, 403),
    ("POST", "/preview", DRAFT, 403),
    ("POST", "/expressions/check", {"expression": "UPPER({name})"}, 403),
    ("GET", "/connections", None, 403),
    ("POST", "/connections/{connection_id}/test", None, 403),
    ("GET", "/connections/{connection_id}/schemas", None, 403),
    ("GET", "/connections/{connection_id}/schemas/{schema}/tables", None, 403),
    ("GET", "/connections/{connection_id}/schemas/{schema}/tables/{table}", None, 403),
]
# The UI's pages answer an anonymous browser with a redirect to Airflow's login instead of a 401 (tests/api/test_ui.py).
UI_PAGES = {("GET", "/ui"), ("GET", "/ui/"), ("GET", "/ui/{page}")}
PARAMETERS = {"dag_id": "nothing_here", "run_id": "r", "connection_id": "some_conn", "schema": "s", "table": "t"}


def mounted_routes(api: Api) -> set[tuple[str, str]]:
    """(method, path) of every route of the app Airflow mounted at /databridge, as served."""
    [plugin] = [r.app for r in api.client.app.routes if getattr(r, "path", None) == "/databridge" and hasattr(r, "app")]
    return {(m, route.path) for route in plugin.routes for m in getattr(route, "methods", None) or () if m != "HEAD"}


def test_every_route_is_listed(api: Api) -> None:
    """So that each one is checked below for anonymous and Viewer calls."""
    assert mounted_routes(api) == {(method, path) for method, path, _body, _viewer in ROUTES} | UI_PAGES


@pytest.mark.parametrize(("method", "path", "body", "_viewer"), ROUTES)
def test_anonymous_calls_are_refused(api: Api, method: str, path: str, body: dict[str, str] | None, _viewer: int | None) -> None:
    assert_error(api.call(method, path.format(**PARAMETERS), user=None, json=body), 401, "AUTH_ERROR", "not authenticated")


@pytest.mark.parametrize(("method", "path", "body", "viewer"), [r for r in ROUTES if r[3]])
def test_a_viewer_cannot_edit_or_browse_sources(api: Api, mappings: Path, method: str, path: str, body: dict[str, str] | None, viewer: int) -> None:
    assert_error(api.call(method, path.format(**PARAMETERS), user="viewer", json=body), viewer, "AUTH_ERROR")
    assert list(mappings.iterdir()) == []


def test_a_bad_token_is_refused(api: Api) -> None:
    response = api.client.get("/databridge/projects", headers={"Authorization": "Bearer not-a-jwt"})
    assert_error(response, 403, "AUTH_ERROR", "invalid jwt")


def test_a_viewer_can_look(api: Api, mappings: Path) -> None:
    assert api.call("GET", "/projects", user="viewer").json() == []
    assert api.call("GET", "/health", user="viewer").json()["status"] == "ok"
    assert "properties" in api.call("GET", "/spec/schema", user="viewer").json()


def test_errors_share_one_shape(api: Api, mappings: Path) -> None:
    assert_error(api.call("GET", "/no/such/route"), 404, "NOT_FOUND")
    assert_error(api.call("GET", "/projects/nothing_here"), 404, "NOT_FOUND", "no mapping project named 'nothing_here'")
    assert_error(api.call("POST", "/projects", json={"overwrite": "maybe"}), 422, "VALIDATION_ERROR")
    assert_error(api.call("POST", "/projects", json={}), 422, "VALIDATION_ERROR", "either as `project`")


def test_routes_are_in_the_openapi_document(api: Api) -> None:
    paths = api.call("GET", "/openapi.json", user="viewer").json()["paths"]
    assert {path for _method, path, _body, _viewer in ROUTES if path not in ("/openapi.json", "/docs")} == set(paths)
    assert "swagger-ui" in api.call("GET", "/docs", user="viewer").text
