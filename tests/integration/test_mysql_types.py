"""MariaDB values PostgreSQL has no twin for: zero dates, ENUM, SET, YEAR, geometry, BIT(n), TIMESTAMP instants."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.compiler import compile_project
from databridge.engines import open_source
from databridge.engines.base import ConnectionInfo
from databridge.lint import lint_pipeline
from databridge.spec import parse_project
from tests.conftest import MYSQL

from .conftest import TARGET_CONN, Source
from .runner import TargetDB, passthrough_yaml, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration
UTC = dt.UTC


def project(source: Source, table: str, columns: list[str], options: str = "") -> str:
    return passthrough_yaml("mysql_values", source.conn_id, TARGET_CONN, f"{source.schema}.{table}", columns, options)


ZERO_DATES = """
INSERT INTO events VALUES
  (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2024-01-01'),
  (2, '2024-00-10', '2024-05-00 10:00:00', NULL, '2024-01-02'),
  (3, '0000-01-01', '2024-02-29 23:59:59', '2024-02-29 23:59:59', '2024-01-03'),
  (4, '2024-02-29', NULL, NULL, NULL)
"""
DATED = ["d", "happened", "stamped", "ok"]


def create_events(source: Source) -> None:
    """Zero dates need a permissive sql_mode to be written; old databases are full of them."""
    source.db.execute("SET SESSION sql_mode = ''")
    source.db.execute("SET SESSION time_zone = '+00:00'")
    source.db.execute(
        "CREATE TABLE events (id INT PRIMARY KEY, d DATE, happened DATETIME, stamped TIMESTAMP NULL, ok DATE)"
    )
    source.db.execute(ZERO_DATES)


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_zero_dates_are_staged_as_null_with_one_warning_per_column(source: Source, target: TargetDB) -> None:
    create_events(source)
    run_pipeline(project(source, "events", DATED), "zero-1")

    assert target.rows("SELECT id, d, happened, stamped, ok FROM landing.events ORDER BY id") == [
        (1, None, None, None, dt.date(2024, 1, 1)),
        (2, None, None, None, dt.date(2024, 1, 2)),
        (
            3,
            None,
            dt.datetime(2024, 2, 29, 23, 59, 59),
            dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
            dt.date(2024, 1, 3),
        ),
        (4, dt.date(2024, 2, 29), None, None, None),
    ]
    warnings = target.scalar("SELECT warnings FROM databridge.stage_runs WHERE run_id = 'zero-1' AND stage = 'extract'")
    where = f"{source.schema}.events"
    assert warnings == [
        f"{where}.d (date): 3 zero date(s) staged as NULL (source_options.zero_dates: null)",
        f"{where}.happened (datetime): 2 zero date(s) staged as NULL (source_options.zero_dates: null)",
        f"{where}.stamped (timestamp): 1 zero date(s) staged as NULL (source_options.zero_dates: null)",
    ]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_zero_dates_fail_the_extract_naming_table_column_and_option(source: Source, target: TargetDB) -> None:
    create_events(source)
    params = pipeline_params(project(source, "events", DATED, "zero_dates: fail"))
    with pytest.raises(AirflowFailException) as failed:
        run_stage(params, "extract", "zero-2")
    assert str(failed.value) == (
        f"MySQL: {source.schema}.events.d (date) holds 3 zero date(s) (0000-00-00, or a zero year, month or day), "
        "which PostgreSQL cannot store; set the pipeline's source_options.zero_dates to null to stage them as NULL "
        "with a warning, or correct them in the source"
    )
    assert target.tables("databridge_staging") == [], "nothing is staged when the extract refuses"


KINDS = """
INSERT INTO kinds VALUES
  (1, 'happy', 'a,c', 2024, ST_GeomFromText('LINESTRING(0 0,1 1.5)'), POINT(1, 2), b'0000000101', b'1',
   '2024-07-01 12:00:00'),
  (2, '', '', 0, ST_GeomFromText('POLYGON((0 0,4 0,4 4,0 0))'), POINT(-0.5, 0.25), b'1111111111', b'0',
   '1970-01-01 02:00:01'),
  (3, 'sad', 'c,b,a', 2155, NULL, POINT(0, 0), b'0', b'1', NULL),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
"""
KIND_COLUMNS = ["mood", "tags", "yr", "shape", "spot", "bits", "flag", "stamped"]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_enum_set_year_geometry_bits_and_timestamps_arrive_exactly(source: Source, target: TargetDB) -> None:
    source.db.execute(
        "CREATE TABLE kinds (id INT PRIMARY KEY, mood ENUM('happy','sad',''), tags SET('a','b','c'), yr YEAR, "
        "shape GEOMETRY, spot POINT, bits BIT(10), flag BIT(1), stamped TIMESTAMP NULL)"
    )
    source.db.execute("SET SESSION time_zone = '+02:00'")  # TIMESTAMP values are written as local time, stored in UTC
    source.db.execute(KINDS)
    run_pipeline(project(source, "kinds", KIND_COLUMNS), "kinds-1")

    assert target.column_types("landing", "kinds") == {
        "id": "integer", "mood": "text", "tags": "text[]", "yr": "smallint", "shape": "text", "spot": "text",
        "bits": "bit varying(10)", "flag": "boolean", "stamped": "timestamp with time zone",
    }  # fmt: skip
    assert target.rows(f"SELECT id, {', '.join(KIND_COLUMNS)} FROM landing.kinds ORDER BY id") == [
        (
            1,
            "happy",
            ["a", "c"],
            2024,
            "LINESTRING(0 0,1 1.5)",
            "POINT(1 2)",
            "0000000101",
            True,
            dt.datetime(2024, 7, 1, 10, tzinfo=UTC),
        ),
        (
            2,
            "",
            [],
            0,
            "POLYGON((0 0,4 0,4 4,0 0))",
            "POINT(-0.5 0.25)",
            "1111111111",
            False,
            dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
        ),
        (3, "sad", ["a", "b", "c"], 2155, None, "POINT(0 0)", "0000000000", True, None),
        (4, None, None, None, None, None, None, None, None),
    ]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_enum_values_are_kept_in_the_staging_column_comment(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE kinds (id INT PRIMARY KEY, mood ENUM('happy','sad','it''s'))")
    source.db.execute("INSERT INTO kinds VALUES (1, 'it''s')")
    run_stage(pipeline_params(project(source, "kinds", ["mood"])), "extract", "enum-1")
    comments = target.rows(
        """SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'databridge_staging' AND a.attnum > 0 ORDER BY a.attnum"""
    )
    assert comments == [
        ("id", None),
        ("mood", "MySQL enum('happy','sad','it''s'): allowed values 'happy','sad','it''s'"),
    ]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_target_created_from_an_enum_checks_its_labels(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE kinds (id INT PRIMARY KEY, mood ENUM('happy','sad','it''s'))")
    source.db.execute("INSERT INTO kinds VALUES (1, 'it''s'), (2, 'happy'), (3, NULL)")
    run_pipeline(project(source, "kinds", ["mood"]), "enum-2")

    assert target.rows("SELECT id, mood FROM landing.kinds ORDER BY id") == [(1, "it's"), (2, "happy"), (3, None)]
    assert (
        target.scalar(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'landing.kinds'::regclass AND contype = 'c'"
        )
        == "CHECK ((mood = ANY (ARRAY['happy'::text, 'sad'::text, 'it''s'::text])))"
    )
    with pytest.raises(psycopg.errors.CheckViolation):
        target.execute("INSERT INTO landing.kinds VALUES (9, 'angry')")


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_source_types_stage_a_tinyint1_holding_numbers_as_numbers(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE flags (id INT PRIMARY KEY, flag TINYINT(1))")
    source.db.execute("INSERT INTO flags VALUES (1, 0), (2, 1), (3, 2), (4, NULL), (5, -1)")
    as_boolean = project(source, "flags", ["flag"])

    message = str(
        pytest.raises(AirflowFailException, run_stage, pipeline_params(as_boolean), "extract", "flags-1").value
    )
    assert 'invalid input syntax for type boolean: "2"' in message

    as_numbers = as_boolean.replace("        targets:", "        source_types: {flag: smallint}\n        targets:")
    run_pipeline(
        as_numbers, "flags-1"
    )  # the run cleared and run again after the fix (a new run would wait for its lease)
    assert target.rows("SELECT id, flag FROM landing.flags ORDER BY id") == [(1, 0), (2, 1), (3, 2), (4, None), (5, -1)]
    assert target.column_types("landing", "flags")["flag"] == "smallint"


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_source_types_naming_an_unread_column_is_refused_before_staging(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE flags (id INT PRIMARY KEY, flag TINYINT(1))")
    project_text = project(source, "flags", ["flag"]).replace(
        "        targets:", "        source_types: {flgg: smallint}\n        targets:"
    )

    message = str(
        pytest.raises(AirflowFailException, run_stage, pipeline_params(project_text), "extract", "flags-1").value
    )
    assert message.endswith("source_types names 'flgg', which no mapping reads (did you mean 'flag'?)")
    assert target.tables("databridge_staging") == []


def _moods(source: Source) -> None:
    """'angry' is no label: with a permissive sql_mode MariaDB stores it as '' (the invalid value, index 0)."""
    source.db.execute("CREATE TABLE moods (id INT PRIMARY KEY, mood ENUM('happy','sad'), note VARCHAR(10))")
    source.db.execute("SET SESSION sql_mode = ''")
    source.db.execute(
        "INSERT INTO moods VALUES (1, 'happy', 'a'), (2, 'angry', ' b '), (3, NULL, 'c'), (4, 'sad', 'd')"
    )


def _moods_project(source: Source, max_rejects: int, *, pass_through: bool) -> str:
    text = project(source, "moods", ["mood", "note"]).replace(
        "            keys: [id]\n", f"            keys: [id]\n            max_rejects: {max_rejects}\n"
    )
    return text if pass_through else text.replace("{source: note}", "{source: note, transform: [trim]}")


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
@pytest.mark.parametrize("pass_through", [True, False], ids=["pass-through", "transformed"])
def test_an_invalid_enum_value_is_a_rejected_row_and_the_rest_loads(
    source: Source, target: TargetDB, pass_through: bool
) -> None:
    _moods(source)
    result = run_pipeline(_moods_project(source, 1, pass_through=pass_through), "enum-3")

    assert target.rows("SELECT id, mood FROM landing.moods ORDER BY id") == [(1, "happy"), (3, None), (4, "sad")]
    assert target.rows(
        "SELECT stage, column_name, reason, row_data->>'id' FROM databridge.rejects WHERE run_id = 'enum-3'"
    ) == [
        (
            "load",
            "mood",
            "'' is not a label of the source ENUM ('happy','sad'): MySQL stores a value it could not take as ''",
            "2",
        ),
    ]
    assert result["load_facts"]["landing.moods"]["rejected_rows"] == 1
    assert result["validate"]["passed"] == result["validate"]["checks"]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_invalid_enum_values_over_max_rejects_fail_the_table_naming_column_and_value(
    source: Source, target: TargetDB
) -> None:
    _moods(source)
    params = pipeline_params(_moods_project(source, 0, pass_through=True))
    for stage in ("extract", "transform"):
        run_stage(params, stage, "enum-4")

    with pytest.raises(AirflowFailException) as failed:
        run_stage(params, "load_facts", "enum-4")

    assert str(failed.value).startswith(
        "loading landing.moods (replace): 1 of 4 row(s) rejected, more than max_rejects (0) allows; nothing of "
        "landing.moods written. column 'mood': '' is not a label of the source ENUM ('happy','sad'): MySQL stores a "
        "value it could not take as '' (1 row)."
    )
    assert target.tables("landing") == []


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_the_lint_counts_invalid_enum_values(source: Source, target: TargetDB) -> None:
    _moods(source)
    plan = compile_project(
        parse_project(_moods_project(source, 0, pass_through=True), "moods.yaml"), "moods.yaml"
    ).pipelines[0]
    engine = open_source(
        ConnectionInfo("lint", "mysql", MYSQL["host"], MYSQL["port"], MYSQL["user"], database=source.schema)
    )
    try:
        problems = [p for p in lint_pipeline(plan, engine, None) if p.kind == "enum_value"]
    finally:
        engine.close()

    assert [(p.table, p.column, p.severity, p.examples) for p in problems] == [
        (f"{source.schema}.moods", "mood", "error", ("",))
    ]
    assert (
        problems[0].message
        == "holds values that are not labels of its ENUM ('happy','sad'); a table created from the column unchanged "
        "refuses them (1 of 4 rows read)"
    )
