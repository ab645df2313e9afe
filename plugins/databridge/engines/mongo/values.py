"""Decoded BSON values → the Python values the staging table's COPY takes, exactly, column by column."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bson import Decimal128, Timestamp, json_util

from databridge.engines.base import SourceColumn
from databridge.engines.mongo.shape import bson_kind

# Relaxed Extended JSON: plain JSON numbers and strings where JSON has them; {"$oid"}, {"$date"},
# {"$numberDecimal"} and {"$binary"} keep the other BSON types, so json_util.loads gives the document back.
_RELAXED = json_util.RELAXED_JSON_OPTIONS
_ANY = None


class ValueMismatch(ValueError):
    """A value whose BSON type the column's type cannot hold (the sample did not show that type for the field)."""

    def __init__(self, column: SourceColumn, value: Any) -> None:
        self.column = column
        self.kind = bson_kind(value)
        shown = repr(value)
        self.value = shown if len(shown) <= 60 else shown[:57] + "..."
        super().__init__(
            f"field {column.name!r} holds a {self.kind} ({self.value}) where the sample saw {column.native_type} "
            f"(staged as {column.pg_type})"
        )


def json_text(value: Any) -> str:
    return json_util.dumps(value, json_options=_RELAXED)


def to_text(value: Any) -> str:
    """ObjectId → its 24 hex characters; documents and arrays → Extended JSON; dates → ISO 8601."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping | list):
        return json_text(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _decimal(value: Any) -> Any:
    """numeric: Decimal128 exactly; a double through its shortest round-trip text, never through binary."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    return repr(value) if isinstance(value, float) else value


def _bigint(value: Any) -> int:
    """A BSON Timestamp is (seconds, increment): one 64-bit number keeps both, in order."""
    return (value.time << 32) + value.inc if isinstance(value, Timestamp) else int(value)


def _date(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):  # DatetimeMS: beyond the years 1..9999 Python can hold
        raise ValueError(value)
    return value


# pg_type → (BSON types it takes, or _ANY; how a value is written)
_WRITERS: dict[str, tuple[frozenset[str] | None, Callable[[Any], Any]]] = {
    "text": (_ANY, to_text),
    "jsonb": (_ANY, json_text),
    "integer": (frozenset({"int"}), int),
    "bigint": (frozenset({"int", "long", "timestamp"}), _bigint),
    "double precision": (frozenset({"int", "double"}), float),
    "numeric": (frozenset({"int", "long", "double", "decimal"}), _decimal),
    "boolean": (frozenset({"bool"}), bool),
    "timestamptz": (frozenset({"date"}), _date),
    "bytea": (frozenset({"binData"}), bytes),
}


def _converter(column: SourceColumn) -> Callable[[Any], Any]:
    accepted, write = _WRITERS.get(column.pg_type, (_ANY, to_text))

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if accepted is not None and bson_kind(value) not in accepted:
            raise ValueMismatch(column, value)
        try:
            return write(value)
        except ValueError:
            raise ValueMismatch(column, value) from None

    return convert


def lookup(document: Any, parts: Sequence[str]) -> Any:
    """The value at a dotted path; None when a part is missing or is not an embedded document."""
    for part in parts:
        if not isinstance(document, Mapping):
            return None
        document = document.get(part)
    return document


def row_reader(columns: Sequence[SourceColumn]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function from a document to the row of ``columns`` (dotted paths), each value converted for its type."""
    readers = [(c.name.split("."), _converter(c)) for c in columns]
    return lambda document: tuple(convert(lookup(document, parts)) for parts, convert in readers)


def projection(paths: Sequence[str]) -> dict[str, int]:
    """A find() projection of just ``paths``: a path inside another one asked for is left out (MongoDB refuses
    both in one projection: "Path collision"), and _id only when asked for."""
    wanted = sorted(set(paths))
    kept = [p for p in wanted if not any(p.startswith(f"{other}.") for other in wanted)]
    return {"_id": 0, **{p: 1 for p in kept}} if "_id" not in kept else {p: 1 for p in kept}
