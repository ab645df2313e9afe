"""Command line: check mapping projects without Airflow, and print a project's latest run report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from databridge.compiler import compile_project
from databridge.engines.base import ConnectionInfo
from databridge.engines.postgres import PostgresTarget
from databridge.errors import DataBridgeError
from databridge.render.factory import display_name, mappings_dir, project_files
from databridge.runtime.report import format_report
from databridge.runtime.results import latest_reports
from databridge.spec import load_project


def info_from_uri(uri: str, conn_id: str = "target") -> ConnectionInfo:
    """A postgresql:// URI as ConnectionInfo."""
    parts = urlparse(uri)
    if parts.scheme not in ("postgres", "postgresql"):
        raise DataBridgeError(f"{parts.scheme or 'that'} URI is not a PostgreSQL one: write postgresql://user@host:port/database")
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type="postgres",
        host=parts.hostname,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=parts.path.lstrip("/") or None,
    )


def check(files: Sequence[str]) -> int:
    """Parse and compile each project; print one line per file. Exit status 1 when any is broken."""
    paths = [Path(f) for f in files] or project_files(mappings_dir())
    broken = 0
    for path in paths:
        try:
            plan = compile_project(load_project(path, display_name(path)), display_name(path))
        except DataBridgeError as exc:
            broken += 1
            print(exc, file=sys.stderr)
            continue
        tables = sum(len(p.load_order) for p in plan.pipelines)
        print(f"ok  {display_name(path)}: DAG {plan.name}, {len(plan.pipelines)} pipeline(s), {tables} target table(s)")
    return 1 if broken else 0


def report(target_uri: str, project: str) -> int:
    target = PostgresTarget(info_from_uri(target_uri))
    try:
        reports = latest_reports(target, project)
    finally:
        target.close()
    if not reports:
        print(f"no report stored for project {project!r} in that database yet", file=sys.stderr)
        return 1
    print("\n\n".join(format_report(r) for r in reports))
    return 0 if all(r["succeeded"] for r in reports) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m databridge.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="parse and compile mapping projects (default: every file in the mappings folder)")
    check_cmd.add_argument("files", nargs="*")
    report_cmd = commands.add_parser("report", help="print the latest stored run report of a project")
    report_cmd.add_argument("--target-uri", required=True, help="postgresql:// URI of the target database")
    report_cmd.add_argument("--project", required=True)
    args = parser.parse_args(argv)
    try:
        return check(args.files) if args.command == "check" else report(args.target_uri, args.project)
    except DataBridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
