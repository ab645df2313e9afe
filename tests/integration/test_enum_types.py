"""ENUM columns in the tables the load creates: text and a CHECK on the labels (enums: check, the default), or a
PostgreSQL enum type of those labels in their order (enums: type); MariaDB and PostgreSQL sources."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.runtime.report import format_report

from . import whole_schema
from .conftest import TARGET_CONN, Source
from .runner import TargetDB, run_pipeline

pytestmark = pytest.mark.integration
LABELS = ["happy", "sad", "it's"]
INVALID = "'' is not a label of the source ENUM ('happy','sad'): MySQL stores a value it could not take as ''"


def _project(source: Source, table: str, enums: str = "", *, transformed: bool = False, max_rejects: int = 0) -> str:
    option = f"\n    enums: {enums}" if enums else ""
    note = "\n              - {source: note, transform: [trim]}" if transformed else ""
    return f"""\
name: enums_it
pipelines:
  - name: enums
    source_conn_id: {source.conn_id}
    target_conn_id: {TARGET_CONN}{option}
    tables:
      - source: {source.schema}.{table}
        targets:
          - table: landing.{table}
            keys: [id]
            max_rejects: {max_rejects}
            columns:
              - {{source: id}}
              - {{source: mood}}{note}
"""


def _kinds(source: Source) -> None:
    """A table with an ENUM column of three labels, one holding a quote."""
    if source.engine == "postgres":
        source.db.execute("CREATE TYPE feeling AS ENUM ('happy', 'sad', 'it''s')")
        source.db.execute("CREATE TABLE kinds (id integer PRIMARY KEY, mood feeling)")
    else:
        source.db.execute("CREATE TABLE kinds (id INT PRIMARY KEY, mood ENUM('happy','sad','it''s'))")
    source.db.execute("INSERT INTO kinds VALUES (1, 'it''s'), (2, 'happy'), (3, NULL)")


def _moods(source: Source) -> None:
    """'angry' is no label: with a permissive sql_mode MariaDB stores it as '' (the invalid value, index 0)."""
    source.db.execute("CREATE TABLE moods (id INT PRIMARY KEY, mood ENUM('happy','sad'), note VARCHAR(10))")
    source.db.execute("SET SESSION sql_mode = ''")
    source.db.execute(
        "INSERT INTO moods VALUES (1, 'happy', 'a'), (2, 'angry', ' b '), (3, NULL, 'c'), (4, 'sad', 'd')"
    )


def _labels(target: TargetDB, type_name: str) -> list[str]:
    return [
        r[0]
        for r in target.rows(
            "SELECT enumlabel FROM pg_enum WHERE enumtypid = to_regtype(%s) ORDER BY enumsortorder", (type_name,)
        )
    ]


def _checks(target: TargetDB, table: str) -> list[str]:
    return [
        r[0]
        for r in target.rows(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'c'",
            (table,),
        )
    ]


def _report(target: TargetDB, run_id: str) -> dict[str, Any]:
    report: dict[str, Any] = target.scalar("SELECT report FROM databridge.reports WHERE run_id = %s", (run_id,))
    return report


@pytest.mark.parametrize("source", ["mysql", "postgres"], indirect=True)
def test_enums_type_gives_the_column_an_enum_of_the_source_labels_in_order(source: Source, target: TargetDB) -> None:
    _kinds(source)
    results = run_pipeline(_project(source, "kinds", "type"), "type-1")

    assert results["validate"]["passed"] == results["validate"]["checks"]
    assert target.column_types("landing", "kinds") == {"id": "integer", "mood": "landing.kinds_mood"}
    assert _labels(target, "landing.kinds_mood") == LABELS
    assert target.rows("SELECT id, mood::text FROM landing.kinds ORDER BY id") == [(1, "it's"), (2, "happy"), (3, None)]
    assert _checks(target, "landing.kinds") == [], "the type holds the labels: no CHECK"
    report = _report(target, "type-1")
    assert report["tables"][0]["enum_types"] == [
        {"column": "mood", "type": "landing.kinds_mood", "labels": LABELS, "status": "created"}
    ]
    assert "  landing.kinds.mood: landing.kinds_mood ('happy', 'sad', 'it''s'), created" in format_report(report)


@pytest.mark.parametrize("source", ["mysql", "postgres"], indirect=True)
def test_a_second_run_replaces_the_rows_and_keeps_the_type(source: Source, target: TargetDB) -> None:
    _kinds(source)
    run_pipeline(_project(source, "kinds", "type"), "type-1")
    source.db.execute("INSERT INTO kinds VALUES (4, 'sad')")
    results = run_pipeline(_project(source, "kinds", "type"), "type-2")

    assert results["report"]["succeeded"] is True
    assert target.column_types("landing", "kinds")["mood"] == "landing.kinds_mood"
    assert target.rows("SELECT id, mood::text FROM landing.kinds ORDER BY id") == [
        (1, "it's"),
        (2, "happy"),
        (3, None),
        (4, "sad"),
    ]
    assert target.scalar("SELECT count(*) FROM pg_type WHERE typname = 'kinds_mood'") == 1
    assert _report(target, "type-2")["tables"][0]["enum_types"] == []  # the table was there: nothing made
    assert results["validate"]["passed"] == results["validate"]["checks"]


@pytest.mark.parametrize("source", ["mysql", "postgres"], indirect=True)
def test_the_default_is_text_with_a_check_on_the_labels(source: Source, target: TargetDB) -> None:
    _kinds(source)
    run_pipeline(_project(source, "kinds"), "check-1")

    assert target.column_types("landing", "kinds")["mood"] == "text"
    assert _checks(target, "landing.kinds") == [
        "CHECK ((mood = ANY (ARRAY['happy'::text, 'sad'::text, 'it''s'::text])))"
    ]
    assert target.scalar("SELECT count(*) FROM pg_type WHERE typname = 'kinds_mood'") == 0
    assert _report(target, "check-1")["tables"][0]["enum_types"] == []


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
@pytest.mark.parametrize("transformed", [False, True], ids=["pass-through", "transformed"])
def test_an_invalid_enum_value_is_a_rejected_row_naming_column_and_value(
    source: Source, target: TargetDB, transformed: bool
) -> None:
    _moods(source)
    project = _project(source, "moods", "type", transformed=transformed, max_rejects=1)
    first = run_pipeline(project, "bad-1")

    assert target.column_types("landing", "moods")["mood"] == "landing.moods_mood"
    assert target.rows("SELECT id, mood::text FROM landing.moods ORDER BY id") == [(1, "happy"), (3, None), (4, "sad")]
    assert target.rows(
        "SELECT stage, column_name, reason, row_data->>'id' FROM databridge.rejects WHERE run_id = 'bad-1'"
    ) == [("load", "mood", INVALID, "2")]
    assert first["load_facts"]["landing.moods"]["rejected_rows"] == 1

    second = run_pipeline(project, "bad-2")  # the table is there: the value does not convert to its enum type
    assert target.rows(
        "SELECT stage, column_name, reason, row_data->>'id' FROM databridge.rejects WHERE run_id = 'bad-2'"
    ) == [
        ("load", "mood", 'invalid input value for enum landing.moods_mood: ""', "2"),
    ]
    assert second["load_facts"]["landing.moods"]["rejected_rows"] == 1
    assert target.rows("SELECT id, mood::text FROM landing.moods ORDER BY id") == [(1, "happy"), (3, None), (4, "sad")]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_type_of_that_name_is_reused_with_the_same_labels_and_refused_with_others(
    source: Source, target: TargetDB
) -> None:
    _kinds(source)
    target.execute("CREATE SCHEMA landing")
    target.execute("CREATE TYPE landing.kinds_mood AS ENUM ('happy', 'sad', 'it''s')")
    run_pipeline(_project(source, "kinds", "type"), "reuse-1")
    assert _report(target, "reuse-1")["tables"][0]["enum_types"][0]["status"] == "reused"

    target.execute("DROP TABLE landing.kinds")
    target.execute("DROP TYPE landing.kinds_mood")
    target.execute("CREATE TYPE landing.kinds_mood AS ENUM ('sad', 'happy', 'it''s')")
    with pytest.raises(AirflowFailException) as failed:
        run_pipeline(_project(source, "kinds", "type"), "reuse-2")
    assert str(failed.value) == (
        "landing.kinds.mood (enums: type): the type landing.kinds_mood exists and is an enum of the labels ('sad', "
        "'happy', 'it''s'), not the source ENUM's ('happy', 'sad', 'it''s') in their order; drop or rename that "
        "type, or set the pipeline's enums: check"
    )
    assert target.tables("landing") == []


@pytest.mark.parametrize("source", ["mysql", "postgres"], indirect=True)
def test_a_whole_database_with_enums_type_rebuilds_its_schema_over_the_types(source: Source, target: TargetDB) -> None:
    whole_schema.create(source.db)
    whole_schema.insert_rows(source.db)
    project = f"""\
name: whole_enums_it
pipelines:
  - name: shop
    source_conn_id: {source.conn_id}
    target_conn_id: {TARGET_CONN}
    include: ["{source.schema}.*"]
    target_schema: shop
    enums: type
"""
    results = run_pipeline(project, "whole-1")

    assert results["report"]["succeeded"] is True and results["validate"]["passed"] == results["validate"]["checks"]
    objects = [
        o
        for (found,) in target.rows(
            "SELECT detail->'objects' FROM databridge.table_stats WHERE stage = 'schema' AND run_id = 'whole-1'"
        )
        for o in found
    ]
    assert [o for o in objects if o["status"] == "failed"] == []
    assert target.column_types("shop", "Customers")["Status"] == 'shop."Customers_Status"'
    assert target.column_types("shop", "orders")["status"] == "shop.orders_status"
    assert _labels(target, 'shop."Customers_Status"') == ["active", "blocked"] and _labels(
        target, "shop.orders_status"
    ) == ["new", "paid", "shipped"]
    typed = {
        (t["target"], e["type"], e["status"]) for t in _report(target, "whole-1")["tables"] for e in t["enum_types"]
    }
    assert typed == {
        ("shop.Customers", "shop.Customers_Status", "created"),
        ("shop.orders", "shop.orders_status", "created"),
    }
    target.execute(
        """INSERT INTO shop."Customers" ("Email", "FirstName") VALUES ('new@example.com', 'New')"""
    )  # the default, as the enum
    assert (
        target.scalar("""SELECT "Status"::text FROM shop."Customers" WHERE "Email" = 'new@example.com'""") == "active"
    )


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_label_longer_than_postgresql_holds_fails_the_load_saying_to_use_check(
    source: Source, target: TargetDB
) -> None:
    label = "x" * 70
    source.db.execute(f"CREATE TABLE kinds (id INT PRIMARY KEY, mood ENUM('a', '{label}'))")
    source.db.execute("INSERT INTO kinds VALUES (1, 'a')")
    with pytest.raises(AirflowFailException) as failed:
        run_pipeline(_project(source, "kinds", "type"), "long-1")
    assert str(failed.value) == (
        f"landing.kinds.mood (enums: type): the label '{label}' is 70 bytes, and a PostgreSQL enum label holds at "
        "most 63; set the pipeline's enums: check (text with a CHECK on the labels)"
    )
    assert target.tables("landing") == []


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_type_that_would_take_a_target_tables_name_fails_the_load_naming_both(
    source: Source, target: TargetDB
) -> None:
    _kinds(source)
    source.db.execute("CREATE TABLE kinds_mood (id INT PRIMARY KEY)")
    project = (
        _project(source, "kinds", "type")
        + f"""\
      - source: {source.schema}.kinds_mood
        targets:
          - table: landing.kinds_mood
            keys: [id]
            columns: [{{source: id}}]
"""
    )
    with pytest.raises(AirflowFailException) as failed:
        run_pipeline(project, "name-1")
    assert str(failed.value) == (
        "landing.kinds.mood (enums: type): its type would be landing.kinds_mood, "
        "the name of this pipeline's target table "
        "landing.kinds_mood (a table is a type too); rename the table or the column, or set the pipeline's enums: check"
    )
