"""Column lineage: which source columns each target column is computed from, read from the plan's SQL with sqlglot."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from databridge.compiler.plan import ColumnPlan, TargetPlan


@dataclass(frozen=True)
class ColumnLineage:
    """One target column and the source columns its value reads."""

    target: str
    sources: tuple[str, ...]
    identity: bool
    """The value is a source column as read (no expression, transform, format or default)."""
    sql: str
    """The expression over the source row that computes it."""


@functools.lru_cache(maxsize=4096)
def columns_read(sql: str) -> tuple[str, ...]:
    """The source columns an expression of the plan reads, in order of first use.

    The compiler quotes every source column it binds (compiler/expressions.py), so the quoted column references of
    the expression are exactly the source columns; unquoted words are SQL's own (CURRENT_DATE, a type name)."""
    names: list[str] = []
    for column in sqlglot.parse_one(sql, read="postgres").find_all(exp.Column, bfs=False):
        identifier = column.this
        if isinstance(identifier, exp.Identifier) and identifier.quoted and identifier.name not in names:
            names.append(identifier.name)
    return tuple(names)


def column_lineage(column: ColumnPlan) -> ColumnLineage:
    sources = (column.unchanged_source,) if column.unchanged_source else columns_read(column.sql)
    return ColumnLineage(column.name, sources, column.unchanged_source is not None, column.sql)


def target_lineage(target: TargetPlan) -> tuple[ColumnLineage, ...]:
    """Every column of a target table with the source columns it reads."""
    return tuple(column_lineage(c) for c in target.columns)


def filter_columns(target: TargetPlan) -> tuple[str, ...]:
    """The source columns the target's filter reads: they decide which rows it holds, not what its values are."""
    return columns_read(target.filter_sql) if target.filter_sql else ()
