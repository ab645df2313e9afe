"""build_dags: every mapping project in the mappings folder becomes a DAG; a broken one never hides the others."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from databridge.compiler import compile_project
from databridge.errors import DataBridgeError, SpecError
from databridge.render.dag import build_dag
from databridge.render.import_errors import report_import_error
from databridge.spec import load_project

DEFAULT_MAPPINGS_DIR = Path(__file__).resolve().parents[3] / "include" / "mappings"


def mappings_dir() -> Path:
    """The folder of mapping projects: $DATABRIDGE_MAPPINGS_DIR, else include/mappings beside plugins/."""
    return Path(os.environ.get("DATABRIDGE_MAPPINGS_DIR") or DEFAULT_MAPPINGS_DIR)


def strict_mode() -> bool:
    """In strict mode ($DATABRIDGE_STRICT=1, used by tests and CI) a broken project fails the import."""
    return os.environ.get("DATABRIDGE_STRICT", "").lower() in ("1", "true", "yes")


def project_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def display_name(path: Path) -> str:
    """include/mappings/x.yaml rather than a long absolute path, in messages."""
    return str(Path(path.parent.parent.name, path.parent.name, path.name))


def build_dags(namespace: dict[str, Any], folder: Path | None = None, strict: bool | None = None) -> dict[str, Any]:
    """Build every project's DAG into ``namespace`` (a DAG file's globals()); returns the DAGs by id."""
    folder = folder or mappings_dir()
    strict = strict_mode() if strict is None else strict
    built: dict[str, Any] = {}
    owners: dict[str, str] = {}
    for path in project_files(folder):
        name = display_name(path)
        try:
            plan = compile_project(load_project(path, name), name)
            if plan.name in owners:
                raise SpecError(name, [("name", f"project name {plan.name!r} is already used by {owners[plan.name]}; DAG ids must be unique")])
            dag = build_dag(plan, fileloc=namespace.get("__file__"))
        except DataBridgeError as exc:
            if strict:
                raise
            report_import_error(str(path), str(exc))
            continue
        owners[plan.name] = name
        built[dag.dag_id] = namespace[dag.dag_id] = dag
    return built
