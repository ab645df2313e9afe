"""The lock-out of the staging lease, as it was met: ``airflow dags test P DATE`` killed during its extract, then run
again. The second command deletes the first run (Airflow answers 404 for it), so Airflow can never mark it failed:
its lease must be recognised as stale and taken over, and the new run's report must say so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, mysql_conn_fields, pg_conn_fields, pg_connect
from tests.integration.faults import events_yaml, make_events, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DAG = "events_it"
DATE = "2026-02-01"


def environment(home: Path, mappings: Path, mysql_db: str, pg_db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABRIDGE"))}
    return {
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "DATABRIDGE_MAPPINGS_DIR": str(mappings),
        "AIRFLOW_CONN_EV_SOURCE": json.dumps(mysql_conn_fields(mysql_db)),
        "AIRFLOW_CONN_EV_TARGET": json.dumps(pg_conn_fields(pg_db)),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


def dags_test(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            ["airflow", "dags", "test", DAG, DATE],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def scalar(dbname: str, query: str) -> object:
    with pg_connect(dbname) as conn:
        row = conn.execute(query).fetchone()
    return row[0] if row else None


def test_dags_test_killed_mid_extract_then_run_again_takes_the_lease_over(
    mysql_database: str, pg_database: str, tmp_path: Path
) -> None:
    make_events(mysql_database, 120_000)
    mappings, home, log = tmp_path / "mappings", tmp_path / "airflow", tmp_path / "dags_test.log"
    mappings.mkdir()
    home.mkdir()
    (mappings / "events.yaml").write_text(events_yaml(DAG, "ev_source", "ev_target", mysql_database))
    env = environment(home, mappings, mysql_database, pg_database)
    subprocess.run(["airflow", "db", "migrate"], env=env, cwd=REPO, check=True, capture_output=True)

    first = dags_test(env, log)
    batches = "SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'extract'"
    try:
        wait_until(
            "extract batches",
            lambda: (
                scalar(pg_database, "SELECT to_regclass('databridge.batch_ledger')")
                and scalar(pg_database, batches) >= 3
            ),
            timeout=120,
            every=0.01,
        )
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(30)
    killed_run = scalar(pg_database, "SELECT run_id FROM databridge.staging_leases")

    dags_test(env, log).wait(300)

    report = scalar(pg_database, f"SELECT report FROM databridge.reports WHERE run_id <> '{killed_run}'")
    assert isinstance(report, dict), log.read_text(errors="replace")[-5000:]
    assert report["succeeded"] is True, report["errors"]
    [warning] = [w for w in report["warnings"] if "staging lease" in w]
    assert warning.startswith(f"pipeline events: took over the staging lease of run {killed_run!r} (held since ")
    assert warning.endswith(
        "UTC), as its stage extract[0] stopped without ending (its database session is gone: its process was killed "
        "or its host lost); this run does not use the rows that run staged and extracts from scratch"
    )
    assert scalar(pg_database, "SELECT count(*) FROM landing.events") == 120_000
