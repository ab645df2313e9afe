"""compile_project: a checked spec → a ProjectPlan (pure: no Airflow, no I/O)."""

from __future__ import annotations

from databridge.compiler.columns import ColumnProblem, compile_column
from databridge.compiler.expressions import ExpressionError, check_expression
from databridge.compiler.identifiers import short_name
from databridge.compiler.order import order_pipelines, order_targets
from databridge.compiler.plan import (
    AttachmentsPlan,
    CheckPlan,
    ColumnPlan,
    DiscoverPlan,
    ForeignKeyPlan,
    PipelinePlan,
    ProjectPlan,
    ProofPlan,
    SchedulePlan,
    SourcePlan,
    TableRef,
    TargetPlan,
    TaskDefaults,
)
from databridge.compiler.sql_check import Scope
from databridge.compiler.target_types import check_type
from databridge.errors import SpecError
from databridge.generate.naming import convert
from databridge.generate.patterns import literal_schema
from databridge.runtime import validate_checks  # the check kinds; a module import, as it imports compiler modules too
from databridge.spec.checks import RESULTS_SCHEMA
from databridge.spec.models import (
    Chunking,
    Naming,
    Pipeline,
    Project,
    TableMapping,
    TargetTable,
)
from databridge.spec.names import parse_qualified

TARGET_DEFAULT_SCHEMA = "public"


def compile_project(project: Project, file: str) -> ProjectPlan:
    """Compile every pipeline; raises SpecError with every problem (bad SQL, bad types, reference loops)."""
    problems: list[tuple[str, str]] = []
    index = {p.name: i for i, p in enumerate(project.pipelines)}
    order = order_pipelines(list(index), {p.name: p.depends_on for p in project.pipelines})
    pipelines = [_compile_pipeline(project, index[n], problems) for n in order]
    if problems:
        raise SpecError(file, problems)
    schedule, defaults = project.schedule, project.defaults
    return ProjectPlan(
        name=project.name,
        description=project.description,
        file=file,
        tags=tuple(project.tags),
        schedule=SchedulePlan(
            schedule.cron,
            schedule.timezone,
            schedule.start_date.isoformat(),
            schedule.catchup,
            schedule.deadline_minutes,
            tuple(schedule.assets),
            tuple(schedule.after_projects),
        ),
        defaults=TaskDefaults(
            defaults.retries,
            defaults.retry_delay_seconds,
            defaults.retry_exponential_backoff,
            defaults.max_retry_delay_seconds,
            defaults.execution_timeout_minutes,
        ),
        pipelines=tuple(pipelines),
    )


def compile_pipeline(project: Project, index: int, file: str) -> PipelinePlan:
    """One pipeline whose tables the generator has written out in full (generate/expand.py, when a run starts): the
    same compilation, without anything left to discover. Raises SpecError with every problem."""
    problems: list[tuple[str, str]] = []
    plan = _compile_pipeline(project, index, problems, expanded=True)
    if problems:
        raise SpecError(file, problems)
    return plan


def target_ref(text: str) -> TableRef:
    name = parse_qualified(text).with_default_schema(TARGET_DEFAULT_SCHEMA)
    return TableRef(name.schema, name.name)


def _compile_pipeline(
    project: Project, index: int, problems: list[tuple[str, str]], *, expanded: bool = False
) -> PipelinePlan:
    """``expanded``: the generator has written every table out; else a pipeline that takes tables by pattern, or has
    targets without columns, gets a DiscoverPlan, and its ``sources`` are the tables written out in full."""
    pipeline, path = project.pipelines[index], f"pipelines[{index}]"
    chunking = pipeline.chunking or project.defaults.chunking
    compiled = [
        _compile_source((project.name, pipeline.name), mapping, f"{path}.tables[{i}]", problems, chunking)
        for i, mapping in enumerate(pipeline.tables)
    ]
    complete = [all(t.columns is not None for t in m.targets) for m in pipeline.tables]
    sources = tuple(source for source, whole in zip(compiled, complete, strict=True) if whole)
    discover = None if expanded or (all(complete) and not pipeline.include) else _discover(project, index, chunking)
    targets = [t for s in sources for t in s.targets]
    try:
        load_order = tuple(order_targets(targets, break_cycles=bool(pipeline.include)))
    except ValueError as exc:
        problems.append((f"{path}.tables", str(exc)))
        load_order = tuple(t.table for t in targets)
    return PipelinePlan(
        name=pipeline.name,
        project=project.name,
        source_conn_id=pipeline.source_conn_id,
        target_conn_id=pipeline.target_conn_id,
        staging_schema=pipeline.staging_schema,
        depends_on=tuple(pipeline.depends_on),
        sources=sources,
        load_order=load_order,
        checks=tuple(_implied_checks(targets))
        + tuple(_declared_checks(pipeline, path, problems, _check_scope(project))),
        batch_size=project.defaults.batch_size,
        commit_rows=project.defaults.commit_rows,
        progress_seconds=project.defaults.progress_seconds,
        zero_dates=pipeline.source_options.zero_dates,
        naive_timezone=pipeline.source_options.naive_timezone,
        attachments=_attachments(project, pipeline),
        extract_parallel=chunking.parallel,
        proof=ProofPlan(pipeline.proof.on_failure, pipeline.proof.max_rows, pipeline.proof.range_rows),
        keep_versions_days=project.defaults.keep_versions_days,
        check_timeout_seconds=project.defaults.check_timeout_seconds,
        schema_rebuild=pipeline.schema_rebuild == "full",
        enums=pipeline.enums,
        discover=discover,
    )


def _discover(project: Project, index: int, chunking: Chunking) -> DiscoverPlan:
    pipeline = project.pipelines[index]
    written = project.model_dump_json(
        exclude_unset=True
    )  # exclude_unset: the expansion tells written fields from defaults
    return DiscoverPlan(written, index, tuple(pipeline.include), tuple(pipeline.exclude), chunking.chunks)


def _attachments(project: Project, pipeline: Pipeline) -> AttachmentsPlan | None:
    spec = pipeline.attachments
    if spec is None:
        return None
    stubs = short_name(project.name, pipeline.name, "attachment_stubs")
    return AttachmentsPlan(
        spec.conn_id, spec.bucket, spec.prefix, target_ref(spec.table), spec.multipart_threshold_mb, stubs
    )


def _compile_source(
    owner: tuple[str, str], mapping: TableMapping, path: str, problems: list[tuple[str, str]], chunking: Chunking
) -> SourcePlan:
    source = parse_qualified(mapping.source)
    reads: list[str] = []
    excluded: list[str] = []
    targets = []
    for i, target in enumerate(mapping.targets):
        tpath = f"{path}.targets[{i}]"
        excluded += [c.source for c in target.columns or [] if c.exclude and c.source]
        targets.append(_compile_target(owner, target, tpath, reads, problems))
    columns = tuple(dict.fromkeys(reads))
    staging_types = []
    for name, type_text in mapping.source_types.items():
        try:
            staging_types.append((name, check_type(type_text)))
        except ValueError as exc:
            problems.append((f"{path}.source_types.{name}", str(exc)))
    return SourcePlan(
        source=TableRef(source.schema, source.name),
        columns=columns,
        excluded=tuple(c for c in dict.fromkeys(excluded) if c not in columns),
        staging_table=short_name(*owner, "raw", source.schema or "", source.name),
        targets=tuple(targets),
        staging_types=tuple(staging_types),
        chunks=mapping.chunks or chunking.chunks,
        chunk_min_rows=chunking.min_rows if mapping.chunk_min_rows is None else mapping.chunk_min_rows,
        chunk_key=mapping.chunk_key,
        parallel=mapping.parallel,
    )


def _compile_target(
    owner: tuple[str, str], target: TargetTable, path: str, reads: list[str], problems: list[tuple[str, str]]
) -> TargetPlan:
    columns: list[ColumnPlan] = []
    for i, column in enumerate(target.columns or []):
        if column.exclude:
            continue
        try:
            columns.append(compile_column(column, reads))
        except ColumnProblem as exc:
            problems.append((f"{path}.columns[{i}].{exc.field}", str(exc)))
    filter_sql = None
    if target.filter is not None:
        try:
            checked = check_expression(target.filter)
            reads.extend(checked.columns)
            filter_sql = checked.sql
        except ExpressionError as exc:
            problems.append((f"{path}.filter", str(exc)))
    table = target_ref(target.table)
    return TargetPlan(
        table=table,
        role=target.role,
        load=target.load,
        keys=tuple(target.keys),
        columns=tuple(columns),
        foreign_keys=tuple(
            ForeignKeyPlan(tuple(fk.columns), target_ref(fk.references), tuple(fk.referenced_columns or fk.columns))
            for fk in target.foreign_keys
        ),
        filter_sql=filter_sql,
        ready_table=short_name(*owner, "ready", table.schema or "", table.name),
        max_rejects=target.max_rejects if isinstance(target.max_rejects, int) else 0,
        max_rejects_percent=float(target.max_rejects[:-1]) if isinstance(target.max_rejects, str) else None,
        on_existing=target.on_existing,
        on_schema_change=target.on_schema_change,
    )


def _implied_checks(targets: list[TargetPlan]) -> list[CheckPlan]:
    """Keys must not be NULL and declared foreign keys must hold: checked without being asked."""
    checks = []
    for t in targets:
        if t.keys:
            checks.append(validate_checks.not_null_plan(t.table, t.keys, "fail", name=f"keys of {t.table} not null"))
        for fk in t.foreign_keys:
            checks.append(
                validate_checks.foreign_key_plan(t.table, fk.columns, fk.references, fk.referenced_columns, "fail")
            )
    return checks


def _check_scope(project: Project) -> Scope:
    """A custom check reads the project's own target tables (of any pipeline) and attachment tables, and results."""
    names = [t.table for p in project.pipelines for m in p.tables for t in m.targets]
    names += [p.attachments.table for p in project.pipelines if p.attachments]
    tables = frozenset((ref.schema or TARGET_DEFAULT_SCHEMA, ref.name) for ref in map(target_ref, names))
    schemas = {RESULTS_SCHEMA, *(s for p in project.pipelines for s in _pattern_schemas(p, p.naming or project.naming))}
    return Scope(check=True, tables=tables, schemas=frozenset(schemas), default_schema=TARGET_DEFAULT_SCHEMA)


def _pattern_schemas(pipeline: Pipeline, naming: Naming) -> set[str]:
    """Where the tables a pipeline takes by pattern go, as far as the spec says: a custom check may read them before
    they are found (once they are, the extract compiles the check again against the tables themselves)."""
    if pipeline.target_schema:
        return {pipeline.target_schema}
    return {convert(s, naming) for s in map(literal_schema, pipeline.include) if s}


def _declared_checks(pipeline: Pipeline, path: str, problems: list[tuple[str, str]], scope: Scope) -> list[CheckPlan]:
    """Each check planned by its registered kind (runtime/validate_checks.py); a kind not registered is an error."""
    checks = []
    planning = validate_checks.Planning(scope, target_ref)
    for i, check in enumerate(pipeline.validations):
        try:
            checks.append(validate_checks.plan_check(check, planning))
        except ExpressionError as exc:
            problems.append((f"{path}.validations[{i}].sql", str(exc)))
    return checks
