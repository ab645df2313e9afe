"""schedule.deadline_minutes: the plan carries it, the DAG gets Airflow's deadline alert, the alert logs a warning."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import textwrap
from typing import Any

import pytest
from airflow.sdk.definitions.deadline import DagRunQueuedAtDeadline

from databridge.alerts import deadline_message
from databridge.compiler import ProjectPlan, compile_project
from databridge.render.dag import build_dag
from databridge.spec import parse_project

UTC = dt.UTC


def plan(schedule: str) -> ProjectPlan:
    text = textwrap.dedent(f"""\
        name: nightly
        schedule: {schedule}
        pipelines:
          - name: main
            source_conn_id: src
            target_conn_id: tgt
            tables: [{{source: shop.orders, targets: [{{table: orders, columns: [{{source: id}}]}}]}}]
        """)
    return compile_project(parse_project(text, "nightly.yaml"), "nightly.yaml")


def context(run_id: str = "scheduled__2026-11-28T03:00:00+00:00") -> dict[str, Any]:
    """What Airflow's Deadline.handle_miss sends: the run as the REST API shows it, and the deadline's time."""
    run = {
        "dag_id": "nightly",
        "dag_run_id": run_id,
        "queued_at": "2026-11-28T03:00:05.123456Z",
        "state": "running",
        "conf": {"password": "hunter2"},
    }
    return {
        "dag_run": run,
        "deadline": {"id": "0192", "deadline_time": dt.datetime(2026, 11, 28, 3, 45, 5, tzinfo=UTC)},
    }


def test_the_plan_and_the_dag_carry_the_deadline() -> None:
    built = plan("{cron: '0 3 * * *', deadline_minutes: 45}")
    assert built.schedule.deadline_minutes == 45
    (alert,) = build_dag(built).deadline or []
    assert isinstance(alert.reference, DagRunQueuedAtDeadline)
    assert alert.interval == dt.timedelta(minutes=45)
    assert alert.callback.path == "databridge.alerts.deadline_missed"
    assert alert.callback.kwargs == {"project": "nightly", "minutes": 45}


def test_no_deadline_by_default() -> None:
    built = plan("{cron: '@daily'}")
    assert built.schedule.deadline_minutes is None
    assert not build_dag(built).deadline


def test_the_deadline_survives_serialization() -> None:
    """The scheduler reads the serialized DAG: the alert must round-trip with its callback and interval."""
    from airflow.serialization.serialized_objects import DagSerialization

    dag = build_dag(plan("{deadline_minutes: 90}"))
    (alert,) = DagSerialization.to_dict(dag)["dag"]["deadline"]
    assert alert["reference"] == {"reference_type": "DagRunQueuedAtDeadline"}
    assert alert["interval"]["__data__"] == 5400.0
    assert alert["callback"]["__data__"] == {
        "path": "databridge.alerts.deadline_missed",
        "kwargs": {"project": "nightly", "minutes": 90},
    }


def test_the_message_names_project_run_and_lateness() -> None:
    message = deadline_message("nightly", 45, context(), dt.datetime(2026, 11, 28, 3, 52, 35, tzinfo=UTC))
    assert message == (
        "DataBridge project nightly: run scheduled__2026-11-28T03:00:00+00:00 missed its deadline; "
        "it should finish within 45 min of being queued (queued 2026-11-28 03:00:05 UTC); "
        "the deadline was 2026-11-28 03:45:05 UTC, 7.5 min ago; run state: running"
    )
    assert deadline_message("nightly", 45, {}, dt.datetime.now(UTC)) == (
        "DataBridge project nightly: run (unknown) missed its deadline; it should finish within 45 min of being queued"
    )


def test_airflows_callback_trigger_runs_the_alert(caplog: pytest.LogCaptureFixture) -> None:
    """Airflow's own trigger (what the triggerer runs) imports the callback by path and awaits it with the context."""
    from airflow.triggers.callback import CallbackTrigger

    trigger = CallbackTrigger(
        "databridge.alerts.deadline_missed", {"project": "nightly", "minutes": 45, "context": context()}
    )

    async def events() -> list[Any]:
        return [event async for event in trigger.run()]

    with caplog.at_level(logging.WARNING, logger="databridge.alerts"):
        found = asyncio.run(events())
    assert [e.payload["state"] for e in found] == ["running", "success"], found
    assert (
        found[-1]
        .payload["body"]
        .startswith("DataBridge project nightly: run scheduled__2026-11-28T03:00:00+00:00 missed its deadline")
    )
    (record,) = [r for r in caplog.records if r.name == "databridge.alerts"]
    assert record.levelno == logging.WARNING and "min ago" in record.getMessage()
    assert "hunter2" not in caplog.text  # the run's conf is never logged
