"""The docker-compose topology, run natively: Airflow with the CeleryExecutor on a fresh PostgreSQL metadata database
and the local Redis, an api-server (the workers' execution API), a scheduler and two Celery workers with their own
names. A chunked MariaDB → PostgreSQL table must load exactly, with its chunks run on both workers."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
import redis

from tests.conftest import (
    MYSQL,
    PG,
    REPO,
    free_port,
    fresh_pg_database,
    mysql_conn_fields,
    pg_conn_fields,
    pg_connect,
    stop_process_groups,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(240)]

ROWS = 50_000
CHUNKS = 4
WORKERS = ("worker-a", "worker-b")
RUN_TIMEOUT = 150
PROJECT = """\
name: celery_chunks
defaults:
  retries: 0
  chunking: {{chunks: {chunks}, min_rows: 10000}}
pipelines:
  - name: big
    source_conn_id: cel_source
    target_conn_id: cel_target
    tables:
      - source: {database}.big
        targets:
          - table: landing.big
            keys: [id]
            columns: [{{source: id}}, {{source: grp}}, {{source: amount}}, {{source: note}}, {{source: created}}]
"""


def test_the_pinned_celery_is_installed() -> None:
    """celery 5.7 breaks the worker and the scheduler (FACTS.md): requirements.txt pins 5.6.3."""
    assert importlib.metadata.version("celery") == "5.6.3"
    assert "celery[redis]==5.6.3" in (REPO / "requirements.txt").read_text()
    assert importlib.metadata.version("apache-airflow-providers-celery")


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """A fresh PostgreSQL database for Airflow's metadata (and Celery's results)."""
    yield from fresh_pg_database()


@pytest.fixture
def redis_db() -> Iterator[int]:
    """An empty Redis database number, claimed with a marker key and emptied afterwards."""
    for number in range(15, 0, -1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=number)
        if client.dbsize() == 0 and client.set("databridge:test-claim", os.getpid(), nx=True, ex=900):
            yield number
            client.flushdb()
            return
    pytest.fail("no empty Redis database (1-15) is free for the Celery broker")


def make_source(database: str) -> list[tuple[Any, ...]]:
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=database, autocommit=True
    )
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE big (id BIGINT PRIMARY KEY, grp INT, amount DECIMAL(12,2), note VARCHAR(100), created DATETIME)"
    )
    rows = [
        (
            i * 7,
            i % 13 or None,
            f"{i % 9973}.{i % 100:02d}",
            f"row {i}\t\\ é",
            f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d} 10:{i % 60:02d}:00",
        )
        for i in range(ROWS)
    ]
    for start in range(0, ROWS, 5000):
        cur.executemany("INSERT INTO big VALUES (%s, %s, %s, %s, %s)", rows[start : start + 5000])
    cur.execute("SELECT id, grp, amount, note, created FROM big")
    source = list(cur.fetchall())
    conn.close()
    return source


def fingerprint(rows: list[tuple[Any, ...]]) -> str:
    return hashlib.sha256("\n".join(sorted(repr(r) for r in rows)).encode()).hexdigest()


class Airflow:
    """Airflow processes sharing one AIRFLOW_HOME and environment, each in its own process group."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.env = home, env
        self.procs: list[tuple[subprocess.Popen[bytes], Any]] = []
        self.bin = str(Path(sys.executable).parent / "airflow")

    def run(self, *args: str) -> str:
        done = subprocess.run([self.bin, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def start(self, name: str, *args: str, **extra_env: str) -> Path:
        log_path = self.home / f"{name}.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(
            [self.bin, *args],
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((proc, log))
        return log_path

    def stop(self) -> None:
        stop_process_groups([proc for proc, _log in self.procs], grace=20)  # the workers' forked children too
        for _proc, log in self.procs:
            log.close()


def environment(
    home: Path, mappings: Path, metadata_db: str, redis_db: int, api_port: int, mysql_db: str, pg_db: str
) -> dict[str, str]:
    sql = f"postgresql+psycopg2://{PG['user']}@{PG['host']}:{PG['port']}/{metadata_db}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABRIDGE"))}
    return {
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + sql.replace("+psycopg2", ""),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.e2e.worker_name.hostname",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__API__WORKERS": "1",
        "DATABRIDGE_MAPPINGS_DIR": str(mappings),
        "DATABRIDGE_STRICT": "1",
        "AIRFLOW_CONN_CEL_SOURCE": json.dumps(mysql_conn_fields(mysql_db)),
        "AIRFLOW_CONN_CEL_TARGET": json.dumps(pg_conn_fields(pg_db)),
        "PYTHONPATH": str(REPO),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


def wait_for(condition: Callable[[], Any], what: str, seconds: float, logs: list[Path]) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}" for p in logs if p.exists())
    pytest.fail(f"{what} within {seconds}s\n{tails}")


def test_chunks_of_a_table_spread_over_two_celery_workers(
    tmp_path: Path, metadata_db: str, redis_db: int, mysql_database: str, pg_database: str
) -> None:
    started = time.monotonic()
    source_rows = make_source(mysql_database)
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "celery_chunks.yaml").write_text(PROJECT.format(chunks=CHUNKS, database=mysql_database))
    home = tmp_path / "airflow"
    home.mkdir()
    api_port = free_port()
    airflow = Airflow(home, environment(home, mappings, metadata_db, redis_db, api_port, mysql_database, pg_database))
    try:
        airflow.run("db", "migrate")
        logs = [
            airflow.start("api-server", "api-server", "--port", str(api_port), "--host", "127.0.0.1"),
            airflow.start("scheduler", "scheduler"),
        ]
        for name in WORKERS:
            logs.append(
                airflow.start(
                    name,
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"{name}@%h",
                    "--concurrency",
                    "1",
                    "--skip-serve-logs",
                    DATABRIDGE_WORKER_NAME=name,
                )
            )
        airflow.run("dags", "reserialize")
        wait_for(
            lambda: all(b"ready." in (home / f"{n}.log").read_bytes() for n in WORKERS),
            "both Celery workers were not ready",
            90,
            logs,
        )
        airflow.run("dags", "trigger", "celery_chunks", "--run-id", "celery_run")
        state = wait_for(
            lambda: _run_state(metadata_db) in ("success", "failed") and _run_state(metadata_db),
            "the run did not finish",
            RUN_TIMEOUT,
            logs,
        )
        instances = _task_instances(metadata_db)
        assert state == "success", instances
    finally:
        airflow.stop()

    extract = [(m, s, h) for t, m, s, h in instances if t == "big.extract"]
    assert [(m, s) for m, s, _ in extract] == [(k, "success") for k in range(CHUNKS)]
    assert {h for _, _, h in extract} == set(WORKERS), extract  # the chunks ran on both workers
    with pg_connect(pg_database) as conn:
        loaded = conn.execute("SELECT id, grp, amount, note, created FROM landing.big").fetchall()
        chunks = conn.execute(
            "SELECT count(*), count(finished_at), sum(staged_rows) FROM databridge.extract_chunks"
        ).fetchone()
    assert len(loaded) == len(source_rows) == ROWS
    assert fingerprint(loaded) == fingerprint(source_rows)
    assert chunks == (CHUNKS, CHUNKS, ROWS)
    assert time.monotonic() - started < 180


def _run_state(metadata_db: str) -> str | None:
    with pg_connect(metadata_db) as conn:
        row = conn.execute(
            "SELECT state FROM dag_run WHERE dag_id = 'celery_chunks' AND run_id = 'celery_run'"
        ).fetchone()
    return str(row[0]) if row else None


def _task_instances(metadata_db: str) -> list[tuple[str, int, str, str]]:
    with pg_connect(metadata_db) as conn:
        return conn.execute(
            "SELECT task_id, map_index, state, hostname FROM task_instance WHERE dag_id = 'celery_chunks' ORDER "
            "BY task_id, map_index"
        ).fetchall()
