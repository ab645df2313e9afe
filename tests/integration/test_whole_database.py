"""A whole database migrated by pattern: a project of nine lines takes a MariaDB store of 13 PascalCase tables with
their keys and foreign keys through the six real stages; a table new in the source is picked up by the next run and
named in its report; explicit entries override what the pattern gives; a table that vanished fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.cli import main
from databridge.compiler import compile_project
from databridge.runtime.report import format_report
from databridge.spec import load_project
from tests.conftest import MYSQL

from .conftest import Source
from .music import ROWS, TABLES, create_music, project_yaml
from .runner import STAGES, TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

SNAKE = {
    "Artist": "artist",
    "Album": "album",
    "MediaType": "media_type",
    "Genre": "genre",
    "Track": "track",
    "Playlist": "playlist",
    "PlaylistTrack": "playlist_track",
    "Department": "department",
    "Employee": "employee",
    "Customer": "customer",
    "Invoice": "invoice",
    "InvoiceLine": "invoice_line",
    "HTTPStatusLog": "http_status_log",
}


@pytest.fixture
def music(source: Source) -> Source:
    create_music(source.db)
    return source


def report_of(target: TargetDB, run_id: str) -> dict[str, object]:
    report: dict[str, object] = target.scalar("SELECT report FROM databridge.reports WHERE run_id = %s", (run_id,))
    return report


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_project_of_nine_lines_migrates_the_whole_database(music: Source, target: TargetDB) -> None:
    text = project_yaml(music.schema, music.conn_id, target.conn_id)
    assert len(text.splitlines()) <= 10

    results = run_pipeline(text, "run-1")

    assert results["report"]["succeeded"] is True
    assert target.tables("music") == sorted(SNAKE.values())
    for table, name in SNAKE.items():
        assert target.count(f"music.{name}") == len(ROWS[table]), table
    assert list(target.column_types("music", "invoice_line")) == [
        "invoice_line_id",
        "invoice_id",
        "track_id",
        "unit_price",
        "quantity",
    ]
    assert target.column_types("music", "track")["unit_price"] == "numeric(10,2)"
    assert list(target.column_types("music", "http_status_log")) == ["status_code", "seen_at", "note"]
    assert target.primary_key("music", "invoice_line") == ["invoice_line_id"]
    assert target.primary_key("music", "playlist_track") == ["playlist_id", "track_id"]
    assert target.primary_key("music", "http_status_log") == []
    report = report_of(target, "run-1")
    assert isinstance(report, dict)
    roles = {t["target"]: t["role"] for t in report["tables"]}
    assert {t for t, r in roles.items() if r == "dimension"} == {
        f"music.{n}"
        for n in (
            "artist",
            "album",
            "media_type",
            "genre",
            "track",
            "playlist",
            "department",
            "employee",
            "customer",
            "invoice",
        )
    }  # referenced by another table; department and employee reference each other
    order = [t["target"] for t in report["tables"]]
    assert (
        order.index("music.artist")
        < order.index("music.album")
        < order.index("music.track")
        < order.index("music.invoice_line")
    )
    checks = {v["check"]: v["passed"] for v in report["validations"]}
    assert checks["music.invoice_line(track_id) -> music.track"] is True
    assert checks["music.department(manager_id) -> music.employee"] is True
    assert checks["music.employee(reports_to) -> music.employee"] is True
    assert "new_tables" in report and report["new_tables"] == []


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_table_new_in_the_source_is_picked_up_by_the_next_run_and_named_in_its_report(
    music: Source, target: TargetDB
) -> None:
    text = project_yaml(music.schema, music.conn_id, target.conn_id)
    params = pipeline_params(text)
    first = {stage: run_stage(params, stage, "run-1") for stage in STAGES}
    music.db.execute(
        "CREATE TABLE ReviewScore (ReviewId INT PRIMARY KEY, TrackId INT, Stars INT, FOREIGN KEY (TrackId) "
        "REFERENCES Track (TrackId))"
    )
    music.db.insert("ReviewScore", [(1, 1, 5), (2, 3, 4)])

    second = {stage: run_stage(params, stage, "run-2") for stage in STAGES}  # the same DAG, parsed once

    assert first["report"]["tables"] == 13
    assert second["report"]["succeeded"] is True and second["report"]["tables"] == 14
    assert target.count("music.review_score") == 2
    report = report_of(target, "run-2")
    assert isinstance(report, dict)
    assert report["new_tables"] == [f"{music.schema}.ReviewScore"]
    assert f"New in the source since the previous run (taken by include): {music.schema}.ReviewScore" in format_report(
        report
    )
    assert {t["target"]: t["role"] for t in report["tables"]}["music.track"] == "dimension"


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_explicit_entries_override_what_the_pattern_gives(music: Source, target: TargetDB) -> None:
    text = (
        project_yaml(music.schema, music.conn_id, target.conn_id)
        + f"""\
    tables:
      - source: {music.schema}.Customer
        targets:
          - table: crm.client
            load: upsert
            columns:
              - {{source: Email, target: email_address, transform: [lower]}}
              - {{source: Fax, exclude: true}}
      - source: {music.schema}.Genre
        targets:
          - table: music.genre
"""
    )
    results = run_pipeline(text, "run-1")

    assert results["report"]["succeeded"] is True
    assert list(target.column_types("crm", "client")) == [
        "customer_id",
        "first_name",
        "last_name",
        "email_address",
        "support_rep_id",
    ]
    assert target.primary_key("crm", "client") == ["customer_id"]
    assert target.scalar("SELECT email_address FROM crm.client WHERE customer_id = 2") == "leonekohler@surfeu.de"
    assert "customer" not in target.tables("music")
    report = report_of(target, "run-1")
    assert isinstance(report, dict)
    tables = {t["target"]: t for t in report["tables"]}
    assert (
        tables["crm.client"]["load"] == "upsert" and tables["crm.client"]["role"] == "dimension"
    )  # invoices reference it
    checks = {v["check"]: v["passed"] for v in report["validations"]}
    assert checks["music.invoice(customer_id) -> crm.client"] is True
    assert len(tables) == 13


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_table_listed_explicitly_that_vanished_fails_with_the_missing_table_message(
    music: Source, target: TargetDB
) -> None:
    text = (
        project_yaml(music.schema, music.conn_id, target.conn_id)
        + f"""\
    tables:
      - source: {music.schema}.Genre
        targets:
          - table: music.genre
"""
    )
    params = pipeline_params(text)
    for stage in STAGES:
        run_stage(params, stage, "run-1")
    music.db.execute("SET FOREIGN_KEY_CHECKS = 0")
    music.db.execute("DROP TABLE Genre")
    music.db.execute("DROP TABLE HTTPStatusLog")

    with pytest.raises(AirflowFailException) as failed:
        run_stage(params, "extract", "run-2")

    assert f"pipeline store: source table {music.schema}.Genre does not exist in mysql connection 'it_source'" in str(
        failed.value
    )


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_table_taken_by_pattern_that_vanished_is_a_warning_of_the_next_run(music: Source, target: TargetDB) -> None:
    params = pipeline_params(project_yaml(music.schema, music.conn_id, target.conn_id))
    for stage in STAGES:
        run_stage(params, stage, "run-1")
    music.db.execute("DROP TABLE HTTPStatusLog")

    second = {stage: run_stage(params, stage, "run-2") for stage in STAGES}

    assert second["report"]["tables"] == 12
    report = report_of(target, "run-2")
    assert isinstance(report, dict)
    assert report["gone_tables"] == [f"{music.schema}.HTTPStatusLog"]
    assert (
        f"{music.schema}.HTTPStatusLog: no longer in the source, so this run did not migrate it (its target "
        "table is left as it is)" in report["warnings"]
    )
    assert target.count("music.http_status_log") == 2


def test_the_nine_line_project_lists_every_table() -> None:
    assert len(TABLES) == 13


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_init_writes_an_explicit_project_that_loads_compiles_and_runs(
    music: Source, target: TargetDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "include" / "mappings" / "music.yaml"
    uri = f"mysql://{MYSQL['user']}@{MYSQL['host']}:{MYSQL['port']}/{music.schema}"
    args = [
        "init",
        "--source",
        uri,
        "--source-conn-id",
        music.conn_id,
        "--target",
        target.conn_id,
        "--exclude",
        f"{music.schema}.tmp_*",
        "--naming",
        "snake_case",
        "--target-schema",
        "music",
        "--out",
        str(out),
    ]

    assert main(args) == 0
    assert main(args) == 2  # the file exists: refused without --force
    assert "already exists; pass --force to replace it" in capsys.readouterr().err

    text = out.read_text()
    project = load_project(out)
    [pipeline] = project.pipelines
    assert not pipeline.include and len(pipeline.tables) == 13
    assert "              - {source: InvoiceLineId, target: invoice_line_id}  # int(11) -> integer\n" in text
    lines = {m.source.split(".")[1]: m.targets[0] for m in pipeline.tables}
    assert lines["InvoiceLine"].keys == ["invoice_line_id"] and lines["InvoiceLine"].role == "fact"
    assert lines["Track"].role == "dimension"
    assert [(fk.columns, fk.references) for fk in lines["Track"].foreign_keys] == [
        (["album_id"], "music.album"),
        (["media_type_id"], "music.media_type"),
        (["genre_id"], "music.genre"),
    ]
    assert [(c.table, c.columns, c.references) for c in pipeline.validations] == [
        ("music.department", ["manager_id"], "music.employee")
    ]  # closes the cycle
    order = [str(t) for t in compile_project(project, str(out)).pipelines[0].load_order]
    assert order.index("music.department") < order.index("music.employee")  # the cycle's other reference is followed

    results = run_pipeline(text, "run-1")
    assert results["report"]["succeeded"] is True and results["report"]["tables"] == 13
    assert target.count("music.invoice_line") == 3


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_target_without_columns_takes_every_column_and_is_moved_into_place(music: Source, target: TargetDB) -> None:
    text = f"""\
name: music
pipelines:
  - name: store
    source_conn_id: {music.conn_id}
    target_conn_id: {target.conn_id}
    tables:
      - source: {music.schema}.Track
        targets: [{{table: landing.track, keys: [TrackId]}}]
"""
    params = pipeline_params(text)
    run_stage(params, "extract", "run-1")
    staging = target.tables("databridge_staging")
    assert len(staging) == 1

    for stage in STAGES[1:]:
        run_stage(params, stage, "run-1")

    assert list(target.column_types("landing", "track")) == [
        "TrackId",
        "Name",
        "AlbumId",
        "MediaTypeId",
        "GenreId",
        "Milliseconds",
        "UnitPrice",
    ]
    assert target.count("landing.track") == 4 and target.primary_key("landing", "track") == ["TrackId"]
    assert staging[0] not in target.tables(
        "databridge_staging"
    )  # the pass-through path: the staging table became the target


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_run_started_again_after_its_report_finds_the_tables_again(music: Source, target: TargetDB) -> None:
    """Like its extract, which reads every table again: a table added since is taken; retries before the report are
    not."""
    params = pipeline_params(project_yaml(music.schema, music.conn_id, target.conn_id))
    run_stage(params, "extract", "run-1")
    music.db.execute("CREATE TABLE Label (LabelId INT PRIMARY KEY, Name VARCHAR(40))")
    run_stage(params, "extract", "run-1")  # a retry: the tables the run found first
    first = {stage: run_stage(params, stage, "run-1") for stage in STAGES[1:]}

    again = {stage: run_stage(params, stage, "run-1") for stage in STAGES}

    assert first["report"]["tables"] == 13
    assert again["report"]["succeeded"] is True and again["report"]["tables"] == 14
    assert target.tables("music").count("label") == 1
