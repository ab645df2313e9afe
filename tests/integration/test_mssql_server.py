"""A real extract from SQL Server into PostgreSQL; runs only against a server named by MSSQL_TEST_URL.

No SQL Server can run on DataBridge's own machines (no Docker, no TDS server in any package registry), so CI skips
this file; point it at one with MSSQL_TEST_URL=mssql://user:pass@host:port/db to run it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo
from databridge.engines.mssql import MSSQLSource, quote_name
from tests.conftest import airflow_conn, unique_name

from .conftest import TARGET_CONN
from .runner import TargetDB, run_pipeline

pytestmark = pytest.mark.integration

URL = os.environ.get("MSSQL_TEST_URL")
SOURCE_CONN = "it_mssql"
GUID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
UTC = dt.UTC

# (column, declared type, T-SQL literal of row 1, what PostgreSQL holds, PostgreSQL type); row 2 is all NULL.
CASES: list[tuple[str, str, str, Any, str]] = [
    ("guid", "uniqueidentifier", f"'{GUID}'", uuid.UUID(GUID), "uuid"),
    ("amount", "money", "922337203685477.5807", Decimal("922337203685477.5807"), "numeric(19,4)"),
    ("small_amount", "smallmoney", "-214748.3648", Decimal("-214748.3648"), "numeric(10,4)"),
    ("price", "decimal(18,4)", "12345678901234.5678", Decimal("12345678901234.5678"), "numeric(18,4)"),
    ("flag", "bit", "1", True, "boolean"),
    ("tiny", "tinyint", "255", 255, "smallint"),
    ("big", "bigint", "-9223372036854775808", -9223372036854775808, "bigint"),
    ("ratio", "float", "0.1", 0.1, "double precision"),
    (
        "happened",
        "datetime2(7)",
        "'2024-02-29 23:59:59.1234567'",
        dt.datetime(2024, 2, 29, 23, 59, 59, 123457),
        "timestamp(6) without time zone",
    ),
    (
        "legacy",
        "datetime",
        "'2024-01-01 12:00:00.997'",
        dt.datetime(2024, 1, 1, 12, 0, 0, 997000),
        "timestamp(3) without time zone",
    ),
    (
        "placed",
        "datetimeoffset(7)",
        "'2024-03-01 09:30:00.1234567 +01:00'",
        dt.datetime(2024, 3, 1, 8, 30, 0, 123457, tzinfo=UTC),
        "timestamp with time zone",
    ),
    ("day", "date", "'0001-01-01'", dt.date(1, 1, 1), "date"),
    ("at", "time(7)", "'13:14:15.1234567'", dt.time(13, 14, 15, 123456), "time without time zone"),
    ("code", "nchar(3)", "N'ab'", "ab ", "character(3)"),
    ("name", "nvarchar(50)", "N'Zoë 日本 🎉'", "Zoë 日本 🎉", "character varying(50)"),
    ("body", "nvarchar(max)", "REPLICATE(CAST(N'x' AS nvarchar(max)), 100000)", "x" * 100000, "text"),
    ("raw", "varbinary(16)", "0x00FF5C27", b"\x00\xff\\'", "bytea"),
    ("doc", "xml", "N'<a b=\"1\">t</a>'", '<a b="1">t</a>', "xml"),
    ("shape", "geometry", "geometry::STGeomFromText('POINT (1 2)', 0)", "POINT (1 2)", "text"),
    ("node", "hierarchyid", "hierarchyid::Parse('/1/2/')", "/1/2/", "text"),
]


def connection() -> ConnectionInfo:
    if not URL:
        pytest.skip("no SQL Server here: set MSSQL_TEST_URL to run against one")
    url = urlsplit(URL)
    return ConnectionInfo(
        SOURCE_CONN, "mssql", host=url.hostname, port=url.port or 1433, login=unquote(url.username or ""),
        password=unquote(url.password or ""), database=url.path.lstrip("/") or None,
    )  # fmt: skip


@pytest.fixture
def mssql_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh schema on the server holding the all_types table, dropped afterwards."""
    info = connection()
    schema = unique_name("dbtest")
    airflow_conn(
        monkeypatch,
        SOURCE_CONN,
        conn_type="mssql",
        host=info.host,
        port=info.port,
        login=info.login,
        password=info.password,
        schema=info.database,
    )
    source = MSSQLSource(info)
    table = f"{quote_name(schema)}.[all types]"
    columns = ", ".join(f"{quote_name(c)} {t}" for c, t, *_ in CASES)
    for statement in (
        f"CREATE SCHEMA {quote_name(schema)}",
        f"CREATE TABLE {table} (id int PRIMARY KEY, {columns}, version rowversion)",
        f"INSERT INTO {table} (id, {', '.join(quote_name(c) for c, *_ in CASES)}) VALUES (1, "
        f"{', '.join(v for _, _, v, *_ in CASES)})",
        f"INSERT INTO {table} (id) VALUES (2)",
    ):
        source._run(statement, "setting up the test schema")
    yield schema
    for statement in (f"DROP TABLE {table}", f"DROP SCHEMA {quote_name(schema)}"):
        source._run(statement, "dropping the test schema")
    source.close()


def test_discovery_describes_the_table(mssql_schema: str) -> None:
    source = MSSQLSource(connection())
    info = source.describe(TableRef(mssql_schema, "all types"))
    assert info.primary_key == ("id",)
    native = {c.name: c.native_type for c in info.columns}
    assert (
        native["body"] == "nvarchar(max)"
        and native["price"] == "decimal(18,4)"
        and native["happened"] == "datetime2(7)"
    )
    assert native["version"] == "timestamp"  # sys.types still calls rowversion by its old name
    assert source.row_count(TableRef(mssql_schema, "all types")) == 2
    assert mssql_schema in source.schemas() and source.tables(mssql_schema) == ["all types"]
    source.close()


def test_every_type_arrives_exact(mssql_schema: str, target: TargetDB) -> None:
    mapped = "\n".join(f"              - {{source: {c}}}" for c, *_ in CASES)
    project = f"""\
name: mssql_it
pipelines:
  - name: types
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: "{mssql_schema}.all types"
        targets:
          - table: landing.all_types
            keys: [id]
            columns:
              - {{source: id}}
              - {{source: version}}
{mapped}
"""
    run_pipeline(project, "mssql-1")
    types = target.column_types("landing", "all_types")
    assert {c: types[c] for c, *_ in CASES} == {c: pg for c, _t, _v, _e, pg in CASES}
    rows = target.rows(f"SELECT version, {', '.join(c for c, *_ in CASES)} FROM landing.all_types ORDER BY id")
    assert len(rows[0][0]) == 8, "rowversion: 8 bytes"
    assert rows[0][1:] == tuple(expected for _c, _t, _v, expected, _pg in CASES)
    assert rows[1][1:] == tuple(None for _ in CASES)


def test_chunks_of_a_table_cover_every_row_once(mssql_schema: str) -> None:
    """Two rows, ids 1 and 2 (the second all NULL): split by id in two, each row in one chunk."""
    source = MSSQLSource(connection())
    table = TableRef(mssql_schema, "all types")
    split = source.split(table, "id", 2)
    counts = [source.row_count(table, split.chunk(i)) for i in range(split.count)]
    assert split.bounds == (2,) and counts == [1, 1]
    assert source.split(table, None, 4).count == 1  # no key: read whole
    source.close()
