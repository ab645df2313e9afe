"""The `lint` command: every pipeline of the given projects linted against its source, problems printed by table."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from databridge.compiler import compile_project
from databridge.compiler.plan import PipelinePlan
from databridge.engines import open_source, open_target
from databridge.engines.base import ConnectionInfo, SourceOptions
from databridge.engines.postgres import PostgresTarget
from databridge.errors import DataBridgeError, EngineError
from databridge.generate.discover import expanded
from databridge.lint.pipeline import lint_pipeline
from databridge.lint.problems import LintProblem, format_problems
from databridge.render.factory import display_name
from databridge.spec import load_project


def lint_files(
    paths: Sequence[Path],
    given: Mapping[str, ConnectionInfo],
    *,
    sample_rows: int,
    full_scan: bool,
    json_to: TextIO | None = None,
) -> int:
    """Exit status: 1 when a project is broken or an error-severity problem is found, 0 otherwise.

    With ``json_to`` one JSON document is printed there instead of text: ``{"ok", "projects": [{"file", "error"} or
    {"file", "pipelines": [{"pipeline", "errors", "warnings", "problems": [...]}]}]}``.
    """
    results = [
        _lint_file(path, given, sample_rows=sample_rows, full_scan=full_scan, as_json=json_to is not None)
        for path in paths
    ]
    failed = any("error" in r or any(p["errors"] for p in r["pipelines"]) for r in results)
    if json_to:
        print(json.dumps({"ok": not failed, "projects": results}, indent=2), file=json_to)
    return 1 if failed else 0


def _lint_file(
    path: Path, given: Mapping[str, ConnectionInfo], *, sample_rows: int, full_scan: bool, as_json: bool
) -> dict[str, Any]:
    """One project's lint as a JSON-able result; printed as text at once unless ``as_json``."""
    try:
        plan = compile_project(load_project(path, display_name(path)), display_name(path))
    except DataBridgeError as exc:
        if not as_json:
            print(exc, file=sys.stderr)
        return {"file": display_name(path), "error": str(exc)}
    pipelines = []
    for pipeline in plan.pipelines:
        problems = lint_one(pipeline, given, sample_rows=sample_rows, full_scan=full_scan)
        if not as_json:
            print(summary(f"{display_name(path)} pipeline {pipeline.name}", problems))
        errors = sum(p.severity == "error" for p in problems)
        listed = [{**asdict(p), "examples": list(p.examples)} for p in problems]
        pipelines.append(
            {"pipeline": pipeline.name, "errors": errors, "warnings": len(problems) - errors, "problems": listed}
        )
    return {"file": display_name(path), "dag_id": plan.name, "pipelines": pipelines}


def lint_one(
    plan: PipelinePlan, given: Mapping[str, ConnectionInfo], *, sample_rows: int, full_scan: bool
) -> list[LintProblem]:
    """Open the pipeline's source (and its target, when it can be reached) and lint it."""
    options = SourceOptions(zero_dates=plan.zero_dates, naive_timezone=plan.naive_timezone)
    source = open_source(resolve(plan.source_conn_id, given), options)
    target = None
    try:
        target = _open_target(plan.target_conn_id, given)
        plan = expanded(plan, source, plan.project)  # the tables include takes, found as the extract would
        return lint_pipeline(plan, source, target, sample_rows=sample_rows, full_scan=full_scan)
    finally:
        source.close()
        if target is not None:
            target.close()


def _open_target(conn_id: str, given: Mapping[str, ConnectionInfo]) -> PostgresTarget | None:
    try:
        return open_target(resolve(conn_id, given))
    except EngineError as exc:
        print(f"note: target not reachable, conversions are not tried there: {exc}", file=sys.stderr)
        return None


def resolve(conn_id: str, given: Mapping[str, ConnectionInfo]) -> ConnectionInfo:
    """A connection given on the command line, else Airflow's (AIRFLOW_CONN_* variables outside a scheduler)."""
    if conn_id in given:
        return given[conn_id]
    from databridge.operators.base import connection_info

    return connection_info(conn_id)


def summary(title: str, problems: Sequence[LintProblem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    head = f"{title}: {errors} error(s), {len(problems) - errors} warning(s)"
    return f"{head}\n{format_problems(problems)}" if problems else head
