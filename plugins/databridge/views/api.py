"""The plugin's HTTP app under /databridge, served by Airflow's api-server behind Airflow's own login.

Every route needs an authenticated Airflow user (``GetUserDep``) and the permission of what it touches: reading
DAGs for projects and runs, reading connections to browse sources, editing DAGs to save or to touch a database
(lint, estimate, preview). Every error answers ``{"success": false, "error": ..., "code": ...}`` (views/errors.py
decides the code and status; long messages are cut, so no error echoes a draft back). Request bodies are limited
(views/limits.py: 413 before parsing), and so are projects (spec/loader.py). The OpenAPI document lists every error
a route can answer (views/openapi.py), and a 405 names the allowed methods in ``Allow``.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from databridge import __version__
from databridge.views.errors import ErrorBody, classify, http_error
from databridge.views.limits import BodyLimit
from databridge.views.openapi import allowed_methods, with_errors
from databridge.views.routes import project_router, source_router
from databridge.views.run_routes import run_router
from databridge.views.ui import login_redirect, ui_router


def create_app() -> FastAPI:
    app = FastAPI(
        title="DataBridge",
        version=__version__,
        description="Mapping projects, their sources and their runs.",
        openapi_url=None,  # FastAPI would serve these without a login: _description serves them with one
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(project_router)
    app.include_router(source_router)
    app.include_router(run_router)
    app.include_router(ui_router)
    _description(app)
    _error_handlers(app)
    app.add_middleware(BodyLimit)  # added last: outermost, before any route or handler sees the body
    return app


def _description(app: FastAPI) -> None:
    """The OpenAPI document and its browsable page, behind Airflow's login like every other route."""

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_user: GetUserDep) -> dict[str, Any]:
        return with_errors(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request, _user: GetUserDep) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=request.scope.get("root_path", "") + "/openapi.json", title="DataBridge API"
        )


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 401 and (redirect := login_redirect(request.url.path, request.url.query)):
            return redirect
        if exc.status_code == 405:
            allow = allowed_methods(app, request.scope)
            return _answer(
                http_error(405, f"{request.method} is not allowed on this path; use {allow}"), {"Allow": allow}
            )
        return _answer(http_error(exc.status_code, exc.detail), dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def on_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = tuple({"path": ".".join(str(p) for p in e["loc"]), "message": str(e["msg"])} for e in exc.errors())
        return _answer(
            ErrorBody(
                422,
                "VALIDATION_ERROR",
                "the request is not valid: " + "; ".join(f"{p['path']}: {p['message']}" for p in problems),
                problems,
            )
        )

    @app.middleware("http")
    async def on_anything(request: Request, call_next: Any) -> Any:
        # Our own errors and everything unexpected: one shape, never a bare traceback.
        try:
            return await call_next(request)
        except Exception as exc:
            return _answer(classify(exc))


def _answer(body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.json(), status_code=body.status, headers=headers)
