"""The timetable of a project with a cron: Airflow's cron trigger, except that resuming a DAG runs nothing by itself.

Airflow's CronTriggerTimetable without catch-up always offers the latest fire time before now (unless it is before
the start date) as the next run. The dag-processor stores that time on every parse, paused or not, so unpausing a DAG
whose cron fired while it was paused (a new project starts paused) at once starts a ``scheduled__`` run of that past
fire time, which nobody asked for.
Here the next run without catch-up is the first fire time after now, less ``LATE_RUN_GRACE``: a scheduler a few
seconds late for a fire time still runs it, a fire time that passed while the DAG was paused does not.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.plugins_manager import AirflowPlugin
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction
from airflow.timetables.trigger import CronTriggerTimetable

LATE_RUN_GRACE = dt.timedelta(minutes=1)
"""How late the scheduler may be for a fire time that still runs: long enough for a busy scheduler to create the
run before the dag-processor's next parse moves the next run on, short enough that resuming a paused project does
not start a run of a fire time the user saw pass."""


class ResumeSafeCronTimetable(CronTriggerTimetable):
    """Runs at the cron's fire times; without catch-up, never at one that passed while the DAG was paused."""

    @property
    def expression(self) -> str:
        """The cron expression, as the task SDK's CronTriggerTimetable names it."""
        return str(self._expression)

    @property
    def timezone(self) -> Any:
        """The zone the cron is read in."""
        return self._timezone

    def next_dagrun_info(
        self, *, last_automated_data_interval: DataInterval | None, restriction: TimeRestriction
    ) -> DagRunInfo | None:
        if restriction.catchup:
            return super().next_dagrun_info(
                last_automated_data_interval=last_automated_data_interval, restriction=restriction
            )
        candidates = [self._align_to_next(pendulum.now("UTC") - LATE_RUN_GRACE)]
        if last_automated_data_interval is not None:
            candidates.append(self._get_next(last_automated_data_interval.end))
        if restriction.earliest is not None:
            candidates.append(self._align_to_next(restriction.earliest))
        next_start = max(candidates)
        if restriction.latest is not None and restriction.latest < next_start:
            return None
        return DagRunInfo.interval(next_start - self._interval, next_start)


class DataBridgeTimetables(AirflowPlugin):
    """Registers the timetable (entry point ``databridge_timetables``), apart from the web app's plugin, so that the
    dag-processor and the scheduler can read a cron project's DAG even when the web app cannot load."""

    name = "databridge_timetables"
    timetables = [ResumeSafeCronTimetable]
