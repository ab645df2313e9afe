"""Run a project's six operators as Airflow would (outside a scheduler), and read what they left in the target."""

from __future__ import annotations

import json
from typing import Any

from databridge.compiler import compile_project
from databridge.compiler.plan import to_json
from databridge.render.dag import STAGE_OPERATORS
from databridge.spec import parse_project
from tests.conftest import PG, pg_connect

PROJECT_FILE = "include/mappings/shop_it.yaml"
STAGES = tuple(task_id for task_id, _ in STAGE_OPERATORS)

SUPERUSER_WARNING = (
    "the target connection's user 'postgres' is a superuser; custom SQL runs as databridge_sandbox, but a superuser "
    "session is one escape away from every file and database of the server: connect as a non-superuser that owns the "
    "target schemas (README: Security)"
)
"""The transform's warning when the target connection is a superuser, as the test server's 'postgres' is."""


def passthrough_yaml(
    name: str, source_conn: str, target_conn: str, source_table: str, columns: list[str], options: str = ""
) -> str:
    """A project copying ``id`` and ``columns`` of one source table untouched into landing.<table>."""
    table = source_table.rsplit(".", 1)[-1]
    mapped = "".join(f"\n              - {{source: {c}}}" for c in columns)
    return f"""\
name: {name}_it
pipelines:
  - name: {name}
    source_conn_id: {source_conn}
    target_conn_id: {target_conn}
    source_options: {{{options}}}
    tables:
      - source: {source_table}
        targets:
          - table: landing.{table}
            keys: [id]
            columns:
              - {{source: id}}{mapped}
"""


def pipeline_params(yaml_text: str, file: str = PROJECT_FILE) -> dict[str, Any]:
    """The first pipeline's operator parameters, JSON round-tripped as Airflow serializes them."""
    plan = compile_project(parse_project(yaml_text, file), file)
    return json.loads(json.dumps(to_json(plan.pipelines[0])))


def run_stage(
    params: dict[str, Any], stage: str, run_id: str, file: str = PROJECT_FILE, **kwargs: Any
) -> dict[str, Any]:
    """Execute one operator (``kwargs``: e.g. the extract's ``chunk``, as a mapped task instance gets it); raises
    what the operator raises (AirflowFailException, AirflowException)."""
    operator = dict(STAGE_OPERATORS)[stage]
    result: dict[str, Any] = operator(task_id=stage, pipeline=params, project_file=file, **kwargs).execute(
        {"run_id": run_id}
    )
    return result


def run_pipeline(yaml_text: str, run_id: str, stages: tuple[str, ...] = STAGES) -> dict[str, dict[str, Any]]:
    """Run the stages in order; returns each stage's result by name."""
    params = pipeline_params(yaml_text)
    return {stage: run_stage(params, stage, run_id) for stage in stages}


class TargetDB:
    """The target PostgreSQL database as the tests inspect it (autocommit)."""

    def __init__(self, dbname: str, conn_id: str) -> None:
        self.dbname = dbname
        self.conn_id = conn_id
        self.conn = pg_connect(dbname)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(query, params).fetchall()  # type: ignore[arg-type]

    def scalar(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        return self.rows(query, params)[0][0]

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> None:
        self.conn.execute(statement, params)  # type: ignore[arg-type]

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table}"))

    def checksum(self, table: str) -> str:
        """md5 of every row's text form, in a fixed order: equal checksums mean equal contents."""
        return str(
            self.scalar(f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} t")
        )

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        query = """SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"""
        return dict(self.rows(query, (f'"{schema}"."{table}"',)))  # type: ignore[arg-type]

    def primary_key(self, schema: str, table: str) -> list[str]:
        query = """SELECT kcu.column_name FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
            WHERE tc.table_schema = %s AND tc.table_name = %s AND tc.constraint_type = 'PRIMARY KEY'
            ORDER BY kcu.ordinal_position"""
        return [r[0] for r in self.rows(query, (schema, table))]

    def tables(self, schema: str) -> list[str]:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1"
        return [r[0] for r in self.rows(query, (schema,))]

    def dump_schema(self, schema: str) -> str:
        """Every row of every table of a schema as text (to search it for what must not be there)."""
        parts = []
        for table in self.tables(schema):
            parts += [f"{table}: {row}" for (row,) in self.rows(f'SELECT t::text FROM "{schema}"."{table}" t')]
        return "\n".join(parts)

    def close(self) -> None:
        self.conn.close()


def end_lease(target: TargetDB, project: str, pipeline: str, reason: str) -> None:
    """Release a run's staging lease as its operator would once it has ended (a run driven stage by stage here has no
    Airflow to say so): ``databridge.cli leases release ... --force``."""
    from databridge.cli import main

    uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{target.dbname}"
    assert main(["leases", "release", project, pipeline, "--target-uri", uri, "--reason", reason, "--force"]) == 0
