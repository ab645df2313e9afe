"""A whole database, schema and all, through the six real stages from a project of a few lines: every source object
is rebuilt on the created tables or listed as skipped with its reason, and the target holds what the source held."""

from __future__ import annotations

from typing import Any

import pytest

from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo
from databridge.engines.postgres import PostgresSource
from databridge.runtime.report import format_report
from tests.conftest import PG

from . import whole_schema
from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import TargetDB, run_pipeline

pytestmark = pytest.mark.integration


def _project(source: Source, rebuild: str = "") -> str:
    return f"""\
name: whole_it
pipelines:
  - name: shop
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    include: ["{source.schema}.*"]
    target_schema: shop{rebuild}
"""


@pytest.fixture
def whole(source: Source) -> Source:
    whole_schema.create(source.db)
    whole_schema.insert_rows(source.db)
    return source


def _objects(target: TargetDB, run_id: str) -> list[dict[str, Any]]:
    rows = target.rows(
        "SELECT detail->'objects' FROM databridge.table_stats WHERE stage = 'schema' AND run_id = %s", (run_id,)
    )
    return [o for (objects,) in rows for o in objects]


def _target_schema(target: TargetDB, name: str) -> Any:
    info = ConnectionInfo("t", "postgres", PG["host"], PG["port"], PG["user"], database=target.dbname)
    engine = PostgresSource(info)
    try:
        return engine.schema_of(TableRef("shop", name))
    finally:
        engine.close()


@pytest.mark.parametrize("source", ["postgres", "mysql", "sqlite"], indirect=True)
def test_a_whole_database_is_migrated_with_its_schema(whole: Source, target: TargetDB) -> None:
    results = run_pipeline(_project(whole), "run-1")

    assert results["report"]["succeeded"], results["report"]
    assert results["validate"]["passed"] == results["validate"]["checks"]
    objects = _objects(target, "run-1")
    assert [o for o in objects if o["status"] == "failed"] == []
    assert all(o["reason"] for o in objects if o["status"] == "skipped")
    expected = whole_schema.expected(whole.engine, whole.schema)
    for name, source_schema in expected.items():
        rebuilt = _target_schema(target, name)
        assert {c.name for c in rebuilt.columns if not c.nullable} >= {
            c.name for c in source_schema.columns if not c.nullable
        }, name
        assert len(rebuilt.foreign_keys) == len(source_schema.foreign_keys), name
        assert len(rebuilt.uniques) == len(source_schema.uniques), name
        assert {c.name for c in rebuilt.columns if c.identity} == {
            c.name for c in source_schema.columns if c.identity
        }, name
        comments = {c.name: c.comment for c in rebuilt.columns}
        assert {c.name: comments[c.name] for c in source_schema.columns if c.comment} == {
            c.name: c.comment for c in source_schema.columns if c.comment
        }, name
        assert rebuilt.comment == source_schema.comment, name


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_identity_continues_past_the_largest_loaded_key(whole: Source, target: TargetDB) -> None:
    run_pipeline(_project(whole), "run-1")
    largest = target.scalar('SELECT max("CustomerId") FROM shop."Customers"')
    target.execute(
        """INSERT INTO shop."Customers" ("Email", "FirstName", "Status") VALUES ('new@example.com', 'New', 'active')"""
    )
    assert (
        target.scalar("""SELECT "CustomerId" FROM shop."Customers" WHERE "Email" = 'new@example.com'""") == largest + 1
    )


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_data_only_builds_columns_and_keys_alone(whole: Source, target: TargetDB) -> None:
    run_pipeline(_project(whole, "\n    schema_rebuild: data_only"), "run-1")
    assert _objects(target, "run-1") == []
    assert (
        target.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'shop'::regnamespace")
        == 0
    )


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_the_report_lists_what_was_built_and_what_was_skipped_and_why(whole: Source, target: TargetDB) -> None:
    run_pipeline(_project(whole), "run-1")
    report = target.scalar("SELECT report FROM databridge.reports WHERE run_id = 'run-1'")
    customers = report["schema_objects"]["shop.Customers"]
    assert customers["built"] > 5 and customers["built_by_kind"]["foreign_key"] == 1
    assert {
        "kind": "default",
        "name": "UpdatedAt",
        "source": customers["not_built"][0]["source"],
        "status": "skipped",
        "reason": "PostgreSQL has no ON UPDATE for columns; a trigger would be needed",
    } in customers["not_built"]
    text = format_report(report)
    assert "Schema objects rebuilt from the source (schema_rebuild: full):" in text
    assert "skipped: default" in text and "PostgreSQL has no ON UPDATE for columns" in text
