"""The one error shape of the plugin's routes: every failure sorted into a code and an HTTP status (no web
framework)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from databridge.errors import CompileError, DataBridgeError, EngineError, SpecError

# The codes the UI understands, with the HTTP status each one normally answers with.
STATUS = {
    "VALIDATION_ERROR": 422,
    "NOT_FOUND": 404,
    "TOO_LARGE": 413,
    "AUTH_ERROR": 401,
    "DISABLED": 403,
    "CONNECTION_ERROR": 502,
    "DB_ERROR": 500,
    "SERVER_ERROR": 500,
    "UNKNOWN": 500,
}


class WizardError(DataBridgeError):
    """A request the wizard cannot serve, with its code and status decided where the cause is known."""

    code = "UNKNOWN"

    def __init__(
        self, message: str, *, status: int | None = None, problems: list[dict[str, str]] | None = None
    ) -> None:
        self.status = status or STATUS[self.code]
        self.problems = problems or []
        super().__init__(message)


class NotFound(WizardError):
    code = "NOT_FOUND"


class InvalidInput(WizardError):
    code = "VALIDATION_ERROR"


class Disabled(WizardError):
    """Airflow's configuration turns the action off for everyone (not a missing right of one user's role)."""

    code = "DISABLED"


class ConnectionFailed(WizardError):
    code = "CONNECTION_ERROR"


class TooLarge(WizardError):
    code = "TOO_LARGE"


class Forbidden(WizardError):
    """The user's Airflow role lacks ``permissions`` (named as Airflow's Security > Roles pages name them)."""

    code = "AUTH_ERROR"

    def __init__(self, message: str, *, permissions: list[str]) -> None:
        self.permissions = permissions
        super().__init__(message, status=403)


MAX_MESSAGE = 2000
"""Characters of an error message answered; the rest is cut, so that no error echoes a whole draft back."""
MAX_PROBLEMS = 100
"""Problems listed in one answer; the count of the others is said in the last one."""


@dataclass(frozen=True)
class ErrorBody:
    status: int
    code: str
    error: str
    problems: tuple[dict[str, str], ...] = ()
    permissions: tuple[str, ...] = ()
    """On a 403: the Airflow permissions the route checked and the user's role lacks."""

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "error": clip(self.error), "code": self.code}
        if self.problems:
            body["problems"] = clip_problems(list(self.problems))
        if self.permissions:
            body["missing_permissions"] = list(self.permissions)
        return body


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters not shown)"


def clip_problems(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_PROBLEMS problems, each with its texts clipped (path, message and the wizard's
    where and fix of views/problems.py); the last says how many were left out."""
    shown = [_clip_problem(p) for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(
            {"path": "", "message": f"{len(problems) - MAX_PROBLEMS} more problems not shown; fix these first"}
        )
    return shown


def _clip_problem(problem: dict[str, Any]) -> dict[str, Any]:
    texts = {"path": 200, "message": 500, "where": 300, "fix": 500}
    return problem | {key: clip(problem[key], limit) for key, limit in texts.items() if key in problem}


def spec_problems(exc: SpecError) -> list[dict[str, str]]:
    return clip_problems([{"path": path, "message": message} for path, message in exc.problems])


def classify(exc: BaseException) -> ErrorBody:
    """The status, code and message of any exception a route lets through."""
    if isinstance(exc, Forbidden):
        return ErrorBody(exc.status, exc.code, str(exc), permissions=tuple(exc.permissions))
    if isinstance(exc, WizardError):
        return ErrorBody(exc.status, exc.code, str(exc), tuple(exc.problems))
    if isinstance(exc, SpecError):
        return ErrorBody(422, "VALIDATION_ERROR", str(exc), tuple(spec_problems(exc)))
    if isinstance(exc, CompileError):
        return ErrorBody(422, "VALIDATION_ERROR", str(exc))
    if isinstance(exc, EngineError):
        return ErrorBody(503 if exc.transient else 500, "DB_ERROR", str(exc))
    if isinstance(exc, DataBridgeError):
        return ErrorBody(500, "SERVER_ERROR", str(exc))
    return ErrorBody(500, "UNKNOWN", f"unexpected {type(exc).__name__}: {exc}")


def http_error(status: int, detail: Any) -> ErrorBody:
    """An HTTP error raised by a framework dependency (Airflow's login and permission checks, 404 routes)."""
    message = detail if isinstance(detail, str) else str(detail)
    if status in (401, 403):
        return ErrorBody(status, "AUTH_ERROR", message)
    if status == 404:
        return ErrorBody(status, "NOT_FOUND", message)
    if status == 413:
        return ErrorBody(status, "TOO_LARGE", message)
    if 400 <= status < 500:
        return ErrorBody(status, "VALIDATION_ERROR", message)
    return ErrorBody(status, "SERVER_ERROR", message)
