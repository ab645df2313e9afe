"""The Airflow permissions the plugin's routes check, by the names Airflow's Security > Roles pages give them.

Each route says what it does and which permissions that needs (``needs("Saving a project", EDIT_DAGS)``); the check
is Airflow's own dependency, called for each permission, and a refusal is a 403 that names every permission the
user's role lacks and what it was needed for, so that the wizard can tell the person what to ask an admin for.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_connection, requires_access_dag
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from databridge.views.errors import Forbidden


@dataclass(frozen=True)
class Right:
    permission: str
    """As Airflow's Security > Roles pages list it: 'can edit on DAGs'."""
    check: Callable[[Request, Any], Any]
    """Airflow's dependency: raises a 403 HTTPException when the user lacks the permission."""


READ_DAGS = Right("can read on DAGs", requires_access_dag("GET"))
EDIT_DAGS = Right("can edit on DAGs", requires_access_dag("PUT"))
READ_RUNS = Right("can read on DAG Runs", requires_access_dag("GET", DagAccessEntity.RUN))
READ_CONNECTIONS = Right("can read on Connections", requires_access_connection("GET"))


def needs(doing: str, *rights: Right) -> Any:
    """A route dependency: 403 naming the missing permissions unless the user has every one of ``rights``."""

    async def check(request: Request, user: GetUserDep) -> None:
        await require(request, user, doing, *rights)

    return Depends(check)


async def require(request: Request, user: Any, doing: str, *rights: Right) -> None:
    """Raise Forbidden naming what ``doing`` needs and the user's role lacks."""
    lacking = [right for right in rights if not await has(request, user, right)]
    if lacking:
        raise Forbidden(
            refusal(doing, [r.permission for r in lacking], roles(user)), permissions=[r.permission for r in lacking]
        )


async def has(request: Request, user: Any, right: Right) -> bool:
    """Whether Airflow's own check of ``right`` lets ``user`` through (it reads the metadata database: off the loop)."""
    try:
        result = (
            right.check(request, user)
            if inspect.iscoroutinefunction(right.check)
            else await run_in_threadpool(right.check, request, user)
        )
        if inspect.isawaitable(result):
            await result
    except HTTPException as exc:
        if exc.status_code != 403:
            raise
        return False
    return True


def refusal(doing: str, permissions: list[str], role_names: list[str]) -> str:
    """'Saving a project needs the 'can edit on DAGs' permission in Airflow; your role (Viewer) lacks it. ...'"""
    named = " and ".join(f"'{p}'" for p in permissions)
    plural = len(permissions) > 1
    role = f"your role ({', '.join(role_names)})" if role_names else "your Airflow user"
    it = "them" if plural else "it"
    return (
        f"{doing} needs the {named} permission{'s' if plural else ''} in Airflow; {role} lacks {it}. Ask an Airflow "
        f"admin to grant {it}."
    )


def roles(user: Any) -> list[str]:
    """The names of the user's roles: FAB users have several, the simple auth manager's users one."""
    found = getattr(user, "roles", None)
    if found:
        return sorted(str(getattr(r, "name", r)) for r in found)
    role = getattr(user, "role", None)
    return [str(role)] if role else []
