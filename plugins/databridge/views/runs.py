"""Runs of a project's DAG: what Airflow's REST API v2 does, and what DataBridge adds beside it.

Airflow REST API v2 (use it; the plugin does not repeat it):
  start a run      POST  /api/v2/dags/{dag_id}/dagRuns              {"dag_run_id": .., "logical_date": null, "conf": {}}
  cancel a run     PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}     {"state": "failed"}
                   (running task stopped, rest skipped)
                   (the monitor cancels through the plugin's own route below, which also notes who cancelled)
  pause / resume   PATCH /api/v2/dags/{dag_id}                      {"is_paused": true | false}
  task logs        GET   /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}
Added by the plugin (routes in views/run_routes.py), because Airflow cannot know DataBridge's results schema:
  run status       GET /databridge/projects/{dag_id}/runs/{run_id}  per pipeline and stage: task state, rows,
                                                                    throughput, errors, each table's progress
  history          GET /databridge/projects/{dag_id}/runs           dag runs with their stored reports
  cancel           POST /databridge/projects/{dag_id}/runs/{run_id}/cancel
                        Airflow's own cancel (the run failed, its running task stopped), plus the run's note
                        "Cancelled by <user> in DataBridge at <time>": the run reads as cancelled, not failed
  latest run       GET /databridge/runs/latest                      the newest run of any mapping project
  queue            GET /databridge/queue                            pool slots, queued and running task instances
  health           GET /databridge/health

What each view reads from Airflow: only its REST API v2, called in-process as the user who asked (views/airflow_api.py),
because the REST API is the interface Airflow documents as public while its metadata database and ORM models are not:
  run status   GET   /api/v2/dags/{dag_id}/dagRuns/{run_id}                     state, type, dates, note
               GET   /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances       task id, map index, state, host
  history      GET   /api/v2/dags/{dag_id}/dagRuns?order_by=-id                 the newest runs first
  cancel       GET   /api/v2/dags/{dag_id}/dagRuns/{run_id}, then
               PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}  {"note": .., "state": "failed"}  (Airflow's own cancel)
  latest run   POST  /api/v2/dags/~/dagRuns/list  {"dag_ids": [..], "order_by": "-id", "page_limit": 1}
  queue        GET   /api/v2/pools, GET /api/v2/dags/~/dagRuns/~/taskInstances?state=..  (the DAGs the user may read)
Rows moved, throughput and errors come from the target's results schema (DataBridge's own tables).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from databridge.compiler import compile_project
from databridge.compiler.plan import PipelinePlan
from databridge.engines import open_target
from databridge.runtime.report import STAGES
from databridge.runtime.results import RESULTS_SCHEMA, STAGE_RUNS_SQL, merge_stages
from databridge.spec import load_project
from databridge.views import connections, service
from databridge.views.airflow_api import AirflowApi
from databridge.views.errors import InvalidInput, NotFound

ALL_STAGES = (*STAGES, "report")
HISTORY_LIMIT = 25
CANCEL_NOTE = "Cancelled by {by} in DataBridge at {at}."
_CANCELLED = re.compile(r"Cancelled by (?P<by>.+?) in DataBridge at (?P<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\.")
NOTE_LIMIT = 1000
"""Characters Airflow keeps of a DAG run's note."""


def pipelines(dag_id: str) -> tuple[PipelinePlan, ...]:
    path = service.project_path(dag_id)
    return compile_project(load_project(path, str(path)), str(path)).pipelines


def run_status(airflow: AirflowApi, dag_id: str, run_id: str) -> dict[str, Any]:
    """The run's state, and each pipeline's six stages with the task state and what the results schema holds."""
    run = _run_fields(_find_run(airflow, dag_id, run_id))
    states = _task_states(airflow, dag_id, run_id)
    out = []
    for pipeline in pipelines(dag_id):
        stored = _stored(pipeline, dag_id, run_id)
        stages = [
            {
                "stage": s,
                "task_id": f"{pipeline.name}.{s}",
                **_state(states.get(f"{pipeline.name}.{s}", [])),
                **stored.get(s, {}),
            }
            for s in ALL_STAGES
        ]
        out.append({"pipeline": pipeline.name, "stages": stages})
    return {"dag_id": dag_id, "run_id": run_id, **run, "pipelines": out}


def history(airflow: AirflowApi, dag_id: str) -> dict[str, Any]:
    """The latest dag runs of a project, newest first, each with the reports its pipelines stored; none while Airflow
    has not loaded the project's DAG yet."""
    try:
        runs = airflow.get(f"/dags/{dag_id}/dagRuns", "", order_by="-id", limit=HISTORY_LIMIT)["dag_runs"]
    except NotFound:
        runs = []
    listed = [{"run_id": r["dag_run_id"], **_run_fields(r)} for r in runs]
    reports: dict[str, list[Any]] = {}
    for pipeline in pipelines(dag_id):
        for run_id, report in _reports(pipeline, dag_id):
            reports.setdefault(run_id, []).append(report)
    return {"dag_id": dag_id, "runs": [{**r, "reports": reports.get(r["run_id"], [])} for r in listed]}


def cancel(airflow: AirflowApi, dag_id: str, run_id: str, user: Any) -> dict[str, Any]:
    """Cancel a run with Airflow's REST API v2 cancel (PATCH state failed: the running task stopped, the rest skipped),
    noting in the same call who cancelled it and when, after any note it had; a finished run is refused (409)."""
    run = _find_run(airflow, dag_id, run_id)
    if run["state"] in ("success", "failed"):
        raise InvalidInput(
            f"run {run_id!r} of {dag_id} has already ended ({run['state']}); there is nothing to cancel", status=409
        )
    line = CANCEL_NOTE.format(by=user.get_name(), at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    missing = f"Airflow has not loaded the DAG {dag_id!r} of run {run_id!r}; check the DAG's import errors"
    done = airflow.patch(
        f"/dags/{dag_id}/dagRuns/{run_id}", missing, {"note": _with_line(run.get("note"), line), "state": "failed"}
    )
    return {"run_id": run_id, **_run_fields(done)}


def _with_line(note: str | None, line: str) -> str:
    """The run's note with the cancel line after it; what was there first is shortened, never the line."""
    if not note:
        return line
    room = NOTE_LIMIT - len(line) - 2
    return (note if len(note) <= room else note[: max(room - 1, 0)] + "…") + "\n\n" + line


def cancelled(note: str | None) -> dict[str, str] | None:
    """Who cancelled a run in DataBridge and when (UTC), read from the run's note; None for any other run."""
    found = list(_CANCELLED.finditer(note or ""))
    if not found:
        return None
    at = found[-1]["at"].replace("Z", "+00:00")
    return {"by": found[-1]["by"], "at": at}


def latest_run(airflow: AirflowApi) -> dict[str, Any]:
    """The newest run of any mapping project (a DAG built from include/mappings/), or nulls when none has run."""
    dag_ids = [p["dag_id"] for p in service.list_projects() if p["ok"]]
    body = {"dag_ids": dag_ids, "order_by": "-id", "page_limit": 1}
    runs = airflow.post("/dags/~/dagRuns/list", "Airflow has no DAG run listing", body)["dag_runs"] if dag_ids else []
    return (
        {"dag_id": runs[0]["dag_id"], "run_id": runs[0]["dag_run_id"], **_run_fields(runs[0])}
        if runs
        else {"dag_id": None, "run_id": None}
    )


QUEUE_STATES = ("scheduled", "queued", "running", "deferred", "up_for_retry")
_POOL_SLOTS = {
    "total": "slots",
    "running": "running_slots",
    "deferred": "deferred_slots",
    "queued": "queued_slots",
    "open": "open_slots",
    "scheduled": "scheduled_slots",
}


def queue(airflow: AirflowApi) -> dict[str, Any]:
    """Pool slots and the task instances waiting or running, per DAG (of the DAGs the user may read)."""
    pools = {
        p["name"]: {key: p[field] for key, field in _POOL_SLOTS.items()}
        for p in airflow.pages("/pools", "pools", "Airflow has no pools listing")
    }
    waiting = airflow.pages(
        "/dags/~/dagRuns/~/taskInstances",
        "task_instances",
        "Airflow has no task instance listing",
        state=list(QUEUE_STATES),
    )
    by_dag: dict[str, dict[str, int]] = {}
    for ti in waiting:
        counts = by_dag.setdefault(ti["dag_id"], {})
        counts[ti["state"]] = counts.get(ti["state"], 0) + 1
    totals = {s: sum(d.get(s, 0) for d in by_dag.values()) for s in QUEUE_STATES}
    return {"pools": pools, "task_instances": totals, "by_dag": by_dag}


def _find_run(airflow: AirflowApi, dag_id: str, run_id: str) -> dict[str, Any]:
    """The run as Airflow's REST API v2 answers it (DAGRunResponse)."""
    return airflow.get(f"/dags/{dag_id}/dagRuns/{run_id}", f"DAG {dag_id!r} has no run {run_id!r}")


def _run_fields(run: dict[str, Any]) -> dict[str, Any]:
    def iso(value: str | None) -> str | None:
        return datetime.fromisoformat(value).isoformat() if value else None

    stopped = cancelled(run.get("note")) if run["state"] == "failed" else None
    return {
        "state": run["state"],
        "run_type": run["run_type"],
        "start_date": iso(run["start_date"]),
        "end_date": iso(run["end_date"]),
        "cancelled": stopped,
    }


def _task_states(airflow: AirflowApi, dag_id: str, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per task id, its task instances: one, or one per map index for a mapped stage (extract chunks)."""
    rows = airflow.pages(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", "task_instances", f"DAG {dag_id!r} has no run {run_id!r}"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for ti in sorted(rows, key=lambda ti: (ti["task_id"], ti["map_index"])):
        found.setdefault(ti["task_id"], []).append(
            {"map_index": ti["map_index"], "state": ti["state"], "hostname": ti["hostname"] or None}
        )
    return found


# The state a mapped stage shows when its instances differ: the first of these that one of them is in.
_STATE_ORDER = (
    "failed",
    "upstream_failed",
    "up_for_retry",
    "running",
    "queued",
    "scheduled",
    "deferred",
    "up_for_reschedule",
    None,
    "skipped",
    "removed",
    "success",
)


def _state(instances: list[dict[str, Any]]) -> dict[str, Any]:
    """A stage's state; for a mapped stage, one state for all its instances and each instance with its host."""
    if not instances:
        return {"state": None}
    if len(instances) == 1 and instances[0]["map_index"] == -1:
        return {"state": instances[0]["state"]}
    states = [i["state"] for i in instances]
    state = min(states, key=lambda s: _STATE_ORDER.index(s) if s in _STATE_ORDER else 0)
    return {"state": state, "instances": instances}


def _stored(pipeline: PipelinePlan, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
    """Per stage, from the target's results schema: status, error, warnings, rows moved and rows per second."""
    stages = merge_stages(_results(pipeline, STAGE_RUNS_SQL, (dag_id, pipeline.name, run_id)))
    stats = _results(
        pipeline,
        f"""SELECT stage, sum(rows), sum(seconds) FROM {RESULTS_SCHEMA}.table_stats
        WHERE project = %s AND pipeline = %s AND run_id = %s GROUP BY stage""",
        (dag_id, pipeline.name, run_id),
    )
    found: dict[str, dict[str, Any]] = {s: {**row, "seconds": round(row["seconds"], 3)} for s, row in stages.items()}
    for stage, rows, seconds in stats:
        found.setdefault(stage, {}).update(
            {"rows": int(rows), "rows_per_second": round(int(rows) / float(seconds), 1) if seconds else None}
        )
    for stage, tables in _progress(pipeline, dag_id, run_id).items():
        found.setdefault(stage, {})["progress"] = tables
    return found


PROGRESS_SQL = f"""SELECT stage, table_name, sum(rows), max(total), sum(rows_per_second), max(eta_seconds),
    bool_and(done), extract(epoch FROM clock_timestamp() - max(updated_at)) FROM {RESULTS_SCHEMA}.table_progress
    WHERE project = %s AND pipeline = %s AND run_id = %s GROUP BY stage, table_name
    ORDER BY stage, min(started_at), table_name"""
_PROGRESS_STAGE = {"proof": "validate"}
"""The task a progress stage runs in (the proof is part of the validate task)."""


def _progress(pipeline: PipelinePlan, dag_id: str, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per stage, each table's progress as its stage last recorded it (runtime/progress.py), while it runs and after:
    rows done, the source's estimate (total), rows per second, seconds left (ETA), done, seconds since the last update.
    A chunked table's chunks are added up."""
    rows = _results(pipeline, PROGRESS_SQL, (dag_id, pipeline.name, run_id), table=f"{RESULTS_SCHEMA}.table_progress")
    out: dict[str, list[dict[str, Any]]] = {}
    for stage, table, done_rows, total, speed, eta, done, age in rows:
        percent = 100.0 if done else round(min(100.0, int(done_rows) * 100 / int(total)), 1) if total else None
        out.setdefault(_PROGRESS_STAGE.get(stage, stage), []).append(
            {
                "part": stage,
                "table": table,
                "rows": int(done_rows),
                "total": None if total is None else int(total),
                "percent": percent,
                "rows_per_second": round(float(speed), 1),
                "eta_seconds": None if done or eta is None else round(float(eta), 1),
                "done": bool(done),
                "updated_seconds_ago": round(float(age), 1),
            }
        )
    return out


def _reports(pipeline: PipelinePlan, dag_id: str) -> list[tuple[str, Any]]:
    rows = _results(
        pipeline,
        f"SELECT run_id, report FROM {RESULTS_SCHEMA}.reports WHERE project = %s AND pipeline = %s ORDER BY "
        "created_at DESC",
        (dag_id, pipeline.name),
    )
    return [(str(r[0]), r[1]) for r in rows]


def _results(
    pipeline: PipelinePlan, query: str, params: tuple[Any, ...], *, table: str = f"{RESULTS_SCHEMA}.stage_runs"
) -> list[tuple[Any, ...]]:
    """Rows from the pipeline's target; none when the results schema (or its ``table``) is not there yet (no run
    reached it)."""
    target = open_target(connections.connection(pipeline.target_conn_id))
    try:
        if target.scalar("SELECT to_regclass(%s)", (table,), doing="looking for the results schema") is None:
            return []
        return target.rows(query, params, doing="reading the results schema")
    finally:
        target.close()
