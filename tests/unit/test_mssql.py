"""The SQL Server engine without a SQL Server: types per row, quoting, every T-SQL statement parsed by sqlglot's tsql
dialect, GUID byte order, error sorting, and the engine driven through a stand-in pymssql connection."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pymssql
import pytest
import sqlglot
from sqlglot import exp

from databridge.compiler.plan import TableRef
from databridge.engines import mssql
from databridge.engines.base import ConnectionInfo, ForeignKeyInfo, SourceColumn, SourceOptions
from databridge.errors import EngineError

# --- types ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("native", "pg"),
    [
        ("uniqueidentifier", "uuid"),
        ("datetime2(7)", "timestamp(6)"),
        ("datetime2(3)", "timestamp(6)"),
        ("datetimeoffset(7)", "timestamptz"),
        ("datetime", "timestamp(3)"),
        ("smalldatetime", "timestamp(0)"),
        ("date", "date"),
        ("time(7)", "time"),
        ("decimal(18,4)", "numeric(18,4)"),
        ("numeric(38,0)", "numeric(38,0)"),
        ("money", "numeric(19,4)"),
        ("smallmoney", "numeric(10,4)"),
        ("bit", "boolean"),
        ("tinyint", "smallint"),
        ("smallint", "smallint"),
        ("int", "integer"),
        ("bigint", "bigint"),
        ("real", "real"),
        ("float", "double precision"),
        ("float(24)", "real"),
        ("char(10)", "char(10)"),
        ("varchar(255)", "varchar(255)"),
        ("nchar(2)", "char(2)"),
        ("nvarchar(100)", "varchar(100)"),
        ("nvarchar(max)", "text"),
        ("varchar(max)", "text"),
        ("text", "text"),
        ("ntext", "text"),
        ("binary(16)", "bytea"),
        ("varbinary(max)", "bytea"),
        ("image", "bytea"),
        ("rowversion", "bytea"),
        ("timestamp", "bytea"),  # SQL Server's timestamp is rowversion: a counter, not a date
        ("xml", "xml"),
        ("sql_variant", "text"),
        ("geography", "text"),
        ("geometry", "text"),
        ("hierarchyid", "text"),
        ("some_clr_type", "text"),
    ],
)
def test_each_native_type_has_its_postgresql_type(native: str, pg: str) -> None:
    assert mssql.pg_type_for(native) == pg
    assert mssql.pg_type_for(native.upper()) == pg


@pytest.mark.parametrize(
    ("row", "native"),
    [
        (("nvarchar", -1, 0, 0), "nvarchar(max)"),
        (("nvarchar", 200, 0, 0), "nvarchar(100)"),
        (("nchar", 4, 0, 0), "nchar(2)"),
        (("varchar", 255, 0, 0), "varchar(255)"),
        (("varbinary", -1, 0, 0), "varbinary(max)"),
        (("binary", 16, 0, 0), "binary(16)"),
        (("decimal", 9, 18, 4), "decimal(18,4)"),
        (("datetime2", 8, 27, 7), "datetime2(7)"),
        (("datetimeoffset", 10, 34, 7), "datetimeoffset(7)"),
        (("time", 5, 16, 7), "time(7)"),
        (("int", 4, 10, 0), "int"),
        (("uniqueidentifier", 16, 0, 0), "uniqueidentifier"),
        (("datetime", 8, 23, 3), "datetime"),
        (("sysname", 256, 0, 0), "nvarchar(128)"),
    ],
)
def test_native_type_is_rebuilt_from_sys_columns(row: tuple[str, int, int, int], native: str) -> None:
    assert mssql.native_type(*row) == native


@pytest.mark.parametrize(
    ("default", "shown"),
    [("((0))", "0"), ("(getdate())", "getdate()"), ("(N'x')", "N'x'"), ("((1)+(2))", "(1)+(2)"), (None, None)],
)
def test_defaults_lose_only_their_wrapping_parentheses(default: str | None, shown: str | None) -> None:
    assert mssql.strip_parentheses(default) == shown


# --- GUIDs ----------------------------------------------------------------------------------------------------

# Microsoft's documented example: SQL Server stores the first three groups little-endian.
GUID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
GUID_STORED = bytes.fromhex("FF19966F868B11D0B42D00C04FC964FF")


def test_guid_bytes_as_sql_server_stores_them_give_the_canonical_string() -> None:
    value = mssql.as_uuid(GUID_STORED)
    assert str(value).upper() == GUID
    assert value != uuid.UUID(bytes=GUID_STORED)  # read big-endian, the string would be FF19966F-868B-11D0-...


def test_guid_values_pymssql_already_built_or_text_stay_the_same() -> None:
    assert mssql.as_uuid(uuid.UUID(GUID)) == uuid.UUID(GUID)
    assert mssql.as_uuid(GUID) == uuid.UUID(GUID)
    assert mssql.as_uuid(None) is None


def test_pymssql_builds_guids_from_little_endian_bytes() -> None:
    source = Path(pymssql.__file__).with_name("_mssql.pyx")
    if not source.is_file():
        pytest.skip("this pymssql wheel ships no _mssql.pyx to read")
    assert "uuid.UUID(bytes_le=" in source.read_text()


# --- identifiers and T-SQL ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("Users", "[Users]"),
        ("Order Items", "[Order Items]"),
        ("a]b", "[a]]b]"),
        ("[x]", "[[x]]]"),
        ("O'Brien", "[O'Brien]"),
    ],
)
def test_identifiers_are_bracketed_with_closing_brackets_doubled(name: str, quoted: str) -> None:
    assert mssql.quote_name(name) == quoted
    parsed = sqlglot.parse_one(f"SELECT {quoted} FROM {mssql.qualified_name('staging', name)}", read="tsql")
    assert parsed.find(exp.Column).name == name  # type: ignore[union-attr]
    table = parsed.find(exp.Table)
    assert (table.db, table.name) == ("staging", name)  # type: ignore[union-attr]


def test_a_nul_in_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="NUL"):
        mssql.quote_name("a\x00b")


def roundtrips(statement: str) -> str:
    """The statement, after checking sqlglot's T-SQL parser reads it and prints it back unchanged."""
    assert sqlglot.parse_one(statement, read="tsql").sql(dialect="tsql") == statement
    return statement


def test_catalog_statements_are_exact_tsql() -> None:
    assert roundtrips(mssql.schemas_sql()) == (
        "SELECT s.name FROM sys.schemas AS s WHERE s.schema_id < 16384 "
        "AND NOT s.name IN ('sys', 'INFORMATION_SCHEMA', 'guest') ORDER BY s.name"
    )
    assert roundtrips(mssql.tables_sql("staging")) == (
        "SELECT o.name FROM sys.objects AS o WHERE o.schema_id = SCHEMA_ID(N'staging') "
        "AND o.type IN ('U', 'V') AND o.is_ms_shipped = 0 ORDER BY o.name"
    )
    assert roundtrips(mssql.columns_sql("dbo", "Order Items")) == (
        "SELECT c.name, COALESCE(bt.name, t.name) AS type_name, c.max_length, c.precision, c.scale, c.is_nullable, "
        "OBJECT_DEFINITION(c.default_object_id) AS default_sql FROM sys.columns AS c "
        "JOIN sys.types AS t ON t.user_type_id = c.user_type_id LEFT JOIN sys.types AS bt "
        "ON bt.user_type_id = t.system_type_id AND t.is_user_defined = 1 AND t.is_assembly_type = 0 "
        "WHERE c.object_id = OBJECT_ID(N'[dbo].[Order Items]') ORDER BY c.column_id"
    )


def test_key_and_count_statements_are_exact_tsql() -> None:
    assert roundtrips(mssql.primary_key_sql("dbo", "Users")) == (
        "SELECT c.name FROM sys.indexes AS i JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND "
        "ic.index_id = i.index_id JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
        "WHERE i.object_id = OBJECT_ID(N'[dbo].[Users]') AND i.is_primary_key = 1 ORDER BY ic.key_ordinal"
    )
    assert roundtrips(mssql.foreign_keys_sql("staging", "Orders")) == (
        "SELECT fk.name, pc.name, SCHEMA_NAME(rt.schema_id), rt.name, rc.name FROM sys.foreign_keys AS fk "
        "JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id "
        "JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id "
        "JOIN sys.tables AS rt ON rt.object_id = fkc.referenced_object_id "
        "JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id "
        "WHERE fk.parent_object_id = OBJECT_ID(N'[staging].[Orders]') ORDER BY fk.name, fkc.constraint_column_id"
    )
    assert roundtrips(mssql.approx_rows_sql("dbo", "Users")) == (
        "SELECT SUM(p.rows) FROM sys.partitions AS p WHERE p.object_id = OBJECT_ID(N'[dbo].[Users]') AND "
        "p.index_id IN (0, 1)"
    )
    assert roundtrips(mssql.count_sql("dbo", "Order Items")) == "SELECT COUNT_BIG(*) FROM [dbo].[Order Items]"
    for statement in mssql.SESSION_SQL:
        roundtrips(statement)


def test_names_inside_string_literals_have_quotes_doubled() -> None:
    statement = roundtrips(mssql.approx_rows_sql("dbo", "O'Brien]s"))
    assert "OBJECT_ID(N'[dbo].[O''Brien]]s]')" in statement
    literal = sqlglot.parse_one(statement, read="tsql").find(exp.National)
    assert literal is not None and literal.this == "[dbo].[O'Brien]]s]"  # what OBJECT_ID receives: the bracketed name


def column(name: str, native: str) -> SourceColumn:
    return SourceColumn(name, native, True, mssql.pg_type_for(native))


@pytest.mark.parametrize(
    ("native", "read"),
    [
        ("uniqueidentifier", "CONVERT(CHAR(36), [c])"),
        ("money", "CAST([c] AS NUMERIC(19, 4))"),
        ("smallmoney", "CAST([c] AS NUMERIC(10, 4))"),
        ("decimal(18,4)", "[c]"),
        ("datetime2(7)", "CONVERT(VARCHAR(27), [c], 121)"),
        ("datetime", "CONVERT(VARCHAR(27), [c], 121)"),
        ("smalldatetime", "CONVERT(VARCHAR(27), [c], 121)"),
        ("datetimeoffset(7)", "CONVERT(VARCHAR(34), [c], 121)"),
        ("time(7)", "LEFT(CONVERT(VARCHAR(16), [c], 121), 15)"),
        ("date", "[c]"),
        ("bit", "[c]"),
        ("nvarchar(max)", "[c]"),
        ("ntext", "CAST([c] AS NVARCHAR(MAX))"),
        ("text", "CAST([c] AS NVARCHAR(MAX))"),
        ("xml", "CAST([c] AS NVARCHAR(MAX))"),
        ("sql_variant", "CAST([c] AS NVARCHAR(MAX))"),
        ("image", "CAST([c] AS VARBINARY(MAX))"),
        ("rowversion", "[c]"),
        ("geography", "[c].STAsText()"),
        ("geometry", "[c].STAsText()"),
        ("hierarchyid", "[c].ToString()"),
    ],
)
def test_each_type_is_read_with_an_exact_expression(native: str, read: str) -> None:
    assert mssql.read_expression(column("c", native)) == read
    roundtrips(f"SELECT {read} FROM [dbo].[t]")


def test_the_select_of_a_table_is_exact_tsql() -> None:
    columns = [column("Id", "uniqueidentifier"), column("Total Due", "money"), column("a]b", "datetimeoffset(7)")]
    assert roundtrips(mssql.select_sql("dbo", "Order Items", columns)) == (
        "SELECT CONVERT(CHAR(36), [Id]), CAST([Total Due] AS NUMERIC(19, 4)), CONVERT(VARCHAR(34), [a]]b], 121) "
        "FROM [dbo].[Order Items]"
    )


# --- errors ---------------------------------------------------------------------------------------------------

REFUSED = (
    b"DB-Lib error message 20009, severity 9:\nUnable to connect: TDS server is unavailable or does not exist "
    b"(db1)\nNet-Lib error during Connection refused (111)\n"
)
LOGIN_FAILED = (
    b"Login failed for user 'etl'.DB-Lib error message 20018, severity 14:\n"
    b"General SQL Server error: Check messages from the SQL Server\n"
    b"DB-Lib error message 20002, severity 9:\nAdaptive Server connection failed (db1)\n"
    b"DB-Lib error message 20002, severity 9:\nAdaptive Server connection failed (db1)\n"
)


def general(text: str) -> bytes:
    return (
        f"{text}DB-Lib error message 20018, severity 16:\nGeneral SQL Server error: "
        "Check messages from the SQL Server\n".encode()
    )


@pytest.mark.parametrize(
    ("exc", "transient", "message"),
    [
        (
            pymssql.OperationalError((20009, REFUSED)),
            True,
            "(20009) Unable to connect: TDS server is unavailable or does not exist (db1); Net-Lib error during "
            "Connection refused (111) (is the server running and reachable at that host and port?)",
        ),
        (
            pymssql.OperationalError(
                (20003, b"DB-Lib error message 20003, severity 6:\nAdaptive Server connection timed out (db1)\n")
            ),
            True,
            "(20003) Adaptive Server connection timed out (db1)",
        ),
        (
            pymssql.OperationalError((20006, b"DB-Lib error message 20006, severity 9:\nWrite to the server failed\n")),
            True,
            "(20006) Write to the server failed",
        ),
        (
            pymssql.OperationalError(
                (
                    1205,
                    general(
                        "Transaction (Process ID 57) was deadlocked on lock resources with another process and "
                        "has been chosen as the deadlock victim. Rerun the transaction."
                    ),
                )
            ),
            True,
            "(1205) Transaction (Process ID 57) was deadlocked",
        ),
        (
            pymssql.OperationalError((18456, LOGIN_FAILED)),
            False,
            "(18456) Login failed for user 'etl'.; Adaptive Server connection failed (db1) (check the "
            "connection's login and password)",
        ),
        (
            pymssql.ProgrammingError((208, general("Invalid object name 'dbo.Custmers'."))),
            False,
            "(208) Invalid object name 'dbo.Custmers'. (check the table name and schema)",
        ),
        (
            pymssql.ProgrammingError(
                (229, general("The SELECT permission was denied on the object 'Orders', database 'crm', schema 'dbo'."))
            ),
            False,
            "(229) The SELECT permission was denied",
        ),
        (
            pymssql.OperationalError(
                (4060, general('Cannot open database "crmm" requested by the login. The login failed.'))
            ),
            False,
            '(4060) Cannot open database "crmm"',
        ),
        (pymssql.InterfaceError("Connection is closed."), False, "Connection is closed."),
    ],
)
def test_driver_errors_are_sorted_with_clear_messages(exc: Exception, transient: bool, message: str) -> None:
    error = mssql.mssql_error(exc, "reading dbo.Orders")
    assert isinstance(error, EngineError)
    assert (error.transient, error.engine) == (transient, "mssql")
    assert str(error).startswith(f"SQL Server: reading dbo.Orders: {message}")


def test_the_password_never_appears_in_a_message() -> None:
    exc = pymssql.OperationalError((18456, general("Login failed for user 'etl' with 'Sup3r$ecret'.")))
    error = mssql.mssql_error(exc, "cannot connect", password="Sup3r$ecret")
    assert "Sup3r$ecret" not in str(error) and "***" in str(error)


def test_a_closed_port_is_a_transient_error_within_seconds() -> None:
    info = ConnectionInfo(
        "crm_mssql", "mssql", host="127.0.0.1", port=1, login="etl", password="Sup3r$ecret", database="crm"
    )
    started = time.monotonic()
    with pytest.raises(EngineError) as caught:
        mssql.MSSQLSource(info)
    assert time.monotonic() - started < 15
    assert caught.value.transient
    assert str(caught.value).startswith(
        "SQL Server: cannot connect with mssql connection 'crm_mssql' (127.0.0.1:1/crm): (20009) Unable to connect"
    )
    assert "Sup3r$ecret" not in str(caught.value)


# --- the engine, through a stand-in for the pymssql connection (no server can run here) --------------------------


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.rows: Iterator[tuple[Any, ...]] = iter(())
        self.description: Any = None

    def execute(self, statement: str) -> None:
        sqlglot.parse_one(statement, read="tsql")  # whatever the engine sends must be T-SQL
        self.conn.executed.append(statement)
        result = self.conn.results.get(statement, [])
        self.description = [("c",)] if statement.startswith("SELECT") else None
        self.rows = iter(result)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        self.conn.fetch_sizes.append(size)
        return [row for _, row in zip(range(size), self.rows, strict=False)]

    def close(self) -> None:
        pass


class FakeConnection:
    def __init__(self, results: dict[str, list[tuple[Any, ...]]]) -> None:
        self.results = results
        self.executed: list[str] = []
        self.fetch_sizes: list[int] = []
        self.kwargs: dict[str, Any] = {}

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def close(self) -> None:
        pass


ORDERS_COLUMNS = [
    ("OrderId", "uniqueidentifier", 16, 0, 0, False, "(newsequentialid())"),
    ("CustomerId", "uniqueidentifier", 16, 0, 0, False, None),
    ("Total", "money", 8, 19, 4, False, "((0))"),
    ("PlacedAt", "datetimeoffset", 10, 34, 7, False, "(sysdatetimeoffset())"),
    ("ShippedAt", "datetime2", 8, 27, 7, True, None),
    ("Note", "nvarchar", -1, 0, 0, True, None),
]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeConnection:
    fake = FakeConnection(
        {
            "SELECT SCHEMA_NAME()": [("dbo",)],
            mssql.schemas_sql(): [("dbo",)],
            mssql.columns_sql("dbo", "Orders"): ORDERS_COLUMNS,
            mssql.primary_key_sql("dbo", "Orders"): [("OrderId",)],
            mssql.foreign_keys_sql("dbo", "Orders"): [
                ("FK_Orders_Customers", "CustomerId", "dbo", "Customers", "CustomerId")
            ],
            mssql.approx_rows_sql("dbo", "Orders"): [(3,)],
            mssql.count_sql("dbo", "Orders"): [(3,)],
            mssql.tables_sql("dbo"): [("Customers",), ("Orders",)],
        }
    )

    def connect(**kwargs: Any) -> FakeConnection:
        fake.kwargs = kwargs
        return fake

    monkeypatch.setattr(mssql.pymssql, "connect", connect)
    return fake


INFO = ConnectionInfo("crm_mssql", "mssql", host="db1", login="etl", password="pw", database="crm")


def test_connect_uses_the_connection_fields_and_sets_up_the_session(server: FakeConnection) -> None:
    source = mssql.MSSQLSource(INFO)
    assert server.kwargs == {
        "server": "db1",
        "port": "1433",
        "user": "etl",
        "password": "pw",
        "database": "crm",
        "login_timeout": 10,
        "timeout": 600,
        "charset": "UTF-8",
        "appname": "databridge",
        "tds_version": "7.4",
        "autocommit": True,
    }
    assert server.executed == list(mssql.SESSION_SQL)
    assert source.default_schema() == "dbo"


def test_describe_gives_types_defaults_keys_and_approximate_rows(server: FakeConnection) -> None:
    info = mssql.MSSQLSource(INFO).describe(TableRef(None, "Orders"))
    assert (info.schema, info.name, info.primary_key, info.approx_rows) == ("dbo", "Orders", ("OrderId",), 3)
    assert info.foreign_keys == (ForeignKeyInfo(("CustomerId",), "dbo.Customers", ("CustomerId",)),)
    assert [(c.name, c.native_type, c.nullable, c.default, c.pg_type) for c in info.columns] == [
        ("OrderId", "uniqueidentifier", False, "newsequentialid()", "uuid"),
        ("CustomerId", "uniqueidentifier", False, None, "uuid"),
        ("Total", "money", False, "0", "numeric(19,4)"),
        ("PlacedAt", "datetimeoffset(7)", False, "sysdatetimeoffset()", "timestamptz"),
        ("ShippedAt", "datetime2(7)", True, None, "timestamp(6)"),
        ("Note", "nvarchar(max)", True, None, "text"),
    ]


def test_a_missing_table_is_permanent_and_names_close_matches(server: FakeConnection) -> None:
    with pytest.raises(EngineError, match=r"source table dbo.Order does not exist .*did you mean 'Orders'") as caught:
        mssql.MSSQLSource(INFO).columns(TableRef("dbo", "Order"))
    assert not caught.value.transient


class Sink:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def write_row(self, row: Any) -> None:
        self.rows.append(row)

    def write(self, buffer: bytes | str) -> None:
        raise AssertionError("rows go one by one")


def read_orders(server: FakeConnection, options: SourceOptions | None = None) -> list[tuple[Any, ...]]:
    source = mssql.MSSQLSource(INFO, options)
    columns = source.columns(TableRef("dbo", "Orders"))
    server.results[mssql.select_sql("dbo", "Orders", columns)] = [
        (
            GUID,
            GUID.lower(),
            Decimal("12.3400"),
            "2024-03-01 09:30:00.1234567 +01:00",
            "2024-03-02 10:00:00.9999999",
            "é",
        ),
        (GUID, GUID, Decimal("-0.0001"), "2024-03-01 09:30:00.0000000 +00:00", None, None),
        (
            GUID,
            GUID,
            Decimal("922337203685477.5807"),
            "0001-01-01 00:00:00.0000000 +14:00",
            "9999-12-31 23:59:59.9999999",
            "",
        ),
    ]
    sink = Sink()
    assert source.copy_rows(TableRef("dbo", "Orders"), columns, sink, batch_size=2) == 3
    assert server.fetch_sizes == [2, 2, 2]  # bounded: never more than one batch asked for
    return sink.rows


def test_rows_are_streamed_in_batches_with_guids_in_canonical_order(server: FakeConnection) -> None:
    rows = read_orders(server)
    assert [(str(r[0]).upper(), str(r[1]).upper()) for r in rows] == [(GUID, GUID)] * 3
    assert rows[0][2:] == (Decimal("12.3400"), "2024-03-01 09:30:00.1234567 +01:00", "2024-03-02 10:00:00.9999999", "é")
    assert rows[1][4:] == (None, None)


def test_naive_date_times_are_read_in_the_declared_zone(server: FakeConnection) -> None:
    source = mssql.MSSQLSource(INFO, SourceOptions(naive_timezone="Europe/Paris"))
    shipped = source.columns(TableRef("dbo", "Orders"))[4]
    assert (shipped.native_type, shipped.pg_type) == ("datetime2(7)", "timestamp(6) with time zone")
    rows = read_orders(server, SourceOptions(naive_timezone="Europe/Paris"))
    assert [r[4] for r in rows] == [
        "2024-03-02 10:00:00.9999999 Europe/Paris",
        None,
        "9999-12-31 23:59:59.9999999 Europe/Paris",
    ]
    assert rows[0][3] == "2024-03-01 09:30:00.1234567 +01:00"  # a datetimeoffset already names its instant


def test_a_read_error_is_an_engine_error(server: FakeConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    source = mssql.MSSQLSource(INFO)
    columns = source.columns(TableRef("dbo", "Orders"))

    def deadlocked(self: FakeCursor, size: int) -> list[tuple[Any, ...]]:
        raise pymssql.OperationalError((1205, general("chosen as the deadlock victim.")))

    monkeypatch.setattr(FakeCursor, "fetchmany", deadlocked)
    with pytest.raises(EngineError, match=r"^SQL Server: reading dbo.Orders: \(1205\)") as caught:
        source.copy_rows(TableRef("dbo", "Orders"), columns, Sink(), 100)
    assert caught.value.transient


def test_row_count_and_tables(server: FakeConnection) -> None:
    source = mssql.MSSQLSource(INFO)
    assert source.row_count(TableRef("dbo", "Orders")) == 3
    assert source.tables("dbo") == ["Customers", "Orders"]
