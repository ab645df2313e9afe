"""A project's schedule in words, with its next run times, for the wizard's Schedule step (no web framework)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from cron_descriptor import ExpressionDescriptor, Options
from croniter import croniter
from pydantic import ValidationError

from databridge.spec.loader import validation_problems
from databridge.spec.models import Schedule
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


def describe_schedule(cron: str | None, timezone: str = "UTC", count: int = 5, now: dt.datetime | None = None) -> dict[str, Any]:
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
        raise InvalidInput("; ".join(f"{p}: {m}" for p, m in problems), problems=[{"path": p, "message": m} for p, m in problems]) from None


def in_words(expression: str, preset: str | None = None) -> str:
    options = Options()
    options.use_24hour_time_format = True
    words = ExpressionDescriptor(expression, options).get_description()
    return f"{words} ({preset})" if preset else words
