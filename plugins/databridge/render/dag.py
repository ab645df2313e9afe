"""ProjectPlan → Airflow DAG: one TaskGroup of six operators per pipeline, groups chained by depends_on."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pendulum
from airflow.sdk import DAG, AssetOrTimeSchedule, TaskGroup
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from databridge.alerts import deadline_missed
from databridge.compiler.plan import PipelinePlan, ProjectPlan, to_json
from databridge.operators import (
    ExtractOperator,
    LoadDimensionsOperator,
    LoadFactsOperator,
    ReportOperator,
    TransformOperator,
    ValidateOperator,
)
from databridge.render.assets import schedule_condition, stage_outlets, target_at_parse
from databridge.render.timetable import ResumeSafeCronTimetable

STAGE_OPERATORS = (
    ("extract", ExtractOperator),
    ("transform", TransformOperator),
    ("load_dimensions", LoadDimensionsOperator),
    ("load_facts", LoadFactsOperator),
    ("validate", ValidateOperator),
    ("report", ReportOperator),
)
_NO_CRON_PRESETS = {"@once", "@continuous"}


def build_dag(
    plan: ProjectPlan,
    fileloc: str | None = None,
    project_path: str | None = None,
    projects: Mapping[str, tuple[str, ...]] | None = None,
) -> DAG:
    """The project's DAG (dag_id = project name); ``project_path``, the project file's absolute path, goes into the
    report's rollback command; ``projects``, the pipelines of every project of the folder, gives ``after_projects``
    its assets."""
    with DAG(
        dag_id=plan.name,
        description=(plan.description.strip().splitlines() or [""])[0][:200] or None,
        doc_md=_doc(plan),
        schedule=_with_assets(_schedule(plan), plan, projects or {}),
        start_date=_start_date(plan),
        catchup=plan.schedule.catchup,
        tags=["databridge", *plan.tags],
        default_args=_default_args(plan),
        max_active_runs=1,
        deadline=_deadline(plan),
    ) as dag:
        groups = {p.name: _pipeline_group(p, plan.file, project_path) for p in plan.pipelines}
        for pipeline in plan.pipelines:
            for dependency in pipeline.depends_on:
                groups[dependency] >> groups[pipeline.name]
    if fileloc:
        dag.fileloc = fileloc
    return dag


def _pipeline_group(pipeline: PipelinePlan, project_file: str, project_path: str | None) -> TaskGroup:
    params = json.loads(json.dumps(to_json(pipeline)))
    with TaskGroup(group_id=pipeline.name, tooltip=f"{pipeline.source_conn_id} -> {pipeline.target_conn_id}") as group:
        previous = None
        target = target_at_parse(pipeline.target_conn_id)
        for task_id, operator in STAGE_OPERATORS:
            if operator is ExtractOperator:
                task = _extract(pipeline, params, project_file)
            elif operator is ReportOperator:
                task = ReportOperator(
                    task_id=task_id, pipeline=params, project_file=project_file, project_path=project_path
                )
            else:
                outlets = stage_outlets(pipeline, task_id, target)
                task = operator(task_id=task_id, pipeline=params, project_file=project_file, outlets=outlets)
            if previous is not None:
                previous >> task
            previous = task
    return group


def _extract(pipeline: PipelinePlan, params: dict[str, Any], project_file: str) -> Any:
    """The extract stage: one task, or one mapped task instance per chunk index when a table is split.

    The chunk indexes are known from the spec when the DAG is parsed; each instance finds its own range at run
    time in the split the first instance stored (see runtime/chunks.py), so the DAG shape never depends on data.
    """
    if pipeline.extract_chunks == 1:
        return ExtractOperator(task_id="extract", pipeline=params, project_file=project_file)
    return ExtractOperator.partial(
        task_id="extract",
        pipeline=params,
        project_file=project_file,
        max_active_tis_per_dagrun=pipeline.extract_parallel,
        map_index_template="chunk {{ task.chunk }}",
    ).expand(chunk=list(range(pipeline.extract_chunks)))


def _start_date(plan: ProjectPlan) -> dt.datetime:
    day = dt.date.fromisoformat(plan.schedule.start_date)
    return pendulum.datetime(day.year, day.month, day.day, tz=plan.schedule.timezone)


def _schedule(plan: ProjectPlan) -> Any:
    cron = plan.schedule.cron
    if not cron or cron in _NO_CRON_PRESETS:
        return cron or None
    return ResumeSafeCronTimetable(cron, timezone=plan.schedule.timezone)


def _with_assets(timetable: Any, plan: ProjectPlan, projects: Mapping[str, tuple[str, ...]]) -> Any:
    """The schedule with the assets the project waits for: those alone, or either them or the cron."""
    condition = schedule_condition(plan, projects)
    if condition is None:
        return timetable
    return condition if timetable is None else AssetOrTimeSchedule(timetable=timetable, assets=condition)


def _deadline(plan: ProjectPlan) -> DeadlineAlert | None:
    """An Airflow deadline alert: a run still going ``deadline_minutes`` after it was queued calls our alert."""
    minutes = plan.schedule.deadline_minutes
    if not minutes:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=dt.timedelta(minutes=minutes),
        callback=AsyncCallback(deadline_missed, kwargs={"project": plan.name, "minutes": minutes}),
        name=f"{plan.name} within {minutes} min",
    )


def _default_args(plan: ProjectPlan) -> dict[str, Any]:
    d = plan.defaults
    args: dict[str, Any] = {
        "owner": "databridge",
        "retries": d.retries,
        "retry_delay": dt.timedelta(seconds=d.retry_delay_seconds),
        "retry_exponential_backoff": d.retry_exponential_backoff,
        "max_retry_delay": dt.timedelta(seconds=d.max_retry_delay_seconds),
    }
    if d.execution_timeout_minutes:
        args["execution_timeout"] = dt.timedelta(minutes=d.execution_timeout_minutes)
    return args


def _doc(plan: ProjectPlan) -> str:
    lines = [
        f"# {plan.name}",
        "",
        plan.description.strip(),
        "",
        f"Mapping project: `{plan.file}`",
        "",
        "| pipeline | source | target | tables | after |",
        "|---|---|---|---|---|",
    ]
    for p in plan.pipelines:
        tables = ", ".join(
            [str(t) for t in p.load_order]
            + ([f"every table of {', '.join(p.discover.include)}"] if p.discover and p.discover.include else [])
        )
        lines.append(
            f"| {p.name} | `{p.source_conn_id}` | `{p.target_conn_id}` | {tables} | {', '.join(p.depends_on) or '-'} |"
        )
    return "\n".join(lines)
