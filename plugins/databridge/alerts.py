"""Deadline alerts: what Airflow calls when a project's run is still going past ``schedule.deadline_minutes``.

Airflow's triggerer awaits ``deadline_missed`` with the kwargs the DAG gave (project, minutes) and a small context
(the dag run as the REST API shows it, and the deadline's time). Only names and times are logged: never the run's
conf, which may hold anything a user passed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

log = logging.getLogger(__name__)


async def deadline_missed(project: str, minutes: int, context: dict[str, Any] | None = None) -> str:
    """Log one warning naming the project, the run and how late it is; the message is also the callback's result."""
    message = deadline_message(project, minutes, context or {}, dt.datetime.now(dt.UTC))
    log.warning("%s", message)
    return message


def deadline_message(project: str, minutes: int, context: dict[str, Any], now: dt.datetime) -> str:
    """The warning: which run missed its deadline, when it was queued, by when it should have ended, how late it is."""
    run = context.get("dag_run") or {}
    deadline = _when((context.get("deadline") or {}).get("deadline_time"))
    queued = _when(run.get("queued_at"))
    parts = [f"DataBridge project {project}: run {run.get('dag_run_id') or '(unknown)'} missed its deadline"]
    parts.append(
        f"it should finish within {minutes} min of being queued"
        + (f" (queued {queued:%Y-%m-%d %H:%M:%S} UTC)" if queued else "")
    )
    if deadline:
        late = max(0.0, (now - deadline).total_seconds())
        parts.append(f"the deadline was {deadline:%Y-%m-%d %H:%M:%S} UTC, {_duration(late)} ago")
    if run.get("state"):
        parts.append(f"run state: {run['state']}")
    return "; ".join(parts)


def _when(value: Any) -> dt.datetime | None:
    """A UTC time from the context: Airflow sends datetimes or ISO strings, depending on the path."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        return None
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"
