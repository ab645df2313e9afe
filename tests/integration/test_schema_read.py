"""The whole shop's schema (whole_schema.py) read back by every SQL source's ``schema_of``, exactly; then translated by
compiler/schema_ddl.py and built on bare PostgreSQL tables, whose catalog must then hold the same objects."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import TableRef
from databridge.compiler.schema_ddl import AFTER, CREATE, ON_UPDATE_REASON, SchemaObject, relation_names, schema_objects
from databridge.engines import open_source
from databridge.engines.base import ConnectionInfo, SourceEngine
from databridge.engines.postgres import PostgresSource
from databridge.engines.schema import IndexDef, TableSchema
from databridge.errors import EngineError
from databridge.operators.base import connection_info
from tests.conftest import PG, pg_connect

from . import whole_schema
from .conftest import Source
from .mongo_source import mongo_client, mongo_conn_fields, mongo_database

__all__ = ["mongo_database"]  # the fixture, used by name

pytestmark = pytest.mark.integration


@pytest.fixture
def shop_schema(source: Source) -> Iterator[SourceEngine]:
    """The whole shop created in the source (no rows), and the source engine opened on it."""
    whole_schema.create(source.db)
    engine = open_source(connection_info(source.conn_id))
    yield engine
    engine.close()


def test_schema_of_reads_every_object_exactly(shop_schema: SourceEngine, source: Source) -> None:
    expected = whole_schema.expected(source.engine, source.schema)
    for name, table in expected.items():
        staged = shop_schema.columns(TableRef(None, name))
        typed = tuple(
            dataclasses.replace(c, type=s.native_type, pg_type=s.pg_type)
            for c, s in zip(table.columns, staged, strict=True)
        )
        assert shop_schema.schema_of(TableRef(None, name)) == dataclasses.replace(table, columns=typed), name


def test_an_absent_table_is_a_permanent_error_naming_the_close_one(shop_schema: SourceEngine) -> None:
    with pytest.raises(
        EngineError, match=r"source table .*\.Customer does not exist .*did you mean 'Customers'"
    ) as caught:
        shop_schema.schema_of(TableRef(None, "Customer"))
    assert not caught.value.transient


def test_documents_have_columns_and_a_key_but_no_catalog(mongo_database: str) -> None:
    mongo_client()[mongo_database].people.insert_many([{"_id": 1, "name": "Ann", "tags": ["a"]}, {"_id": 2}])
    from databridge.engines.mongo import MongoSource

    fields = mongo_conn_fields(mongo_database)
    engine = MongoSource(ConnectionInfo("it_mongo", "mongo", fields["host"], fields["port"], database=mongo_database))
    schema = engine.schema_of(TableRef(mongo_database, "people"))
    engine.close()
    assert (schema.table, schema.primary_key, schema.dialect) == (TableRef(mongo_database, "people"), ("_id",), "")
    assert [(c.name, c.nullable, c.pg_type) for c in schema.columns] == [
        ("_id", False, "integer"),
        ("name", True, "text"),
        ("tags", True, "jsonb"),
    ]
    assert (schema.uniques, schema.indexes, schema.checks, schema.foreign_keys, schema.comment) == ((), (), (), (), "")


# --- built in PostgreSQL --------------------------------------------------------------------------------------------

SKIPPED = {
    "mysql": {
        ("Customers", "default", "UpdatedAt"): ON_UPDATE_REASON,
        ("settings", "default", "updated_at"): ON_UPDATE_REASON,
    },
    "postgres": {
        (
            "categories",
            "default",
            "id",
        ): "the column is an identity: its values come from its own sequence (the identity object)",
    },
    "sqlite": {},
}
"""What each source's shop cannot have rebuilt, and why."""


@pytest.fixture
def rebuilt(
    shop_schema: SourceEngine, pg_database: str
) -> Iterator[tuple[dict[str, TableSchema], dict[str, list[SchemaObject]], psycopg.Connection[Any]]]:
    """Every table's TableSchema, its objects, and the target database where they were built around ROWS."""
    schemas = {t.name: shop_schema.schema_of(TableRef(None, t.name)) for t in whole_schema.TABLES}
    tables = {s.table: TableRef("public", name) for name, s in schemas.items()}
    taken: set[str] = set(schemas)
    objects: dict[str, list[SchemaObject]] = {}
    for name, schema in schemas.items():
        objects[name] = schema_objects(
            schema, tables[schema.table], {c.name: c.name for c in schema.columns}, tables, taken=taken
        )
        taken |= relation_names(objects[name])
    with pg_connect(pg_database) as conn:
        for name, schema in schemas.items():
            conn.execute(_bare_table(name, schema))
            _build(conn, objects[name], lambda o: o.phase == CREATE)
            _insert_rows(conn, name)
        for name in schemas:
            _build(conn, objects[name], lambda o: o.phase == AFTER and o.kind != "foreign_key")
        for name in schemas:
            _build(conn, objects[name], lambda o: o.kind == "foreign_key")
        yield schemas, objects, conn


def _bare_table(name: str, schema: TableSchema) -> str:
    """The target table as the load creates it: the staging types, the primary key, nothing else."""
    columns = [f"{quote_ident(c.name)} {c.pg_type}" for c in schema.columns]
    key = f", PRIMARY KEY ({', '.join(map(quote_ident, schema.primary_key))})" if schema.primary_key else ""
    return f"CREATE TABLE {qualified('public', name)} ({', '.join(columns)}{key})"


def _build(conn: psycopg.Connection[Any], objects: list[SchemaObject], which: Any) -> None:
    for item in objects:
        if item.sql and which(item):
            conn.execute(item.sql)


def _insert_rows(conn: psycopg.Connection[Any], name: str) -> None:
    columns, rows = whole_schema.pg_rows(name)
    statement = (
        f"INSERT INTO {qualified('public', name)} ({', '.join(map(quote_ident, columns))}) VALUES "
        f"({', '.join(['%s'] * len(columns))})"
    )
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


def _target(conn: psycopg.Connection[Any]) -> PostgresSource:
    info = ConnectionInfo(
        "target", "postgres", host=PG["host"], port=PG["port"], login=PG["user"], database=conn.info.dbname
    )
    return PostgresSource(info)


def test_every_skipped_object_says_why_and_only_the_expected_ones_are_skipped(rebuilt: Any, source: Source) -> None:
    _schemas, objects, _conn = rebuilt
    skipped = {(name, o.kind, o.name): o.skipped for name, found in objects.items() for o in found if o.sql is None}
    assert skipped == SKIPPED[source.engine]
    assert all((o.sql is None) != (o.skipped is None) for found in objects.values() for o in found)


def test_the_target_catalog_holds_the_source_objects(rebuilt: Any, source: Source) -> None:
    schemas, objects, conn = rebuilt
    target = _target(conn)
    for name, schema in schemas.items():
        built = target.schema_of(TableRef("public", name))
        assert [(c.name, c.nullable, c.identity, c.comment) for c in built.columns] == [
            (c.name, c.nullable, c.identity, c.comment) for c in schema.columns
        ], name
        assert _defaulted(built) == {o.name for o in objects[name] if o.kind == "default" and o.sql}, name
        assert built.primary_key == schema.primary_key and built.comment == schema.comment, name
        assert _shapes(built.uniques) == _shapes(schema.uniques), name
        assert _shapes(built.indexes) == _shapes(schema.indexes), name
        assert {c.name for c in built.checks} == _built(objects[name], "check", "enum_check"), name
        assert _keys(built) == _keys(schema), name
        assert {k.name for k in built.foreign_keys} == _built(objects[name], "foreign_key"), name
        assert {i.name for i in (*built.uniques, *built.indexes)} == _built(objects[name], "unique", "index"), name
    target.close()


EXPRESSION_INDEX = {
    "postgres": 'CREATE INDEX "ix_customers_email_lower" ON "public"."Customers" ((LOWER(CAST("Email" AS TEXT))))',
    "sqlite": 'CREATE INDEX "ix_customers_email_lower" ON "public"."Customers" ((LOWER("Email")))',
}


def test_prefix_expression_and_renamed_indexes_say_how_they_were_built(rebuilt: Any, source: Source) -> None:
    _schemas, objects, _conn = rebuilt
    notes = {(o.name, o.note) for found in objects.values() for o in found if o.note and o.kind in ("unique", "index")}
    if source.engine == "mysql":  # MariaDB names indexes per table: the second ix_created is renamed in the schema
        assert notes == {
            (
                "ix_customers_lastname_prefix",
                "built as a full-column index (MySQL indexed the first 10 characters of 'LastName')",
            ),
            (
                "audit_log_happened_at_idx",
                "named audit_log_happened_at_idx: the source's name 'ix_created' is taken in the target schema",
            ),
        }
        return
    assert notes == set()
    assert (
        next(o.sql for o in objects["Customers"] if o.name == "ix_customers_email_lower")
        == EXPRESSION_INDEX[source.engine]
    )
    cheap = next(o.sql for o in objects["products"] if o.name == "ix_products_cheap")
    assert cheap is not None and cheap.endswith(
        '("price") WHERE "price" < ' + ("CAST(10 AS DECIMAL)" if source.engine == "postgres" else "10")
    )


def test_identity_continues_after_the_largest_loaded_key(rebuilt: Any) -> None:
    _schemas, _objects, conn = rebuilt
    new_customer = conn.execute(
        """INSERT INTO "Customers" ("Email", "FirstName") VALUES ('new@example.com', 'New')
        RETURNING "CustomerId", "Status", "CreatedAt" IS NOT NULL"""
    ).fetchone()
    assert new_customer == (6, "active", True)
    assert conn.execute("INSERT INTO categories (name) VALUES ('Toys') RETURNING id").fetchone() == (4,)
    assert conn.execute(
        "INSERT INTO audit_log (table_name) VALUES ('x') RETURNING id, happened_at IS NOT NULL"
    ).fetchone() == (42, True)
    assert conn.execute(
        "INSERT INTO settings (setting_key) VALUES ('k') RETURNING ratio, retries, enabled, note"
    ).fetchone() == (3.5, -1, True, "it's")


def test_the_rebuilt_rules_refuse_what_the_source_refused(rebuilt: Any, source: Source) -> None:
    _schemas, _objects, conn = rebuilt
    refused = [
        """INSERT INTO "Customers" ("Email", "FirstName") VALUES ('ann@example.com', 'Dup')""",  # UNIQUE
        """INSERT INTO orders (customer_id, total) VALUES (1, -1)""",  # CHECK
        """INSERT INTO orders (customer_id, status) VALUES (1, 'lost')""",  # ENUM (a CHECK on its labels)
        """INSERT INTO order_items (order_id, line_no, sku, unit_price) VALUES (999, 1, 'MUG-1', 1)""",  # foreign key
        """UPDATE departments SET manager_id = 999 WHERE id = 1""",  # the cycle's key
        """INSERT INTO "Reviews" ("ProductSku", "CustomerId", "Rating") VALUES ('MUG-1', 2, 6)""",  # BETWEEN
    ]
    for statement in refused:
        with pytest.raises(psycopg.IntegrityError), conn.transaction():
            conn.execute(statement)
    conn.execute("""DELETE FROM "Customers" WHERE "CustomerId" = 2""")  # cascades to addresses, sets ReferredBy NULL
    assert conn.execute("SELECT count(*) FROM addresses").fetchone() == (0,)
    assert conn.execute("""SELECT "ReferredBy" FROM "Customers" WHERE "CustomerId" = 5""").fetchone() == (None,)


def _defaulted(schema: TableSchema) -> set[str]:
    return {c.name for c in schema.columns if c.default is not None and not c.identity}


def _shapes(indexes: tuple[IndexDef, ...]) -> set[tuple[Any, ...]]:
    """An index as what it does: columns (an expression as its position), uniqueness, order, partial or not."""
    return {(i.columns, i.unique, i.descending, i.where is not None, len(i.include)) for i in indexes}


def _built(objects: list[SchemaObject], *kinds: str) -> set[str]:
    return {o.name for o in objects if o.kind in kinds and o.sql and o.phase == AFTER}


def _keys(schema: TableSchema) -> set[tuple[Any, ...]]:
    return {(k.columns, k.references.name, k.referenced_columns, k.on_delete, k.on_update) for k in schema.foreign_keys}
