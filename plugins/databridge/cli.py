"""Command line: check mapping projects without Airflow, lint them against the source data, print run reports, roll back
runs, list and release staging leases, write a project from a source database (init)."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from databridge.compiler import compile_project
from databridge.compiler.references import check_after_projects
from databridge.engines.base import ConnectionInfo
from databridge.engines.postgres import PostgresTarget
from databridge.engines.uri import info_from_uri
from databridge.errors import DataBridgeError
from databridge.generate import init
from databridge.render.factory import display_name, mappings_dir, project_files
from databridge.runtime.report import format_report
from databridge.runtime.results import latest_reports
from databridge.spec import load_project


def parse_conn(text: str) -> tuple[str, ConnectionInfo]:
    """A --conn argument, CONN_ID=URI."""
    conn_id, sep, uri = text.partition("=")
    if not sep or not conn_id.strip() or not uri.strip():
        raise DataBridgeError("--conn takes CONN_ID=URI, e.g. --conn shop_source=mysql://root@127.0.0.1:3306/shop")
    return conn_id.strip(), info_from_uri(uri.strip(), conn_id.strip())


def check(files: Sequence[str], *, json_to: TextIO | None = None) -> int:
    """Parse and compile each project; print one line per file (or one JSON document). Exit status 1 when any is
    broken."""
    paths = [Path(f) for f in files] or project_files(mappings_dir())
    results = [_check_one(path) for path in paths]
    if json_to:
        print(json.dumps({"ok": all(r["ok"] for r in results), "projects": results}, indent=2), file=json_to)
    for r in [] if json_to else results:
        if not r["ok"]:
            print(r["error"], file=sys.stderr)
            continue
        found = " and the tables include takes (found when a run starts)" if r["tables_found_at_run"] else ""
        print(f"ok  {r['file']}: DAG {r['dag_id']}, {r['pipelines']} pipeline(s), {r['tables']} target table(s){found}")
    return 0 if all(r["ok"] for r in results) else 1


def _check_one(path: Path) -> dict[str, Any]:
    try:
        plan = compile_project(load_project(path, display_name(path)), display_name(path))
        if plan.schedule.after_projects:
            check_after_projects(plan, _project_names(path.parent))
    except DataBridgeError as exc:
        return {"file": display_name(path), "ok": False, "error": str(exc)}
    tables = sum(len(p.load_order) for p in plan.pipelines)
    found = any(p.discover for p in plan.pipelines)
    return {
        "file": display_name(path),
        "ok": True,
        "dag_id": plan.name,
        "pipelines": len(plan.pipelines),
        "tables": tables,
        "tables_found_at_run": found,
    }


def _project_names(folder: Path) -> set[str]:
    """The names of the projects of a mappings folder that load (what ``after_projects`` may name)."""
    names: set[str] = set()
    for path in project_files(folder):
        try:
            names.add(load_project(path, display_name(path)).name)
        except DataBridgeError:
            continue
    return names


def report(target_uri: str, project: str, *, json_to: TextIO | None = None) -> int:
    target = PostgresTarget(info_from_uri(target_uri))
    try:
        reports = latest_reports(target, project)
    finally:
        target.close()
    if json_to:
        succeeded = bool(reports) and all(r["succeeded"] for r in reports)
        print(
            json.dumps({"project": project, "succeeded": succeeded, "reports": reports}, indent=2, default=str),
            file=json_to,
        )
    if not reports:
        print(f"no report stored for project {project!r} in that database yet", file=sys.stderr)
        return 1
    if json_to:
        return 0 if all(r["succeeded"] for r in reports) else 1
    print("\n\n".join(format_report(r, Path.cwd()) for r in reports))
    return 0 if all(r["succeeded"] for r in reports) else 1


def lint(files: Sequence[str], conns: Sequence[str], sample: int, full: bool, *, json_to: TextIO | None = None) -> int:
    """Lint each pipeline of each project against its source data; exit status 1 when an error-severity problem is
    found."""
    from databridge.lint.command import lint_files

    given = dict(parse_conn(c) for c in conns)
    paths = [Path(f) for f in files] or project_files(mappings_dir())
    return lint_files(paths, given, sample_rows=sample, full_scan=full, json_to=json_to)


def rollback(
    file: str, run_id: str, conns: Sequence[str], *, apply: bool, with_later: bool, force: bool = False
) -> int:
    """Roll a project back to its state before a run, in every target it loads (a dry run unless ``apply``)."""
    from databridge.lint.command import resolve
    from databridge.runtime.rollback import apply_rollback, plan_rollback

    given = dict(parse_conn(c) for c in conns)
    path = Path(file)
    project = compile_project(load_project(path, display_name(path)), display_name(path))
    targets = {
        conn_id: PostgresTarget(resolve(conn_id, given))
        for conn_id in dict.fromkeys(p.target_conn_id for p in project.pipelines)
    }
    try:
        plans = {
            c: plan_rollback(t, project.name, run_id, with_later=with_later, required=len(targets) == 1)
            for c, t in targets.items()
        }
        if not any(p.steps for p in plans.values()):
            plan_rollback(next(iter(targets.values())), project.name, run_id)  # raises: nothing of the run is kept
        for conn_id, plan in plans.items():
            print(
                f"{'rolling back' if apply else 'would roll back (dry run; add --yes to do it)'} project "
                f"{project.name} in {conn_id}:"
            )
            print("\n".join(f"  - {line}" for line in plan.describe()) or "  (nothing of this run here)")
            if apply:
                apply_rollback(targets[conn_id], plan, force=force)
        if apply:
            print(f"done: {project.name} is as it was before run {run_id}")
    finally:
        for target in targets.values():
            target.close()
    return 0


def target_info(uri: str | None, conn_id: str | None) -> ConnectionInfo:
    """The target named by --target-uri, or by --target (an Airflow connection, as a task would see it)."""
    if uri:
        return info_from_uri(uri)
    if conn_id:
        from databridge.operators.base import connection_info

        return connection_info(conn_id)
    raise DataBridgeError(
        "name the target database: --target-uri postgresql://user@host:port/database, or --target CONN_ID (an "
        "Airflow connection)"
    )


def leases(info: ConnectionInfo, project: str | None) -> int:
    """Print every pipeline's staging lease in a target: who holds it, since when, and whether it is live or stale."""
    from databridge.runtime.lease_admin import lease_states

    target = PostgresTarget(info)
    try:
        states = [s for s in lease_states(target) if project in (None, s.lease.project)]
    finally:
        target.close()
    if not states:
        print(f"no staging lease{f' of project {project!r}' if project else ''} in that database", file=sys.stderr)
        return 0
    rows = [("PROJECT", "PIPELINE", "RUN", "TAKEN AT (UTC)", "RELEASED AT (UTC)", "STATE")]
    rows += [
        (
            s.lease.project,
            s.lease.pipeline,
            s.lease.run_id,
            f"{s.lease.taken_at:%Y-%m-%d %H:%M:%S}",
            f"{s.lease.released_at:%Y-%m-%d %H:%M:%S}" if s.lease.released_at else "-",
            s.state,
        )
        for s in states
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    print("\n".join([lines[0], *(f"{line}\n    {s.why}" for line, s in zip(lines[1:], states, strict=True))]))
    return 0


def release_lease(info: ConnectionInfo, project: str, pipeline: str, reason: str, *, force: bool) -> int:
    """Release one pipeline's staging lease by hand, recording who and why (a live holder's only with ``force``)."""
    from databridge.runtime.lease_admin import release_by_hand

    if not reason.strip():
        raise DataBridgeError('say why the lease is released: --reason "the run was killed with its host"')
    target = PostgresTarget(info)
    try:
        lease = release_by_hand(target, project, pipeline, reason.strip(), force=force, by=getpass.getuser())
    finally:
        target.close()
    print(f"released the staging lease of pipeline {pipeline} of project {project}, held by run {lease.run_id!r} since "
          f"{lease.taken_at:%Y-%m-%d %H:%M:%S} UTC; the next run of the pipeline takes it")  # fmt: skip
    return 0


@contextlib.contextmanager
def _json_stdout() -> Iterator[TextIO]:
    """With --json, stdout holds the JSON document alone: logs (Airflow's, sqlglot's) and notes go to stderr
    meanwhile."""
    import airflow  # noqa: F401  (Airflow sets up its log handlers when imported: they are moved to stderr below)

    document = sys.stdout
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.stdout, sys.__stdout__):
            handler.setStream(sys.stderr)
    with contextlib.redirect_stdout(sys.stderr):
        yield document


def _target_options(parser: argparse.ArgumentParser, *, inherited: bool = False) -> None:
    """--target-uri or --target; on a sub-command ``inherited``, so that one given before it is kept."""
    group = parser.add_mutually_exclusive_group()
    default = argparse.SUPPRESS if inherited else None
    group.add_argument("--target-uri", default=default, help="postgresql:// URI of the target database")
    group.add_argument(
        "--target",
        default=default,
        metavar="CONN_ID",
        help="the target's Airflow connection (AIRFLOW_CONN_* or a secrets backend)",
    )


def _lease_commands(commands: Any) -> None:
    leases_cmd = commands.add_parser(
        "leases", help="list the pipelines' staging leases in a target (live, stale or released), or release one"
    )
    _target_options(leases_cmd)
    leases_cmd.add_argument("--project", help="only this project's leases")
    actions = leases_cmd.add_subparsers(dest="action")
    release_cmd = actions.add_parser(
        "release", help="release a pipeline's staging lease, saying why (a live run's only with --force)"
    )
    release_cmd.add_argument("project")
    release_cmd.add_argument("pipeline")
    release_cmd.add_argument("--reason", required=True, help="why, kept with the lease (shown by `leases`)")
    release_cmd.add_argument(
        "--force", action="store_true", help="release it even though its run looks live (you know it has stopped)"
    )
    _target_options(release_cmd, inherited=True)


def _run_leases(args: argparse.Namespace) -> int:
    info = target_info(args.target_uri, args.target)
    if args.action == "release":
        return release_lease(info, args.project, args.pipeline, args.reason, force=args.force)
    return leases(info, args.project)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="databridge", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser(
        "check", help="parse and compile mapping projects (default: every file in the mappings folder)"
    )
    check_cmd.add_argument("files", nargs="*")
    check_cmd.add_argument(
        "--json", action="store_true", help="print one JSON document: every project with its DAG id or its error"
    )
    report_cmd = commands.add_parser("report", help="print the latest stored run report of a project")
    report_cmd.add_argument("--target-uri", required=True, help="postgresql:// URI of the target database")
    report_cmd.add_argument("--project", required=True)
    report_cmd.add_argument("--json", action="store_true", help="print the stored reports as JSON")
    lint_cmd = commands.add_parser(
        "lint", help="sample the source data and report what the mappings would do wrong with it"
    )
    lint_cmd.add_argument("files", nargs="*")
    lint_cmd.add_argument(
        "--conn",
        action="append",
        default=[],
        metavar="CONN_ID=URI",
        help="a connection given here instead of in Airflow",
    )
    lint_cmd.add_argument(
        "--sample", type=int, default=10_000, metavar="N", help="rows read per source table (default 10000)"
    )
    lint_cmd.add_argument("--full", action="store_true", help="read every row instead of a sample")
    lint_cmd.add_argument("--json", action="store_true", help="print one JSON document: every pipeline's problems")
    rollback_cmd = commands.add_parser(
        "rollback", help="put a project's target tables back as they were before a run (dry run unless --yes)"
    )
    rollback_cmd.add_argument("file")
    rollback_cmd.add_argument("--run", required=True, metavar="RUN_ID", help="the Airflow run id to undo")
    rollback_cmd.add_argument("--yes", action="store_true", help="do it (default: only list what would change)")
    rollback_cmd.add_argument(
        "--with-later", action="store_true", help="also roll back the later runs that changed the same tables"
    )
    rollback_cmd.add_argument(
        "--force",
        action="store_true",
        help="roll back even though a run still holds the pipeline's staging (it was killed)",
    )
    rollback_cmd.add_argument(
        "--conn",
        action="append",
        default=[],
        metavar="CONN_ID=URI",
        help="a target connection given here instead of in Airflow",
    )
    _lease_commands(commands)
    init.add_parser(commands)
    args = parser.parse_args(argv)
    with _json_stdout() if getattr(args, "json", False) else contextlib.nullcontext() as json_to:
        return _run(args, json_to)


def _run(args: argparse.Namespace, json_to: TextIO | None) -> int:
    try:
        if args.command == "leases":
            return _run_leases(args)
        if args.command == "init":
            return init.run(args)
        if args.command == "rollback":
            return rollback(
                args.file, args.run, args.conn, apply=args.yes, with_later=args.with_later, force=args.force
            )
        if args.command == "lint":
            return lint(args.files, args.conn, args.sample, args.full, json_to=json_to)
        if args.command == "check":
            return check(args.files, json_to=json_to)
        return report(args.target_uri, args.project, json_to=json_to)
    except DataBridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
