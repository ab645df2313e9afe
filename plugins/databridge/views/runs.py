"""Runs of a project's DAG: what Airflow's REST API v2 does, and what DataBridge adds beside it.

Airflow REST API v2 (use it; the plugin does not repeat it):
  start a run      POST  /api/v2/dags/{dag_id}/dagRuns              {"dag_run_id": .., "logical_date": null, "conf": {}}
  cancel a run     PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}     {"state": "failed"}  (running task stopped, rest skipped)
                   (the monitor cancels through the plugin's own route below, which also notes who cancelled)
  pause / resume   PATCH /api/v2/dags/{dag_id}                      {"is_paused": true | false}
  task logs        GET   /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}
Added by the plugin (routes in views/run_routes.py), because Airflow cannot know DataBridge's results schema:
  run status       GET /databridge/projects/{dag_id}/runs/{run_id}  per pipeline and stage: task state, rows, throughput, errors
  history          GET /databridge/projects/{dag_id}/runs           dag runs with their stored reports
  cancel           POST /databridge/projects/{dag_id}/runs/{run_id}/cancel
                        Airflow's own cancel (the run failed, its running task stopped), plus the run's note
                        "Cancelled by <user> in DataBridge at <time>": the run reads as cancelled, not failed
  latest run       GET /databridge/runs/latest                      the newest run of any mapping project
  queue            GET /databridge/queue                            pool slots, queued and running task instances
  health           GET /databridge/health
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


def run_status(dag_id: str, run_id: str) -> dict[str, Any]:
    """The run's state, and each pipeline's six stages with the task state and what the results schema holds."""
    run = _dag_run(dag_id, run_id)
    states = _task_states(dag_id, run_id)
    out = []
    for pipeline in pipelines(dag_id):
        stored = _stored(pipeline, dag_id, run_id)
        stages = [{"stage": s, "task_id": f"{pipeline.name}.{s}", **_state(states.get(f"{pipeline.name}.{s}", [])), **stored.get(s, {})} for s in ALL_STAGES]
        out.append({"pipeline": pipeline.name, "stages": stages})
    return {"dag_id": dag_id, "run_id": run_id, **run, "pipelines": out}


def history(dag_id: str) -> dict[str, Any]:
    """The latest dag runs of a project, newest first, each with the reports its pipelines stored."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(HISTORY_LIMIT)).all()
        listed = [{"run_id": r.run_id, **_run_fields(r)} for r in runs]
    reports: dict[str, list[Any]] = {}
    for pipeline in pipelines(dag_id):
        for run_id, report in _reports(pipeline, dag_id):
            reports.setdefault(run_id, []).append(report)
    return {"dag_id": dag_id, "runs": [{**r, "reports": reports.get(r["run_id"], [])} for r in listed]}


def cancel(dag_id: str, run_id: str, user: Any) -> dict[str, Any]:
    """Cancel a run as Airflow's REST API v2 does (PATCH state failed: the running task stopped, the rest skipped), and
    note on the run who cancelled it and when, after any note it had; a finished run is refused (409)."""
    from airflow.api_fastapi.core_api.datamodels.dag_run import DagRunMutableStates
    from airflow.api_fastapi.core_api.services.public.dag_run import patch_dag_run_note, patch_dag_run_state
    from airflow.models.dagbag import DBDagBag
    from airflow.utils.session import create_session

    with create_session() as session:
        run = _find_run(session, dag_id, run_id)
        if str(run.state) in ("success", "failed"):
            raise InvalidInput(f"run {run_id!r} of {dag_id} has already ended ({run.state}); there is nothing to cancel", status=409)
        dag = DBDagBag().get_dag_for_run(run, session=session)
        if dag is None:
            raise NotFound(f"Airflow has not loaded the DAG {dag_id!r} of run {run_id!r}; check the DAG's import errors")
        line = CANCEL_NOTE.format(by=user.get_name(), at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        patch_dag_run_note(dag_run=run, note=_with_line(run.note, line), user=user)
        patch_dag_run_state(dag=dag, dag_run=run, state=DagRunMutableStates.FAILED, session=session)
        session.flush()
        return {"run_id": run_id, **_run_fields(run)}


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


def latest_run() -> dict[str, Any]:
    """The newest run of any mapping project (a DAG built from include/mappings/), or nulls when none has run."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag_ids = [p["dag_id"] for p in service.list_projects() if p["ok"]]
    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.dag_id.in_(dag_ids)).order_by(DagRun.id.desc()).limit(1)) if dag_ids else None
        return {"dag_id": run.dag_id, "run_id": run.run_id, **_run_fields(run)} if run else {"dag_id": None, "run_id": None}


def queue() -> dict[str, Any]:
    """Pool slots and the task instances waiting or running, per DAG."""
    from airflow.models.pool import Pool
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        pools = {name: dict(stats) for name, stats in Pool.slots_stats(session=session).items()}
        rows = session.execute(
            select(TaskInstance.dag_id, TaskInstance.state, func.count())
            .where(TaskInstance.state.in_(("scheduled", "queued", "running", "deferred", "up_for_retry")))
            .group_by(TaskInstance.dag_id, TaskInstance.state)
        ).all()
    by_dag: dict[str, dict[str, int]] = {}
    for dag_id, state, count in rows:
        by_dag.setdefault(dag_id, {})[str(state)] = int(count)
    totals = {s: sum(d.get(s, 0) for d in by_dag.values()) for s in ("scheduled", "queued", "running", "deferred", "up_for_retry")}
    return {"pools": pools, "task_instances": totals, "by_dag": by_dag}


def _dag_run(dag_id: str, run_id: str) -> dict[str, Any]:
    from airflow.utils.session import create_session

    with create_session() as session:
        return _run_fields(_find_run(session, dag_id, run_id))


def _find_run(session: Any, dag_id: str, run_id: str) -> Any:
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id))
    if run is None:
        raise NotFound(f"DAG {dag_id!r} has no run {run_id!r}")
    return run


def _run_fields(run: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    stopped = cancelled(run.note) if str(run.state) == "failed" else None
    return {"state": str(run.state), "run_type": str(run.run_type), "start_date": iso(run.start_date), "end_date": iso(run.end_date), "cancelled": stopped}


def _task_states(dag_id: str, run_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per task id, its task instances: one, or one per map index for a mapped stage (extract chunks)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state, TaskInstance.hostname).where(
        TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id
    )
    with create_session() as session:
        rows = session.execute(query.order_by(TaskInstance.task_id, TaskInstance.map_index)).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for task_id, map_index, state, hostname in rows:
        found.setdefault(task_id, []).append({"map_index": map_index, "state": str(state) if state else None, "hostname": hostname or None})
    return found


# The state a mapped stage shows when its instances differ: the first of these that one of them is in.
_STATE_ORDER = ("failed", "upstream_failed", "up_for_retry", "running", "queued", "scheduled", "deferred", "up_for_reschedule", None, "skipped", "removed", "success")


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
    stats = _results(pipeline, f"""SELECT stage, sum(rows), sum(seconds) FROM {RESULTS_SCHEMA}.table_stats
        WHERE project = %s AND pipeline = %s AND run_id = %s GROUP BY stage""", (dag_id, pipeline.name, run_id))
    found: dict[str, dict[str, Any]] = {s: {**row, "seconds": round(row["seconds"], 3)} for s, row in stages.items()}
    for stage, rows, seconds in stats:
        found.setdefault(stage, {}).update({"rows": int(rows), "rows_per_second": round(int(rows) / float(seconds), 1) if seconds else None})
    return found


def _reports(pipeline: PipelinePlan, dag_id: str) -> list[tuple[str, Any]]:
    rows = _results(pipeline, f"SELECT run_id, report FROM {RESULTS_SCHEMA}.reports WHERE project = %s AND pipeline = %s ORDER BY created_at DESC", (dag_id, pipeline.name))
    return [(str(r[0]), r[1]) for r in rows]


def _results(pipeline: PipelinePlan, query: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows from the pipeline's target; none when the results schema is not there yet (no run reached it)."""
    target = open_target(connections.connection(pipeline.target_conn_id))
    try:
        if target.scalar("SELECT to_regclass(%s)", (f"{RESULTS_SCHEMA}.stage_runs",), doing="looking for the results schema") is None:
            return []
        return target.rows(query, params, doing="reading the results schema")
    finally:
        target.close()
