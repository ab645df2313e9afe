"""A pipeline that takes tables by pattern, expanded with the tables found in its source into a full plan. Pure.

The generator writes every table out as the spec's own models, merged with the pipeline's ``tables:`` entries; then
the result goes through the same spec checks and the same compiler as a file written by hand. A problem in a table
the generator wrote is named by its source table (its place in ``tables`` is not in the file).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from databridge.compiler.compile import compile_pipeline
from databridge.compiler.plan import PipelinePlan
from databridge.errors import SpecError
from databridge.generate.tables import GenerateError, generate
from databridge.spec.checks import check_pipeline
from databridge.spec.models import Pipeline, Project, TableMapping

if TYPE_CHECKING:
    from databridge.engines.base import TableInfo

_TABLE_PATH = re.compile(r"^pipelines\[(\d+)\]\.tables\[(\d+)\](.*)$")


def expand(
    project: Project,
    index: int,
    found: Sequence[TableInfo],
    described: Sequence[TableInfo],
    default_schema: str,
    file: str,
) -> PipelinePlan:
    """Pipeline ``index`` of ``project`` with the tables its patterns ``found`` and the tables its targets without
    columns name (``described``), compiled; SpecError names every problem."""
    pipeline = project.pipelines[index]
    path = f"pipelines[{index}]"
    naming = pipeline.naming or project.naming
    try:
        tables = generate(
            found,
            naming,
            pipeline.target_schema,
            explicit=pipeline.tables,
            described=described,
            default_schema=default_schema,
        )
    except GenerateError as exc:
        raise SpecError(file, [(f"{path}.include", p) for p in exc.problems]) from None
    whole = with_tables(project, index, tables)
    problems = check_pipeline(whole.pipelines[index], path)
    if problems:
        raise SpecError(file, [_located(p, len(pipeline.tables), tables) for p in problems])
    try:
        return compile_pipeline(whole, index, file)
    except SpecError as exc:
        raise SpecError(file, [_located(p, len(pipeline.tables), tables) for p in exc.problems]) from None


def with_tables(project: Project, index: int, tables: list[TableMapping]) -> Project:
    """The project with pipeline ``index`` holding ``tables`` (every model already checked by pydantic)."""
    pipeline: Pipeline = project.pipelines[index].model_copy(update={"tables": tables})
    pipelines = [*project.pipelines[:index], pipeline, *project.pipelines[index + 1 :]]
    return project.model_copy(update={"pipelines": pipelines})


def _located(problem: tuple[str, str], written: int, tables: list[TableMapping]) -> tuple[str, str]:
    """A problem of a generated table, named by its source table rather than by a place the file does not have."""
    path, message = problem
    match = _TABLE_PATH.match(path)
    if match is None or int(match.group(2)) < written:
        return problem
    rest = match.group(3).lstrip(".")
    return (
        f"pipelines[{match.group(1)}].include",
        f"source table {tables[int(match.group(2))].source}{f', {rest}' if rest else ''}: {message}",
    )
