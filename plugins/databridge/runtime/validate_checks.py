"""The validation checks a pipeline declares (``validations:``): each kind registered once in ``CHECK_KINDS``, with
its spec model (what the user writes), its plan builder (what the compiler makes of it) and its runner (what the
validate stage runs on the target). A kind that is not registered is an error, at compile time and at run time.

Adding a kind: a model in spec/models.py (a member of the ``Check`` union), then one ``CheckKind`` here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg

from databridge.compiler.expressions import check_select, tables_read
from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import CheckPlan, TableRef
from databridge.compiler.sql_check import Scope
from databridge.engines import sandbox
from databridge.errors import CompileError
from databridge.spec.models import CheckBase, CustomCheck, ForeignKeyCheck, NotNullCheck

if TYPE_CHECKING:
    from databridge.runtime.context import StageContext

SAMPLE_SIZE = 5
"""Orphan keys a failed foreign key check names."""

NOT_NULL, FOREIGN_KEY, CUSTOM = "not_null", "foreign_key", "custom"


@dataclass(frozen=True)
class Planning:
    """What a plan builder needs besides the check: where custom SQL may read, and how a table name is resolved."""

    scope: Scope
    table: Callable[[str], TableRef]


Builder = Callable[[Any, Planning], CheckPlan]
"""(spec model, planning) → the plan; raises ExpressionError (compiler/expressions.py) for bad SQL in ``sql``."""
Runner = Callable[["StageContext", CheckPlan], tuple[bool, str]]
"""(stage, plan) → (passed, what was found)."""


@dataclass(frozen=True)
class CheckKind:
    kind: str
    """The ``check:`` value a user writes, and CheckPlan.kind."""
    model: type[CheckBase]
    plan: Builder
    run: Runner


def _columns_name(table: TableRef, columns: tuple[str, ...], ending: str) -> str:
    return f"{table}({', '.join(columns)}){ending}"


def not_null_plan(table: TableRef, columns: tuple[str, ...], on_failure: str, name: str | None = None) -> CheckPlan:
    return CheckPlan(NOT_NULL, name or _columns_name(table, columns, " not null"), on_failure, table, columns)


def foreign_key_plan(
    table: TableRef, columns: tuple[str, ...], ref: TableRef, ref_columns: tuple[str, ...], on_failure: str
) -> CheckPlan:
    return CheckPlan(
        FOREIGN_KEY, _columns_name(table, columns, f" -> {ref}"), on_failure, table, columns, ref, ref_columns
    )


def _plan_not_null(check: NotNullCheck, planning: Planning) -> CheckPlan:
    return not_null_plan(planning.table(check.table), tuple(check.columns), check.on_failure)


def _plan_foreign_key(check: ForeignKeyCheck, planning: Planning) -> CheckPlan:
    columns = tuple(check.columns)
    ref_columns = tuple(check.referenced_columns or check.columns)
    return foreign_key_plan(
        planning.table(check.table), columns, planning.table(check.references), ref_columns, check.on_failure
    )


def _plan_custom(check: CustomCheck, planning: Planning) -> CheckPlan:
    return CheckPlan(
        CUSTOM, check.name, check.on_failure, sql=check_select(check.sql, planning.scope), expect=check.expect
    )


def _not_null(ctx: StageContext, check: CheckPlan) -> tuple[bool, str]:
    assert check.table is not None
    table = qualified(check.table.schema, check.table.name)
    counts = ", ".join(f"count(*) FILTER (WHERE {quote_ident(c)} IS NULL)" for c in check.columns)
    row = ctx.target.rows(f"SELECT {counts} FROM {table}", doing=f"checking NOT NULL on {check.table}")[0]
    nulls = {c: int(n) for c, n in zip(check.columns, row, strict=True) if n}
    if not nulls:
        return True, f"no NULL in {', '.join(check.columns)}"
    return False, "NULL values: " + ", ".join(f"{c} has {n}" for c, n in nulls.items())


def _foreign_key(ctx: StageContext, check: CheckPlan) -> tuple[bool, str]:
    assert check.table is not None and check.references is not None
    child = qualified(check.table.schema, check.table.name)
    parent = qualified(check.references.schema, check.references.name)
    cols = [quote_ident(c) for c in check.columns]
    join = " AND ".join(f"p.{quote_ident(r)} = c.{c}" for c, r in zip(cols, check.referenced_columns, strict=True))
    present = " AND ".join(f"c.{c} IS NOT NULL" for c in cols)
    orphans = f"FROM {child} c WHERE {present} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {join})"
    doing = f"checking {check.name}"
    count = int(ctx.target.scalar(f"SELECT count(*) {orphans}", doing=doing))
    if count == 0:
        return True, "every reference found"
    sample = ctx.target.rows(
        f"SELECT DISTINCT {', '.join('c.' + c for c in cols)} {orphans} LIMIT {SAMPLE_SIZE}", doing=doing
    )
    keys = ", ".join(str(r[0] if len(r) == 1 else r) for r in sample)
    return False, f"{count} rows reference missing {check.references} rows, e.g. {keys}"


def _custom(ctx: StageContext, check: CheckPlan) -> tuple[bool, str]:
    assert check.sql is not None
    doing = f"custom check {check.name!r}"
    rows: list[tuple[Any, ...]] = []
    try:
        with ctx.target.transaction(f"running {doing}") as cur:
            sandbox.prepare(cur, reads=tables_read(check.sql))
            cur.execute("SET TRANSACTION READ ONLY")
            with sandbox.entered(cur, timeout_seconds=ctx.plan.check_timeout_seconds, doing=doing):
                rows = cur.execute(check.sql).fetchall()
            raise psycopg.Rollback()  # the grants to the sandbox end with the check
    except sandbox.TimedOut:
        return (
            False,
            f"ran longer than {ctx.plan.check_timeout_seconds} s and was cancelled on the server; make the query "
            "cheaper or raise defaults.check_timeout_seconds",
        )
    if len(rows) != 1 or len(rows[0]) != 1:
        return False, f"the query must return one value; it returned {len(rows)} row(s)"
    value = rows[0][0]
    return same_value(value, check.expect), f"returned {value!r}, expected {check.expect!r}"


def same_value(actual: Any, expected: Any) -> bool:
    """Compare a query result with the YAML expectation: numbers by value, everything else as text."""
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(actual).lower() == str(expected).lower()
    try:
        return float(actual) == float(expected)
    except (TypeError, ValueError):
        return str(actual) == str(expected)


CHECK_KINDS: dict[str, CheckKind] = {
    k.kind: k
    for k in (
        CheckKind(NOT_NULL, NotNullCheck, _plan_not_null, _not_null),
        CheckKind(FOREIGN_KEY, ForeignKeyCheck, _plan_foreign_key, _foreign_key),
        CheckKind(CUSTOM, CustomCheck, _plan_custom, _custom),
    )
}


def kind_of(name: str) -> CheckKind:
    """The registered kind ``name``; CompileError naming the known ones otherwise (never a fallback kind)."""
    found = CHECK_KINDS.get(name)
    if found is None:
        raise CompileError(
            f"unknown validation check kind {name!r}; the known kinds are {', '.join(sorted(CHECK_KINDS))}"
        )
    return found


_BY_MODEL = {k.model: k for k in CHECK_KINDS.values()}


def plan_check(check: CheckBase, planning: Planning) -> CheckPlan:
    """The plan of a declared check, built by the kind registered for its model; CompileError for any other model."""
    kind = _BY_MODEL.get(type(check))
    if kind is None:
        known = ", ".join(sorted(CHECK_KINDS))
        raise CompileError(f"unknown validation check kind {type(check).__name__}; the known kinds are {known}")
    return kind.plan(check, planning)


def run_check(ctx: StageContext, check: CheckPlan) -> tuple[bool, str]:
    """Run a planned check with the runner registered for its kind."""
    return kind_of(check.kind).run(ctx, check)
