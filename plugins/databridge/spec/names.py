"""Qualified table names as users write them: schema.table, with "double quotes" where needed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class QualifiedName:
    """A schema-qualified table name; ``schema`` is None when the user left it to the engine."""

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def with_default_schema(self, schema: str) -> QualifiedName:
        return self if self.schema else QualifiedName(schema, self.name)


def parse_qualified(text: str) -> QualifiedName:
    """Split ``schema.table`` (either part may be "quoted" to hold dots, spaces or capitals)."""
    parts = _split_dotted(text.strip())
    if len(parts) == 1:
        return QualifiedName(None, parts[0])
    if len(parts) == 2:
        return QualifiedName(parts[0], parts[1])
    raise ValueError(f"{text!r} is not a table name: write table or schema.table (quote parts holding dots)")


def _split_dotted(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = was_quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"' and quoted and text[i + 1 : i + 2] == '"':
            current.append('"')
            i += 1
        elif ch == '"':
            quoted, was_quoted = not quoted, True
        elif ch == "." and not quoted:
            parts.append(_finish(text, current, was_quoted))
            current, was_quoted = [], False
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise ValueError(f"{text!r} has an unclosed double quote")
    parts.append(_finish(text, current, was_quoted))
    return parts


def _finish(text: str, chars: list[str], was_quoted: bool) -> str:
    part = "".join(chars)
    if not was_quoted:
        part = part.strip()
    if not part:
        raise ValueError(f"{text!r} has an empty name part")
    return part


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_source_column(name: str, available: Iterable[str]) -> str:
    """What the extract and the lint say of a mapping that reads a column the source table lacks."""
    return f"unknown source column {name!r}{did_you_mean(name, available)}"
