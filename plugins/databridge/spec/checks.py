"""Checks across fields that pydantic cannot see: names that must exist, be unique, or not loop."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from databridge.generate.patterns import pattern_problem
from databridge.spec.models import (
    ColumnMapping,
    CustomCheck,
    ForeignKeyCheck,
    NotNullCheck,
    Pipeline,
    Project,
    TargetTable,
)
from databridge.spec.names import did_you_mean, parse_qualified

Problem = tuple[str, str]


def check_project(project: Project) -> list[Problem]:
    """Every cross-field problem of a parsed project, as (field path, message)."""
    problems = list(_check_strategy(project))
    problems += _check_pipeline_graph(project.pipelines)
    for i, pipeline in enumerate(project.pipelines):
        problems += _check_pipeline(pipeline, f"pipelines[{i}]")
    return problems


def target_column_name(column: ColumnMapping) -> str | None:
    """The column a mapping writes, or None for an excluded column."""
    return None if column.exclude else (column.target or column.source)


def target_columns(target: TargetTable) -> list[str]:
    return [name for name in (target_column_name(c) for c in target.columns or []) if name]


def _check_strategy(project: Project) -> Iterator[Problem]:
    count = len(project.pipelines)
    if project.strategy == "single-pipeline" and count != 1:
        yield "strategy", f"single-pipeline allows one pipeline but {count} are defined; write strategy: multi-pipeline"


def _check_pipeline_graph(pipelines: list[Pipeline]) -> Iterator[Problem]:
    names = [p.name for p in pipelines]
    yield from _duplicates(names, lambda i: f"pipelines[{i}].name", "pipeline")
    for i, pipeline in enumerate(pipelines):
        for j, dep in enumerate(pipeline.depends_on):
            path = f"pipelines[{i}].depends_on[{j}]"
            if dep == pipeline.name:
                yield path, f"pipeline {dep!r} cannot depend on itself"
            elif dep not in names:
                yield path, f"unknown pipeline {dep!r}{did_you_mean(dep, names)}"
    cycle = find_cycle({p.name: [d for d in p.depends_on if d in names and d != p.name] for p in pipelines})
    if cycle:
        index = names.index(cycle[0])
        yield (
            f"pipelines[{index}].depends_on",
            f"pipelines depend on each other in a cycle: {' -> '.join(cycle)}; remove one of these dependencies",
        )


def find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """A cycle in ``graph`` as [a, b, ..., a], or [] when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return []


def _duplicates(values: Iterable[str], path_of, what: str) -> Iterator[Problem]:  # type: ignore[no-untyped-def]
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            yield path_of(i), f"{what} {value!r} is defined twice; give each a distinct name"
        seen.add(value)


def check_pipeline(pipeline: Pipeline, path: str) -> list[Problem]:
    """Every cross-field problem of one pipeline (``path`` names it: pipelines[i])."""
    return list(_check_pipeline(pipeline, path))


def _check_pipeline(pipeline: Pipeline, path: str) -> Iterator[Problem]:
    tables: dict[str, TargetTable] = {}
    yield from _check_patterns(pipeline, path)
    yield from _check_sources(pipeline, path)
    for t, mapping in enumerate(pipeline.tables):
        for g, target in enumerate(mapping.targets):
            tpath = f"{path}.tables[{t}].targets[{g}]"
            key = _normal_table(target.table)
            if key in tables:
                yield (
                    f"{tpath}.table",
                    f"target table {target.table!r} is already fed by another mapping in this pipeline; merge "
                    "the two mappings or use another table",
                )
            tables[key] = target
            yield from _check_target(target, tpath, generated_keys=bool(pipeline.include))
            yield from _check_target_place(target.table, pipeline.staging_schema, f"{tpath}.table")
    for v, check in enumerate(pipeline.validations):
        yield from _check_validation(check, tables, f"{path}.validations[{v}]", bool(pipeline.include))


def _check_patterns(pipeline: Pipeline, path: str) -> Iterator[Problem]:
    """include / exclude / target_schema: tables taken by pattern (generate/)."""
    if not pipeline.tables and not pipeline.include:
        yield f"{path}.tables", 'list the source tables, or take them by pattern with include, e.g. include: ["shop.*"]'
    for field in ("include", "exclude"):
        for i, pattern in enumerate(getattr(pipeline, field)):
            if (problem := pattern_problem(pattern)) is not None:
                yield f"{path}.{field}[{i}]", problem
    if pipeline.exclude and not pipeline.include:
        yield f"{path}.exclude", 'exclude leaves out tables that include takes; add include, e.g. include: ["shop.*"]'
    if pipeline.target_schema is None:
        return
    if not pipeline.include:
        yield (
            f"{path}.target_schema",
            "names the schema of the tables include takes; add include, "
            "or write the schema in each target table's name",
        )
    yield from _check_target_place(
        f'"{pipeline.target_schema.replace(chr(34), chr(34) * 2)}".t', pipeline.staging_schema, f"{path}.target_schema"
    )


def _check_sources(pipeline: Pipeline, path: str) -> Iterator[Problem]:
    """Each source table once: its staging table is shared by all the targets it feeds."""
    seen: set[str] = set()
    for t, mapping in enumerate(pipeline.tables):
        spath = f"{path}.tables[{t}].source"
        yield from _check_name(mapping.source, spath)
        key = _normal_table(mapping.source, None)
        if key in seen:
            yield (
                spath,
                f"source table {mapping.source!r} is listed twice in this pipeline; "
                "list all its targets under one entry",
            )
        seen.add(key)


def _check_name(text: str, path: str) -> Iterator[Problem]:
    try:
        parse_qualified(text)
    except ValueError as exc:
        yield path, str(exc)


def _normal_table(text: str, default_schema: str | None = "public") -> str:
    try:
        name = parse_qualified(text)
    except ValueError:
        return text
    return str(name.with_default_schema(default_schema) if default_schema else name)


def _check_target(target: TargetTable, path: str, *, generated_keys: bool = False) -> Iterator[Problem]:
    """``generated_keys``: a target of a pipeline taking tables by include, whose keys the generator may write from the
    source's primary key (the extract checks the target again once it has)."""
    yield from _check_name(target.table, f"{path}.table")
    keys_later = generated_keys and not target.keys
    if target.load == "upsert" and not target.keys and not keys_later:
        yield f"{path}.keys", "upsert needs keys: list the target columns that identify a row"
    yield from _check_on_existing(target, path, keys_later)
    for k, key in enumerate(target.keys):
        if key in target.keys[:k]:
            yield f"{path}.keys[{k}]", f"key column {key!r} is listed twice; list each key column once"
    if target.columns is not None:
        yield from _check_columns(target, target.columns, path)


def _check_columns(target: TargetTable, columns: list[ColumnMapping], path: str) -> Iterator[Problem]:
    """What needs the columns written out (those of a target without them are checked once the extract has them)."""
    for c, column in enumerate(columns):
        yield from _check_column(column, f"{path}.columns[{c}]")
    named = [(c, name) for c, name in enumerate(map(target_column_name, columns)) if name]
    yield from _duplicates([name for _, name in named], lambda i: f"{path}.columns[{named[i][0]}]", "target column")
    names = [name for _, name in named]
    if not names:
        yield f"{path}.columns", "every column is excluded; map at least one column"
    yield from _unknown_columns(target.keys, names, f"{path}.keys")
    for c, name in named:
        yield from _check_length(name, "target column", f"{path}.columns[{c}]")
    for f, fk in enumerate(target.foreign_keys):
        yield from _unknown_columns(fk.columns, names, f"{path}.foreign_keys[{f}].columns")
        yield from _same_count(fk.referenced_columns, fk.columns, f"{path}.foreign_keys[{f}].referenced_columns")
        yield from _check_name(fk.references, f"{path}.foreign_keys[{f}].references")


def _check_on_existing(target: TargetTable, path: str, keys_later: bool = False) -> Iterator[Problem]:
    """Skipping the rows already in the target is an append's choice, made by key."""
    if target.on_existing != "skip":
        return
    if target.load != "append":
        why = (
            "an upsert updates the rows already in the target"
            if target.load == "upsert"
            else "a replace empties the table first"
        )
        yield (
            f"{path}.on_existing",
            f"on_existing: skip is for load: append ({why}); remove on_existing or write load: append",
        )
    elif not target.keys and not keys_later:
        yield f"{path}.keys", "on_existing: skip needs keys: list the target columns that identify a row"


MAX_NAME_BYTES = 63
"""PostgreSQL cuts longer names silently, so two long names could meet in the same column."""
RESULTS_SCHEMA = "databridge"
"""DataBridge's own tables in the target (runtime.results writes them)."""
HISTORY_SCHEMA = "databridge_history"
"""Where each run keeps what it replaced or changed in the target, for rollback (runtime/versions.py)."""


def _check_target_place(text: str, staging_schema: str, path: str) -> Iterator[Problem]:
    """A target table of its own: not in DataBridge's or PostgreSQL's schemas, and with names PostgreSQL keeps whole."""
    try:
        name = parse_qualified(text).with_default_schema("public")
    except ValueError:
        return  # reported by _check_name
    owner = {
        RESULTS_SCHEMA: "holds DataBridge's run results",
        HISTORY_SCHEMA: "holds the versions kept for rollback",
        staging_schema: "is this pipeline's staging schema",
    }.get(name.schema or "")
    if owner is None and (name.schema == "information_schema" or (name.schema or "").startswith("pg_")):
        owner = "belongs to PostgreSQL"
    if owner:
        yield path, f"schema {name.schema!r} {owner}; put the target table in a schema of its own, e.g. analytics"
    for part in (name.schema or "", name.name):
        yield from _check_length(part, "name", path)


def _check_length(name: str, what: str, path: str) -> Iterator[Problem]:
    size = len(name.encode())
    if size > MAX_NAME_BYTES:
        yield path, f"{what} {name!r} is {size} bytes long; PostgreSQL keeps only {MAX_NAME_BYTES}: shorten it"


def _same_count(referenced: list[str], columns: list[str], path: str) -> Iterator[Problem]:
    if referenced and len(referenced) != len(columns):
        yield (
            path,
            f"lists {len(referenced)} column(s) but columns lists {len(columns)}; "
            "give one referenced column per column",
        )


def _unknown_columns(columns: list[str], known: list[str], path: str) -> Iterator[Problem]:
    for i, name in enumerate(columns):
        if name not in known:
            yield f"{path}[{i}]", f"unknown target column {name!r}{did_you_mean(name, known)}"


_VALUE_FIELDS = ("target", "type", "expression", "date_format", "default")


def _check_column(column: ColumnMapping, path: str) -> Iterator[Problem]:
    if column.exclude:
        if not column.source:
            yield f"{path}.source", "an excluded column needs source: the source column left out"
        extra = [f for f in _VALUE_FIELDS if getattr(column, f) is not None] + (
            ["transform"] if column.transform else []
        )
        if extra:
            yield path, f"an excluded column takes only source; remove {', '.join(extra)}"
        return
    if column.source and column.expression:
        yield path, "give either source or expression, not both (an expression names its columns as {column})"
    elif not column.source and not column.expression:
        yield path, "needs source (a source column) or expression (custom SQL)"
    elif column.expression and not column.target:
        yield f"{path}.target", "a column computed by an expression needs target: its name in the target table"


def _check_validation(check: object, tables: dict[str, TargetTable], path: str, patterned: bool) -> Iterator[Problem]:
    """``patterned``: the pipeline takes tables by include, which the extract finds; checks on them are checked then."""
    if isinstance(check, CustomCheck):
        return
    assert isinstance(check, NotNullCheck | ForeignKeyCheck)
    key = _normal_table(check.table)
    target = tables.get(key)
    if target is None:
        if not patterned:
            yield f"{path}.table", f"{check.table!r} is not a target table of this pipeline{did_you_mean(key, tables)}"
        return
    if target.columns is not None:
        yield from _unknown_columns(check.columns, target_columns(target), f"{path}.columns")
    if isinstance(check, ForeignKeyCheck):
        yield from _same_count(check.referenced_columns, check.columns, f"{path}.referenced_columns")
