"""Command line: check mapping projects without Airflow, lint them against the source data, print run reports, roll back
runs, list and release staging leases, write a project from a source database (init)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from databridge.compiler import compile_project
from databridge.engines import FILE_URIS, URI_SCHEMES
from databridge.engines.base import ConnectionInfo
from databridge.engines.postgres import PostgresTarget
from databridge.errors import DataBridgeError
from databridge.generate import init
from databridge.render.factory import display_name, mappings_dir, project_files
from databridge.runtime.report import format_report
from databridge.runtime.results import latest_reports
from databridge.spec import load_project


def info_from_uri(uri: str, conn_id: str = "target") -> ConnectionInfo:
    """A database URI as ConnectionInfo: postgresql://user:pw@host:port/db, mysql://..., sqlite:////abs/file.db.

    Error messages never repeat the URI: it may hold a password.
    """
    parts = urlparse(uri)
    conn_type = URI_SCHEMES.get(parts.scheme.lower())
    if conn_type is None:
        raise DataBridgeError(
            f"connection {conn_id!r}: URI scheme {parts.scheme or '(none)'!r} is not known; write postgresql://user@host:port/database, "
            "mysql://user@host:port/database or sqlite:////absolute/path.db"
        )
    if conn_type in FILE_URIS:
        path = unquote(uri.split("://", 1)[1].split("?", 1)[0])[1:]
        if not path:
            raise DataBridgeError(f"connection {conn_id!r}: a {FILE_URIS[conn_type]} URI names a file: {parts.scheme.lower()}:////absolute/path.db")
        return ConnectionInfo(conn_id=conn_id, conn_type=conn_type, host=path)
    try:
        port = parts.port
    except ValueError:
        raise DataBridgeError(f"connection {conn_id!r}: the port in its URI is not a number") from None
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=conn_type,
        host=parts.hostname,
        port=port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=unquote(parts.path.lstrip("/")) or None,
        extra=dict(parse_qsl(parts.query)),
    )


def parse_conn(text: str) -> tuple[str, ConnectionInfo]:
    """A --conn argument, CONN_ID=URI."""
    conn_id, sep, uri = text.partition("=")
    if not sep or not conn_id.strip() or not uri.strip():
        raise DataBridgeError("--conn takes CONN_ID=URI, e.g. --conn shop_source=mysql://root@127.0.0.1:3306/shop")
    return conn_id.strip(), info_from_uri(uri.strip(), conn_id.strip())


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
        found = " and the tables include takes (found when a run starts)" if any(p.discover for p in plan.pipelines) else ""
        print(f"ok  {display_name(path)}: DAG {plan.name}, {len(plan.pipelines)} pipeline(s), {tables} target table(s){found}")
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


def lint(files: Sequence[str], conns: Sequence[str], sample: int, full: bool) -> int:
    """Lint each pipeline of each project against its source data; exit status 1 when an error-severity problem is found."""
    from databridge.lint.command import lint_files

    given = dict(parse_conn(c) for c in conns)
    paths = [Path(f) for f in files] or project_files(mappings_dir())
    return lint_files(paths, given, sample_rows=sample, full_scan=full)


def rollback(file: str, run_id: str, conns: Sequence[str], *, apply: bool, with_later: bool, force: bool = False) -> int:
    """Roll a project back to its state before a run, in every target it loads (a dry run unless ``apply``)."""
    from databridge.lint.command import resolve
    from databridge.runtime.rollback import apply_rollback, plan_rollback

    given = dict(parse_conn(c) for c in conns)
    path = Path(file)
    project = compile_project(load_project(path, display_name(path)), display_name(path))
    targets = {conn_id: PostgresTarget(resolve(conn_id, given)) for conn_id in dict.fromkeys(p.target_conn_id for p in project.pipelines)}
    try:
        plans = {c: plan_rollback(t, project.name, run_id, with_later=with_later, required=len(targets) == 1) for c, t in targets.items()}
        if not any(p.steps for p in plans.values()):
            plan_rollback(next(iter(targets.values())), project.name, run_id)  # raises: nothing of the run is kept
        for conn_id, plan in plans.items():
            print(f"{'rolling back' if apply else 'would roll back (dry run; add --yes to do it)'} project {project.name} in {conn_id}:")
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
    raise DataBridgeError("name the target database: --target-uri postgresql://user@host:port/database, or --target CONN_ID (an Airflow connection)")


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
    rows += [(s.lease.project, s.lease.pipeline, s.lease.run_id, f"{s.lease.taken_at:%Y-%m-%d %H:%M:%S}", f"{s.lease.released_at:%Y-%m-%d %H:%M:%S}" if s.lease.released_at else "-", s.state) for s in states]
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


def _target_options(parser: argparse.ArgumentParser, *, inherited: bool = False) -> None:
    """--target-uri or --target; on a sub-command ``inherited``, so that one given before it is kept."""
    group = parser.add_mutually_exclusive_group()
    default = argparse.SUPPRESS if inherited else None
    group.add_argument("--target-uri", default=default, help="postgresql:// URI of the target database")
    group.add_argument("--target", default=default, metavar="CONN_ID", help="the target's Airflow connection (AIRFLOW_CONN_* or a secrets backend)")


def _lease_commands(commands: Any) -> None:
    leases_cmd = commands.add_parser("leases", help="list the pipelines' staging leases in a target (live, stale or released), or release one")
    _target_options(leases_cmd)
    leases_cmd.add_argument("--project", help="only this project's leases")
    actions = leases_cmd.add_subparsers(dest="action")
    release_cmd = actions.add_parser("release", help="release a pipeline's staging lease, saying why (a live run's only with --force)")
    release_cmd.add_argument("project")
    release_cmd.add_argument("pipeline")
    release_cmd.add_argument("--reason", required=True, help="why, kept with the lease (shown by `leases`)")
    release_cmd.add_argument("--force", action="store_true", help="release it even though its run looks live (you know it has stopped)")
    _target_options(release_cmd, inherited=True)


def _run_leases(args: argparse.Namespace) -> int:
    info = target_info(args.target_uri, args.target)
    if args.action == "release":
        return release_lease(info, args.project, args.pipeline, args.reason, force=args.force)
    return leases(info, args.project)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m databridge.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="parse and compile mapping projects (default: every file in the mappings folder)")
    check_cmd.add_argument("files", nargs="*")
    report_cmd = commands.add_parser("report", help="print the latest stored run report of a project")
    report_cmd.add_argument("--target-uri", required=True, help="postgresql:// URI of the target database")
    report_cmd.add_argument("--project", required=True)
    lint_cmd = commands.add_parser("lint", help="sample the source data and report what the mappings would do wrong with it")
    lint_cmd.add_argument("files", nargs="*")
    lint_cmd.add_argument("--conn", action="append", default=[], metavar="CONN_ID=URI", help="a connection given here instead of in Airflow")
    lint_cmd.add_argument("--sample", type=int, default=10_000, metavar="N", help="rows read per source table (default 10000)")
    lint_cmd.add_argument("--full", action="store_true", help="read every row instead of a sample")
    rollback_cmd = commands.add_parser("rollback", help="put a project's target tables back as they were before a run (dry run unless --yes)")
    rollback_cmd.add_argument("file")
    rollback_cmd.add_argument("--run", required=True, metavar="RUN_ID", help="the Airflow run id to undo")
    rollback_cmd.add_argument("--yes", action="store_true", help="do it (default: only list what would change)")
    rollback_cmd.add_argument("--with-later", action="store_true", help="also roll back the later runs that changed the same tables")
    rollback_cmd.add_argument("--force", action="store_true", help="roll back even though a run still holds the pipeline's staging (it was killed)")
    rollback_cmd.add_argument("--conn", action="append", default=[], metavar="CONN_ID=URI", help="a target connection given here instead of in Airflow")
    _lease_commands(commands)
    init.add_parser(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "leases":
            return _run_leases(args)
        if args.command == "init":
            return init.run(args)
        if args.command == "rollback":
            return rollback(args.file, args.run, args.conn, apply=args.yes, with_later=args.with_later, force=args.force)
        if args.command == "lint":
            return lint(args.files, args.conn, args.sample, args.full)
        return check(args.files) if args.command == "check" else report(args.target_uri, args.project)
    except DataBridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
