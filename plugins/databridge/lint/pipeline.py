"""lint_pipeline: read a sample of every source table and report what the pipeline would do wrong with it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from databridge.compiler.columns import fit_widths
from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import ColumnPlan, PipelinePlan, SourcePlan, TableRef, TargetPlan
from databridge.engines.base import SourceColumn, SourceEngine
from databridge.engines.errors import postgres_error
from databridge.engines.postgres import PostgresTarget
from databridge.errors import EngineError
from databridge.lint import convert
from databridge.lint.declared import DeclaredType, parse_type
from databridge.lint.problems import LintProblem, examples
from databridge.lint.sample import Row, is_zero_date, read_rows, stager
from databridge.lint.values import (
    BooleanValues,
    Checker,
    DecimalLimits,
    EnumLabels,
    IntegerRange,
    StringLength,
    Where,
    ZeroDates,
)
from databridge.spec.names import unknown_source_column

_BOOLEAN_NUMBERS = re.compile(r"^(tinyint\(1\)|bit\(1\))", re.IGNORECASE)
_NAIVE = re.compile(r"^timestamp(\s*\(\d+\))?(\s+without time zone)?$", re.IGNORECASE)


def lint_pipeline(
    plan: PipelinePlan,
    source: SourceEngine,
    target: PostgresTarget | None,
    *,
    sample_rows: int = 10_000,
    full_scan: bool = False,
) -> list[LintProblem]:
    """Every problem found in at most ``sample_rows`` rows per source table (all rows with ``full_scan``).

    Without a target only the source values are checked; with one, the sample is also staged in temporary tables
    there and every mapping is run on it (rolled back: nothing is left in the target).
    """
    limit = None if full_scan else sample_rows
    problems: list[LintProblem] = []
    for source_plan in plan.sources:
        problems += _lint_table(plan, source_plan, source, target, limit)
    return problems


def _lint_table(
    plan: PipelinePlan, sp: SourcePlan, source: SourceEngine, target: PostgresTarget | None, limit: int | None
) -> list[LintProblem]:
    label = str(TableRef(sp.source.schema or source.default_schema(), sp.source.name))
    try:
        available = {c.name: c for c in source.columns(sp.source)}
    except EngineError as exc:
        return [LintProblem(label, "(table)", "unknown_table", str(exc), (), "fix the table mapping's `source:`")]
    problems = [
        LintProblem(
            label,
            name,
            "unknown_column",
            unknown_source_column(name, available),
            (),
            "fix the column mapping's `source:` (or its {column} in an expression)",
        )
        for name in sp.columns
        if name not in available
    ]
    columns = [available[n] for n in sp.columns if n in available]
    if not columns:
        return problems
    checks = TableChecks.build(plan, sp, label, columns, source)
    if target is None:
        rows = read_rows(source, sp.source, columns, limit, checks.see, plan.batch_size)
        return problems + checks.problems(rows)
    return problems + _lint_on_target(plan, sp, source, target, limit, columns, checks)


def _lint_on_target(
    plan: PipelinePlan,
    sp: SourcePlan,
    source: SourceEngine,
    target: PostgresTarget,
    limit: int | None,
    columns: list[SourceColumn],
    checks: TableChecks,
) -> list[LintProblem]:
    try:
        with convert.scratch(target.conn, columns) as cur:
            with cur.copy(f"COPY {convert.RAW} FROM STDIN") as copy:

                def consume(row: tuple[Any, ...]) -> None:
                    checks.see(row)
                    copy.write_row(checks.staged(row))

                rows = read_rows(source, sp.source, columns, limit, consume, plan.batch_size)
            found = checks.problems(rows)
            found += convert.stage(cur, checks.source, columns, checks.failing_sources(found), rows)
            widths = {c.name: c.pg_type for c in columns}
            missing = set(sp.columns) - set(widths)  # reported as unknown columns: the mappings reading them cannot run
            for target_plan in sp.targets:
                reads = reads_of(target_plan, sp.columns)
                skip = {p.column for p in found if p.table == str(target_plan.table) and p.severity == "error"}
                skip |= {column for column, names in reads.items() if missing.intersection(names)}
                found += convert.map_columns(cur, fit_widths(target_plan, widths), reads, skip, rows)
    except psycopg.Error as exc:
        raise postgres_error(exc, f"linting {sp.source} on {target.info.describe()}") from None
    return found


def reads_of(target: TargetPlan, names: Sequence[str]) -> dict[str, list[str]]:
    """The source columns each target column's SQL reads."""
    return {c.name: [n for n in names if quote_ident(n) in c.sql] for c in target.columns}


def direct_source(column: ColumnPlan) -> str | None:
    """The source column a mapping copies unchanged (but for its type), or None for computed values."""
    return column.copied_source


@dataclass
class TableChecks:
    """The checkers of one source table, by the position of the value they see in a sampled row."""

    source: str
    checkers: list[tuple[int, Checker]] = field(default_factory=list)
    staged: Callable[[Row], Row] = field(default=lambda row: row)
    """The row as the extract stages it (zero dates become NULL)."""
    staged_types: dict[str, str] = field(default_factory=dict)
    """Target columns checked against the staged type (no `type:` declared) → the source column staged."""

    @classmethod
    def build(
        cls, plan: PipelinePlan, sp: SourcePlan, label: str, columns: list[SourceColumn], source: SourceEngine
    ) -> TableChecks:
        checks = cls(label, staged=stager(source, columns))
        position = {c.name: i for i, c in enumerate(columns)}
        for i, read in enumerate(columns):
            checks.checkers += [(i, c) for c in _source_checkers(plan, checks.source, read, source.zero_dated(read))]
        for target in sp.targets:
            for column in target.columns:
                name = direct_source(column)
                if name in position:
                    checks._add_target(str(target.table), column, columns[position[name]], position[name])
        return checks

    def _add_target(self, table: str, column: ColumnPlan, source: SourceColumn, index: int) -> None:
        if column.type:
            declared, note = parse_type(column.type), ""
        else:
            declared, note = parse_type(source.pg_type), f" (the type {source.name} is staged as)"
            self.staged_types[column.name] = source.name
        checker = limit_checker(Where(table, column.name, source.name, note), declared)
        if checker is not None:
            self.checkers.append((index, checker))

    def see(self, row: tuple[Any, ...]) -> None:
        for index, checker in self.checkers:
            checker.see(row[index])

    def problems(self, rows: int) -> list[LintProblem]:
        return [p for _index, checker in self.checkers for p in checker.problems(rows)]

    def failing_sources(self, found: list[LintProblem]) -> set[str]:
        """Source columns already reported as failing: their staging failures would say it twice."""
        errors = [p for p in found if p.severity == "error"]
        return {p.column for p in errors if p.table == self.source} | {
            self.staged_types[p.column] for p in errors if p.column in self.staged_types
        }


def _source_checkers(plan: PipelinePlan, table: str, column: SourceColumn, zero_dated: bool) -> list[Checker]:
    where = Where(table, column.name, column.name)
    found: list[Checker] = []
    if column.pg_type == "boolean" and _BOOLEAN_NUMBERS.match(column.native_type):
        found.append(BooleanValues(where))
    if zero_dated:
        found.append(ZeroDates(where, plan.zero_dates))
    if column.allowed_values:
        found.append(EnumLabels(where, column.allowed_values))
    if plan.naive_timezone is None and _NAIVE.match(column.pg_type):
        found.append(NaiveDateTimes(where, column.native_type, plan.name))
    return found


def limit_checker(where: Where, declared: DeclaredType) -> Checker | None:
    """The checker of a type's limits: integer range, numeric precision and scale, or length."""
    if (bounds := declared.integer_range) is not None:
        return IntegerRange(where, declared, bounds)
    if (limits := declared.numeric_limits) is not None:
        return DecimalLimits(where, declared, limits)
    if (length := declared.max_length) is not None:
        return StringLength(where, declared, length)
    return None


class NaiveDateTimes(Checker):
    """Date-times without a zone while the pipeline declares none: one warning, whatever the values."""

    def __init__(self, where: Where, native_type: str, pipeline: str) -> None:
        super().__init__(where)
        self.native_type = native_type
        self.pipeline = pipeline

    def see(self, value: Any) -> None:
        if value is not None and not is_zero_date(value):
            self.tally.add(value)

    def problems(self, rows: int) -> list[LintProblem]:
        return [
            LintProblem(
                self.where.table,
                self.where.column,
                "naive_datetime",
                f"{self.native_type} values carry no time zone; they are loaded as timestamp without time zone",
                examples(self.tally.values),
                "say which zone they were written in: `source_options: {naive_timezone: Europe/Paris}` (an "
                f"IANA name) in pipeline {self.pipeline}",
                "warning",
            )
        ]
