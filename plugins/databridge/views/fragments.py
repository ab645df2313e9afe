"""One field of a column mapping checked as the user types it, with the spec checker's own messages (no web
framework)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NoReturn

from databridge.compiler.columns import to_pg_format
from databridge.compiler.expressions import check_expression
from databridge.compiler.target_types import check_type
from databridge.spec.names import did_you_mean
from databridge.views.errors import InvalidInput

Kind = Literal["expression", "filter", "type", "date_format"]


def _expression(text: str) -> tuple[str, tuple[str, ...]]:
    checked = check_expression(text)
    return checked.sql, checked.columns


_CHECKERS: dict[str, Callable[[str], tuple[str, tuple[str, ...]]]] = {
    "expression": _expression,
    "filter": _expression,
    "type": lambda text: (check_type(text), ()),
    "date_format": lambda text: (to_pg_format(text), ()),
}


def check_fragment(kind: Kind, text: str, known: list[str] | None = None) -> dict[str, Any]:
    """The normalised SQL and the source columns it reads; VALIDATION_ERROR with the spec's message otherwise.

    ``known``: the source columns the wizard knows; placeholders naming others are refused with a suggestion.
    """
    try:
        sql, reads = _CHECKERS[kind](text)
    except ValueError as exc:  # ExpressionError is a ValueError too
        _refuse(kind, [str(exc)])
    unknown = [name for name in reads if known is not None and name not in known]
    if unknown:
        _refuse(kind, [f"unknown source column {name!r}{did_you_mean(name, known or [])}" for name in unknown])
    return {"valid": True, "sql": sql, "columns": list(reads)}


def _refuse(kind: str, messages: list[str]) -> NoReturn:
    raise InvalidInput(f"{kind}: " + "; ".join(messages), problems=[{"path": kind, "message": m} for m in messages])
