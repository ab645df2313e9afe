"""The wizard's routes: projects (list, load, validate, preview, save), sources (connections, schemas,
tables), and checks of single fields (expressions, schedules).

Thin: each route checks the permission with Airflow's own dependencies (views/rights.py: a refusal names the
missing permission) and calls the framework-free services. What reads or writes a database (the lint, the
estimate, the preview) needs the rights of saving a project (DAG edit) and of reading connections; browsing a
source needs connection read; what only parses text, and the list of connections by name and type, needs DAG read.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from databridge.spec import Project
from databridge.spec.models import NAME_PATTERN, Naming
from databridge.views import connections, fragments, generator, preview, schedules, service
from databridge.views.openapi import errors
from databridge.views.rights import EDIT_DAGS, READ_CONNECTIONS, READ_DAGS, has, needs, require

READ_PROJECTS = needs("Reading mapping projects", READ_DAGS)
BROWSE = needs("Browsing a source's schemas and tables", READ_CONNECTIONS)

project_router = APIRouter(tags=["projects"])
source_router = APIRouter(prefix="/connections", tags=["sources"], responses=errors(502, 503))


class Draft(BaseModel):
    """A project being designed: the spec as a JSON object (``project``) or as YAML text (``yaml``)."""

    project: dict[str, Any] | None = None
    yaml: str | None = None

    def text(self) -> str:
        return service.draft_text(self.project, self.yaml)


class ValidateRequest(Draft):
    lint: bool = False
    """Also read a sample of every source table and run the data-aware lint on it."""
    sample_rows: int = Field(1000, ge=1, le=100_000)
    estimate: bool = False
    """Also time a calibration batch of every table through the extract path and estimate each table's extract time."""
    calibration_rows: int = Field(5000, ge=100, le=100_000)
    """Rows per table in the calibration batch (the TEMP table it is copied to is rolled back)."""


class PreviewRequest(Draft):
    pipeline: str | None = Field(None, pattern=NAME_PATTERN)
    """Pipeline name (default: the first)."""
    table: int = Field(0, ge=0)
    """Index of the table mapping in the pipeline's ``tables``."""
    limit: int = Field(20, ge=1, le=preview.MAX_ROWS)


class ExpressionCheck(BaseModel):
    expression: str = Field(max_length=10_000)
    """The text typed: custom SQL with {column} placeholders, a filter, a target type or a date format."""
    kind: fragments.Kind = "expression"
    """Which mapping field the text is for."""
    columns: list[str] | None = Field(None, max_length=5_000)
    """The source columns the wizard knows; placeholders naming others are refused."""


class ScheduleRequest(BaseModel):
    cron: str | None = None
    """A cron expression or a preset; empty: only when triggered."""
    timezone: str = "UTC"
    count: int = Field(5, ge=1, le=50)
    """How many next run times to list."""


class GenerateRequest(BaseModel):
    tables: list[str] = Field(min_length=1, max_length=5_000)
    """Source tables, schema-qualified (shop.customers); the mappings come back in this order."""
    naming: Naming = "as_is"
    """How target table and column names are written: as_is, lower or snake_case."""
    target_schema: str | None = Field(None, min_length=1, max_length=63)
    """Schema of the target tables. Default: the source schema, named by the convention."""


class SaveRequest(Draft):
    overwrite: bool = False
    """Replace the project's existing file."""


@project_router.get("/spec/schema")
def spec_schema(_user: GetUserDep) -> dict[str, Any]:
    """The JSON schema of a mapping project; every field's description is its help text."""
    return Project.model_json_schema()


@project_router.get("/projects", dependencies=[READ_PROJECTS])
def projects() -> list[dict[str, Any]]:
    """Every mapping project with its pipelines, or the error that keeps it from loading."""
    return service.list_projects()


@project_router.get("/projects/{dag_id}", dependencies=[READ_PROJECTS])
def load_project(dag_id: str) -> dict[str, Any]:
    """A saved project: its spec as JSON (what /projects accepts back) and its file's text."""
    return service.load(dag_id)


@project_router.get("/projects/{dag_id}/schedule", dependencies=[READ_PROJECTS])
def project_schedule(dag_id: str) -> dict[str, Any]:
    """What resuming the saved project's DAG lets Airflow run and when (its next run; nothing runs at the resume), and
    what Run now starts, in words the UI shows before either button is pressed."""
    return schedules.what_runs(service.saved_project(dag_id))


@project_router.post(
    "/projects", dependencies=[needs("Saving a project", EDIT_DAGS)], status_code=201, responses=errors(409)
)
def save_project(body: SaveRequest) -> dict[str, Any]:
    """Write include/mappings/<name>.yaml; an invalid spec or another project's file is refused, nothing written."""
    return service.save(body.text(), overwrite=body.overwrite)


@project_router.post("/render", dependencies=[READ_PROJECTS])
def render_project(body: Draft) -> dict[str, Any]:
    """What saving would write, without writing: the YAML, the saved file's text and the line diff between them."""
    return service.render(body.text())


@project_router.post(
    "/validate", dependencies=[needs("Validating a project", READ_DAGS)], responses=errors(404, 502, 503)
)
async def validate(body: ValidateRequest, request: Request, user: GetUserDep) -> dict[str, Any]:
    """Every problem of a draft as {path, message}; with ``lint``, the data-aware lint's findings; with ``estimate``,
    each table's estimated extract time from a timed calibration batch.

    Rights: checking the draft alone only parses and compiles text (no file, connection or database is read), so
    DAG read is enough. ``lint`` and ``estimate`` read every source and write TEMP tables in every target: they need
    DAG edit (the right to save a project) and connection read, checked before any database is opened.
    """
    if body.lint or body.estimate:
        await _may_touch_databases(request, user)
    return await run_in_threadpool(_validate, body)


async def _may_touch_databases(request: Request, user: GetUserDep) -> None:
    """403 naming what ``user`` lacks of DAG edit and connection read, checked by hand (only lint and estimate need
    them)."""
    await require(
        request, user, "Checking the data (Validate's data checks and time estimates)", EDIT_DAGS, READ_CONNECTIONS
    )


def _validate(body: ValidateRequest) -> dict[str, Any]:
    text = body.text()
    result = service.validate(text)
    if body.lint and result["valid"]:
        from databridge.views.checks import lint_draft

        result["lint"] = lint_draft(text, body.sample_rows)
    if body.estimate and result["valid"]:
        from databridge.views.estimate import estimate

        result["estimates"] = estimate(text, body.calibration_rows)
    return result


@project_router.post(
    "/preview",
    dependencies=[needs("Previewing sample rows", EDIT_DAGS, READ_CONNECTIONS)],
    responses=errors(404, 502, 503),
)
def preview_table(body: PreviewRequest) -> dict[str, Any]:
    """Sample rows of one table mapping, transformed by the transform stage's SQL in TEMP tables of the target.

    Rights: it reads the source and writes (then rolls back) TEMP tables in the target, so it needs DAG edit (the
    right to save a project) and connection read, like the Validate step's lint.
    """
    return preview.preview(body.text(), pipeline=body.pipeline, table=body.table, limit=body.limit)


@project_router.post("/expressions/check", dependencies=[needs("Checking a mapping expression", EDIT_DAGS)])
def check_expression(body: ExpressionCheck) -> dict[str, Any]:
    """One mapping field checked as typed: its normalised SQL and the columns it reads, or the spec checker's
    message."""
    return fragments.check_fragment(body.kind, body.expression, body.columns)


@project_router.post("/schedule/describe", dependencies=[needs("Describing a schedule", READ_DAGS)])
def describe_schedule(body: ScheduleRequest) -> dict[str, Any]:
    """The cron in words and its next run times in its time zone, or the spec's message for a bad cron or zone."""
    return schedules.describe_schedule(body.cron, body.timezone, body.count)


@project_router.get("/connections", tags=["sources"], dependencies=[needs("Listing connections", READ_DAGS)])
async def list_connections(request: Request, user: GetUserDep) -> list[dict[str, Any]]:
    """Connections DataBridge can read (and write: postgres), never with passwords or extras. Reading DAGs is enough
    for their names and types (what a saved project refers to); host, port, login and database need connection read."""
    details = await has(request, user, READ_CONNECTIONS)
    return await run_in_threadpool(connections.list_connections, details=details)


@source_router.post("/{connection_id}/test", dependencies=[needs("Testing a connection", READ_CONNECTIONS)])
def test_connection(connection_id: str) -> dict[str, Any]:
    """Open the connection and run a trivial query."""
    return connections.test_connection(connection_id)


@source_router.get("/{connection_id}/schemas", dependencies=[BROWSE])
def schemas(connection_id: str) -> list[str]:
    return connections.schemas(connection_id)


@source_router.get("/{connection_id}/schemas/{schema}/tables", dependencies=[BROWSE])
def tables(connection_id: str, schema: str) -> list[str]:
    return connections.tables(connection_id, schema)


@source_router.post(
    "/{connection_id}/generate",
    dependencies=[needs("Generating table mappings from a source", READ_CONNECTIONS)],
    responses=errors(404),
)
def generate_tables(connection_id: str, body: GenerateRequest) -> dict[str, Any]:
    """Table mappings of the named source tables by the generator behind include patterns and `databridge init`: every
    column (renamed by the naming convention), the primary key as keys, foreign keys among them and the roles they
    give; a reference closing a cycle comes back as a foreign_key check in ``validations``."""
    return generator.generate_tables(connection_id, body.tables, body.naming, body.target_schema)


@source_router.get(
    "/{connection_id}/schemas/{schema}/tables/{table}",
    dependencies=[needs("Reading a source table's columns", READ_CONNECTIONS)],
)
def describe(connection_id: str, schema: str, table: str) -> dict[str, Any]:
    """Columns (native type, suggested PostgreSQL type, type-matrix note, nullability), keys, approximate rows."""
    return connections.describe(connection_id, schema, table)
