"""Airflow's REST API v2, called in-process by the run views (views/runs.py), as the user who asked.

Why this interface: Airflow documents its REST API v2 as the public way to read and change DAG runs, task instances
and pools; its metadata database and ORM models are not public (Airflow 3 refuses them to task code and may change
them in any release). So the run views ask the api-server they live in, through its own ASGI app (no network hop):
the answer is what ``GET /api/v2/...`` gives a client, with Airflow's own checks of the user's rights on each DAG.

- ``KeepAirflowApp`` is a root middleware (registered in plugin.py) that hands the api-server's app to the plugin's
  requests: a mounted plugin app cannot otherwise reach the app it is mounted in.
- ``AirflowApi.of(request, user)`` calls with a short-lived token for ``user`` from Airflow's auth manager
  (``generate_jwt``, part of the auth-manager interface Airflow documents).
- Calls run on the api-server's event loop (``anyio.from_thread``): the views are sync routes, which FastAPI runs in
  worker threads.
"""

from __future__ import annotations

from typing import Any

import anyio.from_thread
import httpx

from databridge.views.errors import Forbidden, NotFound, WizardError

AIRFLOW_APP = "databridge.airflow_app"
"""Where KeepAirflowApp puts the api-server's app in a request's scope."""
PAGE = 100
"""Rows asked per page: Airflow's default [api] maximum_page_limit."""
TOKEN_SECONDS = 60


class KeepAirflowApp:
    """Root middleware: each HTTP request's scope keeps the api-server's app, which the plugin's routes call."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and AIRFLOW_APP not in scope:
            scope[AIRFLOW_APP] = scope.get("app")
        await self.app(scope, receive, send)


class AirflowError(WizardError):
    """Airflow's REST API refused or failed a call the plugin made; the message is Airflow's own."""

    code = "SERVER_ERROR"


class AirflowApi:
    """``GET``/``POST``/``PATCH`` on ``/api/v2`` of the api-server, as one user; answers decoded JSON."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    @classmethod
    def of(cls, request: Any, user: Any) -> AirflowApi:
        from airflow.api_fastapi.app import get_auth_manager

        app = request.scope.get(AIRFLOW_APP)
        if app is None:
            raise AirflowError(
                "DataBridge's middleware is not installed in Airflow's api-server; check that the plugin loaded "
                "(airflow plugins)"
            )
        return cls(app, get_auth_manager().generate_jwt(user, expiration_time_in_seconds=TOKEN_SECONDS))

    def get(self, path: str, missing: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", path, missing, params=params)

    def post(self, path: str, missing: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", path, missing, json=body)

    def patch(self, path: str, missing: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("PATCH", path, missing, json=body)

    def pages(self, path: str, key: str, missing: str, **params: Any) -> list[dict[str, Any]]:
        """Every row of a listing (``key`` of each page), page by page."""
        rows: list[dict[str, Any]] = []
        while True:
            page = self.get(path, missing, **params, limit=PAGE, offset=len(rows))
            rows.extend(page[key])
            if not page[key] or len(rows) >= int(page.get("total_entries", 0)):
                return rows

    def call(self, method: str, path: str, missing: str, **kwargs: Any) -> dict[str, Any]:
        """One call; 404 is NotFound with ``missing`` (said in DataBridge's words), 403 names the Airflow right."""

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://airflow") as client:
                return await client.request(
                    method, f"/api/v2{path}", headers={"Authorization": f"Bearer {self.token}"}, **kwargs
                )

        response = anyio.from_thread.run(send)
        if response.status_code == 404:
            raise NotFound(missing)
        if response.status_code == 403:
            raise Forbidden(f"Airflow refused {method} /api/v2{path}: {_detail(response)}", permissions=[])
        if response.status_code >= 400:
            raise AirflowError(
                f"Airflow answered {response.status_code} to {method} /api/v2{path}: {_detail(response)}", status=502
            )
        answer: dict[str, Any] = response.json()
        return answer


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:500]
