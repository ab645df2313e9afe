"""The execution routes DataBridge adds to Airflow's REST API v2 (see views/runs.py for which is which)."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from fastapi import APIRouter, Depends

from databridge import __version__
from databridge.views import runs

run_router = APIRouter(tags=["runs"])


@run_router.get("/health")
def health(_user: GetUserDep) -> dict[str, Any]:
    """The plugin answers, its version, and the mappings folder it reads."""
    from databridge.render.factory import mappings_dir

    return {"status": "ok", "version": __version__, "mappings_dir": str(mappings_dir())}


@run_router.get("/queue", dependencies=[Depends(requires_access_dag("GET"))])
def queue() -> dict[str, Any]:
    """Pool slots (total, open, queued, running) and the task instances waiting or running, per DAG."""
    return runs.queue()


@run_router.get("/projects/{dag_id}/runs", dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN))])
def history(dag_id: str) -> dict[str, Any]:
    """The project's latest runs, newest first, with the reports stored in its targets."""
    return runs.history(dag_id)


@run_router.get("/projects/{dag_id}/runs/{run_id}", dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN))])
def run_status(dag_id: str, run_id: str) -> dict[str, Any]:
    """Each pipeline's six stages: Airflow's task state, and rows moved, throughput and errors from the results schema."""
    return runs.run_status(dag_id, run_id)
