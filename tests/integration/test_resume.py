"""Resume after kill -9: the pipeline runs in a process of its own, killed mid-extract or mid-load, then run again.

The second attempt goes on after the last committed batch; the target ends with exactly the source's rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from tests.conftest import airflow_conn, mysql_conn_fields

from .conftest import TARGET_CONN
from .faults import EVENT_COLUMNS, StageProcess, events_yaml, make_events, source_events, wait_until
from .runner import TargetDB, pipeline_params, run_stage

pytestmark = pytest.mark.integration

ROWS = 120_000
BATCH = 2000
SOURCE_CONN = "it_events"
AFTER_EXTRACT = ("transform", "load_dimensions", "load_facts", "validate", "report")


@pytest.fixture
def events(mysql_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    make_events(mysql_database, ROWS)
    airflow_conn(monkeypatch, SOURCE_CONN, **mysql_conn_fields(mysql_database))
    return mysql_database


@pytest.fixture
def processes() -> Iterator[list[StageProcess]]:
    """Child processes of a test, killed if the test left one running."""
    started: list[StageProcess] = []
    yield started
    for proc in started:
        proc.close()


def project_file(tmp_path: Path, database: str, **options: Any) -> Path:
    path = tmp_path / "events.yaml"
    path.write_text(events_yaml("events_it", SOURCE_CONN, TARGET_CONN, database, **options))
    return path


def extract_batches(target: TargetDB, run_id: str) -> list[tuple[int, int, int, bool, bool]]:
    """(chunk, batch, rows, final, resumed) of the extract ledger, in order (none before the ledger exists)."""
    if not target.tables("databridge"):
        return []
    query = (
        "SELECT chunk, batch, rows, final, resumed FROM databridge.batch_ledger WHERE run_id = %s AND stage = "
        "'extract' ORDER BY 1, 2"
    )
    return [tuple(r) for r in target.rows(query, (run_id,))]  # type: ignore[misc]


def run_again(project: Path, run_id: str, *stages: str) -> dict[str, Any]:
    """The retry, run in this process (already started) through the same operators."""
    params = pipeline_params(project.read_text(), str(project))
    return {stage: run_stage(params, stage, run_id, str(project)) for stage in stages}


def assert_exact_copy(target: TargetDB, database: str) -> None:
    """The target table holds exactly the source's rows: same count, no duplicate key, same values."""
    copied = target.rows(f"SELECT {', '.join(EVENT_COLUMNS)} FROM landing.events ORDER BY id")
    assert target.scalar("SELECT count(DISTINCT id) FROM landing.events") == len(copied) == ROWS
    assert [tuple(r) for r in copied] == source_events(database)


@pytest.mark.parametrize(
    ("chunking", "where"),
    [("", ""), ("\n  chunking: {chunks: 3, min_rows: 1000}", "chunk 2/3 ")],
    ids=["whole-table", "chunked"],
)
def test_extract_killed_mid_way_goes_on_after_its_last_committed_batch(
    events: str, target: TargetDB, tmp_path: Path, processes: list[StageProcess], chunking: str, where: str
) -> None:
    project = project_file(tmp_path, events, defaults=chunking)
    chunk = 1 if chunking else 0  # chunked: killed inside the second chunk
    first = StageProcess(project, "run-1", "extract")
    processes.append(first)
    wait_until(
        "committed extract batches",
        lambda: len([b for b in extract_batches(target, "run-1") if b[0] == chunk]) >= 3,
        every=0.005,
    )
    first.kill()

    committed = extract_batches(target, "run-1")
    in_chunk = [b for b in committed if b[0] == chunk]
    assert not any(final for c, _, _, final, _ in committed if c == chunk) and len(in_chunk) < ROWS // BATCH, (
        "killed mid-chunk"
    )
    staging = pipeline_params(project.read_text())["sources"][0]["staging_table"]
    staged = target.count(f'databridge_staging."{staging}"')
    assert staged == sum(rows for _, _, rows, _, _ in committed), (
        "the staging table holds exactly the committed batches"
    )

    results = run_again(project, "run-1", "extract", *AFTER_EXTRACT)
    if not chunking:  # the retry wrote its batches the Arrow way (every column of events has an exact Arrow reading)
        assert [stat["path"] for stat in results["extract"].values()] == ["arrow"]

    batches = extract_batches(target, "run-1")
    mine = [b for b in batches if b[0] == chunk]
    assert [b for _, b, _, _, _ in mine] == list(range(len(mine))) and mine[-1][3]
    assert [(c, b) for c, b, _, _, resumed in batches if resumed] == [(chunk, len(in_chunk))]
    assert sum(rows for _, _, rows, _, _ in batches) == ROWS
    assert_exact_copy(target, events)
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-1'")
    [table] = report[0]["tables"]
    assert table["resumed"] == [f"{where}resumed at batch {len(in_chunk) + 1} of {len(mine)}"]
    assert report[0]["succeeded"] is True


def load_in_progress(target: TargetDB) -> bool:
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND query LIKE 'INSERT INTO "
        '"landing"."events"%%\''
    )
    return bool(target.scalar(query, (target.dbname,)))


def test_load_killed_mid_way_is_rolled_back_and_appends_once_when_run_again(
    events: str, target: TargetDB, tmp_path: Path, processes: list[StageProcess]
) -> None:
    project = project_file(tmp_path, events, load="append")
    run_again(project, "run-1", "extract", "transform")
    loading = StageProcess(project, "run-1", "load_dimensions,load_facts")
    processes.append(loading)
    wait_until("the load's INSERT", lambda: load_in_progress(target), every=0.002)
    loading.kill()

    run_again(project, "run-1", "load_dimensions", "load_facts", "validate", "report")

    assert_exact_copy(target, events)
    ledger = target.rows("SELECT batch, rows FROM databridge.batch_ledger WHERE run_id = 'run-1' AND stage = 'load'")
    assert ledger == [(0, ROWS)]
    run_again(project, "run-1", "load_facts")  # a retry after the commit
    assert target.count("landing.events") == ROWS, "appended once"


def test_a_second_run_cannot_take_staging_from_a_running_extract(
    events: str, target: TargetDB, tmp_path: Path, processes: list[StageProcess]
) -> None:
    project = project_file(tmp_path, events)
    running = StageProcess(project, "run-a", "extract")
    processes.append(running)
    wait_until("a committed extract batch of run-a", lambda: extract_batches(target, "run-a"), every=0.005)

    with pytest.raises(AirflowFailException) as refused:
        run_again(project, "run-b", "extract")
    status, out = running.finish()
    run_again(project, "run-a", *AFTER_EXTRACT)

    assert str(refused.value).startswith(
        "pipeline events of project events_it: run 'run-a' holds its staging tables (since "
    )
    assert "and is live: its stage extract is running now; run 'run-b' stops so as not to overwrite them." in str(
        refused.value
    )
    assert status == 0, out
    assert_exact_copy(target, events)
    assert run_again(project, "run-b", "extract", *AFTER_EXTRACT)["report"]["succeeded"] is True  # run-a has ended


def test_a_chunk_instance_cleared_alone_after_another_run_cannot_load_a_partial_staging(
    events: str, target: TargetDB, tmp_path: Path
) -> None:
    project = project_file(tmp_path, events, defaults="\n  chunking: {chunks: 3, min_rows: 1000}")
    run_again(project, "run-a", "extract", *AFTER_EXTRACT)
    run_again(project, "run-b", "extract", *AFTER_EXTRACT)
    before = target.checksum("landing.events")
    params = pipeline_params(project.read_text(), str(project))
    run_stage(params, "extract", "run-a", str(project), chunk=1)  # one chunk instance of the old run cleared alone

    with pytest.raises(AirflowFailException) as refused:
        run_again(project, "run-a", "transform")

    assert str(refused.value) == (
        f"pipeline events: the extract of run 'run-a' is incomplete: {events}.events (1 of 3 chunk(s) staged); "
        "clear this run from its extract stage (every chunk instance) to stage them"
    )
    assert target.checksum("landing.events") == before
    assert_exact_copy(target, events)
