"""One column mapping → the SQL expression the transform stage selects for it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping

from databridge.compiler.expressions import check_expression, sql_literal
from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import ColumnPlan, TargetPlan
from databridge.compiler.target_types import check_type
from databridge.spec.models import ColumnMapping

_STRFTIME_TO_PG = {
    "%Y": "YYYY", "%y": "YY", "%m": "MM", "%d": "DD", "%H": "HH24", "%I": "HH12", "%M": "MI",
    "%S": "SS", "%f": "US", "%p": "AM", "%b": "Mon", "%B": "FMMonth", "%a": "Dy", "%A": "FMDay",
    "%j": "DDD", "%z": "OF", "%Z": "TZ", "%%": "%",
}  # fmt: skip
# An explicit CAST to these types cuts long strings silently; an assignment to them refuses them.
_LENGTH_LIMITED = re.compile(r"^\s*(varchar|char|character|character\s+varying|nchar|bpchar)\s*\(", re.IGNORECASE)
_STRING_OPS: dict[str, Callable[[str], str]] = {
    "trim": lambda sql: f"btrim(CAST({sql} AS text))",
    "upper": lambda sql: f"upper(CAST({sql} AS text))",
    "lower": lambda sql: f"lower(CAST({sql} AS text))",
}


class ColumnProblem(ValueError):
    """A mapping field that cannot be compiled; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def compile_column(column: ColumnMapping, reads: list[str]) -> ColumnPlan:
    """The plan of one non-excluded mapping; source columns it reads are appended to ``reads``.

    Order of application: value (column or expression) → transform → date_format → default → type.
    """
    name = column.target or column.source
    assert name is not None
    sql = _guarded("expression" if column.expression is not None else "source", lambda: _base(column, reads))
    for op in column.transform:
        sql = _STRING_OPS[op](sql)
    if column.date_format is not None:
        pattern = _guarded("date_format", lambda: to_pg_format(column.date_format or ""))
        sql = f"to_char(CAST({sql} AS timestamp), {sql_literal(pattern)})"
    if column.default is not None:
        sql = _with_default(
            sql, sql_literal(column.default), text=bool(column.transform) or column.date_format is not None
        )
    declared = _guarded("type", lambda: check_type(column.type or "")) if column.type else None
    unchanged = column.source if sql == quote_ident(column.source or "") and _keeps_text(declared) else None
    if not declared:
        keeps = (
            column.source if unchanged is None and column.expression is None and column.date_format is None else None
        )
        return ColumnPlan(name=name, sql=sql, unchanged_source=unchanged, keeps_width_of=keeps)
    value_sql = f"CAST({sql} AS text)" if _LENGTH_LIMITED.match(declared) else None
    return ColumnPlan(name, f"CAST({sql} AS {declared})", declared, value_sql, unchanged)


def fit_widths(target: TargetPlan, staged: Mapping[str, str]) -> TargetPlan:
    """``target`` with each column that keeps a source column's string (ColumnPlan.keeps_width_of) typed as that
    column is staged when it has a length (``staged``: source column → staged type, known once it is staged).

    The ready table is created from ``sql`` WITH NO DATA, so the cast there only gives the type; the rows are filled
    with ``value_sql``, whose assignment refuses a value grown too long (a long default) instead of cutting it."""
    return dataclasses.replace(
        target, columns=tuple(_fitted(c, staged.get(c.keeps_width_of or "")) for c in target.columns)
    )


def _fitted(column: ColumnPlan, staged_type: str | None) -> ColumnPlan:
    if staged_type is None or not _LENGTH_LIMITED.match(staged_type):
        return column
    return dataclasses.replace(column, sql=f"CAST({column.sql} AS {staged_type})", value_sql=column.sql)


def _with_default(sql: str, default: str, *, text: bool) -> str:
    """NULL or '' becomes the default. A value already text (transformed, formatted) is computed once per row."""
    if text:
        return f"COALESCE(NULLIF({sql}, ''), {default})"
    return f"CASE WHEN {sql} IS NULL OR CAST({sql} AS text) = '' THEN {default} ELSE {sql} END"


def _keeps_text(declared: str | None) -> bool:
    """A declared type under which a text value stays the same text (so a CHECK on its labels still holds)."""
    return declared is None or bool(
        re.match(r"\s*(text|varchar|character varying|char|character)\b", declared, re.IGNORECASE)
    )


def _guarded(field: str, build: Callable[[], str]) -> str:
    try:
        return build()
    except ValueError as exc:
        raise ColumnProblem(field, str(exc)) from None


def _base(column: ColumnMapping, reads: list[str]) -> str:
    if column.expression is not None:
        checked = check_expression(column.expression)
        reads.extend(checked.columns)
        return f"({checked.sql})"
    assert column.source is not None
    reads.append(column.source)
    return quote_ident(column.source)


def to_pg_format(pattern: str) -> str:
    """Accept strftime patterns (%Y-%m-%d) as well as to_char ones (YYYY-MM-DD)."""
    if not pattern.strip():
        raise ValueError("date_format is empty; write a pattern such as YYYY-MM-DD")
    if "%" not in pattern:
        return pattern
    out, i = [], 0
    while i < len(pattern):
        pair = pattern[i : i + 2]
        if pair in _STRFTIME_TO_PG:
            out.append(_STRFTIME_TO_PG[pair])
            i += 2
        elif pattern[i] == "%":
            raise ValueError(f"date_format {pattern!r}: {pair!r} is not a supported strftime code")
        else:
            out.append(f'"{pattern[i]}"' if pattern[i].isalpha() else pattern[i])
            i += 1
    return "".join(out)
