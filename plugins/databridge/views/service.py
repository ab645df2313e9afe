"""What the UI shows of mapping projects, without any web framework: the wizard builds on this."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from databridge.compiler import compile_project
from databridge.errors import DataBridgeError
from databridge.render.factory import display_name, mappings_dir, project_files
from databridge.spec import load_project


def list_projects(folder: Path | None = None) -> list[dict[str, Any]]:
    """Every project file with its DAG id and pipelines, or the error that keeps it from loading."""
    return [_describe(path) for path in project_files(folder or mappings_dir())]


def _describe(path: Path) -> dict[str, Any]:
    name = display_name(path)
    try:
        plan = compile_project(load_project(path, name), name)
    except DataBridgeError as exc:
        return {"file": name, "ok": False, "error": str(exc)}
    return {
        "file": name,
        "ok": True,
        "dag_id": plan.name,
        "description": plan.description.strip(),
        "pipelines": [
            {
                "name": p.name,
                "source_conn_id": p.source_conn_id,
                "target_conn_id": p.target_conn_id,
                "depends_on": list(p.depends_on),
                "tables": [str(t) for t in p.load_order],
            }
            for p in plan.pipelines
        ],
    }
