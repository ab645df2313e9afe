"""The execution routes DataBridge adds to Airflow's REST API v2 (see views/runs.py for which is which)."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import APIRouter, Request

from databridge import __version__
from databridge.views import runs
from databridge.views.airflow_api import AirflowApi
from databridge.views.openapi import errors
from databridge.views.rights import READ_DAGS, READ_RUNS, Right, needs

run_router = APIRouter(tags=["runs"])


@run_router.get("/health")
def health(_user: GetUserDep) -> dict[str, Any]:
    """The plugin answers, its version, and the mappings folder it reads."""
    from databridge.render.factory import mappings_dir

    return {"status": "ok", "version": __version__, "mappings_dir": str(mappings_dir())}


@run_router.get("/queue", dependencies=[needs("Reading the run queue", READ_DAGS)])
def queue(request: Request, user: GetUserDep) -> dict[str, Any]:
    """Pool slots (total, open, queued, running) and the task instances waiting or running, per DAG."""
    return runs.queue(AirflowApi.of(request, user))


@run_router.get("/runs/latest", dependencies=[needs("Finding the latest run", READ_RUNS)])
def latest_run(request: Request, user: GetUserDep) -> dict[str, Any]:
    """The newest run of any mapping project (where the Reports page opens); nulls when none has run yet."""
    return runs.latest_run(AirflowApi.of(request, user))


@run_router.get("/projects/{dag_id}/runs", dependencies=[needs("Reading a project's runs", READ_RUNS)])
def history(dag_id: str, request: Request, user: GetUserDep) -> dict[str, Any]:
    """The project's latest runs, newest first, with the reports stored in its targets."""
    return runs.history(AirflowApi.of(request, user), dag_id)


@run_router.get("/projects/{dag_id}/runs/{run_id}", dependencies=[needs("Reading a run", READ_RUNS)])
def run_status(dag_id: str, run_id: str, request: Request, user: GetUserDep) -> dict[str, Any]:
    """Each pipeline's six stages: Airflow's task state, and rows moved, throughput and errors from the results
    schema."""
    return runs.run_status(AirflowApi.of(request, user), dag_id, run_id)


EDIT_RUNS = Right("can edit on DAG Runs", requires_access_dag("PUT", DagAccessEntity.RUN))


@run_router.post(
    "/projects/{dag_id}/runs/{run_id}/cancel",
    dependencies=[needs("Cancelling a run", EDIT_RUNS)],
    responses=errors(404, 409),
)
def cancel_run(dag_id: str, run_id: str, request: Request, user: GetUserDep) -> dict[str, Any]:
    """Cancel a run as Airflow's REST API v2 does (state failed: the running task stopped, the rest skipped), and note
    on the run who cancelled it and when: the monitor and Reports then show it as cancelled, not failed."""
    return runs.cancel(AirflowApi.of(request, user), dag_id, run_id, user)
