"""A project's cron: resuming its paused DAG runs nothing until the cron's next fire time after the resume."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pendulum
from airflow.timetables.base import DataInterval, TimeRestriction

from databridge.compiler import ProjectPlan, compile_project
from databridge.render.dag import build_dag
from databridge.render.timetable import ResumeSafeCronTimetable
from databridge.spec import parse_project

NO_CATCHUP = TimeRestriction(earliest=pendulum.datetime(2024, 1, 1), latest=None, catchup=False)


def hourly_fired_minutes_ago(minutes: int) -> str:
    """An hourly cron whose last fire time is ``minutes`` ago (and the next one 60 - ``minutes`` from now)."""
    return f"{(pendulum.now('UTC') - dt.timedelta(minutes=minutes)).minute} * * * *"


def plan(cron: str, catchup: bool = False) -> ProjectPlan:
    text = textwrap.dedent(f"""\
        name: resumable
        schedule: {{cron: '{cron}', timezone: Europe/Paris, catchup: {str(catchup).lower()}}}
        pipelines:
          - name: main
            source_conn_id: src
            target_conn_id: tgt
            tables: [{{source: shop.orders, targets: [{{table: orders}}]}}]
        """)
    return compile_project(parse_project(text, "resumable.yaml"), "resumable.yaml")


def scheduled_dag(cron: str, catchup: bool = False) -> Any:
    """The DAG as the scheduler and the dag-processor hold it: serialized and read back (the plugin registers the
    timetable)."""
    from airflow.serialization.serialized_objects import DagSerialization

    return DagSerialization.from_dict(DagSerialization.to_dict(build_dag(plan(cron, catchup))))


def test_a_new_dag_resumed_after_a_fire_time_waits_for_the_next_one() -> None:
    """Airflow's CronTriggerTimetable offers the fire time of 10 minutes ago: unpausing the DAG ran it at once."""
    dag = scheduled_dag(hourly_fired_minutes_ago(10))
    assert isinstance(dag.timetable, ResumeSafeCronTimetable)
    info = dag.next_dagrun_info(last_automated_run_info=None)
    now = pendulum.now("UTC")
    assert info is not None and now < info.run_after <= now + dt.timedelta(minutes=51), info


def test_a_dag_paused_over_several_fire_times_does_not_run_the_latest_when_resumed() -> None:
    cron = hourly_fired_minutes_ago(10)
    timetable = ResumeSafeCronTimetable(cron, timezone="Europe/Paris")
    last_fire = pendulum.now("UTC").replace(second=0, microsecond=0) - dt.timedelta(hours=5, minutes=10)
    info = timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(last_fire, last_fire), restriction=NO_CATCHUP
    )
    assert info is not None and info.run_after > pendulum.now("UTC"), info


def test_a_scheduler_a_few_seconds_late_still_runs_the_fire_time() -> None:
    """The dag-processor recomputes the next run on every parse: one that lands just after a fire time keeps it."""
    timetable = ResumeSafeCronTimetable("* * * * *", timezone="UTC")  # fired less than LATE_RUN_GRACE (a minute) ago
    for _ in range(3):  # again if the minute turns meanwhile
        fired = pendulum.now("UTC").replace(second=0, microsecond=0)
        previous = DataInterval(fired - dt.timedelta(minutes=1), fired - dt.timedelta(minutes=1))
        info = timetable.next_dagrun_info(last_automated_data_interval=previous, restriction=NO_CATCHUP)
        if pendulum.now("UTC").replace(second=0, microsecond=0) == fired:
            break
    assert info is not None and info.run_after == fired, info


def test_catchup_still_runs_every_missed_fire_time_from_the_start_date() -> None:
    dag = scheduled_dag("0 3 * * *", catchup=True)
    info = dag.next_dagrun_info(last_automated_run_info=None)
    assert info is not None and info.run_after == pendulum.datetime(2024, 1, 1, 3, tz="Europe/Paris"), info
