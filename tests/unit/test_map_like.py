"""Map-like objects in sampled documents, the width a string clean-up keeps, and the short unmapped-columns warning."""

from __future__ import annotations

from typing import Any

import pytest

from databridge.compiler.columns import compile_column, fit_widths
from databridge.compiler.plan import SourcePlan, TableRef, TargetPlan
from databridge.engines.base import SourceColumn
from databridge.engines.couchdb.shape import survey as couch_survey
from databridge.engines.map_like import ObjectKeys
from databridge.engines.mongo.shape import survey
from databridge.runtime.extract import unmapped_warning
from databridge.spec.models import ColumnMapping


def keys_of(*objects: dict[str, Any]) -> ObjectKeys:
    keys = ObjectKeys()
    for value in objects:
        keys.add(value)
    return keys


@pytest.mark.parametrize(
    ("objects", "is_map"),
    [
        ([{"city": "Wien", "zip": 1010}] * 50, False),
        ([{f"f{k}": k for k in range(40)}] * 10, False),  # a wide record: every object holds every key
        ([{"1": 1, "2": 2}], True),  # numeric keys
        ([{"65f0c0ffee0000000000000a": 1}, {"65f0c0ffee0000000000000b": 2}], True),  # ObjectIds
        ([{"0b7d3c9e-1a2b-4c3d-8e9f-0123456789ab": 1, "1c8e4d0f-2b3c-4d4e-9f0a-123456789abc": 2}], True),  # UUIDs
        ([{f"word{(i * 3 + k) % 40}": k for k in range(3)} for i in range(40)], True),  # 40 keys, 3 per object
        ([{f"word{k}": k for k in range(300)}], True),  # more keys than any table should have columns
        ([{"en": "a", "fr": "b"}, {"de": "c"}], False),
    ],
)
def test_an_object_is_a_map_when_its_keys_are_ids_or_vary(objects: list[dict[str, Any]], is_map: bool) -> None:
    assert keys_of(*objects).is_map() is is_map


def test_a_map_is_one_column_without_sub_paths_or_child_tables() -> None:
    documents = [
        {"_id": i, "by_user": {f"{i + k:024x}": {"n": k, "tags": ["a"]} for k in range(3)}, "address": {"city": "Wien"}}
        for i in range(20)
    ]
    shapes = survey(documents)

    assert list(shapes) == [""], "no child table for the arrays inside the map"
    columns = {c.name: c for c in shapes[""].columns()}
    assert list(columns) == ["_id", "by_user", "address", "address.city"]
    assert (columns["by_user"].pg_type, columns["by_user"].note[:40]) == (
        "jsonb",
        "a map: 22 distinct keys in 20 documents ",
    )


def test_couchdb_maps_are_one_column_too() -> None:
    shape = couch_survey(
        [{"_id": str(i), "_rev": "1-a", "votes": {str(1000 + i + k): k for k in range(4)}} for i in range(10)]
    )
    columns = {c.name: c for c in shape.columns()}
    assert list(columns) == ["_id", "_rev", "votes"]
    assert columns["votes"].pg_type == "jsonb" and columns["votes"].note.startswith(
        "a map: 13 distinct keys in 10 documents"
    )


def _source_plan(columns: tuple[str, ...], excluded: tuple[str, ...] = ()) -> SourcePlan:
    return SourcePlan(TableRef("db", "players"), columns, excluded, "stg", ())


def _available(*names: str, objects: tuple[str, ...] = ()) -> dict[str, SourceColumn]:
    return {
        n: SourceColumn(n, "object" if n in objects else "string", True, "jsonb" if n in objects else "text")
        for n in names
    }


def test_the_unmapped_warning_skips_sub_paths_of_objects_read_whole_and_stays_short() -> None:
    available = _available(
        "_id",
        "profile",
        "profile.city",
        "geo",
        "geo.lat",
        "geo.lon",
        *(f"f{i}" for i in range(25)),
        objects=("profile", "geo"),
    )
    warning = unmapped_warning(_source_plan(("_id", "profile", "geo.lat"), ("f0",)), available)

    assert warning == (
        "db.players: 25 source columns not mapped: geo.lon, f1, f2, f3, f4, f5, f6, f7, f8, f9 and 15 more "
        "(map them, or list them with exclude: true)"
    )
    assert (
        unmapped_warning(_source_plan(("_id", "profile", "geo"), tuple(f"f{i}" for i in range(25))), available) is None
    )


def _target(*mappings: ColumnMapping) -> TargetPlan:
    columns = tuple(compile_column(m, []) for m in mappings)
    return TargetPlan(TableRef("public", "t"), "fact", "replace", (), columns, (), None, "ready")


def test_a_string_clean_up_or_default_keeps_the_staged_width_and_is_filled_by_assignment() -> None:
    target = _target(
        ColumnMapping(source="name", transform=["trim", "upper"]),
        ColumnMapping(source="name", target="named", default="nobody"),
        ColumnMapping(source="n", transform=["trim"]),
        ColumnMapping(source="name", target="day", date_format="YYYY"),
        ColumnMapping(source="name", target="plain"),
    )
    fitted = fit_widths(target, {"name": "character varying(45)", "n": "integer"})

    assert [c.keeps_width_of for c in target.columns] == ["name", "name", "n", None, None]
    name, named, n, day, plain = fitted.columns
    assert name.sql == 'CAST(upper(CAST(btrim(CAST("name" AS text)) AS text)) AS character varying(45))'
    assert name.insert_sql == 'upper(CAST(btrim(CAST("name" AS text)) AS text))', (
        "assigned: a value too long is refused, not cut"
    )
    assert named.sql.startswith("CAST(CASE WHEN") and named.sql.endswith(" AS character varying(45))")
    assert (n, day, plain) == target.columns[2:], (
        "an integer cleaned up is text; a formatted date is text; as read stays as read"
    )
