"""Discovery on every SQL source: schemas, tables, columns with types and defaults, keys, and the catalog's row
estimate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from databridge.compiler.plan import TableRef
from databridge.engines import open_source
from databridge.engines.base import ColumnInfo, ForeignKeyInfo, SourceEngine
from databridge.errors import EngineError
from databridge.operators.base import connection_info
from tests.conftest import unique_name

from .conftest import Source

pytestmark = pytest.mark.integration

DDL = {
    "postgres": [
        'CREATE SCHEMA "{s}"',
        'CREATE TABLE "{s}"."Customers" (id integer PRIMARY KEY, name varchar(50) NOT NULL DEFAULT \'x\')',
        'CREATE TABLE "{s}"."Order Items" (order_id integer, line_no integer, customer_id integer REFERENCES '
        '"{s}"."Customers" (id), '
        "qty integer DEFAULT 1, price numeric(10,2), PRIMARY KEY (order_id, line_no))",
        "INSERT INTO \"{s}\".\"Customers\" VALUES (1, 'a'), (2, 'b')",
        'INSERT INTO "{s}"."Order Items" VALUES (1, 1, 1, 2, 9.99), (1, 2, 2, 1, 0.5), (2, 1, NULL, 3, NULL)',
        'ANALYZE "{s}"."Order Items"',
    ],
    "mysql": [
        "CREATE DATABASE `{s}`",
        "CREATE TABLE `{s}`.`Customers` (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT 'x')",
        "CREATE TABLE `{s}`.`Order Items` (order_id INT, line_no INT, customer_id INT, qty INT DEFAULT 1, price "
        "DECIMAL(10,2), PRIMARY KEY (order_id, line_no), FOREIGN KEY (customer_id) REFERENCES `{s}`.`Customers` (id))",
        "INSERT INTO `{s}`.`Customers` VALUES (1, 'a'), (2, 'b')",
        "INSERT INTO `{s}`.`Order Items` VALUES (1, 1, 1, 2, 9.99), (1, 2, 2, 1, 0.5), (2, 1, NULL, 3, NULL)",
        "ANALYZE TABLE `{s}`.`Order Items`",
    ],
    "sqlite": [
        "CREATE TABLE \"Customers\" (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL DEFAULT 'x')",
        'CREATE TABLE "Order Items" (order_id INTEGER, line_no INTEGER, customer_id INTEGER REFERENCES "Customers", '
        "qty INTEGER DEFAULT 1, price NUMERIC(10,2), PRIMARY KEY (order_id, line_no))",
        "INSERT INTO \"Customers\" VALUES (1, 'a'), (2, 'b')",
        'INSERT INTO "Order Items" VALUES (1, 1, 1, 2, 9.99), (1, 2, 2, 1, 0.5), (2, 1, NULL, 3, NULL)',
        "ANALYZE",
    ],
}
# (native type, pg_type, default of qty) per engine
TYPES = {
    "postgres": ("integer", "integer", "numeric(10,2)", "numeric(10,2)", "1"),
    "mysql": ("int(11)", "integer", "decimal(10,2)", "numeric(10,2)", "1"),
    "sqlite": ("INTEGER", "bigint", "NUMERIC(10,2)", "numeric(10,2)", "1"),
}


@pytest.fixture
def staging(source: Source) -> Iterator[tuple[SourceEngine, str]]:
    """The source engine opened on a schema spelled with a capital ("Staging"; SQLite has only main)."""
    schema = {"postgres": "Staging", "mysql": unique_name("Staging"), "sqlite": "main"}[source.engine]
    for statement in DDL[source.engine]:
        source.db.execute(statement.format(s=schema))
    engine = open_source(connection_info(source.conn_id))
    yield engine, schema
    engine.close()
    if source.engine == "mysql":
        source.db.execute(f"DROP DATABASE `{schema}`")


def test_describe_gives_columns_keys_and_the_estimated_row_count(
    staging: tuple[SourceEngine, str], source: Source
) -> None:
    engine, schema = staging
    integer, pg_integer, decimal, pg_decimal, qty_default = TYPES[source.engine]
    info = engine.describe(TableRef(schema, "Order Items"))
    assert _plain(info.columns) == [
        ("order_id", integer, False, None, pg_integer),
        ("line_no", integer, False, None, pg_integer),
        ("customer_id", integer, True, None, pg_integer),
        ("qty", integer, True, qty_default, pg_integer),
        ("price", decimal, True, None, pg_decimal),
    ]
    assert all(c.note for c in info.columns), "every column says what is done to its values"
    assert (info.schema, info.name, info.primary_key) == (schema, "Order Items", ("order_id", "line_no"))
    assert info.foreign_keys == (ForeignKeyInfo(("customer_id",), f"{schema}.Customers", ("id",)),)
    assert info.approx_rows == 3


def test_string_defaults_and_a_single_column_key(staging: tuple[SourceEngine, str], source: Source) -> None:
    engine, schema = staging
    info = engine.describe(TableRef(schema, "Customers"))
    default = {"postgres": "'x'::character varying", "mysql": "'x'", "sqlite": "'x'"}[source.engine]
    assert info.columns[1].default == default
    assert (info.columns[1].nullable, info.columns[1].pg_type) == (
        False,
        "varchar(50)" if source.engine != "postgres" else "character varying(50)",
    )
    assert (info.primary_key, info.foreign_keys) == (("id",), ())


def test_schemas_and_tables_list_the_odd_names(staging: tuple[SourceEngine, str], source: Source) -> None:
    engine, schema = staging
    assert schema in engine.schemas()
    assert not {"information_schema", "pg_catalog", "mysql", "performance_schema", "sys", "temp"} & set(
        engine.schemas()
    )
    assert engine.tables(schema) == ["Customers", "Order Items"]


def test_describing_an_absent_table_suggests_the_close_name(staging: tuple[SourceEngine, str]) -> None:
    engine, schema = staging
    with pytest.raises(EngineError, match=r"source table .*\.Order Item does not exist .*did you mean 'Order Items'"):
        engine.describe(TableRef(schema, "Order Item"))


def _plain(columns: tuple[ColumnInfo, ...]) -> list[tuple[object, ...]]:
    return [(c.name, c.native_type, c.nullable, c.default, c.pg_type) for c in columns]
