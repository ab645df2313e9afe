"""The error answers of every route in the OpenAPI document, in the app's one error shape, and the ``Allow`` header
of a 405.

What a route can answer follows from what it takes, so the document is completed from itself: every route needs a
login (401, 403 for a refused or invalid token) and has a body limit (413); a route with a body may get one it
cannot read (400); with parameters or a body, wrong ones (422); with path parameters, a name that does not exist
(404). Routes declare the rest (``responses=errors(409)`` in routes.py).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.routing import Match

from databridge.views.errors import MAX_PROBLEMS, STATUS

WHY = {
    400: "The request cannot be read (e.g. a body that is not JSON text)",
    401: "No Airflow login: send a JWT from POST /auth/token or the UI's cookie",
    403: "The token is invalid, or the user's Airflow role lacks the permission",
    404: "What the request names (project, connection, schema, table, pipeline) does not exist",
    409: "A file or project of that name exists, or the run has already ended",
    413: "The request body or the project is over its size limit",
    422: "The request or the project it carries is not valid: see `problems`",
    502: "A database or connection could not be reached",
    503: "A database answered with a transient error: try again",
}


class Problem(BaseModel):
    path: str = Field(
        description="Where: a field of the request or of the project (pipelines[0].name); empty for the whole."
    )
    message: str


class ErrorAnswer(BaseModel):
    """The one error shape of every route."""

    success: Literal[False]
    error: str = Field(description="What went wrong and what to do next (long messages are cut).")
    code: str = Field(
        description="What kind of error, for a program to act on.", json_schema_extra={"enum": list(STATUS)}
    )
    problems: list[Problem] | None = Field(
        None, description=f"Every problem found, with its path (past {MAX_PROBLEMS}, a last one counts the rest)."
    )
    missing_permissions: list[str] | None = Field(
        None,
        description="On a 403: the Airflow permissions the route checked and the user's role lacks "
        "('can edit on DAGs').",
    )


ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorAnswer"}
FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")
"""FastAPI's own shape of a 422, which the app never answers (api.py turns it into the error shape)."""


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: the errors it answers beyond those of every route (see with_errors)."""
    return {status: {"description": WHY[status]} for status in statuses}


def with_errors(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every operation's error answers, each in the error shape, which it adds."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_SCHEMAS:
        schemas.pop(name, None)
    schema = ErrorAnswer.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}), ErrorAnswer=schema)
    for item in document["paths"].values():
        for operation in item.values():
            _document(operation)
    return document


def _document(operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    responses.update(
        {str(s): {"description": WHY[s]} for s in _statuses(operation) if str(s) not in responses or s == 422}
    )
    for status, answer in responses.items():
        if status.startswith(("4", "5")):
            answer["content"] = {"application/json": {"schema": ERROR_SCHEMA}}


def _statuses(operation: dict[str, Any]) -> list[int]:
    """What the login (401, 403), the body limit (413), path parameters (404) and input (400, 422) allow."""
    places = {p["in"] for p in operation.get("parameters", [])}
    statuses = [401, 403, 413]
    statuses += [404] if "path" in places else []
    statuses += [400] if "requestBody" in operation else []
    statuses += [422] if places or "requestBody" in operation else []
    return statuses


def allowed_methods(app: FastAPI, scope: MutableMapping[str, Any]) -> str:
    """Every method some route of ``app`` answers on the path of ``scope`` (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _child = route.matches({**scope, "method": "\0"})
        if match is Match.PARTIAL:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))
