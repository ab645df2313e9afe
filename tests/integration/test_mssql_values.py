"""What pymssql hands over for SQL Server values, staged by MSSQLSource.copy_rows into the real PostgreSQL.

The server side is a stand-in (no SQL Server runs here): its rows are what SQL Server and pymssql send for the read
expressions the engine chooses (style-121 text for date-times, text GUIDs, Decimals, bytes). The PostgreSQL side is
real: the staging table has the type matrix's types and PostgreSQL itself parses, rounds and localizes the values.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TableRef
from databridge.engines import mssql
from databridge.engines.base import ConnectionInfo, SourceOptions
from tests.conftest import pg_connect
from tests.unit.test_mssql import GUID, FakeConnection

pytestmark = pytest.mark.integration

COLUMNS = [  # (name, type name, max_length, precision, scale) as sys.columns describes them
    ("id", "uniqueidentifier", 16, 0, 0),
    ("amount", "money", 8, 19, 4),
    ("happened", "datetime2", 8, 27, 7),
    ("legacy", "datetime", 8, 23, 3),
    ("placed", "datetimeoffset", 10, 34, 7),
    ("at", "time", 5, 16, 7),
    ("flag", "bit", 1, 1, 0),
    ("version", "timestamp", 8, 0, 0),
    ("shape", "geography", -1, 0, 0),
]
ROW = (
    GUID,
    Decimal("-922337203685477.5808"),
    "2024-12-31 23:59:59.9999995",
    "2024-01-01 12:00:00.997",
    "2024-03-01 09:30:00.1234567 +01:00",
    "23:59:59.999999",
    True,
    b"\x00\x00\x00\x00\x00\x00\x07\xd1",
    "POINT (2 1)",
)
UTC = dt.UTC


def stage(monkeypatch: pytest.MonkeyPatch, dbname: str, options: SourceOptions) -> tuple[Any, ...]:
    fake = FakeConnection(
        {"SELECT SCHEMA_NAME()": [("dbo",)], mssql.columns_sql("dbo", "T"): [(*c, True, None) for c in COLUMNS]}
    )
    monkeypatch.setattr(mssql.pymssql, "connect", lambda **_: fake)
    source = mssql.MSSQLSource(ConnectionInfo("s", "mssql", host="db1"), options)
    columns = source.columns(TableRef("dbo", "T"))
    fake.results[mssql.select_sql("dbo", "T", columns)] = [ROW, tuple(None for _ in ROW)]
    with pg_connect(dbname) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE staged ({', '.join(f'{quote_ident(c.name)} {c.pg_type}' for c in columns)})")
        with cur.copy("COPY staged FROM STDIN") as copy:
            assert source.copy_rows(TableRef("dbo", "T"), columns, copy, 1) == 2
        cur.execute("SET TimeZone = 'UTC'")
        rows = cur.execute("SELECT * FROM staged").fetchall()
    assert rows[1] == tuple(None for _ in ROW)
    return rows[0]


def test_values_land_exact_and_the_7th_digit_is_rounded(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert stage(monkeypatch, pg_database, SourceOptions()) == (
        uuid.UUID(GUID),
        Decimal("-922337203685477.5808"),
        dt.datetime(2025, 1, 1, 0, 0),  # .9999995 rounds up into the next year
        dt.datetime(2024, 1, 1, 12, 0, 0, 997000),
        dt.datetime(2024, 3, 1, 8, 30, 0, 123457, tzinfo=UTC),
        dt.time(23, 59, 59, 999999),  # the server cut 23:59:59.9999999 (LEFT(..., 15)): never 24:00:00
        True,
        b"\x00\x00\x00\x00\x00\x00\x07\xd1",
        "POINT (2 1)",
    )


def test_naive_date_times_are_localized_by_postgresql(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    row = stage(monkeypatch, pg_database, SourceOptions(naive_timezone="Europe/Paris"))
    assert row[2] == dt.datetime(2024, 12, 31, 23, 0, tzinfo=UTC)  # 2025-01-01 00:00 in Paris (after rounding)
    assert row[3] == dt.datetime(2024, 1, 1, 11, 0, 0, 997000, tzinfo=UTC)
