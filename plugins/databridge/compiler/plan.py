"""The compiled plan: frozen, JSON-able, everything the operators need and nothing they must guess."""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")


@dataclass(frozen=True)
class TableRef:
    """A table in the source or target; ``schema`` None means the engine's default."""

    schema: str | None
    name: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


_COPIED = re.compile(r'^(?:CAST\()?("(?:[^"]|"")*")(?: AS .+\))?$', re.DOTALL)
"""A quoted staging column, alone or in one CAST: what a mapping that copies its source column compiles to."""


@dataclass(frozen=True)
class ColumnPlan:
    """One target column: its name, the SELECT expression over the staging row, its declared type."""

    name: str
    sql: str
    type: str | None = None
    value_sql: str | None = None
    """What is inserted when it differs from ``sql``: for char(n)/varchar(n) the value before the cast, so
    PostgreSQL's assignment cast refuses a value that does not fit instead of silently cutting it."""
    unchanged_source: str | None = None
    """The source column when the value is that column as read (no expression, transform, format or default)."""
    keeps_width_of: str | None = None
    """The source column whose string the value stays (TRIM/UPPER/LOWER, a default; no type declared): when that
    column is staged as char(n)/varchar(n), the ready table's column is too (compiler/columns.py ``fit_widths``)."""

    @property
    def insert_sql(self) -> str:
        return self.value_sql or self.sql

    @property
    def copied_source(self) -> str | None:
        """The source column this column copies unchanged but for its type (cast or not), or None for computed
        values."""
        match = _COPIED.match(self.sql)
        return match.group(1)[1:-1].replace('""', '"') if match else None


@dataclass(frozen=True)
class ForeignKeyPlan:
    columns: tuple[str, ...]
    references: TableRef
    referenced_columns: tuple[str, ...]


@dataclass(frozen=True)
class TargetPlan:
    """A target table fed by one source table."""

    table: TableRef
    role: str
    load: str
    keys: tuple[str, ...]
    columns: tuple[ColumnPlan, ...]
    foreign_keys: tuple[ForeignKeyPlan, ...]
    filter_sql: str | None
    ready_table: str
    """Staging table (in the staging schema) holding the transformed rows, ready to load."""
    max_rejects: int = 0
    """Rejected rows the table tolerates (loading the rest with a warning); more fail it."""
    max_rejects_percent: float | None = None
    """When set, the tolerance is this percentage of the table's rows instead of ``max_rejects``."""
    on_schema_change: str = "fail"
    """An existing target that differs from the plan: fail, alter or keep (runtime/schema_change.py)."""
    on_existing: str = "fail"
    """Appending, incoming rows whose key the target already holds: fail the load before writing, or skip them
    (runtime/existing.py)."""


@dataclass(frozen=True)
class SourcePlan:
    """A source table: what to extract and where each of its targets goes."""

    source: TableRef
    columns: tuple[str, ...]
    """Source columns to extract, in order: those mapped, or named by expressions and filters."""
    excluded: tuple[str, ...]
    """Source columns left out on purpose (not extracted, not warned about)."""
    staging_table: str
    targets: tuple[TargetPlan, ...]
    staging_types: tuple[tuple[str, str], ...] = ()
    """(source column, PostgreSQL type) the user chose instead of the type matrix's default."""
    chunks: int = 1
    """Chunks the table is split into when it holds at least ``chunk_min_rows`` rows."""
    chunk_min_rows: int = 0
    chunk_key: str | None = None
    """The column the chunks are ranges of; None: the primary key, or the engine's fallback."""
    parallel: int | None = None
    """At most this many of the table's chunks extracted at once (runtime/chunks.py ``slot``); None: no limit."""

    @property
    def moves_staging(self) -> bool:
        """A pass-through table: one target, loaded by replace, no filter, every column as read under its own name
        in staging order. Its staging table is logged and is the ready table (the transform copies nothing), and
        a load that creates the target moves it there by rename and builds the key on it (runtime/load.py)."""
        if len(self.targets) != 1:
            return False
        target = self.targets[0]
        return (
            target.load == "replace"
            and target.filter_sql is None
            and tuple(c.name for c in target.columns) == self.columns
            and all(c.unchanged_source == c.name and c.type is None and c.value_sql is None for c in target.columns)
        )

    def ready_of(self, target: TargetPlan) -> str:
        """The table (in the staging schema) the load reads ``target``'s rows from."""
        return self.staging_table if self.moves_staging else target.ready_table


@dataclass(frozen=True)
class CheckPlan:
    """A validation: not_null, foreign_key or custom."""

    kind: str
    name: str
    on_failure: str
    table: TableRef | None = None
    columns: tuple[str, ...] = ()
    references: TableRef | None = None
    referenced_columns: tuple[str, ...] = ()
    sql: str | None = None
    expect: str | int | float | bool | None = None


@dataclass(frozen=True)
class AttachmentsPlan:
    """Where a CouchDB source's attachments are copied, and the target table linking them."""

    conn_id: str
    bucket: str
    prefix: str
    table: TableRef
    multipart_threshold_mb: int
    stubs_table: str
    """Staging table (in the staging schema) of the attachment stubs the extract stage met."""


@dataclass(frozen=True)
class ProofPlan:
    """How validate proves each table: on_failure fail | warn | skip, a size limit, the first ranges' size."""

    on_failure: str = "fail"
    max_rows: int | None = None
    range_rows: int = 100_000


@dataclass(frozen=True)
class DiscoverPlan:
    """A pipeline whose tables are found in its source when a run starts: it takes tables by ``include`` patterns, or
    leaves a target's columns out. Its extract stage expands ``project`` with what it finds (generate/expand.py) and
    stores the result for the run's other stages (runtime/resolve.py)."""

    project: str
    """The project as written (JSON of the fields given), so the expansion compiles it as the file says."""
    index: int
    """The pipeline's place in the project's ``pipelines``."""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    chunks: int = 1
    """Chunks a large table taken by pattern may be split into: the extract task is mapped over that many instances."""


@dataclass(frozen=True)
class PipelinePlan:
    name: str
    project: str
    source_conn_id: str
    target_conn_id: str
    staging_schema: str
    depends_on: tuple[str, ...]
    sources: tuple[SourcePlan, ...]
    load_order: tuple[TableRef, ...]
    """Target tables in the order they are loaded: dimensions first, each after what it references."""
    checks: tuple[CheckPlan, ...]
    batch_size: int
    zero_dates: str = "null"
    commit_rows: int = 100_000
    """Rows of one committed extract batch (key-ordered reads), each recorded in the batch ledger."""
    progress_seconds: float = 5.0
    """At most how often a stage logs and records its progress (runtime/progress.py)."""
    naive_timezone: str | None = None
    attachments: AttachmentsPlan | None = None
    keep_versions_days: int = 7
    """Days what each run replaced or changed in the target is kept for rollback."""
    extract_parallel: int | None = None
    """At most this many extract chunks running at once; None: no limit of its own."""
    check_timeout_seconds: int = 600
    """Longest one custom check may run before the server cancels it."""
    schema_rebuild: bool = True
    """Rebuild the source's schema objects on the tables the load creates (runtime/schema_rebuild.py)."""
    enums: str = "check"
    """A column copied unchanged from an ENUM in a table the load creates: "check" (text and a CHECK on its labels)
    or "type" (a PostgreSQL enum type, runtime/enum_types.py)."""

    proof: ProofPlan = ProofPlan()
    discover: DiscoverPlan | None = None
    """Set when the pipeline's tables are found in the source at run time (its ``sources`` are then only the tables
    written out in full): each stage works on the plan its run's extract resolved (runtime/resolve.py)."""

    @property
    def extract_chunks(self) -> int:
        """Mapped extract task instances: instance k reads chunk k of every table split into more than k chunks."""
        return max([s.chunks for s in self.sources] + [self.discover.chunks if self.discover else 1])

    def targets(self, role: str | None = None) -> list[tuple[SourcePlan, TargetPlan]]:
        """(source, target) pairs in load order, optionally of one role."""
        by_table = {t.table: (s, t) for s in self.sources for t in s.targets}
        pairs = [by_table[ref] for ref in self.load_order]
        return [p for p in pairs if role is None or p[1].role == role]


@dataclass(frozen=True)
class SchedulePlan:
    cron: str | None
    timezone: str
    start_date: str
    catchup: bool
    deadline_minutes: int | None = None
    """A run should finish within this many minutes of being queued (Airflow deadline alert); None: no deadline."""
    assets: tuple[str, ...] = ()
    """Asset URIs (canonical) whose updates start a run."""
    after_projects: tuple[str, ...] = ()
    """Projects whose every pipeline's load must have finished since this project's last run to start one."""


@dataclass(frozen=True)
class TaskDefaults:
    retries: int
    retry_delay_seconds: int
    retry_exponential_backoff: bool
    max_retry_delay_seconds: int
    execution_timeout_minutes: int | None


@dataclass(frozen=True)
class ProjectPlan:
    name: str
    description: str
    file: str
    tags: tuple[str, ...]
    schedule: SchedulePlan
    defaults: TaskDefaults
    pipelines: tuple[PipelinePlan, ...]
    """In an order where every pipeline comes after those it depends on."""


def to_json(plan: Any) -> dict[str, Any]:
    """A plan as plain JSON-able data (what operators receive as parameters)."""
    return dataclasses.asdict(plan)


def from_json(kind: type[T], data: dict[str, Any]) -> T:
    """Rebuild a typed plan from ``to_json`` output."""
    adapter: TypeAdapter[T] = _adapter(kind)  # type: ignore[arg-type]  # classes are hashable; typeshed says otherwise for type[T]
    return adapter.validate_python(data)


@functools.cache
def _adapter(kind: type[Any]) -> TypeAdapter[Any]:
    """Building a validator is the costly part, and every operator of every DAG parse needs one."""
    return TypeAdapter(kind)
