"""The plugin's HTTP API inside Airflow's own api-server app, with the FAB auth manager and real users."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
USERS = {
    "admin": ("Admin", "admin-pass-1"),
    "viewer": ("Viewer", "viewer-pass-1"),
    "reader": ("Reader", "reader-pass-1"),
}
READER_EXTRA = [("can_read", "Connections")]
"""The Reader role: a Viewer who may also read connections (browse sources), but not edit DAGs (save a project)."""


@dataclass
class Api:
    """Airflow's api-server app in-process; ``call`` sends a request as one of USERS, or anonymously."""

    client: Any
    tokens: dict[str, str]

    def call(self, method: str, path: str, user: str | None = "admin", **kwargs: Any) -> Any:
        headers = ({"Authorization": f"Bearer {self.tokens[user]}"} if user else {}) | kwargs.pop("headers", {})
        return self.client.request(
            method, path if path.startswith("/api/") else f"/databridge{path}", headers=headers, **kwargs
        )


@pytest.fixture(scope="session")
def api() -> Iterator[Api]:
    """A fresh metadata database with FAB's tables and users, Airflow's app with the plugin, and JWTs from
    /auth/token."""
    from airflow.api_fastapi.app import create_app, purge_cached_app
    from airflow.utils import db
    from fastapi.testclient import TestClient

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW__CORE__AUTH_MANAGER", FAB_AUTH_MANAGER)
        mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "databridge-api-tests-" + "k" * 60)
        purge_cached_app()
        db.resetdb()
        _create_users()
        with TestClient(create_app()) as client:
            yield Api(client, {name: _token(client, name) for name in USERS})
        purge_cached_app()


def _create_users() -> None:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        _reader_role(appbuilder.sm)
        for name, (role, password) in USERS.items():
            appbuilder.sm.add_user(
                name, name, "Test", f"{name}@example.org", appbuilder.sm.find_role(role), password=password
            )


def _reader_role(sm: Any) -> None:
    role = sm.add_role("Reader")
    viewer = sm.find_role("Viewer")
    for permission in [
        *viewer.permissions,
        *(sm.create_permission(action, resource) for action, resource in READER_EXTRA),
    ]:
        sm.add_permission_to_role(role, permission)


def _token(client: Any, user: str) -> str:
    response = client.post("/auth/token", json={"username": user, "password": USERS[user][1]})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty mappings folder the plugin reads and writes for one test."""
    folder = tmp_path / "include" / "mappings"
    folder.mkdir(parents=True)
    monkeypatch.setenv("DATABRIDGE_MAPPINGS_DIR", str(folder))
    return folder


def assert_error(response: Any, status: int, code: str, words: str = "") -> dict[str, Any]:
    """The plugin's one error shape, with the status, code and (some of) the words expected."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False and body["code"] == code and isinstance(body["error"], str), body
    assert words.lower() in body["error"].lower(), body
    return body


PARAMETERS = {
    "dag_id": "nothing_here",
    "run_id": "r",
    "connection_id": "some_conn",
    "schema": "s",
    "table": "t",
    "path": "js/app.js",
}
"""A value for each path parameter of the plugin's routes."""


def concrete(path: str) -> str:
    """/projects/{dag_id} -> /projects/nothing_here (and {path:path} -> a file)."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PARAMETERS[m[1]], path)
