"""Preview one table mapping: real sample rows from the source, transformed by the SQL the transform stage runs.

The sample is staged in TEMP tables of the target exactly as the lint stages it (text, then the staging types),
then the compiler's transform statements run on it: the INSERT ... SELECT is the transform stage's own, the ready
table is created TEMP instead of UNLOGGED. Everything happens in one transaction that is rolled back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from typing import Any

import psycopg

from databridge.compiler.columns import fit_widths
from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import PipelinePlan, SourcePlan, TableRef, TargetPlan
from databridge.engines import open_target, sandbox
from databridge.engines.base import SourceColumn, SourceEngine
from databridge.engines.postgres import PostgresTarget
from databridge.errors import EngineError
from databridge.generate.discover import expanded
from databridge.lint import convert
from databridge.lint.pipeline import reads_of
from databridge.lint.sample import read_rows, stager
from databridge.runtime.extract import unmapped_warning
from databridge.runtime.transform import transform_sql
from databridge.spec.names import did_you_mean
from databridge.views import connections
from databridge.views.errors import ConnectionFailed, InvalidInput, NotFound
from databridge.views.service import DRAFT, compiled

READY = "databridge_preview_ready"
MAX_ROWS = 1000
_READY_TYPES = (
    "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
    "AND NOT attisdropped ORDER BY attnum"
)


def preview(text: str, *, pipeline: str | None = None, table: int = 0, limit: int = 20) -> dict[str, Any]:
    """Sample rows of the ``table``-th table mapping of a pipeline (default: the first), with every target's rows."""
    _project, plan = compiled(text)
    pp = _pipeline(plan.pipelines, pipeline)
    limit = max(1, min(limit, MAX_ROWS))
    with connections.source_engine(pp.source_conn_id) as source:
        pp = expanded(
            pp, source, DRAFT
        )  # the tables include takes (after the written ones, in their order), as a run finds them
        if not 0 <= table < len(pp.sources):
            raise InvalidInput(
                f"pipeline {pp.name} has {len(pp.sources)} table mapping(s); `table` must be 0 to {len(pp.sources) - 1}"
            )
        sp = pp.sources[table]
        columns, warnings, estimate = source_side(source, sp)
        rows: list[tuple[Any, ...]] = []
        stage = stager(source, columns)  # the rows as the extract stages them
        read_rows(source, sp.source, columns, limit, lambda row: rows.append(stage(row)), pp.batch_size)
        label = str(TableRef(sp.source.schema or source.default_schema(), sp.source.name))
    target = open_target_of(pp)
    try:
        targets, staging = _run_on_target(target, sp, columns, rows)
    finally:
        target.close()
    return {
        "source": label,
        "sample_rows": len(rows),
        "estimated_rows": estimate,
        "warnings": warnings + staging,
        "targets": targets,
    }


def _pipeline(pipelines: tuple[PipelinePlan, ...], name: str | None) -> PipelinePlan:
    if name is None:
        return pipelines[0]
    for candidate in pipelines:
        if candidate.name == name:
            return candidate
    raise NotFound(f"no pipeline {name!r} in the project{did_you_mean(name, [p.name for p in pipelines])}")


def source_side(source: SourceEngine, sp: SourcePlan) -> tuple[list[SourceColumn], list[str], int | None]:
    """The columns to read with their staging types, warnings, approximate rows; unknown table or column refused."""
    schema = sp.source.schema or source.default_schema()
    known = source.tables(schema)
    if sp.source.name not in known:
        raise NotFound(f"source table {schema}.{sp.source.name} not found{did_you_mean(sp.source.name, known)}")
    info = source.describe(TableRef(schema, sp.source.name))
    available = {c.name: c for c in source.columns(TableRef(schema, sp.source.name))}
    unknown = [n for n in sp.columns if n not in available]
    if unknown:
        problems = [
            {"path": str(sp.source), "message": f"unknown source column {n!r}{did_you_mean(n, available)}"}
            for n in unknown
        ]
        raise InvalidInput(f"{sp.source}: unknown source column(s) {', '.join(unknown)}", problems=problems)
    overrides = dict(sp.staging_types)
    columns = [dataclasses.replace(available[n], pg_type=overrides.get(n, available[n].pg_type)) for n in sp.columns]
    warning = unmapped_warning(sp, available)
    return columns, [warning] if warning else [], info.approx_rows


def open_target_of(pp: PipelinePlan) -> PostgresTarget:
    """The pipeline's target, or a CONNECTION_ERROR the wizard can show."""
    info = connections.connection(pp.target_conn_id)
    try:
        return open_target(info)
    except EngineError as exc:
        raise ConnectionFailed(f"cannot open the target {info.describe()}: {exc}") from None


def _run_on_target(
    target: PostgresTarget, sp: SourcePlan, columns: list[SourceColumn], rows: list[tuple[Any, ...]]
) -> tuple[list[dict[str, Any]], list[str]]:
    staged = dataclasses.replace(sp, staging_table=convert.STAGED.split(".")[1])
    try:
        with convert.scratch(target.conn, columns) as cur:
            with cur.copy(f"COPY {convert.RAW} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            problems = convert.stage(cur, str(sp.source), columns, set(), len(rows))
            widths = {c.name: c.pg_type for c in columns}
            results = [_run_target(cur, target, staged, fit_widths(tp, widths), len(rows)) for tp in sp.targets]
    except psycopg.Error as exc:
        raise InvalidInput(f"previewing {sp.source}: {str(exc).splitlines()[0]}") from None
    return results, [f"{p.column}: {p.message} -> {p.suggestion}" for p in problems]


def _run_target(
    cur: psycopg.Cursor[Any], target: PostgresTarget, sp: SourcePlan, tp: TargetPlan, sampled: int
) -> dict[str, Any]:
    create, insert = transform_sql("pg_temp", sp, dataclasses.replace(tp, ready_table=READY))
    create = create.replace("CREATE UNLOGGED TABLE", "CREATE TEMP TABLE", 1)
    try:
        with cur.connection.transaction() as savepoint:
            sandbox.prepare(cur, reads=[convert.STAGED])
            with sandbox.entered(cur, timeout_seconds=sandbox.interactive_timeout(), doing=f"previewing {tp.table}"):
                cur.execute(create)
                cur.execute(insert)
                rows = cur.execute(f"SELECT * FROM pg_temp.{READY}").fetchall()
                before = _before(cur, sp, tp)
            names = [c.name for c in tp.columns]
            ready_types = dict(cur.execute(_READY_TYPES, (f"pg_temp.{READY}",)).fetchall())
            raise psycopg.Rollback(savepoint)
    except sandbox.TimedOut as exc:
        raise InvalidInput(
            f"{tp.table}: the mapping's SQL ran longer than {exc.timeout_seconds:g} s on {sampled} sample row(s) and "
            "was cancelled on the server; make the expressions cheaper (the operator sets this limit with "
            "DATABRIDGE_INTERACTIVE_SQL_TIMEOUT)"
        ) from None
    except psycopg.errors.DataError as exc:
        failing = convert.map_columns(cur, tp, reads_of(tp, sp.columns), set(), sampled)
        problems = [{"path": f"{tp.table}.{p.column}", "message": f"{p.message} -> {p.suggestion}"} for p in failing]
        raise InvalidInput(
            f"{tp.table}: the mapping fails on the sample: {str(exc).splitlines()[0]}", problems=problems
        ) from None
    except psycopg.Error as exc:
        raise InvalidInput(
            f"{tp.table}: the mapping's SQL cannot run on the staged types: {str(exc).splitlines()[0]}"
        ) from None
    return {
        "table": str(tp.table),
        "columns": [{"name": n, "type": ready_types.get(n)} for n in names],
        "rows": [[_json_value(v) for v in row] for row in rows],
        "before": before,
        "warnings": _target_warnings(target, tp, ready_types),
    }


def _before(cur: psycopg.Cursor[Any], sp: SourcePlan, tp: TargetPlan) -> dict[str, Any]:
    """The source values beside the transformed ones: for each target column, the one source column its value is
    made of (None when it is made of several or none), and the staged rows the filter keeps, in the order the
    transform read them (both scan the same temp table without ORDER BY, so row i here is row i of the ready table)."""
    sources = [[name for name in sp.columns if quote_ident(name) in column.sql] for column in tp.columns]
    made_of = [found[0] if len(found) == 1 else None for found in sources]
    read = sorted({name for name in made_of if name}, key=sp.columns.index)
    if not read:
        return {"columns": made_of, "rows": []}
    where = f" WHERE {tp.filter_sql}" if tp.filter_sql else ""
    picked = cur.execute(
        f"SELECT {', '.join(quote_ident(n) for n in read)} FROM {qualified('pg_temp', sp.staging_table)}{where}"
    ).fetchall()
    at = {name: i for i, name in enumerate(read)}
    return {
        "columns": made_of,
        "rows": [[None if name is None else _json_value(row[at[name]]) for name in made_of] for row in picked],
    }


def _target_warnings(target: PostgresTarget, tp: TargetPlan, ready_types: dict[str, str]) -> list[str]:
    """Against an existing target table: its columns nobody maps, and mapped columns whose type differs."""
    existing = target.column_types(tp.table.schema or "public", tp.table.name)
    if not existing:
        return []
    warnings = [
        f"{tp.table}.{c}: target column not mapped (it gets its default or NULL)"
        for c in existing
        if c not in ready_types
    ]
    for name, ready in ready_types.items():
        if name not in existing:
            warnings.append(f"{tp.table}.{name}: mapped, but the existing target table has no such column")
        elif existing[name] != ready:
            warnings.append(
                f"{tp.table}.{name}: the mapping gives {ready}, the existing target column is {existing[name]}"
            )
    return warnings


def _json_value(value: Any) -> Any:
    """A value as JSON: arrays (text[] of a SET) and objects (jsonb) stay arrays and objects, never Python reprs."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, decimal.Decimal | dt.date | dt.time | dt.timedelta):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    return str(value)
