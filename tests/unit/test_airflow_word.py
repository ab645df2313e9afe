"""Airflow's word on another run, as the staging lease asks it (operators/base.py): ended, running, or unknown."""

from __future__ import annotations

import pytest
from airflow.sdk.api.datamodels._generated import DagRunState

from databridge.operators.base import _run_finished


class TaskInstance:
    """The task's ``ti``: answers a run's state as the Task SDK does (an enum), and fails for a run it does not know."""

    dag_id = "shop_it"

    def get_dagrun_state(self, dag_id: str, run_id: str) -> DagRunState:
        if run_id == "deleted":
            raise RuntimeError("404 Not Found: DAG run not found")
        return DagRunState(run_id)


@pytest.mark.parametrize(
    ("run_id", "ended"),
    [("success", True), ("failed", True), ("running", False), ("queued", False), ("deleted", None)],
)
def test_airflow_says_whether_another_run_has_ended(run_id: str, ended: bool | None) -> None:
    assert _run_finished({"ti": TaskInstance()})(run_id) is ended


def test_without_a_task_airflow_gives_no_word() -> None:
    assert _run_finished({})("success") is None
