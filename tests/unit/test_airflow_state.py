"""DataBridge reads Airflow's state through its REST API v2; the few model reads left live in views/airflow_state.py,
and what they rely on in Airflow's models is pinned here so that an upgrade changing it fails by name."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from databridge.views import airflow_state

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "databridge"
ISOLATED = PLUGIN / "views" / "airflow_state.py"
PRIVATE_MODULES = (
    "airflow.models",
    "airflow.utils.session",
    "airflow.settings",
    "sqlalchemy",
    "airflow.api_fastapi.core_api.services",
    "airflow.api_fastapi.common.db",
)
"""Airflow's ORM, its sessions, and the api-server's internal services: none is a public interface."""
PRIVATE_CALLS = ("create_session", "provide_session", "create_session_async")
"""Airflow's session helpers called by their bare name (another library's ``factory.create_session()`` is not one)."""


def private_reads(source: str) -> list[str]:
    """Each import of a private module and each session opened, as 'line N: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Call):
            called = node.func.id if isinstance(node.func, ast.Name) else ""
            names = [f"{called}()"] if called in PRIVATE_CALLS else []
        hits = [n for n in names if n.endswith("()") or any(n == m or n.startswith(m + ".") for m in PRIVATE_MODULES)]
        if hits:
            found.append(f"line {getattr(node, 'lineno', 0)}: {hits[0]}")
    return found


def test_only_airflow_state_reads_airflow_models() -> None:
    offenders = {
        str(path.relative_to(PLUGIN)): reads
        for path in sorted(PLUGIN.rglob("*.py"))
        if path != ISOLATED and (reads := private_reads(path.read_text()))
    }
    assert offenders == {}, (
        "read Airflow through views/airflow_api.py (REST API v2), or move the read to views/airflow_state.py "
        "with its reason"
    )
    assert private_reads(ISOLATED.read_text()), "airflow_state.py is where the model reads are; this scan must see them"


@pytest.mark.parametrize(
    "source",
    [
        "from airflow.models.dagrun import DagRun",
        "import airflow.models",
        "from airflow.models import TaskInstance",
        "from sqlalchemy import select",
        "from airflow.utils.session import create_session",
        "from airflow.api_fastapi.core_api.services.public.dag_run import patch_dag_run_state",
        "from airflow import settings",
        "with create_session() as s: pass",
    ],
)
def test_the_scan_sees_each_kind_of_private_read(source: str) -> None:
    assert private_reads(source), source


def test_the_scan_lets_the_public_interfaces_through() -> None:
    assert (
        private_reads(
            "from airflow.sdk.exceptions import AirflowNotFoundException\nfrom airflow.api_fastapi.app import "
            "get_auth_manager"
        )
        == []
    )


def test_the_connection_columns_read_are_airflows() -> None:
    from airflow.models.connection import Connection

    table = Connection.__table__
    assert table.name == "connection"
    types = {name: table.c[name].type.python_type for name in airflow_state.STORED_CONNECTION_COLUMNS}
    assert types == {"conn_id": str, "conn_type": str, "host": str, "port": int, "login": str, "schema": str}
    assert not {"password", "extra"} & set(airflow_state.STORED_CONNECTION_COLUMNS)


def test_the_secrets_lookup_is_airflows() -> None:
    from airflow.models.connection import Connection

    lookup = inspect.signature(Connection.get_connection_from_secrets)
    first, *others = lookup.parameters.values()
    assert first.name == "conn_id" and all(p.default is not inspect.Parameter.empty for p in others)
    with pytest.raises(Exception) as missing:
        airflow_state.resolve_connection("databridge_no_such_connection")
    assert type(missing.value).__name__ == "AirflowNotFoundException"
