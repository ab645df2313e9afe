"""The data-aware lint against real MariaDB, SQLite and PostgreSQL: one dirty column per rule, and a clean table."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
import yaml

from databridge.cli import main
from databridge.compiler import compile_project
from databridge.compiler.plan import PipelinePlan
from databridge.engines import open_source, open_target
from databridge.engines.base import ConnectionInfo, SourceOptions
from databridge.engines.postgres import PostgresTarget
from databridge.lint import LintProblem, lint_pipeline
from databridge.spec import parse_project
from tests.conftest import MYSQL, PG, pg_connect

pytestmark = pytest.mark.integration

SECRET = "Lint-s3cr3t-Pw-91"


def plan_for(tables: list[dict[str, Any]], **options: Any) -> PipelinePlan:
    pipeline: dict[str, Any] = {
        "name": "p",
        "source_conn_id": "lint_src",
        "target_conn_id": "lint_tgt",
        "tables": tables,
    }
    if options:
        pipeline["source_options"] = options
    text = yaml.safe_dump({"name": "lint_it", "pipelines": [pipeline]})
    return compile_project(parse_project(text, "lint_it.yaml"), "lint_it.yaml").pipelines[0]


def table(source: str, target: str, columns: list[dict[str, Any]]) -> dict[str, Any]:
    return {"source": source, "targets": [{"table": target, "columns": columns}]}


def found(problems: list[LintProblem]) -> set[tuple[str, str, str, tuple[str, ...]]]:
    return {(p.severity, p.kind, p.column, p.examples) for p in problems}


def lint(plan: PipelinePlan, info: ConnectionInfo, target: PostgresTarget | None, **kwargs: Any) -> list[LintProblem]:
    source = open_source(info, SourceOptions(zero_dates=plan.zero_dates, naive_timezone=plan.naive_timezone))
    try:
        return lint_pipeline(plan, source, target, **kwargs)
    finally:
        source.close()


@pytest.fixture
def pg_target(pg_database: str) -> Iterator[PostgresTarget]:
    target = open_target(
        ConnectionInfo("lint_tgt", "postgres", PG["host"], PG["port"], PG["user"], database=pg_database)
    )
    yield target
    target.close()


@pytest.fixture
def mysql_dirty(mysql_database: str) -> ConnectionInfo:
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE dirty (id INT, flag TINYINT(1), amount DECIMAL(14,4), name VARCHAR(50), big INT, made "
        "DATETIME, qty VARCHAR(10))"
    )
    cur.executemany("INSERT INTO dirty VALUES (%s, %s, %s, %s, %s, %s, %s)", [
        (1, 0, "1.5000", "ab", 7, "2024-01-02 03:04:05", "12"),
        (2, 1, "1.2345", "abcdefgh", 40000, "0000-00-00 00:00:00", "abc"),
        (3, 2, "123456789.0000", "abc", -40000, None, None),
        (4, None, None, None, None, "2024-05-06 07:08:09", "x1"),
        (5, -1, "0.0050", "abcde   ", 1, "2024-05-06 07:08:09", "3"),
    ])  # fmt: skip
    cur.execute("CREATE TABLE clean (id INT, flag TINYINT(1), amount DECIMAL(10,2), name VARCHAR(5), made DATETIME)")
    cur.execute("INSERT INTO clean VALUES (1, 1, 12.50, 'abc', '2024-01-01 00:00:00'), (2, 0, NULL, NULL, NULL)")
    conn.close()
    return ConnectionInfo("lint_src", "mysql", MYSQL["host"], MYSQL["port"], MYSQL["user"], database=mysql_database)


DIRTY_COLUMNS = [
    {"source": "id"},
    {"source": "flag"},
    {"source": "amount", "type": "numeric(10,2)"},
    {"source": "name", "type": "varchar(5)"},
    {"source": "big", "type": "smallint"},
    {"source": "made"},
    {"source": "qty", "type": "integer"},
]
MYSQL_VALUE_PROBLEMS = {
    ("error", "boolean_values", "flag", ("2", "-1")),
    ("warning", "decimal_scale", "amount", ("1.2345", "0.0050")),
    ("error", "decimal_precision", "amount", ("123456789.0000",)),
    ("error", "string_too_long", "name", ("abcdefgh",)),
    ("error", "integer_range", "big", ("40000", "-40000")),
    ("warning", "zero_date", "made", ("0000-00-00 00:00:00",)),
    ("warning", "naive_datetime", "made", ("2024-01-02 03:04:05", "2024-05-06 07:08:09")),
}


def test_mysql_dirty_table_reports_each_rule(mysql_dirty: ConnectionInfo, pg_target: PostgresTarget) -> None:
    plan = plan_for([table("dirty", "public.dirty", DIRTY_COLUMNS)])
    problems = lint(plan, mysql_dirty, pg_target)
    assert found(problems) == MYSQL_VALUE_PROBLEMS | {("error", "conversion", "qty", ("abc", "x1"))}
    conversion = next(p for p in problems if p.kind == "conversion")
    assert (
        'invalid input syntax for type integer: "abc"' in conversion.message
        and "2 of 5 rows read" in conversion.message
    )
    assert "NULLIF({qty}, 'abc')" in conversion.suggestion
    assert {p.table for p in problems if p.kind in ("boolean_values", "zero_date")} == {f"{mysql_dirty.database}.dirty"}
    assert "source_types: {flag: smallint}" in next(p for p in problems if p.kind == "boolean_values").suggestion
    assert "numeric(13,4)" in next(p for p in problems if p.kind == "decimal_precision").suggestion
    assert "varchar(8)" in next(p for p in problems if p.kind == "string_too_long").suggestion
    assert "type: integer" in next(p for p in problems if p.kind == "integer_range").suggestion
    assert "naive_timezone" in next(p for p in problems if p.kind == "naive_datetime").suggestion
    # nothing is left in the target: no table, no function
    assert pg_target.rows("SELECT count(*) FROM pg_class WHERE relname LIKE 'databridge_lint%%'", doing="t") == [(0,)]


def test_without_target_only_values_are_checked(mysql_dirty: ConnectionInfo) -> None:
    problems = lint(plan_for([table("dirty", "public.dirty", DIRTY_COLUMNS)]), mysql_dirty, None)
    assert found(problems) == MYSQL_VALUE_PROBLEMS


def test_sample_reads_only_the_first_rows(mysql_dirty: ConnectionInfo) -> None:
    plan = plan_for([table("dirty", "public.dirty", [{"source": "id"}, {"source": "flag"}])])
    assert lint(plan, mysql_dirty, None, sample_rows=2) == []
    assert {p.kind for p in lint(plan, mysql_dirty, None, sample_rows=2, full_scan=True)} == {"boolean_values"}


def test_zero_dates_are_an_error_when_they_stop_the_extract(mysql_dirty: ConnectionInfo) -> None:
    plan = plan_for(
        [table("dirty", "public.dirty", [{"source": "made"}])], zero_dates="fail", naive_timezone="Europe/Paris"
    )
    assert found(lint(plan, mysql_dirty, None)) == {("error", "zero_date", "made", ("0000-00-00 00:00:00",))}


def test_clean_mysql_table_has_no_problem(mysql_dirty: ConnectionInfo, pg_target: PostgresTarget) -> None:
    columns = [
        {"source": "id"},
        {"source": "flag"},
        {"source": "amount", "type": "numeric(10,2)"},
        {"source": "name", "type": "varchar(5)"},
        {"source": "made"},
    ]
    plan = plan_for([table("clean", "public.clean", columns)], naive_timezone="UTC")
    assert lint(plan, mysql_dirty, pg_target) == []


@pytest.fixture
def sqlite_dirty(tmp_path: Path) -> ConnectionInfo:
    path = tmp_path / "dirty.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE dirty (id INTEGER, price NUMERIC(10,2), code VARCHAR(3), seen DATETIME)")
    conn.executemany(
        "INSERT INTO dirty VALUES (?, ?, ?, ?)",
        [(1, 1.005, "abc", "2024-01-01 10:00:00"), (2, 2.5, "abcd", None), (3, "n/a", "x", "someday")],
    )
    conn.commit()
    conn.close()
    return ConnectionInfo("lint_src", "sqlite", host=str(path))


def test_sqlite_values_are_checked_against_the_staged_types(
    sqlite_dirty: ConnectionInfo, pg_target: PostgresTarget
) -> None:
    plan = plan_for(
        [
            table(
                "main.dirty",
                "public.dirty",
                [{"source": "id"}, {"source": "price"}, {"source": "code"}, {"source": "seen"}],
            )
        ]
    )
    problems = lint(plan, sqlite_dirty, pg_target)
    assert found(problems) == {
        ("warning", "decimal_scale", "price", ("1.005",)),
        ("error", "string_too_long", "code", ("abcd",)),
        ("warning", "naive_datetime", "seen", ("2024-01-01 10:00:00", "someday")),
        ("error", "conversion", "price", ("n/a",)),
        ("error", "conversion", "seen", ("someday",)),
    }
    staging = [p for p in problems if p.kind == "conversion"]
    assert {p.table for p in staging} == {"main.dirty"} and all("cannot be staged" in p.message for p in staging)


@pytest.fixture
def pg_source(pg_database_2: str) -> ConnectionInfo:
    with pg_connect(pg_database_2) as conn:
        conn.execute("CREATE TABLE dirty (id integer, born text, note text, happened timestamp)")
        conn.execute(
            "INSERT INTO dirty VALUES (1, '2024-01-31', 'x', '2024-01-01 00:00'), (2, 'soon', NULL, NULL), (3, "
            "NULL, 'y', NULL)"
        )
    return ConnectionInfo("lint_src", "postgres", PG["host"], PG["port"], PG["user"], database=pg_database_2)


def test_postgres_mapping_failures_name_the_rows(pg_source: ConnectionInfo, pg_target: PostgresTarget) -> None:
    columns = [
        {"source": "id"},
        {"source": "born", "date_format": "YYYY"},
        {"source": "note", "type": "integer", "default": "n/a", "transform": ["trim"], "target": "note_num"},
        {"source": "happened"},
    ]
    problems = lint(plan_for([table("public.dirty", "public.out", columns)]), pg_source, pg_target)
    assert found(problems) == {
        ("error", "conversion", "born", ("soon",)),
        ("error", "conversion", "note_num", ("x", "NULL", "y")),
        ("warning", "naive_datetime", "happened", ("2024-01-01 00:00:00",)),
    }
    assert "date_format" in next(p for p in problems if p.column == "born").suggestion


def test_cli_lint_prints_problems_by_table_and_exits_1(
    mysql_dirty: ConnectionInfo, pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = yaml.safe_dump(
        {
            "name": "lint_cli",
            "pipelines": [
                {
                    "name": "p",
                    "source_conn_id": "lint_src",
                    "target_conn_id": "lint_tgt",
                    "tables": [table("dirty", "public.dirty", DIRTY_COLUMNS)],
                }
            ],
        }
    )
    project = tmp_path / "lint_cli.yaml"
    project.write_text(text)
    source_uri = f"mysql://{MYSQL['user']}:{SECRET}x@{MYSQL['host']}:{MYSQL['port']}/{mysql_dirty.database}".replace(
        f":{SECRET}x", ""
    )
    target_uri = f"postgresql://{PG['user']}:{SECRET}@{PG['host']}:{PG['port']}/{pg_database}"
    status = main(["lint", str(project), "--conn", f"lint_src={source_uri}", "--conn", f"lint_tgt={target_uri}"])
    out, err = capsys.readouterr()
    assert status == 1
    assert SECRET not in out + err
    lines = out.splitlines()
    assert lines[0].endswith("lint_cli.yaml pipeline p: 5 error(s), 3 warning(s)")
    assert lines[1] == f"{mysql_dirty.database}.dirty" and "public.dirty" in lines
    assert any(line.startswith("  error   qty: conversion: ") and "'abc', 'x1'" in line for line in lines)


def test_cli_lint_of_a_clean_table_exits_0(
    mysql_dirty: ConnectionInfo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = yaml.safe_dump(
        {
            "name": "lint_ok",
            "pipelines": [
                {
                    "name": "p",
                    "source_conn_id": "lint_src",
                    "target_conn_id": "lint_tgt",
                    "source_options": {"naive_timezone": "UTC"},
                    "tables": [
                        table("clean", "public.clean", [{"source": "id"}, {"source": "name"}, {"source": "made"}])
                    ],
                }
            ],
        }
    )
    project = tmp_path / "lint_ok.yaml"
    project.write_text(text)
    uri = f"mysql://{MYSQL['user']}@{MYSQL['host']}:{MYSQL['port']}/{mysql_dirty.database}"
    target_uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/postgres"
    assert (
        main(["lint", str(project), "--conn", f"lint_src={uri}", "--conn", f"lint_tgt={target_uri}", "--sample", "100"])
        == 0
    )
    assert capsys.readouterr().out.strip().endswith("lint_ok.yaml pipeline p: 0 error(s), 0 warning(s)")


def test_an_unknown_column_is_one_error_with_the_closest_name(
    mysql_dirty: ConnectionInfo, pg_target: PostgresTarget
) -> None:
    """The extract's message (with its did-you-mean), and nothing more: the mappings reading the column are not tried
    (they would fail with a misleading error about types), with or without a target."""
    columns = [
        {"source": "id"},
        {"source": "nmae", "type": "varchar(20)"},
        {"expression": "upper({nmae})", "target": "shout"},
    ]
    plan = plan_for([table("clean", "public.clean", columns)], naive_timezone="UTC")
    for target in (pg_target, None):
        problems = lint(plan, mysql_dirty, target)
        assert [(p.severity, p.kind, p.column, p.message) for p in problems] == [
            ("error", "unknown_column", "nmae", "unknown source column 'nmae' (did you mean 'name'?)")
        ]
