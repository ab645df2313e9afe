"""Columns of CouchDB documents: inferred from a sample (dotted paths, JSON types, how sure), and values read by
them."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from databridge.engines.base import ColumnInfo
from databridge.engines.map_like import ObjectKeys, map_paths, within
from databridge.engines.type_matrix import notes_for, pg_type_for

FIXED = ("_id", "_rev")
"""Every document has these two; they come first."""
HIDDEN = frozenset({"_attachments", "_conflicts", "_deleted_conflicts", "_revisions", "_revs_info", "_local_seq"})
"""Metadata that is not a column: attachments are staged apart (runtime/attachments.py)."""
INT64 = (-(2**63), 2**63 - 1)
BIGNUM_NOTE = "integers beyond 64 bits: numeric keeps every digit"
# Numbers of different JSON kinds widen to the type that holds them all; any other mix is jsonb.
_WIDENED = ((frozenset({"integer", "number"}), "number"), (frozenset({"integer", "bignum"}), "bignum"))
_NUMBERS = frozenset({"integer", "number", "bignum"})


def json_kind(value: Any) -> str:
    """The JSON type of a decoded value; integers beyond 64 bits are "bignum"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer" if INT64[0] <= value <= INT64[1] else "bignum"
    kinds: tuple[tuple[type, str], ...] = ((float, "number"), (str, "string"), (Mapping, "object"), (list, "array"))
    return next(kind for python_type, kind in kinds if isinstance(value, python_type))


class Shape:
    """What a sample of documents showed: each dotted path and the JSON kinds seen there. An object used as a map
    (engines/map_like.py) is one jsonb column: its sub-paths are no columns."""

    def __init__(self) -> None:
        self.rows = 0
        self.fields: dict[str, Counter[str]] = {name: Counter() for name in FIXED}
        self.objects: dict[str, ObjectKeys] = {}

    def add_document(self, document: Mapping[str, Any]) -> None:
        self.rows += 1
        self._walk({k: v for k, v in document.items() if k not in HIDDEN}, "")

    def _walk(self, document: Mapping[str, Any], prefix: str) -> None:
        for key, value in document.items():
            path, kind = f"{prefix}{key}", json_kind(value)
            self.fields.setdefault(path, Counter())[kind] += 1
            if kind == "object":
                self.objects.setdefault(path, ObjectKeys()).add(value)
                self._walk(value, f"{path}.")

    def columns(self) -> list[ColumnInfo]:
        maps = map_paths(self.objects)
        columns = [_column(path, kinds, self.rows) for path, kinds in self.fields.items() if not within(path, maps)]
        return [dataclasses.replace(c, note=maps[c.name]) if c.name in maps else c for c in columns]


def survey(documents: Iterable[Mapping[str, Any]]) -> Shape:
    shape = Shape()
    for document in documents:
        shape.add_document(document)
    return shape


def _column(path: str, kinds: Counter[str], sampled: int) -> ColumnInfo:
    present = Counter({k: n for k, n in kinds.items() if k != "null"})
    nullable = path not in FIXED and sum(present.values()) < sampled
    if not present:
        return ColumnInfo(path, "null", True, None, pg_type_for("json", "null"), 0.0, notes_for("json", "null"))
    ranked = [k for k, _ in present.most_common()]
    native = _widened(frozenset(ranked))
    shown = native if len(ranked) == 1 else "|".join(ranked)
    confidence = round(sum(present.values()) / sampled, 4) if sampled else None
    if native == "bignum":
        return ColumnInfo(path, shown, nullable, None, "numeric", confidence, BIGNUM_NOTE)
    return ColumnInfo(path, shown, nullable, None, pg_type_for("json", native), confidence, notes_for("json", native))


def _widened(kinds: frozenset[str]) -> str:
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= _NUMBERS:
        return next((wide for group, wide in _WIDENED if kinds <= group), "bignum")
    return "mixed"


def lookup(document: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (a key holding a dot itself is found too); None when absent."""
    if path in document:
        return document[path]
    head, dot, rest = path.partition(".")
    while dot:
        inner = document.get(head)
        if isinstance(inner, Mapping) and (found := lookup(inner, rest)) is not None:
            return found
        more, dot, rest = rest.partition(".")
        head = f"{head}.{more}"
    return None


class Mismatch(ValueError):
    """A value the staged column type cannot hold (the sample did not see its kind)."""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _integer(value: Any) -> int:
    if json_kind(value) != "integer":
        raise Mismatch
    return int(value)


def _double(value: Any) -> float:
    if json_kind(value) not in ("integer", "number"):
        raise Mismatch
    return float(value)


def _numeric(value: Any) -> str:
    if json_kind(value) not in _NUMBERS:
        raise Mismatch
    return repr(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Mismatch
    return value


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "bigint": _integer,
    "double precision": _double,
    "numeric": _numeric,
    "boolean": _boolean,
    "jsonb": partial(json.dumps, ensure_ascii=False),
}


def converter(pg_type: str) -> Callable[[Any], Any]:
    """How a JSON value becomes the staged value of a column of ``pg_type`` (NULL stays NULL)."""
    convert: Callable[[Any], Any] = _CONVERTERS.get(pg_type, _text)

    def read(value: Any) -> Any:
        return None if value is None else convert(value)

    return read
