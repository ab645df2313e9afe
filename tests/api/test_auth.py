"""Every route of the plugin: Airflow's login (401), its permissions (403 for a Viewer on edits and sources, for a
Reader on edits and on what touches a database), one error shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import Api, assert_error, concrete

pytestmark = pytest.mark.e2e

DRAFT = {"yaml": "name: x\n"}
LINT, ESTIMATE = {**DRAFT, "lint": True}, {**DRAFT, "estimate": True}
# Every route of the plugin: (method, path, body, what a Viewer gets, what a Reader gets: None = allowed, else the
# status). A Reader (conftest.py) may read DAGs and connections but not edit DAGs: it tells "edit" from "read" apart.
# test_every_route_is_listed keeps this table complete: a new route fails it until it is added here.
ROUTES = [
    ("GET", "/health", None, None, None),
    ("GET", "/openapi.json", None, None, None),
    ("GET", "/docs", None, None, None),
    ("GET", "/spec/schema", None, None, None),
    ("GET", "/projects", None, None, None),
    ("GET", "/projects/{dag_id}", None, None, None),
    ("GET", "/projects/{dag_id}/schedule", None, None, None),  # what resuming runs, and when: DAG read
    ("GET", "/projects/{dag_id}/runs", None, None, None),
    ("GET", "/projects/{dag_id}/runs/{run_id}", None, None, None),
    ("GET", "/queue", None, None, None),
    ("GET", "/runs/latest", None, None, None),
    ("POST", "/projects/{dag_id}/runs/{run_id}/cancel", None, 403, 403),  # DAG Runs edit
    ("POST", "/render", DRAFT, None, None),  # what saving would write, nothing written: DAG read
    ("POST", "/schedule/describe", {"cron": "@daily"}, None, None),
    ("POST", "/validate", DRAFT, None, None),  # only parses: DAG read
    ("POST", "/validate", LINT, 403, 403),  # reads the sources: DAG edit, like saving
    ("POST", "/validate", ESTIMATE, 403, 403),
    ("POST", "/preview", DRAFT, 403, 403),
    ("POST", "/projects", DRAFT, 403, 403),
    ("POST", "/expressions/check", {"expression": "UPPER({name})"}, 403, 403),
    ("GET", "/connections", None, None, None),  # DAG read: a Viewer gets names and types only (test_rights.py)
    ("POST", "/connections/{connection_id}/test", None, 403, None),
    ("GET", "/connections/{connection_id}/schemas", None, 403, None),
    ("GET", "/connections/{connection_id}/schemas/{schema}/tables", None, 403, None),
    ("GET", "/connections/{connection_id}/schemas/{schema}/tables/{table}", None, 403, None),
    (
        "POST",
        "/connections/{connection_id}/generate",
        {"tables": ["shop.orders"]},
        403,
        None,
    ),  # reads the catalog, like browsing
    ("GET", "/ui/static/{path:path}", None, None, None),  # the pages' CSS and JS: 401, not a redirect
]
# The UI's pages answer an anonymous browser with a redirect to Airflow's login instead of a 401 (tests/api/test_ui.py).
UI_PAGES = {("GET", "/ui"), ("GET", "/ui/"), ("GET", "/ui/{page}")}
ROLES = {"viewer": 3, "reader": 4}
"""Each user's column in ROUTES."""
REFUSED = [(user, *row[:3], row[column]) for user, column in ROLES.items() for row in ROUTES if row[column]]
ALLOWED = [(user, *row[:3]) for user, column in ROLES.items() for row in ROUTES if not row[column]]


def mounted_routes(api: Api) -> set[tuple[str, str]]:
    """(method, path) of every route of the app Airflow mounted at /databridge, as served."""
    [plugin] = [r.app for r in api.client.app.routes if getattr(r, "path", None) == "/databridge" and hasattr(r, "app")]
    return {(m, route.path) for route in plugin.routes for m in getattr(route, "methods", None) or () if m != "HEAD"}


def test_every_route_is_listed(api: Api) -> None:
    """So that each one is checked below for anonymous, Viewer and Reader calls."""
    assert mounted_routes(api) == {(method, path) for method, path, *_rest in ROUTES} | UI_PAGES


@pytest.mark.parametrize(("method", "path", "body"), [r[:3] for r in ROUTES])
def test_anonymous_calls_are_refused(api: Api, method: str, path: str, body: dict[str, str] | None) -> None:
    assert_error(api.call(method, concrete(path), user=None, json=body), 401, "AUTH_ERROR", "not authenticated")


@pytest.mark.parametrize(("user", "method", "path", "body", "status"), REFUSED)
def test_a_role_without_the_right_is_refused(
    api: Api, mappings: Path, user: str, method: str, path: str, body: dict[str, str] | None, status: int
) -> None:
    assert_error(api.call(method, concrete(path), user=user, json=body), status, "AUTH_ERROR")
    assert list(mappings.iterdir()) == []


@pytest.mark.parametrize(("user", "method", "path", "body"), ALLOWED)
def test_a_role_with_the_right_gets_past_the_check(
    api: Api,
    mappings: Path,
    user: str,
    method: str,
    path: str,
    body: dict[str, str] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Allowed: whatever the answer (a missing project, connection or run), it is not Airflow's 401 or 403."""
    monkeypatch.setenv(
        "AIRFLOW__CORE__TEST_CONNECTION", "Enabled"
    )  # else the Test route's own 403 (test_connections.py)
    assert api.call(method, concrete(path), user=user, json=body).status_code not in (401, 403)


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
    assert {
        path
        for _method, path, *_rest in ROUTES
        if path not in ("/openapi.json", "/docs") and not path.startswith("/ui/")
    } == set(paths)
    assert "swagger-ui" in api.call("GET", "/docs", user="viewer").text
