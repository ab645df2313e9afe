"""build_dags: every mapping project in the mappings folder becomes a DAG; a broken one never hides the others."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from databridge.compiler import ProjectPlan, compile_project
from databridge.compiler.references import check_after_projects
from databridge.errors import DataBridgeError, SpecError
from databridge.render.dag import build_dag
from databridge.render.import_errors import remove_fixed, report_import_error
from databridge.spec import load_project


def mappings_dir() -> Path:
    """The folder of mapping projects, from configuration only (never from where the package is installed).

    $DATABRIDGE_MAPPINGS_DIR, else Airflow's ``[databridge] mappings_dir`` (airflow.cfg or
    $AIRFLOW__DATABRIDGE__MAPPINGS_DIR), else ``include/mappings`` beside Airflow's DAGs folder (the usual layout of
    an Airflow project: dags/ and include/ side by side).
    """
    configured = os.environ.get("DATABRIDGE_MAPPINGS_DIR")
    if not configured:
        from airflow.sdk.configuration import conf

        configured = conf.get("databridge", "mappings_dir", fallback="")
        if not configured:
            return Path(conf.get("core", "dags_folder")).expanduser().parent / "include" / "mappings"
    return Path(configured).expanduser()


def strict_mode() -> bool:
    """In strict mode ($DATABRIDGE_STRICT=1, used by tests and CI) a broken project fails the import."""
    return os.environ.get("DATABRIDGE_STRICT", "").lower() in ("1", "true", "yes")


def project_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def display_name(path: Path) -> str:
    """include/mappings/x.yaml rather than a long absolute path, in messages."""
    return str(Path(path.parent.parent.name, path.parent.name, path.name))


def build_dags(namespace: dict[str, Any], folder: Path | None = None, strict: bool | None = None) -> dict[str, Any]:
    """Build every project's DAG into ``namespace`` (a DAG file's globals()); returns the DAGs by id.

    A broken project is left out and shown as an Airflow import error of a small DAG file of its own beside this
    DAG file (render/import_errors.py); in strict mode it raises instead.
    """
    folder = folder or mappings_dir()
    strict = strict_mode() if strict is None else strict
    errors: dict[Path, DataBridgeError] = {}
    plans = _compiled(project_files(folder), strict, errors)
    projects = {plan.name: tuple(p.name for p in plan.pipelines) for plan in plans.values()}
    built: dict[str, Any] = {}
    for path, plan in plans.items():
        try:
            check_after_projects(plan, projects)
            dag = build_dag(
                plan, fileloc=namespace.get("__file__"), project_path=os.path.abspath(path), projects=projects
            )
        except DataBridgeError as exc:
            _broken(path, exc, strict, errors)
            continue
        built[dag.dag_id] = namespace[dag.dag_id] = dag
    for path, error in errors.items():
        report_import_error(namespace.get("__file__"), path, str(error))
    remove_fixed(namespace.get("__file__"), folder, errors)
    return built


def project_error(path: Path) -> DataBridgeError | None:
    """What keeps the project of ``path`` out of the DAGs, judged beside its folder's other projects as build_dags
    does."""
    errors: dict[Path, DataBridgeError] = {}
    plans = _compiled(project_files(path.parent), False, errors)
    projects = {plan.name: tuple(p.name for p in plan.pipelines) for plan in plans.values()}
    if path in plans:
        try:
            check_after_projects(plans[path], projects)
        except DataBridgeError as exc:
            return exc
    return errors.get(path)


def _compiled(paths: list[Path], strict: bool, errors: dict[Path, DataBridgeError]) -> dict[Path, ProjectPlan]:
    """Every project that compiles, by file (the others in ``errors``); all of them first, as one may run after
    another."""
    plans: dict[Path, ProjectPlan] = {}
    owners: dict[str, str] = {}
    for path in paths:
        name = display_name(path)
        try:
            plan = compile_project(load_project(path, name), name)
            if plan.name in owners:
                raise SpecError(
                    name,
                    [
                        (
                            "name",
                            f"project name {plan.name!r} is already used by {owners[plan.name]}; "
                            "DAG ids must be unique",
                        )
                    ],
                )
        except DataBridgeError as exc:
            _broken(path, exc, strict, errors)
            continue
        owners[plan.name] = name
        plans[path] = plan
    return plans


def _broken(path: Path, exc: DataBridgeError, strict: bool, errors: dict[Path, DataBridgeError]) -> None:
    if strict:
        raise exc
    errors[path] = exc
