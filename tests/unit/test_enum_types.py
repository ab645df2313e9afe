"""The pipeline's `enums` option: parsed, compiled into the plan, and the names of the enum types it makes."""

from __future__ import annotations

import pytest

from databridge.compiler import compile_project
from databridge.compiler.plan import ColumnPlan, TableRef, TargetPlan
from databridge.errors import SpecError
from databridge.runtime.enum_types import enum_columns, type_of
from databridge.spec import parse_project

PROJECT = """\
name: enums
pipelines:
  - name: p
    source_conn_id: src
    target_conn_id: tgt{option}
    tables:
      - source: shop.kinds
        targets:
          - table: landing.kinds
            columns: [{{source: id}}, {{source: mood}}]
"""


def _plan(option: str = "") -> str:
    return compile_project(parse_project(PROJECT.format(option=option), "e.yaml"), "e.yaml").pipelines[0].enums


def test_check_is_the_default_and_type_is_taken() -> None:
    assert (_plan(), _plan("\n    enums: type"), _plan("\n    enums: check")) == ("check", "type", "check")


def test_an_unknown_value_says_what_to_write() -> None:
    with pytest.raises(
        SpecError, match=r"enums: 'typ' is not allowed; write one of 'check' or 'type' \(did you mean 'type'\?\)"
    ):
        _plan("\n    enums: typ")


def _target(table: str, *columns: ColumnPlan) -> TargetPlan:
    return TargetPlan(TableRef("landing", table), "fact", "replace", (), columns, (), None, "r")


def test_the_type_is_table_underscore_column_cut_to_63_bytes_in_the_tables_schema() -> None:
    assert type_of(_target("kinds"), "mood") == ("landing", "kinds_mood")
    long = type_of(_target("t" * 40), "é" * 20)
    assert long[0] == "landing" and len(long[1].encode()) <= 63 and long == type_of(_target("t" * 40), "é" * 20)
    assert long[1] != type_of(_target("t" * 40), "é" * 19 + "e")[1]


def test_only_columns_copied_unchanged_from_an_enum_are_typed() -> None:
    mood, loud, key = (
        ColumnPlan("mood", '"mood"', unchanged_source="mood"),
        ColumnPlan("loud", 'upper("mood")'),
        ColumnPlan("id", '"id"', unchanged_source="id"),
    )
    assert enum_columns(_target("kinds", mood, loud, key), {"mood": ["a", "b"]}) == [("mood", ["a", "b"])]
