"""The staging lease under real processes: a killed run's lease is taken over (and the report says so), a live run's
is never taken between its stages, and two projects creating one target table at once both load.

Each stage runs in a child process of its own (stage_process.py), as Airflow runs each task; a SIGKILL gives the
target nothing but a dropped connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import airflow_conn, mysql_conn_fields, pg_connect

from .conftest import TARGET_CONN, Source
from .faults import StageProcess, events_yaml, make_events, mysql, wait_until
from .runner import STAGES, TargetDB, pipeline_params, run_stage

pytestmark = pytest.mark.integration

EVENTS = 120_000
SOURCE_CONN = "it_lease_source"
AFTER_EXTRACT = ",".join(STAGES[1:])


@pytest.fixture
def processes() -> Iterator[list[StageProcess]]:
    """Child processes of a test, killed if the test left one running."""
    started: list[StageProcess] = []
    yield started
    for proc in started:
        proc.close()


def start(processes: list[StageProcess], project: Path, run_id: str, stages: str) -> StageProcess:
    proc = StageProcess(project, run_id, stages)
    processes.append(proc)
    return proc


def run_in_process(project: Path, run_id: str, stages: tuple[str, ...] = STAGES) -> dict[str, Any]:
    params = pipeline_params(project.read_text(), str(project))
    return {stage: run_stage(params, stage, run_id, str(project)) for stage in stages}


def stage_status(target: TargetDB, run_id: str, stage: str) -> str | None:
    if not target.tables("databridge"):
        return None
    rows = target.rows("SELECT status FROM databridge.stage_runs WHERE run_id = %s AND stage = %s", (run_id, stage))
    return rows[0][0] if rows else None


def report_of(target: TargetDB, run_id: str) -> dict[str, Any]:
    [(report,)] = target.rows("SELECT report FROM databridge.reports WHERE run_id = %s", (run_id,))
    return dict(report)


def sessions_of_stages(target: TargetDB) -> int:
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name LIKE 'databridge%%'"
    return int(target.scalar(query, (target.dbname,)))


@pytest.fixture
def events(mysql_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    make_events(mysql_database, EVENTS)
    airflow_conn(monkeypatch, SOURCE_CONN, **mysql_conn_fields(mysql_database))
    return mysql_database


def test_a_run_killed_mid_extract_is_taken_over_by_the_next_run_which_says_so(
    events: str, target: TargetDB, tmp_path: Path, processes: list[StageProcess]
) -> None:
    """The lock-out of the issue: a run killed during its extract, whose run Airflow no longer knows (a second
    ``airflow dags test`` of the same date deletes the first), held its lease for ever."""
    project = tmp_path / "events.yaml"
    project.write_text(events_yaml("events_it", SOURCE_CONN, TARGET_CONN, events))
    killed = start(processes, project, "run-1", "extract")
    batches = "SELECT count(*) FROM databridge.batch_ledger WHERE run_id = 'run-1' AND stage = 'extract'"
    wait_until(
        "committed extract batches", lambda: target.tables("databridge") and target.scalar(batches) >= 3, every=0.005
    )
    killed.kill()
    wait_until("the killed run's sessions to end", lambda: sessions_of_stages(target) == 0)

    results = run_in_process(project, "run-2")

    assert results["report"]["succeeded"] is True
    assert target.scalar("SELECT count(DISTINCT id) FROM landing.events") == target.count("landing.events") == EVENTS
    [warning] = [w for w in report_of(target, "run-2")["warnings"] if "staging lease" in w]
    assert warning.startswith("pipeline events: took over the staging lease of run 'run-1' (held since ")
    assert warning.endswith(
        "as its stage extract stopped without ending (its database session is gone: its process was killed or its "
        "host lost); this run does not use the rows that run staged and extracts from scratch"
    )
    lease = target.rows("SELECT run_id, released_at IS NOT NULL, note FROM databridge.staging_leases")
    why = (
        "its stage extract stopped without ending (its database session is gone: "
        "its process was killed or its host lost)"
    )
    assert lease == [("run-2", True, f"taken over from run 'run-1': {why}")]


def shop_file(shop: Source, tmp_path: Path) -> Path:
    path = tmp_path / "shop_it.yaml"
    path.write_text(shop.project())
    return path


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_a_runner_started_while_a_run_is_between_stages_is_refused_and_that_run_finishes(
    shop: Source, target: TargetDB, tmp_path: Path, processes: list[StageProcess]
) -> None:
    """The takeover of the issue: a second runner came between two stages of a live run, took its lease, and the live
    run failed. run-a here waits between its extract and its transform (as a task waits for a worker slot) until
    run-b has tried."""
    project, go_on = shop_file(shop, tmp_path), tmp_path / "run-a may go on"
    first = start(processes, project, "run-a", f"extract,wait={go_on},{AFTER_EXTRACT}")
    wait_until("run-a's extract", lambda: stage_status(target, "run-a", "extract") == "success", timeout=60)

    status, out = start(processes, project, "run-b", ",".join(STAGES)).finish(timeout=120)
    go_on.touch()
    first_status, first_out = first.finish(timeout=120)

    assert status == 1, out
    assert (
        "STAGE FAILED extract: pipeline shop of project shop_it: run 'run-a' holds its staging tables (since " in out
        and "and is live: it is between stages (its last stage ended " in out
        and "run 'run-b' stops so as not to overwrite them. Start it again once that run has ended; if you know it has "
        "stopped, release its lease: python -m databridge.cli leases release shop_it shop"
        in out
    ), out
    assert first_status == 0, first_out
    assert report_of(target, "run-a")["succeeded"] is True
    assert target.count("analytics.fact_order_line") == 6


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_two_runners_started_at_once_one_runs_and_the_other_is_refused_naming_it(
    shop: Source, target: TargetDB, tmp_path: Path, processes: list[StageProcess]
) -> None:
    """Both wait for one signal and start their extract together. The one that takes the lease then waits after its
    extract until the other has ended, so the two overlap however the machine schedules them (a loaded machine could
    otherwise run one whole run before the other starts, and then both rightly succeed)."""
    project, go, hold = shop_file(shop, tmp_path), tmp_path / "go", tmp_path / "hold"
    steps = f"wait={go},extract,wait={hold},{AFTER_EXTRACT}"
    runners = {run: start(processes, project, run, steps) for run in ("run-a", "run-b")}
    go.touch()
    wait_until("one runner ending", lambda: any(not p.running() for p in runners.values()), timeout=120)
    hold.touch()
    outcomes = {run: proc.finish(timeout=120) for run, proc in runners.items()}

    [winner] = [run for run, (status, _) in outcomes.items() if status == 0]
    [(loser_status, loser_out)] = [outcome for run, outcome in outcomes.items() if run != winner]
    assert loser_status == 1
    assert (
        f"STAGE FAILED extract: pipeline shop of project shop_it: run '{winner}' holds its staging tables" in loser_out
    ), loser_out
    assert report_of(target, winner)["succeeded"] is True


HALF = 20_000
HALVES_CONN = "it_halves"


def halves_yaml(name: str, database: str, table: str) -> str:
    """A project upserting one source table into landing.shared, which the other project also loads."""
    return f"""\
name: {name}
defaults:
  retries: 0
pipelines:
  - name: shared
    source_conn_id: {HALVES_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {database}.{table}
        targets:
          - table: landing.shared
            load: upsert
            keys: [id]
            columns:
              - {{source: id}}
              - {{source: note}}
"""


def make_halves(database: str) -> None:
    conn = mysql(database)
    try:
        cur = conn.cursor()
        for table, offset in (("half_a", 0), ("half_b", HALF)):
            cur.execute(f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, note VARCHAR(40) NOT NULL)")
            cur.execute(f"INSERT INTO {table} SELECT seq + {offset}, CONCAT('{table} ', seq) FROM seq_1_to_{HALF}")
    finally:
        conn.close()


def waiting_on_leases(target: TargetDB) -> int:
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' AND query LIKE "
        "'%%staging_leases%%'"
    )
    return int(target.scalar(query, (target.dbname,)))


@pytest.mark.parametrize("schema", ["new schema", "existing schema"])
def test_two_projects_upserting_halves_into_one_new_table_at_once_both_load_every_row(
    mysql_database: str,
    target: TargetDB,
    tmp_path: Path,
    processes: list[StageProcess],
    monkeypatch: pytest.MonkeyPatch,
    schema: str,
) -> None:
    """The race of the issue: both loads created the new table (and its new schema), and one failed on the catalog's
    unique index. The test holds the lease table locked until both loads wait on it, so they go on together."""
    if schema == "existing schema":
        target.execute("CREATE SCHEMA landing")
    make_halves(mysql_database)
    airflow_conn(monkeypatch, HALVES_CONN, **mysql_conn_fields(mysql_database))
    projects = []
    for name, table in (("left_it", "half_a"), ("right_it", "half_b")):
        projects.append(tmp_path / f"{name}.yaml")
        projects[-1].write_text(halves_yaml(name, mysql_database, table))
        run_in_process(projects[-1], "run-1", ("extract", "transform"))

    with pg_connect(target.dbname) as holder, holder.transaction():
        holder.execute("LOCK TABLE databridge.staging_leases IN EXCLUSIVE MODE")
        loads = [start(processes, project, "run-1", "load_dimensions,load_facts") for project in projects]
        wait_until("both loads waiting", lambda: waiting_on_leases(target) == 2, timeout=60)
    outcomes = [load.finish(timeout=120) for load in loads]

    assert [status for status, _ in outcomes] == [0, 0], "\n".join(out for _, out in outcomes)
    assert target.rows("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM landing.shared") == [
        (2 * HALF, 2 * HALF, 1, 2 * HALF)
    ]
    kinds = target.rows("SELECT kind FROM databridge.versions ORDER BY kind")
    assert kinds == [("created",), ("upserted",)], "the second load saw the table the first created"
