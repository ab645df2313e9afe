"""Inferring columns from sampled MongoDB documents: dotted paths, the BSON type seen most, and how sure that is.

An object used as a map (engines/map_like.py) is one jsonb column: its sub-paths are no columns, its arrays no
child tables."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS

from databridge.engines.base import ColumnInfo
from databridge.engines.map_like import ObjectKeys, map_paths, within
from databridge.engines.type_matrix import pg_type_for

PARENT_ID, INDEX, VALUE = "_parent_id", "_index", "value"
"""Columns of a child table: the parent document's _id (as text), the element's position, a scalar element."""

# Python types pymongo decodes to → BSON type alias (as $type names it); the first match wins (bool before int).
_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (bool, "bool"),
    (Int64, "long"),
    (int, "int"),
    (float, "double"),
    (str, "string"),
    (ObjectId, "objectId"),
    ((Decimal128, Decimal), "decimal"),
    ((dt.datetime, DatetimeMS), "date"),
    (Mapping, "object"),
    (list, "array"),
    ((Binary, bytes), "binData"),
    (Timestamp, "timestamp"),
    (Regex, "regex"),
    (Code, "javascript"),
    (MinKey, "minKey"),
    (MaxKey, "maxKey"),
)
# Numbers of different BSON types in one field widen to the type holding them all exactly (int+double: a double
# holds every int32); any other mix is "mixed" → jsonb, which keeps each value as it is.
_WIDENED = ((frozenset({"int", "long"}), "long"), (frozenset({"int", "double"}), "double"))
_NUMBERS = frozenset({"int", "long", "double", "decimal"})


def bson_kind(value: Any) -> str:
    """The BSON type alias of a decoded value ("null" for None)."""
    if value is None:
        return "null"
    for python_type, kind in _KINDS:
        if isinstance(value, python_type):
            return kind
    return type(value).__name__


class Shape:
    """What a sample showed of one table: a collection, or the elements of one of its arrays."""

    def __init__(self) -> None:
        self.rows = 0
        self.fields: dict[str, Counter[str]] = {}
        self.objects: dict[str, ObjectKeys] = {}
        self.maps: dict[str, str] = {}
        """Paths of map-like objects → the note saying so (set by ``settle``)."""

    def add(self, path: str, kind: str) -> None:
        self.fields.setdefault(path, Counter())[kind] += 1

    def add_object(self, path: str, value: Mapping[str, Any]) -> None:
        self.objects.setdefault(path, ObjectKeys()).add(value)

    def settle(self) -> None:
        """Once sampled: the sub-paths of map-like objects are no columns."""
        self.maps = map_paths(self.objects)
        self.fields = {path: kinds for path, kinds in self.fields.items() if not within(path, self.maps)}

    def columns(self) -> list[ColumnInfo]:
        return [_column(path, kinds, self.rows, self.maps.get(path, "")) for path, kinds in self.fields.items()]


def survey(documents: Iterable[Mapping[str, Any]]) -> dict[str, Shape]:
    """Shapes by array path ("" is the collection itself): embedded documents are walked into dotted paths, and
    the elements of every array of the collection are the rows of a child table."""
    shapes = {"": Shape()}
    for document in documents:
        shapes[""].rows += 1
        _walk(document, "", shapes[""], shapes)
    for shape in shapes.values():
        shape.settle()
    return {path: shape for path, shape in shapes.items() if not within(path, shapes[""].maps)}


def _walk(document: Mapping[str, Any], prefix: str, shape: Shape, children: dict[str, Shape] | None) -> None:
    for key, value in document.items():
        path = f"{prefix}{key}"
        kind = bson_kind(value)
        shape.add(path, kind)
        if kind == "object":
            shape.add_object(path, value)
            _walk(value, f"{path}.", shape, children)
        elif kind == "array" and children is not None:  # arrays inside array elements stay jsonb
            _walk_elements(value, children.setdefault(path, Shape()))


def _walk_elements(elements: list[Any], shape: Shape) -> None:
    for element in elements:
        shape.rows += 1
        if isinstance(element, Mapping):
            _walk(element, "", shape, None)
        else:
            shape.add(VALUE, bson_kind(element))


def _column(path: str, kinds: Counter[str], sampled: int, note: str = "") -> ColumnInfo:
    present = Counter({k: n for k, n in kinds.items() if k != "null"})
    nullable = sum(present.values()) < sampled
    if not present:
        return ColumnInfo(path, "null", True, None, pg_type_for("mongo", "null"), 0.0)
    ranked = [k for k, _ in present.most_common()]
    native = _widened(frozenset(ranked))
    if native is None:
        return ColumnInfo(
            path,
            "mixed(" + "|".join(ranked) + ")",
            nullable,
            None,
            pg_type_for("mongo", "mixed"),
            present[ranked[0]] / sampled,
            note,
        )
    shown = native if len(ranked) == 1 else "|".join(ranked)
    return ColumnInfo(path, shown, nullable, None, pg_type_for("mongo", native), sum(present.values()) / sampled, note)


def _widened(kinds: frozenset[str]) -> str | None:
    """The one BSON type that holds every value of ``kinds`` exactly, or None when they are not all numbers."""
    if len(kinds) == 1:
        return next(iter(kinds))
    if not kinds <= _NUMBERS:
        return None
    return next((wide for group, wide in _WIDENED if kinds <= group), "decimal")


def child_columns(shape: Shape, parent_id: str = "objectId") -> list[ColumnInfo]:
    """A child table's columns: the parent's _id (always text), the element's position, then the elements' fields."""
    parent = ColumnInfo(PARENT_ID, parent_id, False, None, "text", 1.0)
    index = ColumnInfo(INDEX, "int", False, None, "integer", 1.0)
    return [parent, index, *shape.columns()]
