"""The tables a pipeline takes from its source, listed and described through the source engine: the one part of
generate/ that reads a database (the rest is pure)."""

from __future__ import annotations

from collections.abc import Sequence

from databridge.compiler.plan import PipelinePlan, TableRef
from databridge.engines.base import SourceEngine, TableInfo
from databridge.errors import MissingTable, SpecError
from databridge.generate.expand import expand
from databridge.generate.patterns import schema_matches, selected
from databridge.spec.checks import HISTORY_SCHEMA, RESULTS_SCHEMA
from databridge.spec.models import Pipeline, Project
from databridge.spec.names import parse_qualified

OWN_SCHEMAS = frozenset({RESULTS_SCHEMA, HISTORY_SCHEMA})
"""DataBridge's own schemas, never taken by a pattern (a PostgreSQL source may be an earlier target)."""


def matching(
    source: SourceEngine, include: Sequence[str], exclude: Sequence[str] = (), skip: Sequence[str] = ()
) -> list[TableRef]:
    """The source's tables that ``include`` takes and ``exclude`` does not leave out, by schema then table name."""
    refs = []
    for schema in sorted(source.schemas()):
        if schema in OWN_SCHEMAS or schema in skip or not schema_matches(include, schema):
            continue
        refs += [TableRef(schema, t) for t in sorted(source.tables(schema)) if selected(include, exclude, schema, t)]
    return refs


def describe_all(source: SourceEngine, refs: Sequence[TableRef]) -> list[TableInfo]:
    """Each table's columns and keys; a table dropped since it was listed is left out."""
    found = []
    for ref in refs:
        try:
            found.append(source.describe(ref))
        except MissingTable:
            continue
    return found


def expanded(plan: PipelinePlan, source: SourceEngine, file: str) -> PipelinePlan:
    """The pipeline with every table it takes written out and compiled (``plan`` itself when it has nothing to find).

    A table named under ``tables:`` whose targets need its columns and which the source lacks fails the way the extract
    names a missing table."""
    if plan.discover is None:
        return plan
    project = Project.model_validate_json(plan.discover.project)
    pipeline = project.pipelines[plan.discover.index]
    refs = matching(source, pipeline.include, pipeline.exclude, [pipeline.staging_schema]) if pipeline.include else []
    if pipeline.include and not refs and not pipeline.tables:
        schemas = ", ".join(sorted(source.schemas())) or "none"
        raise SpecError(
            file,
            [
                (
                    f"pipelines[{plan.discover.index}].include",
                    f"matches no table of the source (its schemas: {schemas}); check the patterns",
                )
            ],
        )
    found = describe_all(source, refs)
    described = _described(source, pipeline, {(r.schema, r.name) for r in refs}, file)
    return expand(project, plan.discover.index, found, described, source.default_schema(), file)


def _described(
    source: SourceEngine, pipeline: Pipeline, taken: set[tuple[str | None, str]], file: str
) -> list[TableInfo]:
    """The tables named under ``tables:`` with a target that leaves its columns out (and no pattern took)."""
    infos, problems = [], []
    for mapping in pipeline.tables:
        name = parse_qualified(mapping.source)
        ref = TableRef(name.schema or source.default_schema(), name.name)
        if all(t.columns is not None for t in mapping.targets) or (ref.schema, ref.name) in taken:
            continue
        try:
            infos.append(source.describe(ref))
        except MissingTable as exc:
            problems.append((f"pipeline {pipeline.name}", str(exc)))
    if problems:
        raise SpecError(file, problems)
    return infos
