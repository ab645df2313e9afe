"""include / exclude patterns: shell-style globs on schema.table (``*``, ``?``, ``[abc]``), matched ignoring case."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

GLOB_CHARACTERS = frozenset("*?[")


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with a pattern as written, or None: it needs a schema part and a table part."""
    schema, dot, table = pattern.partition(".")
    if not dot or not schema.strip() or not table.strip():
        return f"{pattern!r} is not a pattern of schema.table; write e.g. shop.* (every table of shop) or shop.order_*"
    return None


def split(pattern: str) -> tuple[str, str]:
    """The schema part (before the first dot) and the table part (the rest, dots included)."""
    schema, _dot, table = pattern.partition(".")
    return schema.strip(), table.strip()


def literal_schema(pattern: str) -> str | None:
    """The schema a pattern names when its schema part has no wildcard."""
    schema = split(pattern)[0]
    return None if GLOB_CHARACTERS & set(schema) else schema


def schema_matches(patterns: Sequence[str], schema: str) -> bool:
    return any(fnmatch.fnmatchcase(schema.lower(), split(p)[0].lower()) for p in patterns)


def matches(patterns: Sequence[str], schema: str, table: str) -> bool:
    """Whether any pattern matches schema.table (each part against its own glob)."""
    return any(_match(p, schema, table) for p in patterns)


def selected(include: Sequence[str], exclude: Sequence[str], schema: str, table: str) -> bool:
    """Taken by include and not left out by exclude."""
    return matches(include, schema, table) and not matches(exclude, schema, table)


def _match(pattern: str, schema: str, table: str) -> bool:
    schema_glob, table_glob = split(pattern)
    return fnmatch.fnmatchcase(schema.lower(), schema_glob.lower()) and fnmatch.fnmatchcase(
        table.lower(), table_glob.lower()
    )
