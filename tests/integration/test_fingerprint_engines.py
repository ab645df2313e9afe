"""Each engine's SQL computes the canonical text and row hash of engines/canonical.py exactly: equal values stored
natively in PostgreSQL, MariaDB and SQLite hash equally (and as Python hashes them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from databridge.compiler.plan import TableRef
from databridge.engines import open_source
from databridge.engines.canonical import canonical, hash64, row_text
from databridge.engines.fingerprint import KeyRange, ProofColumn
from databridge.operators.base import connection_info

from .conftest import SOURCE_CONN, Source

pytestmark = pytest.mark.integration

UTC = dt.UTC
# kind → (PostgreSQL type, MariaDB type, SQLite type, values)
CASES: dict[str, tuple[str, str, str | None, list[Any]]] = {
    "int": ("bigint", "BIGINT", "INTEGER", [0, -1, 2**62, None]),
    "numeric": (
        "numeric(14,4)",
        "DECIMAL(14,4)",
        "NUMERIC(14,4)",
        [Decimal("1.5"), Decimal("100"), Decimal("0"), Decimal("-0.0001"), Decimal("12345678.1234"), None],
    ),
    "float": (
        "double precision",
        "DOUBLE",
        "REAL",
        [0.1 + 0.2, 1e20, 1e-5, -1.5e-7, 2.5e-310, 1.7976931348623157e308, 123456789012345.6, 1e15, 1e14, -0.0, None],
    ),
    "bool": ("boolean", "BOOLEAN", "BOOLEAN", [True, False, None]),
    "text": (
        "text",
        "VARCHAR(100) CHARACTER SET utf8mb4",
        "TEXT",
        ["plain", "tab\there", "crlf\r\n", "ünïcødé 日本 🎉", "", "'\"\\", None],
    ),
    "ts": (
        "timestamp",
        "DATETIME(6)",
        "DATETIME",
        [dt.datetime(2024, 2, 29, 23, 59, 59, 999999), dt.datetime(1999, 1, 1), None],
    ),
    "tstz": (
        "timestamptz",
        "TIMESTAMP(6) NULL",
        None,
        [dt.datetime(2024, 3, 31, 1, 30, 0, 7, tzinfo=UTC), dt.datetime(2038, 1, 1, tzinfo=UTC), None],
    ),
    "date": ("date", "DATE", "DATE", [dt.date(2024, 2, 29), dt.date(1970, 1, 1), None]),
    "bytes": ("bytea", "VARBINARY(20)", "BLOB", [b"\x00\xff\n\t", b"", None]),
}


def _native(engine: str, value: Any) -> Any:
    """The value as an application writes it to the engine."""
    if engine == "mysql" and isinstance(value, dt.datetime) and value.tzinfo:
        return value.replace(tzinfo=None)  # TIMESTAMP in a +00:00 session
    if engine != "sqlite":
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return int(value) if isinstance(value, bool) else value


def _create(source: Source, kind: str) -> list[Any]:
    pg, my, lite, values = CASES[kind]
    native_type = {"postgres": pg, "mysql": my, "sqlite": lite}[source.engine]
    source.db.execute(f"CREATE TABLE t_{kind} (id integer PRIMARY KEY, v {native_type})")
    if source.engine == "mysql":
        source.db.execute("SET time_zone = '+00:00'")
    source.db.insert(f"t_{kind}", [(i, _native(source.engine, v)) for i, v in enumerate(values)])
    return values


@pytest.mark.parametrize("kind", list(CASES))
def test_sql_fingerprints_equal_python_ones(source: Source, kind: str) -> None:
    if CASES[kind][2] is None and source.engine == "sqlite":
        pytest.skip("SQLite has no date-time type with a zone")
    values = _create(source, kind)
    engine = open_source(connection_info(SOURCE_CONN))
    try:
        table = TableRef(source.schema, f"t_{kind}")
        read = {c.name: engine.proof_column(c) for c in engine.columns(table)}  # type: ignore[attr-defined]
        side = engine.proof_side(table, [read["id"], read["v"]], [read["id"]])  # type: ignore[attr-defined]
        hashes = side.row_hashes(KeyRange(), 100)
        prints = side.prints(KeyRange(), [1])
    finally:
        engine.close()

    assert read["v"] == ProofColumn("v", read["v"].sql, kind)
    expected = {(str(i),): hash64(row_text([str(i), canonical(kind, v)])) for i, v in enumerate(values)}
    assert hashes == expected
    assert prints == [
        (1, expected[("0",)]),
        (len(values) - 1, sum(h for k, h in expected.items() if k != ("0",)) % (1 << 64)),
    ]
