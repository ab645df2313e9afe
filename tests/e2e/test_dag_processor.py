"""Airflow's own dag-processor picks up new mapping projects without a restart, and files broken ones as import
errors."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import stop_process_groups
from tests.e2e.conftest import copy_project
from tests.e2e.test_dagbag import BROKEN

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 120


@pytest.fixture
def processor(tmp_path: Path, mappings: Path, dags_folder: Path) -> Iterator[Path]:
    """A real `airflow dag-processor` over a DAGs folder holding the factory file and a test mappings folder; yields its
    metadata database."""
    home = tmp_path / "airflow"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "DATABRIDGE_MAPPINGS_DIR": str(mappings),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    env.pop("DATABRIDGE_STRICT", None)
    home.mkdir()
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    log = (tmp_path / "dag-processor.log").open("w")
    proc = subprocess.Popen(
        [airflow, "dag-processor"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield home / "airflow.db"
    finally:
        stop_process_groups([proc], grace=30)
        log.close()


def query(db: Path, sql: str) -> list[tuple[Any, ...]] | None:
    """Rows, or None while the table is being created or locked by the processor."""
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return None


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(1)
    pytest.fail(f"the dag-processor did not {what} within {WAIT_SECONDS}s")


def live_dags(db: Path) -> set[str]:
    return {r[0] for r in query(db, "SELECT dag_id FROM dag WHERE NOT is_stale") or []}


def test_new_and_broken_projects_reach_a_running_dag_processor(processor: Path, mappings: Path) -> None:
    copy_project("demo_shop", mappings)
    wait_for(lambda: "demo_shop" in live_dags(processor), "serialize demo_shop")

    (mappings / "second.yaml").write_text(
        (mappings / "demo_shop.yaml").read_text().replace("name: demo_shop", "name: second_shop")
    )
    (mappings / "broken.yaml").write_text(BROKEN)
    wait_for(lambda: live_dags(processor) >= {"demo_shop", "second_shop"}, "pick up the new project")
    errors = wait_for(
        lambda: query(processor, "SELECT filename, stacktrace FROM import_error"), "record the broken project"
    )

    # The broken project's own DAG file (render/import_errors.py) carries the loader's message naming the YAML.
    assert [
        (f, "include/mappings/broken.yaml: " in trace and "did you mean 'upsert'?" in trace) for f, trace in errors
    ] == [("databridge_import_errors/broken.py", True)]
    assert live_dags(processor) == {"demo_shop", "second_shop"}

    # Fixed: the DAG appears, and the error goes at the next refresh of the dags folder (refresh_interval).
    (mappings / "broken.yaml").write_text(
        BROKEN.replace("upsrt", "upsert").replace("columns: [{source: id}]", "keys: [id], columns: [{source: id}]")
    )
    wait_for(lambda: "broken_project" in live_dags(processor), "serialize the fixed project")
    wait_for(
        lambda: query(processor, "SELECT filename FROM import_error") == [], "clear the fixed project's import error"
    )
