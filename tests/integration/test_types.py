"""Source types arrive in PostgreSQL with the right type and the exact value: MariaDB and PostgreSQL sources."""

from __future__ import annotations

import datetime as dt
import json
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from .conftest import TARGET_CONN, Source
from .runner import TargetDB, passthrough_yaml, run_pipeline

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Case:
    """A column: its native type per engine (None: the engine has no such type), the target type, four values."""

    column: str
    mysql: str | None
    postgres: str | None
    target_type: str
    inserted: tuple[Any, ...]
    expected: tuple[Any, ...] | None = None
    """What the target holds, when it differs from what was inserted (a fifth row holds NULL everywhere)."""


H = dt.timedelta(hours=1)
CASES = [
    Case("flag", "TINYINT(1)", "boolean", "boolean", (True, False, True, False)),
    Case("bit1", "BIT(1)", None, "boolean", (1, 0, 1, 0), (True, False, True, False)),
    Case("u_int", "INT UNSIGNED", None, "bigint", (4294967295, 0, 1, 2147483648)),
    Case(
        "u_big", "BIGINT UNSIGNED", "numeric(20,0)", "numeric(20,0)", (18446744073709551615, 0, 9223372036854775808, 1)
    ),
    Case("i_big", "BIGINT", "bigint", "bigint", (-9223372036854775808, 9223372036854775807, 0, -1)),
    Case(
        "amount",
        "DECIMAL(12,2)",
        "numeric(12,2)",
        "numeric(12,2)",
        (Decimal("9999999999.99"), Decimal("-0.01"), Decimal("19.50"), Decimal("9.99")),
    ),
    Case("dbl", "DOUBLE", "double precision", "double precision", (0.1 + 0.2, 1e-300, 1.7976931348623157e308, 5e-324)),
    Case(
        "flt",
        "FLOAT",
        "real",
        "real",
        (123456.789, 16777216.0, 1.0000001, 0.1),
        (123456.7890625, 16777216.0, 1.0000001192092896, 0.10000000149011612),
    ),
    Case(
        "happened",
        "DATETIME(6)",
        "timestamp",
        "timestamp without time zone",
        (
            dt.datetime(2024, 2, 29, 23, 59, 59, 123456),
            dt.datetime(1970, 1, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
            dt.datetime(1000, 1, 1, 0, 0, 1),
        ),
    ),  # fmt: skip
    Case(
        "day",
        "DATE",
        "date",
        "date",
        (dt.date(2024, 2, 29), dt.date(1000, 1, 1), dt.date(9999, 12, 31), dt.date(1970, 1, 1)),
    ),
    Case(
        "dur",
        "TIME",
        "interval",
        "interval",
        ("838:59:59", "-01:30:00", "00:00:00", "-838:59:59"),
        (
            838 * H + dt.timedelta(minutes=59, seconds=59),
            -1.5 * H,
            dt.timedelta(0),
            -(838 * H + dt.timedelta(minutes=59, seconds=59)),
        ),
    ),  # fmt: skip
    Case(
        "doc",
        "JSON",
        "jsonb",
        "jsonb",
        ('{"b": null, "a": [1, 2.5, "日本"]}', "[]", '"say \\"hi\\""', '{"emoji": "🎉", "k": {"t": true}}'),
    ),
    Case("mood", "ENUM('happy','sad','')", "mood", "text", ("happy", "sad", "", "happy")),
    Case("raw", "VARBINARY(16)", "bytea", "bytea", (b"\x00\xff\\'\"\n\t", b"", b"\x00", bytes(range(16)))),
    Case("blob_data", "BLOB", "bytea", "bytea", (bytes(range(256)), b"\\x00", b"abc", b"\r\n")),
    Case("note", "TEXT", "text", "text", ("emoji 🎉 and 𝄞", "Zoë\tMüller\n日本\\", "", ' it\'s "quoted" ')),
]
POSTGRES_SETUP = "CREATE TYPE mood AS ENUM ('happy', 'sad', '')"


def cases(engine: str) -> list[Case]:
    return [c for c in CASES if getattr(c, engine)]


def create_types_table(source: Source) -> list[Case]:
    """The all_types table in the source's own DDL, holding four rows of values and one of NULLs."""
    used = cases(source.engine)
    if source.engine == "postgres":
        source.db.execute(POSTGRES_SETUP)
    columns = ", ".join(f"{c.column} {getattr(c, source.engine)}" for c in used)
    source.db.execute(f"CREATE TABLE all_types (id integer PRIMARY KEY, {columns})")
    rows = [(i + 1, *(c.inserted[i] for c in used)) for i in range(4)]
    source.db.insert("all_types", [*rows, (5, *(None for _ in used))])
    return used


def passthrough_project(
    source: Source, used: list[Case], table: str = "all_types", columns: list[str] | None = None
) -> str:
    """Every column of ``table`` mapped untouched to landing.<table>."""
    names = columns if columns is not None else [c.column for c in used]
    return passthrough_yaml("types", source.conn_id, TARGET_CONN, f"{source.schema}.{table}", names)


def same(actual: Any, expected: Any, target_type: str) -> bool:
    """Equal values of the same kind; floats bit for bit (real as the 32-bit float PostgreSQL stores)."""
    if target_type == "real":
        return isinstance(actual, float) and struct.pack("<f", actual) == struct.pack("<f", expected)
    if isinstance(expected, float):
        return isinstance(actual, float) and actual.hex() == expected.hex()
    return type(actual) is type(expected) and actual == expected


@pytest.mark.parametrize("source", ["mysql", "postgres"], indirect=True)
def test_source_types_arrive_with_exact_values(source: Source, target: TargetDB) -> None:
    used = create_types_table(source)
    run_pipeline(passthrough_project(source, used), "types-1")

    types = target.column_types("landing", "all_types")
    assert types == {"id": "integer", **{c.column: c.target_type for c in used}}
    rows = target.rows(f"SELECT {', '.join(c.column for c in used)} FROM landing.all_types ORDER BY id")
    assert len(rows) == 5
    assert rows[4] == tuple(None for _ in used), "NULL stays NULL in every type"
    for c, values in zip(used, zip(*rows[:4], strict=True), strict=True):
        expected = c.expected or tuple(_loaded(c, v) for v in c.inserted)
        wrong = [(got, want) for got, want in zip(values, expected, strict=True) if not same(got, want, c.target_type)]
        assert not wrong, f"{c.column} ({getattr(c, source.engine)} -> {c.target_type}): got/expected {wrong}"


def _loaded(case: Case, inserted: Any) -> Any:
    """The Python value psycopg returns for an inserted value of this case."""
    if case.target_type == "jsonb":
        return json.loads(inserted)
    if case.target_type == "numeric(20,0)":
        return Decimal(inserted)
    return inserted


@pytest.mark.parametrize("source", ["mysql", "postgres"], indirect=True)
def test_doubles_survive_arithmetic_in_the_target(source: Source, target: TargetDB) -> None:
    """0.1 + 0.2 computed in the source is not 0.3 in the target: the bits came through, not a rounded text."""
    used = create_types_table(source)
    run_pipeline(passthrough_project(source, used), "types-2")
    assert target.scalar("SELECT dbl = 0.3::float8 FROM landing.all_types WHERE id = 1") is False
    assert target.scalar("SELECT dbl = 0.1::float8 + 0.2::float8 FROM landing.all_types WHERE id = 1") is True
    assert target.scalar("SELECT dbl::text FROM landing.all_types WHERE id = 2") == "1e-300"


# PostgreSQL → PostgreSQL: each column's text form in the target equals the source's, character for character.
PG_EXACT_SETUP = [
    "CREATE TYPE mood AS ENUM ('happy', 'sad', 'it''s')",
    "CREATE DOMAIN positive_amount AS numeric(10,2) CHECK (VALUE > 0)",
    """CREATE TABLE exact (
        id integer PRIMARY KEY, mood mood, moods mood[], amount positive_amount, ints integer[], grid text[],
        doc json, docb jsonb, uid uuid, span interval, bits bit varying(8), at timestamptz, raw bytea)""",
    """INSERT INTO exact VALUES
      (1, 'it''s', '{happy,"it''s"}', 0.01, '{1,NULL,-2147483648}', '{{"a b","c,d"},{"e\\"f",NULL}}',
       '{"b": 1,  "a": [1.50, "x"], "b": 2}', '{"b": 1, "a": {"c": [true, null]}}',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
       '1 year 2 mons -3 days 04:05:06.789012', B'00000101', '2024-02-29 23:59:59.999999+05:30', '\\x00ff5c'),
      (2, 'sad', '{}', 99999999.99, '{}', '{}', '[]', '"text"', '00000000-0000-0000-0000-000000000000',
       '-178000000 years', B'', '-infinity', ''),
      (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
]
PG_EXACT_COLUMNS = ["mood", "moods", "amount", "ints", "grid", "doc", "docb", "uid", "span", "bits", "at", "raw"]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_postgres_enums_domains_arrays_json_uuid_interval_round_trip_exactly(source: Source, target: TargetDB) -> None:
    for statement in PG_EXACT_SETUP:
        source.db.execute(statement)
    run_pipeline(passthrough_project(source, [], "exact", PG_EXACT_COLUMNS), "types-3")

    texts = ", ".join(f"{c}::text" for c in PG_EXACT_COLUMNS)
    source_rows = source.db.conn.execute(f"SELECT {texts} FROM exact ORDER BY id").fetchall()
    assert target.rows(f"SELECT {texts} FROM landing.exact ORDER BY id") == source_rows
    assert target.column_types("landing", "exact") == {
        "id": "integer", "mood": "text", "moods": "text[]", "amount": "numeric(10,2)", "ints": "integer[]",
        "grid": "text[]", "doc": "json", "docb": "jsonb", "uid": "uuid", "span": "interval", "bits": "bit varying(8)",
        "at": "timestamp with time zone", "raw": "bytea",
    }  # fmt: skip
