"""What the lint reports: one problem per table column and kind, with example values and a fix written in YAML terms."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]
MAX_EXAMPLES = 5
_SHOWN_CHARS = 40


@dataclass(frozen=True)
class LintProblem:
    """One thing the data would go wrong on.

    ``table`` is the target table for problems of a target column's type or mapping, the source table for
    problems of the source values themselves (zero dates, booleans, date-times without a zone, staging).
    """

    table: str
    column: str
    kind: str
    """boolean_values, decimal_scale, decimal_precision, string_too_long, integer_range, zero_date, enum_value,
    naive_datetime, conversion."""
    message: str
    examples: tuple[str, ...]
    suggestion: str
    severity: Severity = "error"


def show(value: Any) -> str:
    """A value as an example: its text, shortened, with the length when it was cut."""
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes | bytearray) else str(value)
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[:_SHOWN_CHARS]}… ({len(text)} chars)"


def examples(values: Iterable[Any]) -> tuple[str, ...]:
    """Up to MAX_EXAMPLES distinct example values, in the order met."""
    seen: list[str] = []
    for value in values:
        shown = show(value)
        if shown not in seen:
            seen.append(shown)
        if len(seen) == MAX_EXAMPLES:
            break
    return tuple(seen)


def format_problem(problem: LintProblem) -> str:
    """One line: severity, column, kind, what is wrong, examples, and the fix."""
    shown = ", ".join(repr(e) for e in problem.examples)
    seen = f" (e.g. {shown})" if shown else ""
    return f"  {problem.severity:<7} {problem.column}: {problem.kind}: {problem.message}{seen} -> {problem.suggestion}"


def format_problems(problems: Sequence[LintProblem]) -> str:
    """Problems grouped by table (in the order tables were first met), one line each."""
    tables: dict[str, list[LintProblem]] = {}
    for problem in problems:
        tables.setdefault(problem.table, []).append(problem)
    lines = []
    for table, found in tables.items():
        lines.append(table)
        lines += [format_problem(p) for p in found]
    return "\n".join(lines)


def has_errors(problems: Iterable[LintProblem]) -> bool:
    return any(p.severity == "error" for p in problems)
