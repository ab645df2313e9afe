"""Reading a bounded sample (or every row) of a source table, with the values as the source holds them.

Each engine reads its own sample (``SourceEngine.sample_rows``: one SELECT ... LIMIT in its dialect, or its
``copy_rows`` stopped early), before the extract's own conversions: MySQL dates come as text so zero dates stay
visible. ``stager`` turns a sampled row into the row the extract stages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines.base import Consume, SourceColumn, SourceEngine
from databridge.engines.sample import copy_text_field

__all__ = [
    "Row",
    "copy_text_field",
    "is_zero_date",
    "read_rows",
    "stager",
]  # copy_text_field: where the lint's tests read it

Row = tuple[Any, ...]
_ZERO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def is_zero_date(value: Any) -> bool:
    """A MySQL zero (or partly zero) date as text: 0000-00-00, 2024-00-10, 2024-05-00 ..."""
    match = _ZERO_DATE.match(value) if isinstance(value, str) else None
    return bool(match) and 0 in (int(match.group(1)), int(match.group(2)), int(match.group(3)))  # type: ignore[union-attr]


def read_rows(
    source: SourceEngine,
    table: TableRef,
    columns: list[SourceColumn],
    limit: int | None,
    consume: Consume,
    batch_size: int,
) -> int:
    """Hand each row (at most ``limit``; None: all) to ``consume``; returns how many were read."""
    return source.sample_rows(table, columns, limit, consume, batch_size)


def stager(source: SourceEngine, columns: list[SourceColumn]) -> Callable[[Row], Row]:
    """The sampled row as the extract stages it: zero dates become NULL."""
    dated = frozenset(i for i, c in enumerate(columns) if source.zero_dated(c))
    if not dated:
        return lambda row: row
    return lambda row: tuple(None if i in dated and is_zero_date(v) else v for i, v in enumerate(row))
