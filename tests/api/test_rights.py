"""What a Viewer may read, and what a refusal says: the connection list by name and type without where it points, and
every 403 naming the Airflow permission that was checked and is missing, with the user's role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.api.conftest import Api, assert_error, concrete
from tests.api.test_auth import REFUSED

pytestmark = pytest.mark.e2e

HOST, LOGIN, PASSWORD, EXTRA = "db.rights.example.org", "rights_login", "rights-secret-pw", "rights-extra-token"
EDIT, CONNECTIONS = "can edit on DAGs", "can read on Connections"


@pytest.fixture
def a_connection(monkeypatch: pytest.MonkeyPatch) -> str:
    """A MySQL connection with a host, a login, a password and an extra (never reachable: nothing opens it)."""
    conn = {
        "conn_type": "mysql",
        "host": HOST,
        "port": 3307,
        "login": LOGIN,
        "password": PASSWORD,
        "schema": "shop",
        "extra": {"token": EXTRA},
    }
    monkeypatch.setenv("AIRFLOW_CONN_RIGHTS_SRC", json.dumps(conn))
    return "rights_src"


def test_a_viewer_lists_connections_by_name_and_type_only(api: Api, a_connection: str) -> None:
    response = api.call("GET", "/connections", user="viewer")
    assert response.status_code == 200, response.text
    [listed] = [c for c in response.json() if c["conn_id"] == a_connection]
    # test_connection: Airflow's [core] test_connection, so that the page hides Test when it is Hidden
    assert listed == {
        "conn_id": a_connection,
        "conn_type": "mysql",
        "can_be_source": True,
        "can_be_target": False,
        "test_connection": listed["test_connection"],
    }
    assert listed["test_connection"] in {"Disabled", "Enabled", "Hidden"}
    for secret in (HOST, LOGIN, PASSWORD, EXTRA, "3307", "shop"):
        assert secret not in response.text


@pytest.mark.parametrize("user", ["admin", "reader"])
def test_who_may_read_connections_sees_where_they_point_but_no_secret(api: Api, a_connection: str, user: str) -> None:
    response = api.call("GET", "/connections", user=user)
    [listed] = [c for c in response.json() if c["conn_id"] == a_connection]
    assert (listed["host"], listed["port"], listed["login"], listed["database"]) == (HOST, 3307, LOGIN, "shop")
    assert PASSWORD not in response.text and EXTRA not in response.text


# What each refused call needs and the user's role lacks (a Reader may read connections: only DAG edit is missing).
WHAT = {
    ("POST", "/projects"): ("Saving a project", {"viewer": [EDIT], "reader": [EDIT]}),
    ("POST", "/preview"): ("Previewing sample rows", {"viewer": [EDIT, CONNECTIONS], "reader": [EDIT]}),
    ("POST", "/validate"): ("Checking the data", {"viewer": [EDIT, CONNECTIONS], "reader": [EDIT]}),
    ("POST", "/expressions/check"): ("Checking a mapping expression", {"viewer": [EDIT], "reader": [EDIT]}),
    ("POST", "/connections/{connection_id}/test"): ("Testing a connection", {"viewer": [CONNECTIONS]}),
    ("GET", "/connections/{connection_id}/schemas"): ("Browsing a source", {"viewer": [CONNECTIONS]}),
    ("GET", "/connections/{connection_id}/schemas/{schema}/tables"): ("Browsing a source", {"viewer": [CONNECTIONS]}),
    ("GET", "/connections/{connection_id}/schemas/{schema}/tables/{table}"): (
        "Reading a source table's columns",
        {"viewer": [CONNECTIONS]},
    ),
    ("POST", "/connections/{connection_id}/generate"): ("Generating table mappings", {"viewer": [CONNECTIONS]}),
    ("POST", "/projects/{dag_id}/runs/{run_id}/cancel"): (
        "Cancelling a run",
        {"viewer": ["can edit on DAG Runs"], "reader": ["can edit on DAG Runs"]},
    ),
}


@pytest.mark.parametrize(("user", "method", "path", "body", "status"), [r for r in REFUSED if (r[1], r[2]) in WHAT])
def test_a_refusal_names_the_missing_permission_and_the_role(
    api: Api, mappings: Path, user: str, method: str, path: str, body: dict[str, str] | None, status: int
) -> None:
    doing, lacking = WHAT[(method, path)]
    refused = assert_error(api.call(method, concrete(path), user=user, json=body), 403, "AUTH_ERROR", doing)
    assert refused["missing_permissions"] == lacking[user]
    role = {"viewer": "Viewer", "reader": "Reader"}[user]
    for permission in lacking[user]:
        assert f"'{permission}'" in refused["error"]
    assert f"your role ({role}) lacks" in refused["error"]
    assert list(mappings.iterdir()) == []


def test_every_refusal_of_the_table_is_explained() -> None:
    """So that a route added to test_auth.py's ROUTES as refused gets its expected permission here too."""
    assert {(r[1], r[2]) for r in REFUSED} <= set(WHAT)


@pytest.mark.parametrize(
    ("user", "role", "edit", "connections"),
    [("admin", "Admin", "true", "true"), ("viewer", "Viewer", "false", "false"), ("reader", "Reader", "false", "true")],
)
def test_the_page_says_what_the_user_may_do(api: Api, user: str, role: str, edit: str, connections: str) -> None:
    """The wizard disables Save and Run for a role without DAG edit, browsing without connection read, and names the
    role."""
    page = api.call("GET", "/ui/wizard", user=user).text
    assert f'data-can-edit="{edit}"' in page and f'data-can-trigger="{edit}"' in page
    assert f'data-can-read-connections="{connections}"' in page and f'data-roles="{role}"' in page


def test_the_openapi_document_describes_the_missing_permissions(api: Api) -> None:
    schema = api.call("GET", "/openapi.json").json()["components"]["schemas"]["ErrorAnswer"]
    assert "Airflow permissions" in schema["properties"]["missing_permissions"]["description"]
