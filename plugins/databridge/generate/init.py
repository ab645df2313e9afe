"""``databridge init``: a complete, explicit project file written from a source database by the generator.

The same generator as include patterns and the wizard's "Add all tables": every table the patterns take, every column,
keys, roles, foreign keys, the type matrix's types as comments. What it writes loads and compiles, or nothing is
written.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from databridge.compiler import compile_project
from databridge.engines import open_source
from databridge.engines.base import ConnectionInfo, SourceEngine
from databridge.errors import DataBridgeError
from databridge.generate.cycles import split_cycles
from databridge.generate.discover import describe_all, matching
from databridge.generate.naming import NAMINGS
from databridge.generate.project_file import render
from databridge.generate.tables import GenerateError, generate
from databridge.spec import parse_project
from databridge.spec.models import NAME_PATTERN, Naming


@dataclass(frozen=True)
class InitOptions:
    name: str
    source_conn_id: str
    target_conn_id: str
    include: list[str] = field(default_factory=list)
    """Default: every table of the connection's own schema (database)."""
    exclude: list[str] = field(default_factory=list)
    naming: Naming = "as_is"
    target_schema: str | None = None
    pipeline: str = "main"


def project_text(source: SourceEngine, options: InitOptions, where: str, file: str) -> tuple[str, int]:
    """The project file's text and how many tables it holds."""
    include = options.include or [f"{source.default_schema() or '*'}.*"]
    refs = matching(source, include, options.exclude)
    if not refs:
        raise DataBridgeError(
            f"no table of {where} matches {', '.join(include)} (its schemas: "
            f"{', '.join(sorted(source.schemas())) or 'none'}); give --include schema.*"
        )
    infos = describe_all(source, refs)
    try:
        tables, checks = split_cycles(generate(infos, options.naming, options.target_schema))
    except GenerateError as exc:
        raise DataBridgeError(
            "the generated names collide: "
            + "; ".join(exc.problems).replace("list one of them under tables:", "edit the file afterwards, e.g.")
        ) from None
    header = [
        f"Written by `databridge init` from {where}: {len(tables)} table(s) matching {', '.join(include)}"
        + (f", except {', '.join(options.exclude)}" if options.exclude else "")
        + f" (naming: {options.naming}).",
        "Every table and column is written out: edit freely. Beside each column, its source type and the "
        "PostgreSQL type",
        "its staging table (and a target the load creates) takes from the type matrix; write type: to choose another.",
    ]
    pipeline = {
        "name": options.pipeline,
        "source_conn_id": options.source_conn_id,
        "target_conn_id": options.target_conn_id,
    }
    text = render(header, {"name": options.name}, pipeline, tables, checks, infos)
    compile_project(parse_project(text, file), file)
    return text, len(tables)


def add_parser(commands: Any) -> None:
    cmd = commands.add_parser(
        "init",
        help="write a complete project file from a source database: every table and column, keys, roles, foreign keys",
    )
    cmd.add_argument(
        "--source",
        required=True,
        metavar="CONN_ID_OR_URI",
        help="the source: an Airflow connection id, or a URI (mysql://user@host:port/db, postgresql://..., sqlite:////file.db)",
    )
    cmd.add_argument(
        "--target",
        required=True,
        metavar="CONN_ID",
        help="the target's Airflow connection id (written into the file, not opened)",
    )
    cmd.add_argument(
        "--out", required=True, metavar="FILE", help="the project file to write, e.g. include/mappings/music.yaml"
    )
    cmd.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="PATTERN",
        help="tables to take, a glob on schema.table (repeatable; default: every table of the connection's schema)",
    )
    cmd.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="tables to leave out, a glob on schema.table (repeatable)",
    )
    cmd.add_argument(
        "--naming",
        choices=NAMINGS,
        default="as_is",
        help="how target table and column names are written (default: as_is)",
    )
    cmd.add_argument(
        "--target-schema",
        metavar="SCHEMA",
        help="the target schema of every table (default: each source schema, named by --naming)",
    )
    cmd.add_argument("--name", help="the project's name, its DAG id (default: the file's name)")
    cmd.add_argument(
        "--source-conn-id",
        metavar="CONN_ID",
        help="with a URI: the Airflow connection id the project reads it through (default: NAME_source)",
    )
    cmd.add_argument("--force", action="store_true", help="replace FILE if it exists")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    name = args.name or out.stem
    if not re.fullmatch(NAME_PATTERN, name):
        raise DataBridgeError(
            f"project name {name!r} must start with a letter and hold only letters, digits and underscores: give --name"
        )
    if out.exists() and not args.force:
        raise DataBridgeError(f"{out} already exists; pass --force to replace it")
    uri = "://" in args.source
    conn_id = args.source_conn_id or (f"{name}_source" if uri else args.source)
    info = _source_info(args.source, conn_id)
    options = InitOptions(name, conn_id, args.target, args.include, args.exclude, args.naming, args.target_schema)
    source = open_source(info)
    try:
        text, count = project_text(source, options, info.describe(), str(out))
    finally:
        source.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(
        f"wrote {out}: project {name}, {count} table(s) from {info.describe()}; check it with: python -m "
        f"databridge.cli check {out}"
    )
    if uri:
        print(
            f"the project reads the source through Airflow connection {conn_id!r}: define it, e.g. airflow "
            f"connections add {conn_id} --conn-uri '<the URI>'",
            file=sys.stderr,
        )
    return 0


def _source_info(source: str, conn_id: str) -> ConnectionInfo:
    """A URI as given, or an Airflow connection (AIRFLOW_CONN_* variables outside a scheduler)."""
    if "://" in source:
        from databridge.engines.uri import info_from_uri

        return info_from_uri(source, conn_id)
    from databridge.operators.base import connection_info

    return connection_info(source)
