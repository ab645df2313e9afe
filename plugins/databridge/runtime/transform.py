"""Transform & cleanse: one CREATE TABLE ... AS SELECT per target, every column mapping pushed down into SQL."""

from __future__ import annotations

from typing import Any

import psycopg

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import SourcePlan, TargetPlan
from databridge.errors import EngineError
from databridge.runtime.context import StageContext, rate, stopwatch


def transform_sql(schema: str, source: SourcePlan, target: TargetPlan) -> str:
    """The statement that fills a target's ready table from its source's staging table."""
    select = ", ".join(f"{c.sql} AS {quote_ident(c.name)}" for c in target.columns)
    where = f" WHERE {target.filter_sql}" if target.filter_sql else ""
    raw = qualified(schema, source.staging_table)
    return f"CREATE UNLOGGED TABLE {qualified(schema, target.ready_table)} AS SELECT {select} FROM {raw}{where}"


def transform(ctx: StageContext) -> dict[str, Any]:
    summary = {}
    for source in ctx.plan.sources:
        for target in source.targets:
            summary[str(target.table)] = _transform_one(ctx, source, target)
    return summary


def _transform_one(ctx: StageContext, source: SourcePlan, target: TargetPlan) -> dict[str, Any]:
    schema = ctx.plan.staging_schema
    ready = qualified(schema, target.ready_table)
    raw = qualified(schema, source.staging_table)
    with stopwatch() as elapsed:
        try:
            with ctx.target.conn.transaction(), ctx.target.conn.cursor() as cur:
                cur.execute(f"DROP TABLE IF EXISTS {ready}")
                cur.execute(transform_sql(schema, source, target))
                rows = cur.rowcount
        except psycopg.errors.DataError as exc:
            raise EngineError(_explain(ctx, source, target, exc), transient=False) from None
        except psycopg.Error as exc:
            from databridge.engines.errors import postgres_error

            raise postgres_error(exc, f"transforming {source.source} into {target.table}") from None
    expected = ctx.target.scalar(
        f"SELECT count(*) FROM {raw}" + (f" WHERE {target.filter_sql}" if target.filter_sql else ""),
        doing=f"counting the rows for {target.table}",
    )
    stat = {"expected_rows": int(expected), "ready_rows": rows, "rows_per_second": rate(rows, elapsed[0])}
    ctx.store.table_stat("transform", str(target.table), rows, elapsed[0], **stat)
    ctx.log.info("transform %s -> %s: %d rows in %.2fs", source.source, target.table, rows, elapsed[0])
    return stat


def _explain(ctx: StageContext, source: SourcePlan, target: TargetPlan, exc: psycopg.Error) -> str:
    """Find what fails on the data, so the message names it: the filter, else a column on the rows the filter keeps."""
    raw = qualified(ctx.plan.staging_schema, source.staging_table)
    where = f" WHERE {target.filter_sql}" if target.filter_sql else ""
    probes = [("the filter", "count(*)", "fix the filter")] if where else []
    probes += [(f"column {c.name!r}", f"count({c.sql})", "fix the mapping's type, transform or default") for c in target.columns]
    for what, selected, hint in probes:
        failure = _data_error(ctx, f"SELECT {selected} FROM {raw}{where}")
        if failure:
            return f"transforming {source.source} into {target.table}: {what} fails on the data: {failure} ({hint})"
    return f"transforming {source.source} into {target.table}: {str(exc).splitlines()[0]}"


def _data_error(ctx: StageContext, query: str) -> str | None:
    """The first line of the data error ``query`` raises, or None when it runs."""
    try:
        with ctx.target.conn.transaction(), ctx.target.conn.cursor() as cur:
            cur.execute(query)
    except psycopg.errors.DataError as exc:
        return str(exc).splitlines()[0]
    return None
