"""The browser UI: one HTML page per screen behind Airflow's login, and its static CSS and ES modules.

No build step: the pages are plain HTML + CSS + JavaScript modules in ``views/static/``, drawn in an iframe of
Airflow's UI (the plugin's ``external_views``). They call the plugin's routes and Airflow's REST API v2 with the
UI's own login cookie. The static files hold code only, no data, so they are served without a login; the pages
themselves need an authenticated user, and an anonymous browser is sent to Airflow's login page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
PREFIX = "/databridge/ui"
Page = Literal["wizard", "reports", "connections", "monitor"]
TITLES: dict[str, str] = {"wizard": "Mapping wizard", "reports": "Reports", "connections": "Connections", "monitor": "Run monitor"}

ui_router = APIRouter(prefix="/ui", tags=["ui"], include_in_schema=False)


def mount_static(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="databridge-static")


@ui_router.get("")
@ui_router.get("/")
def home(_user: GetUserDep) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/wizard")


@ui_router.get("/{page}", response_class=HTMLResponse)
def page(page: Page, user: GetUserDep) -> HTMLResponse:
    """The page's HTML shell; app.js draws the screen named in ``data-page``."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    html = html.replace("{{page}}", page).replace("{{title}}", TITLES[page]).replace("{{user}}", _escape(user.get_name()))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def login_redirect(path: str, query: str) -> RedirectResponse | None:
    """Where an anonymous browser asking for a page goes: Airflow's login, then back to the page."""
    if not path.startswith(PREFIX) or path.startswith(f"{PREFIX}/static"):
        return None
    from airflow.api_fastapi.app import get_auth_manager

    target = path + (f"?{query}" if query else "")
    return RedirectResponse(get_auth_manager().get_url_login(next_url=target), status_code=302)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
