"""What the user writes: the mapping project, as pydantic models that check themselves."""

# No ``from __future__ import annotations`` here: pydantic reads these annotations at runtime.

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from databridge.spec.asset_uris import canonical_uri
from databridge.spec.names import did_you_mean

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,62}$"
"""Project and pipeline names: they become DAG and task-group ids."""
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
PREFIX_PATTERN = r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$"
PATTERN_HELP = {
    NAME_PATTERN: "must start with a letter and hold only letters, digits and underscores (at most 63)",
    BUCKET_PATTERN: "is not an S3 bucket name: write 3 to 63 lowercase letters, digits, dots and hyphens, "
    "starting and ending with a letter or digit",
    PREFIX_PATTERN: "is not a key prefix: write parts of letters, digits and !_.*'()- joined by '/', "
    "without a leading or trailing '/'",
}
"""What to write instead, for each pattern a field must match."""

StringOp = Literal["trim", "upper", "lower"]
Naming = Literal["as_is", "lower", "snake_case"]
"""Naming conventions of generated names (generate/naming.py)."""
OnFailure = Literal["fail", "warn"]


class SpecModel(BaseModel):
    """Base of every spec model: unknown keys are errors, field docstrings are help texts."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


PRESETS = {"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"}


class Schedule(SpecModel):
    """When Airflow runs the project."""

    cron: str | None = None
    """A cron expression ("0 3 * * *") or a preset (@daily, @hourly, @once). Empty: run only when triggered."""
    timezone: str = "UTC"
    """IANA time zone the cron expression is read in, e.g. Europe/Paris."""
    start_date: dt.date = dt.date(2024, 1, 1)
    """First date a scheduled run may cover."""
    catchup: bool = False
    """Run the intervals missed between start_date and now."""
    deadline_minutes: int | None = Field(None, gt=0, le=525_600)
    """A run should finish within this many minutes of being queued; a run still going then raises a deadline
    alert (a warning in Airflow naming the project and run). Empty: no deadline."""
    assets: list[Annotated[str, AfterValidator(canonical_uri)]] = []
    """Run when each of these Airflow assets has been updated since the project's last run: URIs as Airflow's Assets
    page shows them, e.g. a table another project loads, postgres://host:5432/database/schema/table. With a cron
    too, the project runs on either."""
    after_projects: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = []
    """Run when each of these projects (names of mapping projects in the same folder) has loaded its tables since
    this project's last run: every pipeline of theirs has finished its load_facts stage."""

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, cron: str | None) -> str | None:
        if cron is None or cron in PRESETS:
            return cron
        from croniter import croniter

        if not croniter.is_valid(cron):
            raise ValueError(
                f"{cron!r} is not a cron expression{did_you_mean(cron, sorted(PRESETS))}; write five fields like "
                f"'0 3 * * *' or a preset: {', '.join(sorted(PRESETS))}"
            )
        return cron

    @model_validator(mode="after")
    def _assets_with_a_cron_or_none(self) -> "Schedule":
        if (self.assets or self.after_projects) and self.cron in ("@once", "@continuous"):
            raise ValueError(
                f"cron {self.cron} cannot be combined with assets or after_projects; leave cron empty to run "
                "only on them, or write a cron expression to run on either"
            )
        return self

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, name: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = did_you_mean(name, sorted(zoneinfo.available_timezones()))
            raise ValueError(
                f"unknown time zone {name!r}{hint}; write an IANA name such as UTC or Europe/Paris"
            ) from None
        return name


class Chunking(SpecModel):
    """How large source tables are split into chunks that Airflow extracts in parallel (one mapped extract task
    instance per chunk, spread over the executor's workers)."""

    chunks: int = Field(4, ge=1, le=64)
    """Chunks a large table is split into (ranges of its key, each read by its own task). 1: never split."""
    min_rows: int = Field(1_000_000, ge=0)
    """Tables with fewer rows than this (counted when the run starts) are read as one chunk."""
    parallel: int | None = Field(None, ge=1, le=256)
    """At most this many extract chunks of one pipeline run at once. Empty: as many as the executor has slots for."""


class Defaults(SpecModel):
    """Task settings applied to every stage of every pipeline."""

    retries: int = Field(2, ge=0, le=20)
    """How many times a stage is retried after a transient error (lost connection, deadlock)."""
    retry_delay_seconds: int = Field(30, ge=1, le=86_400)
    """Wait before the first retry."""
    retry_exponential_backoff: bool = True
    """Double the wait after each retry."""
    max_retry_delay_seconds: int = Field(600, ge=1, le=86_400)
    """Longest wait between two retries."""
    execution_timeout_minutes: int | None = Field(120, ge=1)
    """A stage running longer than this is stopped and counted as failed. Empty: no limit."""
    batch_size: int = Field(10_000, ge=100, le=1_000_000)
    """Rows read from the source per batch; memory use is bounded by one batch."""
    commit_rows: int = Field(100_000, ge=100, le=100_000_000)
    """Rows the extract commits at once (each commit is a batch of the batch ledger): a failed or killed extract goes
    on after the last commit, so at most this many rows are read again. Fewer: less lost; more: a little faster."""
    progress_seconds: float = Field(5.0, ge=0.1, le=3600)
    """How often a long stage (extract, transform, load, proof) logs its rows done, rows per second and ETA, and
    updates the table's progress row the run monitor shows."""
    chunking: Chunking = Chunking()
    """How large tables are split and read in parallel; a pipeline's own chunking replaces it."""
    check_timeout_seconds: int = Field(600, ge=1, le=86_400)
    """Longest a custom validation query may run; the server cancels it then and the check fails saying so."""
    keep_versions_days: int = Field(7, ge=0, le=3650)
    """Days each run's previous versions are kept for rollback (the tables a replace swapped out, the rows an append
    added, the old values of the rows an upsert touched). 0: nothing is kept and runs cannot be rolled back."""


class ColumnMapping(SpecModel):
    """One target column: where its value comes from and how it is cleansed."""

    source: str | None = None
    """Source column name, as the source spells it."""
    target: str | None = None
    """Target column name. Default: the source name."""
    type: str | None = None
    """PostgreSQL type of the target column (type conversion), e.g. numeric(12,2), date, text."""
    expression: str | None = None
    """Custom SQL for the value: one scalar expression over this row's columns, written as {column}."""
    transform: list[StringOp] = []
    """String clean-ups applied in order: trim, upper, lower."""
    date_format: str | None = None
    """Format a date/time as text, with to_char patterns (YYYY-MM-DD) or strftime ones (%Y-%m-%d)."""
    default: str | int | float | bool | None = None
    """Value used when the result is NULL or an empty string."""
    exclude: bool = False
    """Leave this source column out of the target on purpose."""


class ForeignKey(SpecModel):
    """A reference from this target table to another one; loads are ordered by it and it is validated."""

    columns: list[str] = Field(min_length=1)
    """Columns of this table that hold the reference."""
    references: str
    """The referenced table (schema-qualified or in public)."""
    referenced_columns: list[str] = []
    """Referenced columns. Default: the same names as columns."""


class TargetTable(SpecModel):
    """One table in the target fed by a source table."""

    table: str
    """Target table, schema-qualified (analytics.dim_customer) or in public."""
    role: Literal["dimension", "fact"] = "fact"
    """Dimensions are loaded before facts, in foreign-key order."""
    load: Literal["replace", "append", "upsert"] = "replace"
    """replace: the table ends up equal to the source; append: rows are added; upsert: rows matched by keys are
    updated, others inserted."""
    keys: list[str] = []
    """Key columns (target names): the primary key of a created table, the match for upsert, and how an append knows
    the rows its target already holds (on_existing)."""
    on_existing: Literal["fail", "skip"] = "fail"
    """load: append only: what to do with incoming rows whose keys the target table already holds (as every row of a
    rerun of an append that succeeded). fail: stop before writing anything, naming how many and a few keys; skip:
    leave them out (the table keeps its own rows), append the others and count the skipped ones in the report. Use
    load: upsert to update such rows instead. Rows repeating a key among themselves are rejects (max_rejects)."""
    on_schema_change: Literal["fail", "alter", "keep"] = "fail"
    """When the target table exists and differs from what the mappings give it (a missing column, a type that would
    change or refuse values; a wider type is fine): fail names every difference before anything is written; alter
    adds the missing columns and widens the table's types; keep loads into the table's own types, converting values
    and rejecting rows that do not convert."""
    filter: str | None = None
    """Only source rows for which this SQL condition holds, e.g. "{status} <> 'deleted'"."""
    columns: list[ColumnMapping] | None = Field(None, min_length=1)
    """The column mappings. Leave it out to take every source column unchanged (named by the pipeline's naming
    convention): with nothing else changed, a pass-through table. Under a table taken by include, the columns written
    here replace the generated mapping of each source column they name; the others stay generated."""
    foreign_keys: list[ForeignKey] = []
    """References to other target tables."""
    max_rejects: int | str = Field(0, examples=[0, 100, "0.5%"])
    """Rows the table may reject (a failed cast, a value too long, a NULL, duplicate key, missing parent or CHECK the
    target refuses) while the rest loads with a warning: a count (10) or a percentage of its rows ("0.5%"). More
    fails the table and loads none of it. Rejected rows are stored with their reason in databridge.rejects."""

    @field_validator("max_rejects")
    @classmethod
    def _threshold(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value >= 0:
            return value
        text = str(value).strip()
        if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?%", text) and float(text[:-1]) <= 100:
            return text
        raise ValueError(f"max_rejects {value!r}: write a count of rows (0, 100) or a percentage such as '0.5%'")


class TableMapping(SpecModel):
    """A source table and the target tables it feeds (one or several)."""

    source: str
    """Source table, schema-qualified (shop.customers; dbo.Users; main.orders for SQLite)."""
    targets: list[TargetTable] = Field(min_length=1)
    """The target tables fed by this source table."""
    chunks: int | None = Field(None, ge=1, le=64)
    """Chunks this table is split into when it is large. Default: the pipeline's (or project's) chunking.chunks."""
    chunk_min_rows: int | None = Field(None, ge=0)
    """This table is split only from this many rows on. Default: chunking.min_rows."""
    parallel: int | None = Field(None, ge=1, le=64)
    """At most this many of this table's chunks are extracted at once, on any workers (to spare a busy source
    table). Default: as many as chunking.parallel and the executor allow."""
    chunk_key: str | None = None
    """Source column whose ranges make the chunks (an indexed, orderable column; NULLs go to the first chunk).
    Default: the primary key when it is one integer, numeric, date or timestamp column; without one, PostgreSQL
    splits by page (ctid), SQLite by rowid, MySQL by a hash of the row, SQL Server reads the table as one chunk.
    MongoDB splits by _id (chunk_key must be empty or _id); CouchDB sources are read as one chunk."""
    source_types: dict[str, str] = {}
    """Staging types for source columns whose default one does not fit the data, e.g. {flag: smallint} for a
    MySQL tinyint(1) that holds values other than 0 and 1 (the type matrix would read it as boolean)."""


class CheckBase(SpecModel):
    on_failure: OnFailure = "fail"
    """fail: the validate stage fails; warn: it is reported and the run goes on."""


class NotNullCheck(CheckBase):
    """The listed columns of a target table hold no NULL."""

    check: Literal["not_null"]
    table: str
    """Target table."""
    columns: list[str] = Field(min_length=1)
    """Columns that must not be NULL."""


class ForeignKeyCheck(CheckBase):
    """Every non-NULL reference in a target table has its referenced row."""

    check: Literal["foreign_key"]
    table: str
    """Referencing target table."""
    columns: list[str] = Field(min_length=1)
    """Referencing columns."""
    references: str
    """Referenced table."""
    referenced_columns: list[str] = []
    """Referenced columns. Default: the same names as columns."""


class CustomCheck(CheckBase):
    """A read-only query on the target whose single value must equal ``expect``."""

    check: Literal["custom"]
    name: str
    """Short name shown in the report."""
    sql: str
    """One SELECT returning one value, e.g. SELECT count(*) FROM public.fact_order WHERE total < 0."""
    expect: str | int | float | bool | None = 0
    """The value the query must return."""


Check = Annotated[NotNullCheck | ForeignKeyCheck | CustomCheck, Field(discriminator="check")]


class SourceOptions(SpecModel):
    """How ambiguous source values are read."""

    zero_dates: Literal["null", "fail"] = "null"
    """MySQL zero dates (0000-00-00): null reads them as NULL and warns; fail stops the extract."""
    naive_timezone: str | None = None
    """IANA zone of date-times stored without a zone (MySQL DATETIME, SQL Server datetime2): they are loaded as
    timestamptz in that zone. Empty: they stay timestamp without time zone."""

    @field_validator("naive_timezone")
    @classmethod
    def _zone_is_known(cls, name: str | None) -> str | None:
        return None if name is None else Schedule._timezone_is_known(name)


class Attachments(SpecModel):
    """Copy the attachments of every extracted CouchDB document to an S3-compatible bucket (in the load_facts stage).

    Object keys: <prefix>/<database>/<document _id>/<attachment name>, database and _id URL-quoted (no '/' left in
    them), the attachment name as it is. Each object carries its SHA-256 and content type as metadata; a row per
    attachment in ``table`` links each document to its objects. A rerun skips objects already there with the same
    SHA-256 and content type."""

    conn_id: str = Field(min_length=1)
    """Airflow connection of type aws: login = access key, password = secret key, extra endpoint_url and region_name."""
    bucket: str = Field(pattern=BUCKET_PATTERN)
    """Bucket the objects are written to (it must exist)."""
    prefix: str = Field("couchdb", pattern=PREFIX_PATTERN)
    """First part of every object key, without leading or trailing '/'."""
    table: str = "databridge_attachments.objects"
    """Target table of the links (created if absent): one row per attachment, keyed by database, doc_id, name."""
    multipart_threshold_mb: int = Field(8, ge=5, le=5_000)
    """Attachments at least this large are uploaded in parts of this size (S3 parts are 5 MB at least)."""


class Proof(SpecModel):
    """The proof of migration run by the validate stage: source and target compared row by row through fingerprints."""

    on_failure: Literal["fail", "warn", "skip"] = "fail"
    """fail: a table that is not proven fails validate; warn: it is reported as a warning; skip: no proof is run."""
    max_rows: int | None = Field(None, ge=1)
    """Tables whose target holds more rows are not proven (a warning says so); None proves every table."""
    range_rows: int = Field(100_000, ge=10)
    """Rows per key range of the first comparison; a range that differs is split until its keys are found."""


class Pipeline(SpecModel):
    """One source → target move; pipelines of a project run in dependency order."""

    name: str = Field(pattern=NAME_PATTERN)
    """Letters, digits and underscores; the task group id in Airflow."""
    source_conn_id: str = Field(min_length=1)
    """Airflow connection of the source database."""
    target_conn_id: str = Field(min_length=1)
    """Airflow connection of the target PostgreSQL database."""
    depends_on: list[str] = []
    """Pipelines that must finish before this one starts."""
    staging_schema: str = Field("databridge_staging", pattern=NAME_PATTERN)
    """Schema in the target that holds the staging tables."""
    source_options: SourceOptions = SourceOptions()
    """How ambiguous source values (zero dates, date-times without a zone) are read."""
    tables: list[TableMapping] = []
    """Source tables and their targets. With include, an entry here overrides what the pattern gives its table
    (target name, columns, keys, role, load mode)."""
    include: list[str] = []
    """Take source tables by pattern: globs on schema.table (* any characters, ? one, [abc] one of), matched ignoring
    case, e.g. ["shop.*"]. Every matching table is migrated with every column, its primary key as keys, and its
    foreign keys to the other tables, whose graph gives the roles (a referenced table is a dimension). The tables are
    found when each run starts, so a table new in the source is picked up by the next run (its report names it)."""
    exclude: list[str] = []
    """Leave out tables include would take: globs on schema.table, e.g. ["shop.tmp_*"]."""
    naming: Naming | None = None
    """How the names of generated target tables and columns are written: as_is, lower or snake_case
    (InvoiceLineId → invoice_line_id, HTTPStatus → http_status, spaces and dashes → _).
    Default: the project's naming."""
    target_schema: str | None = Field(None, min_length=1)
    """Target schema of the tables taken by include, e.g. public. Default: the source schema, named by the naming
    convention."""
    validations: list[Check] = []
    """Checks run after loading, in addition to the row counts that are always checked."""
    chunking: Chunking | None = None
    """How this pipeline's large tables are split and read in parallel. Default: the project's defaults.chunking."""
    attachments: Attachments | None = None
    """CouchDB sources only: copy document attachments to S3 and link them in a target table."""
    proof: Proof = Proof()
    """How the validate stage proves that the target holds what the source holds."""
    schema_rebuild: Literal["full", "data_only"] = "full"
    """full: a target table the load creates gets the source table's NOT NULLs, defaults, identity, UNIQUE
    constraints, indexes, CHECKs, comments and foreign keys (those the mapping allows: columns copied unchanged,
    tables of this pipeline), built after the data is in; the report lists each object built or skipped and why.
    data_only: columns and the primary key from keys only."""
    enums: Literal["check", "type"] = "check"
    """What a column copied unchanged from an ENUM (MySQL/MariaDB ENUM, PostgreSQL enum) becomes in a target table the
    load creates. check: text with a CHECK on the ENUM's labels. type: a PostgreSQL enum type of those labels in their
    order, named <table>_<column> in the table's schema (an existing one with the same labels is reused; one with
    other labels is an error). Either way a value that is no label (MySQL's invalid '') is a rejected row. SET
    columns stay text[]."""


class Project(SpecModel):
    """A mapping project: one YAML file, one Airflow DAG."""

    name: str = Field(pattern=NAME_PATTERN)
    """Letters, digits and underscores; the DAG id."""
    description: str = ""
    """Shown as the DAG's documentation."""
    strategy: Literal["single-pipeline", "multi-pipeline"] = "single-pipeline"
    """single-pipeline: exactly one pipeline; multi-pipeline: several, ordered by depends_on."""
    schedule: Schedule = Schedule()
    """When the project runs."""
    defaults: Defaults = Defaults()
    """Retries, timeouts and batch size."""
    tags: list[str] = []
    """Airflow tags, besides "databridge"."""
    pipelines: list[Pipeline] = Field(min_length=1)
    """The pipelines."""
    naming: Naming = "as_is"
    """How generated target table and column names are written (tables taken by include, targets without columns):
    as_is, lower or snake_case. A pipeline's own naming wins."""

    @field_validator("tags")
    @classmethod
    def _tags_are_short(cls, tags: list[str]) -> list[str]:
        for tag in tags:
            if not re.fullmatch(r".{1,100}", tag):
                raise ValueError(f"tag {tag!r} must be 1 to 100 characters")
        return tags
