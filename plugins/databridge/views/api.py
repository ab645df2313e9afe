"""The plugin's HTTP routes under /databridge, served by Airflow's api-server (behind Airflow's login)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from databridge import __version__
from databridge.views.service import list_projects


def create_app() -> FastAPI:
    from airflow.api_fastapi.core_api.security import requires_access_dag

    app = FastAPI(title="DataBridge", version=__version__, description="Mapping projects and their runs.")

    @app.get("/health")
    def health() -> dict[str, str]:
        """Liveness of the plugin (no data, no login needed)."""
        return {"status": "ok", "version": __version__}

    @app.get("/projects", dependencies=[Depends(requires_access_dag("GET"))])
    def projects() -> list[dict[str, Any]]:
        """Every mapping project with its pipelines, or the error that keeps it from loading."""
        return list_projects()

    return app
