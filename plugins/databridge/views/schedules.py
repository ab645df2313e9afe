"""A project's schedule in words, with its next run times, for the wizard's Schedule step (no web framework)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from typing import Any

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter
from pydantic import ValidationError

from databridge.spec.loader import validation_problems
from databridge.spec.models import Project, Schedule
from databridge.views.errors import InvalidInput

PRESET_CRONS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
"""Airflow's presets as the cron expressions they stand for."""
UNSCHEDULED = {
    None: "Only when triggered",
    "@once": "Once, as soon as the project's DAG is unpaused",
    "@continuous": "Continuously: a new run starts as soon as the previous one ends",
}


def describe_schedule(
    cron: str | None, timezone: str = "UTC", count: int = 5, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The schedule in words and its next ``count`` run times (ISO, in ``timezone``); the spec's message if invalid."""
    schedule = checked(cron, timezone)
    if schedule.cron in UNSCHEDULED:
        return {"cron": schedule.cron, "timezone": timezone, "description": UNSCHEDULED[schedule.cron], "next_runs": []}
    assert schedule.cron is not None
    expression = PRESET_CRONS.get(schedule.cron, schedule.cron)
    start = (now or dt.datetime.now(dt.UTC)).astimezone(zoneinfo.ZoneInfo(timezone))
    runs = croniter(expression, start)
    return {
        "cron": schedule.cron,
        "timezone": timezone,
        "description": in_words(expression, preset=schedule.cron if schedule.cron in PRESET_CRONS else None),
        "next_runs": [runs.get_next(dt.datetime).isoformat() for _ in range(count)],
    }


def checked(cron: str | None, timezone: str) -> Schedule:
    try:
        return Schedule(cron=cron, timezone=timezone)
    except ValidationError as exc:
        problems = [(f"schedule.{path}", message) for path, message in validation_problems(exc)]
        raise InvalidInput(
            "; ".join(f"{p}: {m}" for p, m in problems), problems=[{"path": p, "message": m} for p, m in problems]
        ) from None


def in_words(expression: str, preset: str | None = None) -> str:
    options = Options()
    options.use_24hour_time_format = True
    words = ExpressionDescriptor(expression, options).get_description()
    return f"{words} ({preset})" if preset else words


def what_runs(project: Project) -> dict[str, Any]:
    """What resuming a saved project's DAG lets Airflow run, and when, and what Run now starts, for the UI to say
    before either is pressed; ``resume_queued`` is said when a run of the project waits for the resume."""
    work = work_in_words(project)
    said = {"next_run": None, "work": work, "run_now": f"Run now starts one run now: {work}."}
    cron = project.schedule.cron
    if cron is None:
        return said | {
            "resume": "This project has no schedule: resuming runs nothing by itself; Run now starts a run.",
            "resume_queued": "Resuming starts this queued run. The project has no schedule: "
            "nothing else runs by itself.",
        }
    if cron in UNSCHEDULED:
        how = UNSCHEDULED[cron][:1].lower() + UNSCHEDULED[cron][1:]
        return said | {
            "resume": f"Resuming starts a run now ({how}): {work}.",
            "resume_queued": f"Resuming starts this queued run and the schedule's runs ({how}).",
        }
    next_run = _next_run(project.schedule)
    when = f"the next run is {_when(dt.datetime.fromisoformat(next_run), project.schedule.timezone)}, {work}"
    return said | {
        "next_run": next_run,
        "resume": f"Resuming lets Airflow run this project on its schedule: {when}. Nothing runs now.",
        "resume_queued": "Resuming starts this queued run, "
        f"then lets Airflow run this project on its schedule: {when}. Nothing else runs.",
    }


def _next_run(schedule: Schedule) -> str:
    """The cron's first fire time after now (and not before the start date), as the DAG's timetable places it."""
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    first = dt.datetime.combine(schedule.start_date, dt.time(), zone) - dt.timedelta(
        seconds=1
    )  # a fire at 00:00 counts
    return str(
        describe_schedule(schedule.cron, schedule.timezone, 1, max(dt.datetime.now(dt.UTC), first))["next_runs"][0]
    )


def work_in_words(project: Project) -> str:
    """'a full replace of 3 tables', 'an upsert of 1 table and an append to 2 tables', '... and the tables of
    shop.*'."""
    loads: Counter[str] = Counter(
        target.load for pipeline in project.pipelines for mapping in pipeline.tables for target in mapping.targets
    )
    parts = [
        f"{words} {loads[load]} table{'s' if loads[load] > 1 else ''}" for load, words in _LOADS.items() if loads[load]
    ]
    patterns = [pattern for pipeline in project.pipelines for pattern in pipeline.include]
    if patterns:
        parts.append(f"the tables matching {', '.join(patterns)} (each by its own load mode)")
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 2 else parts) or "no table"


_LOADS = {"replace": "a full replace of", "append": "an append to", "upsert": "an upsert of"}


def _when(moment: dt.datetime, timezone: str) -> str:
    """'Tue 8 Dec 02:00 Europe/Paris' (with the year when it is not this year's)."""
    year = f" {moment.year}" if moment.year != dt.datetime.now(moment.tzinfo).year else ""
    return f"{moment:%a} {moment.day} {moment:%b}{year} {moment:%H:%M} {timezone}"
