"""Declared widths and precisions arrive in the target: SQLite's declared types, and string clean-ups that keep a
varchar(n) a varchar(n) (a value too long for it is still a rejected row, never cut)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import TARGET_CONN, Source
from .runner import TargetDB, passthrough_yaml, run_pipeline

pytestmark = pytest.mark.integration

SQLITE_DECLARED = {
    "name": ("NVARCHAR(40)", "character varying(40)"),
    "price": ("NUMERIC(10,2)", "numeric(10,2)"),
    "title": ("VARCHAR(255)", "character varying(255)"),
    "country": ("CHAR(2)", "character varying(2)"),
    "city": ("NATIVE CHARACTER(70)", "character varying(70)"),
    "label": ("VARYING CHARACTER(30)", "character varying(30)"),
    "code": ("NCHAR(5)", "character varying(5)"),
    "whole": ("DECIMAL(8)", "numeric(8,0)"),
    "note": ("TEXT", "text"),
}


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_sqlite_declared_lengths_and_precisions_are_the_target_types(source: Source, target: TargetDB) -> None:
    columns = ", ".join(f'"{name}" {declared}' for name, (declared, _) in SQLITE_DECLARED.items())
    source.db.execute(f"CREATE TABLE declared (id INTEGER PRIMARY KEY, {columns})")
    source.db.insert(
        "declared", [(1, "Zoë", "19.99", "Title", "AT", "Wien", "lbl", "A1", "42", "n"), (2, *([None] * 9))]
    )
    run_pipeline(
        passthrough_yaml("declared", source.conn_id, TARGET_CONN, "main.declared", list(SQLITE_DECLARED)), "declared-1"
    )

    assert target.column_types("landing", "declared") == {
        "id": "bigint",
        **{n: t for n, (_, t) in SQLITE_DECLARED.items()},
    }
    assert target.rows("SELECT name, price, country, whole FROM landing.declared ORDER BY id") == [
        ("Zoë", Decimal("19.99"), "AT", Decimal("42")),
        (None, None, None, None),
    ]


LONG_DEFAULT = "Z" * 46


def _cleaned_project(source: Source, target: TargetDB) -> str:
    return f"""\
name: widths_it
pipelines:
  - name: widths
    source_conn_id: {source.conn_id}
    target_conn_id: {target.conn_id}
    tables:
      - source: {source.schema}.people
        targets:
          - table: landing.people
            keys: [id]
            max_rejects: 1
            columns:
              - {{source: id}}
              - {{source: name, transform: [trim, upper]}}
              - {{source: name, target: shout, transform: [upper], default: {LONG_DEFAULT}}}
              - {{source: code, transform: [trim]}}
              - {{source: amount, transform: [trim]}}
"""


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_trim_and_upper_keep_a_varchar_width_and_a_value_too_long_is_still_rejected(
    source: Source, target: TargetDB
) -> None:
    """varchar(45) cleaned up stays varchar(45); the 46-character default (for a NULL name) does not fit it: that
    row is a rejected row, not a cut value."""
    source.db.execute("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(45), code CHAR(3), amount INT)")
    full = "  " + "a" * 41 + "  "  # 45 characters with its spaces
    source.db.insert("people", [(1, " ada lovelace ", "ab ", 7), (2, full, "c", 1), (3, None, None, None)])
    result = run_pipeline(_cleaned_project(source, target), "widths-1")

    assert target.column_types("landing", "people") == {
        "id": "integer",
        "name": "character varying(45)",
        "shout": "character varying(45)",
        "code": "character varying(3)",
        "amount": "text",
    }
    assert target.rows("SELECT id, name, shout, code, amount FROM landing.people ORDER BY id") == [
        (1, "ADA LOVELACE", " ADA LOVELACE ", "ab", "7"),
        (2, "A" * 41, full.upper(), "c", "1"),
    ]
    assert result["transform"]["landing.people"]["rejected_rows"] == 1
    assert target.rows(
        "SELECT column_name, reason, row_data->>'id' FROM databridge.rejects WHERE run_id = 'widths-1'"
    ) == [
        ("shout", "value too long for type character varying(45)", "3"),
    ]
