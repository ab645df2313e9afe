"""SQL Server's schema_of without a SQL Server: every catalog statement is exact T-SQL (parsed and printed back by
sqlglot's tsql dialect), and the engine, fed the rows a server would answer, reads each object; then they translate.
A real server is needed to prove the statements' answers; tests/integration/test_mssql_server.py runs against one
when MSSQL_TEST_URL is set."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot

from databridge.compiler.plan import TableRef
from databridge.compiler.schema_ddl import schema_objects
from databridge.engines import mssql
from databridge.engines.base import ConnectionInfo
from databridge.engines.schema import CheckDef, ColumnDef, ForeignKeyDef, IndexDef, TableSchema

STATEMENTS = (
    mssql.schema_columns_sql,
    mssql.indexes_sql,
    mssql.checks_sql,
    mssql.schema_foreign_keys_sql,
    mssql.table_comment_sql,
)


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda f: f.__name__)
def test_every_schema_statement_is_exact_tsql_with_the_table_quoted(statement: Any) -> None:
    text = statement("dbo", "O'Brien]s")
    assert sqlglot.parse_one(text, read="tsql").sql(dialect="tsql") == text
    assert "OBJECT_ID(N'[dbo].[O''Brien]]s]')" in text


def test_the_statements_read_what_the_schema_needs() -> None:
    assert mssql.schema_columns_sql("dbo", "Orders") == (
        "SELECT c.name, c.is_nullable, dc.definition, c.is_identity, CAST(ep.value AS NVARCHAR(4000)) AS comment "
        "FROM sys.columns AS c LEFT JOIN sys.default_constraints AS dc ON dc.object_id = c.default_object_id "
        "LEFT JOIN sys.extended_properties AS ep ON ep.class = 1 AND ep.major_id = c.object_id "
        "AND ep.minor_id = c.column_id AND ep.name = 'MS_Description' "
        "WHERE c.object_id = OBJECT_ID(N'[dbo].[Orders]') ORDER BY c.column_id"
    )
    assert mssql.indexes_sql("dbo", "Orders") == (
        "SELECT i.name, i.is_unique, ic.is_included_column, c.name, ic.is_descending_key, i.filter_definition, "
        "i.type_desc FROM sys.indexes AS i JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND "
        "ic.index_id = i.index_id JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id "
        "WHERE i.object_id = OBJECT_ID(N'[dbo].[Orders]') AND i.is_primary_key = 0 AND i.is_hypothetical = 0 AND "
        "i.type > 0 ORDER BY i.name, ic.is_included_column, ic.key_ordinal, ic.index_column_id"
    )


class Cursor:
    def __init__(self, results: dict[str, list[tuple[Any, ...]]]) -> None:
        self.results, self.rows, self.description = results, [], None

    def execute(self, statement: str) -> None:
        sqlglot.parse_one(statement, read="tsql")  # whatever the engine sends must be T-SQL
        self.rows = self.results.get(statement, [])
        self.description = [("c",)] if statement.startswith("SELECT") else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)

    def close(self) -> None:
        pass


class Connection:
    def __init__(self, results: dict[str, list[tuple[Any, ...]]]) -> None:
        self.results = results

    def cursor(self) -> Cursor:
        return Cursor(self.results)

    def close(self) -> None:
        pass


T = ("dbo", "Orders")
RESULTS = {
    "SELECT SCHEMA_NAME()": [("dbo",)],
    mssql.columns_sql(*T): [
        ("OrderId", "int", 4, 10, 0, False, ""),
        ("CustomerId", "int", 4, 10, 0, False, None),
        ("Status", "nvarchar", 40, 0, 0, False, "(N'new')"),
        ("Total", "money", 8, 19, 4, False, "((0))"),
        ("PlacedAt", "datetime2", 8, 27, 7, False, "(sysdatetime())"),
        ("Note", "nvarchar", -1, 0, 0, True, None),
    ],
    mssql.schema_columns_sql(*T): [
        ("OrderId", False, None, True, None),
        ("CustomerId", False, None, False, None),
        ("Status", False, "(N'new')", False, None),
        ("Total", False, "((0))", False, None),
        ("PlacedAt", False, "(sysdatetime())", False, None),
        ("Note", True, None, False, "as typed by the clerk"),
    ],
    mssql.primary_key_sql(*T): [("OrderId",)],
    mssql.indexes_sql(*T): [
        ("CS_Orders", False, False, "Total", False, None, "NONCLUSTERED COLUMNSTORE"),
        ("IX_Orders_Customer", False, False, "CustomerId", False, None, "NONCLUSTERED"),
        ("IX_Orders_Customer", False, False, "PlacedAt", True, None, "NONCLUSTERED"),
        ("IX_Orders_Customer", False, True, "Total", False, None, "NONCLUSTERED"),
        ("UQ_Orders_Status", True, False, "Status", False, "([Status]<>N'void')", "NONCLUSTERED"),
    ],
    mssql.checks_sql(*T): [("CK_Orders_Total", "([Total]>=(0))")],
    mssql.schema_foreign_keys_sql(*T): [
        ("FK_Orders_Customers", "CustomerId", "dbo", "Customers", "CustomerId", "CASCADE", "NO_ACTION")
    ],
    mssql.table_comment_sql(*T): [("Orders placed",)],
}


@pytest.fixture
def source(monkeypatch: pytest.MonkeyPatch) -> mssql.MSSQLSource:
    monkeypatch.setattr(mssql.pymssql, "connect", lambda **kwargs: Connection(RESULTS))
    return mssql.MSSQLSource(ConnectionInfo("crm", "mssql", host="db1", database="crm"))


def test_schema_of_reads_every_object(source: mssql.MSSQLSource) -> None:
    assert source.schema_of(TableRef(None, "Orders")) == TableSchema(
        TableRef("dbo", "Orders"),
        "tsql",
        (
            ColumnDef("OrderId", False, None, True, type="int", pg_type="integer"),
            ColumnDef("CustomerId", False, type="int", pg_type="integer"),
            ColumnDef("Status", False, "N'new'", type="nvarchar(20)", pg_type="varchar(20)"),
            ColumnDef("Total", False, "0", type="money", pg_type="numeric(19,4)"),
            ColumnDef("PlacedAt", False, "sysdatetime()", type="datetime2(7)", pg_type="timestamp(6)"),
            ColumnDef("Note", True, comment="as typed by the clerk", type="nvarchar(max)", pg_type="text"),
        ),
        ("OrderId",),
        uniques=(IndexDef("UQ_Orders_Status", ("Status",), unique=True, where="[Status]<>N'void'"),),
        indexes=(
            IndexDef("CS_Orders", ("Total",), method="columnstore"),
            IndexDef("IX_Orders_Customer", ("CustomerId", "PlacedAt"), descending=(False, True), include=("Total",)),
        ),
        checks=(CheckDef("CK_Orders_Total", "[Total]>=(0)"),),
        foreign_keys=(
            ForeignKeyDef(
                "FK_Orders_Customers",
                ("CustomerId",),
                TableRef("dbo", "Customers"),
                ("CustomerId",),
                "CASCADE",
                "NO ACTION",
            ),
        ),
        comment="Orders placed",
    )


def test_what_sql_server_has_is_translated_for_postgresql(source: mssql.MSSQLSource) -> None:
    schema = source.schema_of(TableRef(None, "Orders"))
    columns = {c.name: c.name for c in schema.columns}
    tables = {schema.table: TableRef("public", "orders"), TableRef("dbo", "Customers"): TableRef("public", "customers")}
    built = {
        (o.kind, o.name): o.sql or o.skipped
        for o in schema_objects(schema, TableRef("public", "orders"), columns, tables)
    }
    assert built[("default", "Status")] == """ALTER TABLE "public"."orders" ALTER COLUMN "Status" SET DEFAULT 'new'"""
    assert (
        built[("default", "PlacedAt")]
        == 'ALTER TABLE "public"."orders" ALTER COLUMN "PlacedAt" SET DEFAULT CURRENT_TIMESTAMP'
    )
    assert (
        built[("unique", "UQ_Orders_Status")]
        == """CREATE UNIQUE INDEX "UQ_Orders_Status" ON "public"."orders" ("Status") WHERE "Status" <> 'void'"""
    )
    assert (
        built[("index", "IX_Orders_Customer")]
        == 'CREATE INDEX "IX_Orders_Customer" ON "public"."orders" ("CustomerId", "PlacedAt" DESC) INCLUDE ("Total")'
    )
    assert built[("index", "CS_Orders")] == "a columnstore index, which PostgreSQL does not have"
    assert (
        built[("check", "CK_Orders_Total")]
        == 'ALTER TABLE "public"."orders" ADD CONSTRAINT "CK_Orders_Total" CHECK ("Total" >= (0))'
    )
    assert built[("foreign_key", "FK_Orders_Customers")] == (
        'ALTER TABLE "public"."orders" ADD CONSTRAINT "FK_Orders_Customers" FOREIGN KEY ("CustomerId") '
        'REFERENCES "public"."customers" ("CustomerId") ON DELETE CASCADE'
    )
    assert built[("comment", "Note")] == """COMMENT ON COLUMN "public"."orders"."Note" IS 'as typed by the clerk'"""
