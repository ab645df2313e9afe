"""The rule deciding whether a staging lease's holder is live or stale (runtime/lease.py), case by case, against the
real server's advisory locks; and catalog races sorted as transient."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from databridge.engines.errors import postgres_error
from databridge.engines.postgres import PostgresTarget
from databridge.operators.base import connection_info
from databridge.runtime import lease, locks
from databridge.runtime.results import ResultStore, RunKey
from tests.conftest import pg_connect

from .runner import TargetDB

pytestmark = pytest.mark.integration


@pytest.fixture
def store(target: TargetDB) -> Iterator[PostgresTarget]:
    """The target with its results schema, as a stage leaves it."""
    pg = PostgresTarget(connection_info(target.conn_id))
    ResultStore(pg, RunKey("p", "q", "holder")).ensure_schema()
    yield pg
    pg.close()


def verdict(store: PostgresTarget, airflow: bool | None) -> lease.Verdict:
    with store.transaction("judging") as cur:
        held = lease.read(cur, "p", "q", lock="")
        assert held is not None
        return lease.judge(cur, held, lambda run_id: airflow)


@pytest.mark.parametrize(
    ("lock", "airflow", "stage", "idle_minutes", "live", "why"),
    [
        (True, True, "extract", 0, True, "its stage extract is running now"),
        (False, False, None, 30, True, "Airflow has it running (it is between stages)"),
        (
            False,
            False,
            "transform",
            0,
            True,
            "Airflow has it running, though the database session of its stage transform is gone",
        ),
        (False, True, None, 0, False, "it has ended in Airflow, and its report stage did not release the lease"),
        (False, None, "extract[1]", 0, False, "its stage extract[1] stopped without ending"),
        (
            False,
            None,
            None,
            9,
            True,
            "it is between stages (its last stage ended 9 min ago) and Airflow gave no word on it",
        ),
        (False, None, None, 11, False, "none of its stages has run for 11 min and Airflow gave no word on it"),
    ],
    ids=[
        "a stage running, whatever Airflow says",
        "Airflow: running, between stages",
        "Airflow: running, a killed task not noticed yet",
        "Airflow: ended",
        "unknown to Airflow, killed mid-stage",
        "unknown to Airflow, between stages within the grace",
        "unknown to Airflow, idle past the grace",
    ],
)
def test_live_or_stale(
    store: PostgresTarget,
    target: TargetDB,
    lock: bool,
    airflow: bool | None,
    stage: str | None,
    idle_minutes: int,
    live: bool,
    why: str,
) -> None:
    target.execute(
        "INSERT INTO databridge.staging_leases (project, pipeline, run_id, taken_at, stage, idle_since) "
        "VALUES ('p', 'q', 'holder', now() - interval '1 hour', %s, now() - make_interval(mins => %s))",
        (stage, idle_minutes),
    )
    with pg_connect(target.dbname) as stage_session:
        if lock:
            stage_session.execute(f"SELECT pg_advisory_lock_shared({locks.KEY})", locks.lease("p", "q"))
        judged = verdict(store, airflow)

    assert judged.live is live
    assert judged.why.startswith(why)


def race(dbname: str, statement: str) -> psycopg.Error:
    """Two sessions run ``statement`` at once: the second waits for the first to commit, then fails."""
    first, second = pg_connect(dbname), pg_connect(dbname)
    failed: list[psycopg.Error] = []

    def other() -> None:
        try:
            second.execute(statement)
        except psycopg.Error as exc:
            failed.append(exc)

    with first.transaction():
        first.execute(statement)
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.5)
    thread.join(10)
    first.close()
    second.close()
    return failed[0]


@pytest.mark.parametrize("statement", ["CREATE TABLE raced (id int)", "CREATE SCHEMA IF NOT EXISTS raced"])
def test_a_catalog_race_is_transient(pg_database: str, statement: str) -> None:
    error: Any = race(pg_database, statement)
    assert error.sqlstate == "23505"
    assert postgres_error(error, "loading").transient is True


def test_a_duplicate_key_in_a_table_of_ones_own_stays_permanent(pg_database: str) -> None:
    with pg_connect(pg_database) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(psycopg.errors.UniqueViolation) as raised:
            conn.execute("INSERT INTO t VALUES (1)")
    assert postgres_error(raised.value, "loading").transient is False
