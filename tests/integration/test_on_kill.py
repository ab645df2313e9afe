"""A stage Airflow stops (its timeout, marked failed, the run cancelled) stops its statement in the target too."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from databridge.engines import open_target
from databridge.engines.base import ConnectionInfo
from databridge.operators.stages import TransformOperator
from tests.conftest import PG, REPO, pg_admin

from .runner import TargetDB, pipeline_params

pytestmark = pytest.mark.integration


def test_on_kill_cancels_the_running_statement_on_the_server(target: TargetDB) -> None:
    demo = Path(REPO / "include/mappings/demo_shop.yaml")
    operator = TransformOperator(
        task_id="transform", pipeline=pipeline_params(demo.read_text()), project_file=str(demo)
    )
    info = ConnectionInfo("it_target", "postgres", PG["host"], PG["port"], PG["user"], database=target.dbname)
    pg = open_target(info)
    operator._target = pg  # as _execute sets it while a stage runs
    failed: list[BaseException] = []

    def sleep() -> None:
        try:
            pg.scalar("SELECT pg_sleep(600)", doing="a long statement")
        except BaseException as exc:  # noqa: BLE001 - kept for the assertion
            failed.append(exc)

    worker = threading.Thread(target=sleep)
    worker.start()
    _wait_until_running()
    started = time.monotonic()
    operator.on_kill()
    worker.join(30)
    pg.close()
    assert not worker.is_alive() and time.monotonic() - started < 15
    assert failed and "canceling statement due to user request" in str(failed[0])
    assert _running() == 0


def _running() -> int:
    with pg_admin() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND state = 'active'"
        ).fetchone()
    return int(row[0]) if row else 0


def _wait_until_running() -> None:
    deadline = time.monotonic() + 10
    while _running() == 0:
        assert time.monotonic() < deadline, "the statement never started"
        time.sleep(0.1)


def test_on_kill_without_a_running_stage_does_nothing() -> None:
    demo = Path(REPO / "include/mappings/demo_shop.yaml")
    operator = TransformOperator(
        task_id="transform", pipeline=pipeline_params(demo.read_text()), project_file=str(demo)
    )
    operator.on_kill()  # no stage running: nothing to cancel, and no error
    assert operator._target is None
