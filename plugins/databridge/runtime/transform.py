"""Transform & cleanse: one INSERT ... SELECT per target, every column mapping pushed down into SQL."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import psycopg

from databridge.compiler.columns import fit_widths
from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import ColumnPlan, SourcePlan, TargetPlan
from databridge.engines import sandbox
from databridge.errors import EngineError
from databridge.runtime import bad_rows, lease, ledger, rejects
from databridge.runtime.context import StageContext, rate, stopwatch
from databridge.runtime.progress import progress_of

TYPE_ERRORS = (psycopg.errors.CannotCoerce, psycopg.errors.UndefinedFunction, psycopg.errors.DatatypeMismatch)
"""A mapping whose SQL cannot work on any row (boolean to date, upper() of a number): found as the table is planned."""


def transform_sql(schema: str, source: SourcePlan, target: TargetPlan, *, skip_bad: bool = False) -> tuple[str, str]:
    """The statements that create a target's ready table (typed by the mappings) and fill it from staging.

    ``skip_bad`` leaves out the staged rows listed as bad (runtime/bad_rows.py)."""
    select = ", ".join(f"{c.sql} AS {quote_ident(c.name)}" for c in target.columns)
    names = ", ".join(quote_ident(c.name) for c in target.columns)
    values = ", ".join(c.insert_sql for c in target.columns)
    where = f" WHERE {target.filter_sql}" if target.filter_sql else ""
    if skip_bad:
        where = (
            f" WHERE {f'({target.filter_sql}) AND ' if target.filter_sql else ''}ctid NOT IN (SELECT row_ctid FROM "
            f"{bad_rows.BAD})"
        )
    raw = qualified(schema, source.staging_table)
    ready = qualified(schema, target.ready_table)
    return (
        f"CREATE UNLOGGED TABLE {ready} AS SELECT {select} FROM {raw} WITH NO DATA",
        f"INSERT INTO {ready} ({names}) SELECT {values} FROM {raw}{where}",
    )


def transform(ctx: StageContext) -> dict[str, Any]:
    with ctx.target.transaction("checking the target connection's role") as cur:
        warning = sandbox.superuser_warning(cur)
    if warning:
        ctx.log.warning("%s", warning)
        ctx.warnings.append(warning)
    summary = {}
    staged = ctx.store.table_stats("extract")
    for source in ctx.plan.sources:
        for target in source.targets:
            progress = progress_of(
                ctx, "transform", str(target.table), total=staged.get(str(source.source), {}).get("staged_rows")
            )
            summary[str(target.table)] = stat = _transform_one(ctx, source, target)
            progress.finish(int(stat["ready_rows"]))
    return summary


def _transform_one(ctx: StageContext, source: SourcePlan, target: TargetPlan) -> dict[str, Any]:
    if source.moves_staging:
        return _pass_through(ctx, source, target)
    schema = ctx.plan.staging_schema
    ready = qualified(schema, target.ready_table)
    raw = qualified(schema, source.staging_table)
    with stopwatch() as elapsed:
        try:
            with ctx.target.conn.transaction(), ctx.target.conn.cursor() as cur:
                lease.confirm(cur, ctx, "transforming")
                cur.execute(f"DROP TABLE IF EXISTS {ready}")
                target = fit_widths(target, bad_rows.column_types(cur, raw))  # TRIM of a varchar(n) stays varchar(n)
                sandbox.prepare(cur, reads=[raw], schemas=[schema])
                create, insert = transform_sql(schema, source, target)
                sandboxed(cur, create, f"transforming {source.source} into {target.table}")
                rows, rejected, failure = _fill(ctx, cur, source, target, insert)
                _take_back(cur, raw, ready)
        except (psycopg.errors.DataError, *TYPE_ERRORS) as exc:
            raise EngineError(_explain(ctx, source, target, exc), transient=False) from None
        except psycopg.Error as exc:
            from databridge.engines.errors import postgres_error

            raise postgres_error(exc, f"transforming {source.source} into {target.table}") from None
    if failure:
        raise EngineError(failure, transient=False)
    # With rejects, the staged rows the filter keeps are those loaded and those set aside (counting them again
    # would evaluate the failing values once more).
    expected = (rows + rejected) if rejected else _kept(ctx, raw, target)
    stat = {
        "expected_rows": int(expected),
        "ready_rows": rows,
        "rejected_rows": rejected,
        "rows_per_second": rate(rows, elapsed[0]),
    }
    ctx.store.table_stat("transform", str(target.table), rows, elapsed[0], **stat)
    ctx.log.info("transform %s -> %s: %d rows in %.2fs", source.source, target.table, rows, elapsed[0])
    return stat


def sandboxed(cur: psycopg.Cursor[Any], statement: str, doing: str, timeout_seconds: float | None = None) -> int:
    """Run a statement carrying the mapping's SQL as the sandbox role (engines/sandbox.py); its row count."""
    with sandbox.entered(cur, timeout_seconds=timeout_seconds, doing=doing):
        cur.execute(statement)
        return cur.rowcount


def _take_back(cur: psycopg.Cursor[Any], raw: str, ready: str) -> None:
    """The ready table, created by the sandbox, belongs to the connection's user again; the sandbox's grant ends."""
    if cur.execute("SELECT to_regclass(%s) IS NOT NULL", (ready,)).fetchone() == (True,):
        cur.execute(f"ALTER TABLE {ready} OWNER TO CURRENT_USER")
    sandbox.revoke(cur, [raw])


def _kept(ctx: StageContext, raw: str, target: TargetPlan) -> int:
    """The staged rows the filter keeps (the filter is the user's SQL: it runs in the sandbox)."""
    if target.filter_sql is None:
        return int(ctx.target.scalar(f"SELECT count(*) FROM {raw}", doing=f"counting the rows for {target.table}"))
    with ctx.target.transaction(f"counting the rows for {target.table}") as cur:
        sandbox.prepare(cur, reads=[raw])
        with sandbox.entered(cur, timeout_seconds=None, doing=f"counting the rows for {target.table}"):
            count = cur.execute(f"SELECT count(*) FROM {raw} WHERE {target.filter_sql}").fetchone()
        sandbox.revoke(cur, [raw])
    return int(count[0]) if count else 0


def _pass_through(ctx: StageContext, source: SourcePlan, target: TargetPlan) -> dict[str, Any]:
    """A pass-through table (SourcePlan.moves_staging): its staging table is its ready table; nothing is copied.

    Its rows are those the extract committed (the batch ledger): no scan of the table, and still right when a load of
    this run already moved it into the target or set rows aside from it (a cleared transform)."""
    with stopwatch() as elapsed, ctx.target.transaction(f"counting the staged rows of {source.source}") as cur:
        lease.confirm(cur, ctx, "transforming")
        cur.execute(
            f"DROP TABLE IF EXISTS {qualified(ctx.plan.staging_schema, target.ready_table)}"
        )  # an earlier plan's copy
        rows = ledger.staged_rows(cur, ledger.Place(ctx.store.key, "extract", str(source.source)))
    stat = {
        "expected_rows": rows,
        "ready_rows": rows,
        "rejected_rows": 0,
        "rows_per_second": rate(rows, elapsed[0]),
        "pass_through": True,
    }
    ctx.store.table_stat("transform", str(target.table), rows, elapsed[0], **stat)
    ctx.log.info(
        "transform %s -> %s: %d rows passed through (the staging table is the ready table)",
        source.source,
        target.table,
        rows,
    )
    return stat


def _fill(
    ctx: StageContext, cur: psycopg.Cursor[Any], source: SourcePlan, target: TargetPlan, insert: str
) -> tuple[int, int, str | None]:
    """Fill the ready table: (rows, rejected rows, failure message). The fast statement first; when a value fails,
    the rows whose values fail are stored as rejects and the others inserted, or, above max_rejects, none."""
    doing = f"transforming {source.source} into {target.table}"
    try:
        with cur.connection.transaction():
            return sandboxed(cur, insert, doing), 0, None
    except psycopg.errors.DataError as exc:
        error = exc
    schema = ctx.plan.staging_schema
    raw, ready = qualified(schema, source.staging_table), qualified(schema, target.ready_table)
    types = bad_rows.column_types(cur, ready)
    bad_rows.start(cur)
    checks = [
        bad_rows.Conversion(c.name, c.insert_sql, types[c.name])
        for c in target.columns
        if c.insert_sql != quote_ident(c.unchanged_source or "")
    ]
    sandbox.prepare(cur, writes=[bad_rows.BAD])
    with sandbox.entered(cur, timeout_seconds=None, doing=doing):
        bad_rows.add_bad_conversions(cur, raw, checks, target.filter_sql)
    rejected = rejects.store(ctx, cur, target, "transform", _kept_rows(cur, raw, target))
    if rejected.count == 0:
        raise error  # no row to blame: explained as before
    hint = "fix the mapping's type, transform or default"
    if any(r.startswith("the filter:") for r in rejected.reasons):
        hint = "fix the filter, or the mapping's type, transform or default"
    failure = rejects.judge(ctx, target, doing, rejected, hint)
    if failure:
        cur.execute(f"DROP TABLE {ready}")
        return 0, rejected.count, failure
    return sandboxed(cur, transform_sql(schema, source, target, skip_bad=True)[1], doing), rejected.count, None


def _kept_rows(cur: psycopg.Cursor[Any], raw: str, target: TargetPlan) -> int:
    """The staged rows the filter keeps (all when the filter itself fails on some): what max_rejects is measured on."""
    if target.filter_sql is not None:
        try:
            with (
                cur.connection.transaction(),
                sandbox.entered(cur, timeout_seconds=None, doing=f"counting the rows for {target.table}"),
            ):
                return int(cur.execute(f"SELECT count(*) FROM {raw} WHERE {target.filter_sql}").fetchone()[0])  # type: ignore[index]
        except psycopg.errors.DataError:
            pass
    return int(cur.execute(f"SELECT count(*) FROM {raw}").fetchone()[0])  # type: ignore[index]


def _explain(ctx: StageContext, source: SourcePlan, target: TargetPlan, exc: psycopg.Error) -> str:
    """Find what fails, so the message names it: the filter, else a column on the rows the filter keeps."""
    raw = qualified(ctx.plan.staging_schema, source.staging_table)
    where = f" WHERE {target.filter_sql}" if target.filter_sql else ""
    probes = [("the filter", [f"SELECT count(*) FROM {raw}{where}"], "fix the filter")] if where else []
    probes += [
        (f"column {c.name!r}", _column_probe(c, raw, where), "fix the mapping's type, transform or default")
        for c in target.columns
    ]
    for what, statements, hint in probes:
        with ctx.target.conn.transaction(), ctx.target.conn.cursor() as cur:
            sandbox.prepare(cur, reads=[raw])
            failure = data_error(cur, statements, sandboxed=True)
        if failure:
            fails = "fails on the data" if isinstance(exc, psycopg.errors.DataError) else "cannot work on any row"
            return f"transforming {source.source} into {target.table}: {what} {fails}: {failure} ({hint})"
    return f"transforming {source.source} into {target.table}: {str(exc).splitlines()[0]}"


def _column_probe(column: ColumnPlan, raw: str, where: str) -> list[str]:
    """Fill a scratch table with one column the way the transform does (so assignment casts are checked too)."""
    return [
        f"CREATE TEMP TABLE databridge_probe ON COMMIT DROP AS SELECT {column.sql} AS v FROM {raw} WITH NO DATA",
        f"INSERT INTO databridge_probe SELECT {column.insert_sql} FROM {raw}{where}",
    ]


def data_error(
    cur: psycopg.Cursor[Any],
    statements: Sequence[str],
    *,
    sandboxed: bool = False,
    timeout_seconds: float | None = None,
) -> str | None:
    """The first line of the data (or type) error the statements raise (nothing is kept), or None when they all run.

    ``sandboxed``: they carry user-written SQL, and run as the sandbox role (granted by the caller)."""
    try:
        with cur.connection.transaction() as savepoint:
            with (
                sandbox.entered(cur, timeout_seconds=timeout_seconds, doing="trying the mapping")
                if sandboxed
                else nullcontext()
            ):
                for statement in statements:
                    cur.execute(statement)
            raise psycopg.Rollback(savepoint)
    except (psycopg.errors.DataError, *TYPE_ERRORS) as exc:
        return str(exc).splitlines()[0]
    return None
