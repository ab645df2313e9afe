"""The browser UI: one HTML page per screen behind Airflow's login, and its static CSS and ES modules.

No build step: the pages are plain HTML + CSS + JavaScript modules in ``views/static/``, drawn in an iframe of
Airflow's UI (the plugin's ``external_views``). They call the plugin's routes and Airflow's REST API v2 with the
UI's own login cookie. Everything under /databridge/ui/ needs an authenticated user: an anonymous browser asking
for a page is sent to Airflow's login page; a static file (CSS, JS, icon) answers 401 in the API's error shape.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
PREFIX = "/databridge/ui"
Page = Literal["wizard", "reports", "connections", "monitor"]
TITLES: dict[str, str] = {
    "wizard": "Mapping wizard",
    "reports": "Reports",
    "connections": "Connections",
    "monitor": "Run monitor",
}

ui_router = APIRouter(prefix="/ui", tags=["ui"], include_in_schema=False)
_FILES = StaticFiles(directory=STATIC)
"""Starlette's file lookup (no path outside STATIC, content types, ETag and 304), called from a route with a login."""


@ui_router.get("/static/{path:path}")
async def static(path: str, request: Request, _user: GetUserDep) -> Response:
    """A CSS, JS or image file of the pages; private to the signed-in browser, revalidated by its ETag."""
    response = await _FILES.get_response(os.path.normpath(os.path.join(*path.split("/"))), request.scope)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@ui_router.get("")
@ui_router.get("/")
def home(_user: GetUserDep) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/wizard")


@ui_router.get("/{page}", response_class=HTMLResponse)
def page(page: Page, user: GetUserDep) -> HTMLResponse:
    """The page's HTML shell; app.js draws the screen named in ``data-page``."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    html = (
        html.replace("{{page}}", page).replace("{{title}}", TITLES[page]).replace("{{user}}", _escape(user.get_name()))
    )
    for key, value in page_rights(user).items():
        html = html.replace("{{" + key + "}}", _escape(value))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def page_rights(user: Any) -> dict[str, str]:
    """What the page may offer ``user`` (<body data-...>): the page disables what would only answer 403 and names the
    missing permission. can_preview: DAG edit and connection read (/preview, Validate's data checks); can_edit: DAG
    edit (saving); can_read_connections: browsing sources; can_trigger: DAG run create (Run now); roles: their names."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity

    from databridge.views.rights import roles

    manager = get_auth_manager()
    edit = bool(manager.is_authorized_dag(method="PUT", user=user))
    connections = bool(manager.is_authorized_connection(method="GET", user=user))
    trigger = bool(manager.is_authorized_dag(method="POST", access_entity=DagAccessEntity.RUN, user=user))
    flags = {
        "can_preview": edit and connections,
        "can_edit": edit,
        "can_read_connections": connections,
        "can_trigger": trigger,
    }
    return {k: "true" if v else "false" for k, v in flags.items()} | {"roles": ", ".join(roles(user))}


def login_redirect(path: str, query: str) -> RedirectResponse | None:
    """Where an anonymous browser asking for a page goes: Airflow's login, then back to the page."""
    if not path.startswith(PREFIX) or path.startswith(f"{PREFIX}/static"):
        return None
    from airflow.api_fastapi.app import get_auth_manager

    target = path + (f"?{query}" if query else "")
    return RedirectResponse(get_auth_manager().get_url_login(next_url=target), status_code=302)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
