"""The results schema in the target: what each stage did, validation outcomes and reports, kept after the run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from databridge.engines.postgres import PostgresTarget
from databridge.spec.checks import HISTORY_SCHEMA as HISTORY_SCHEMA
from databridge.spec.checks import RESULTS_SCHEMA as RESULTS_SCHEMA

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {RESULTS_SCHEMA};
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.stage_runs (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, stage text NOT NULL,
    status text NOT NULL, started_at timestamptz NOT NULL, finished_at timestamptz,
    error text, warnings jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (project, pipeline, run_id, stage));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.table_stats (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, stage text NOT NULL,
    table_name text NOT NULL, rows bigint NOT NULL, seconds double precision NOT NULL,
    detail jsonb NOT NULL DEFAULT '{{}}', recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, pipeline, run_id, stage, table_name));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.validation_results (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, check_name text NOT NULL,
    kind text NOT NULL, table_name text, passed boolean NOT NULL, on_failure text NOT NULL,
    detail text NOT NULL, checked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, pipeline, run_id, check_name));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.extract_chunks (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, table_name text NOT NULL,
    chunk integer NOT NULL, chunks integer NOT NULL, method text NOT NULL, key text NOT NULL, lower jsonb, upper jsonb,
    source_rows bigint, staged_rows bigint, seconds double precision, started_at timestamptz, finished_at timestamptz,
    hostname text, PRIMARY KEY (project, pipeline, run_id, table_name, chunk));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.proofs (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, table_name text NOT NULL,
    status text NOT NULL, detail text NOT NULL, evidence jsonb NOT NULL, proven_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project, pipeline, run_id, table_name));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.batch_ledger (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, stage text NOT NULL, table_name text NOT NULL,
    chunk integer NOT NULL, batch integer NOT NULL, lower jsonb, upper jsonb, rows bigint NOT NULL,
    final boolean NOT NULL, resumed boolean NOT NULL DEFAULT false,
    committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (project, pipeline, run_id, stage, table_name, chunk, batch));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.table_progress (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, stage text NOT NULL, table_name text NOT NULL,
    chunk integer NOT NULL, rows bigint NOT NULL, total bigint, rows_per_second double precision NOT NULL,
    eta_seconds double precision, done boolean NOT NULL, started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (project, pipeline, run_id, stage, table_name, chunk));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.staging_leases (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, taken_at timestamptz NOT NULL,
    released_at timestamptz, stage text, idle_since timestamptz, note text, PRIMARY KEY (project, pipeline));
DO $$ BEGIN  -- the lease's stage, idle time and note (runtime/lease.py), added to a table made before them
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = '{RESULTS_SCHEMA}.staging_leases'::regclass AND attname = 'note') THEN
        ALTER TABLE {RESULTS_SCHEMA}.staging_leases ADD COLUMN stage text, ADD COLUMN idle_since timestamptz,
        ADD COLUMN note text;
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.reports (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), succeeded boolean NOT NULL, report jsonb NOT NULL,
    PRIMARY KEY (project, pipeline, run_id));
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.rejects (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, table_name text NOT NULL, stage text NOT NULL,
    row_data jsonb NOT NULL, column_name text, reason text NOT NULL, rejected_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS rejects_by_run ON {RESULTS_SCHEMA}.rejects (project, pipeline, run_id, table_name, stage);
CREATE SCHEMA IF NOT EXISTS {HISTORY_SCHEMA};
CREATE TABLE IF NOT EXISTS {RESULTS_SCHEMA}.versions (
    project text NOT NULL, pipeline text NOT NULL, run_id text NOT NULL, table_name text NOT NULL,
    target_table text NOT NULL, keys text[] NOT NULL, load_mode text NOT NULL, kind text NOT NULL,
    history_table text, rows bigint, created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL, rolled_back_at timestamptz, PRIMARY KEY (project, pipeline, run_id, table_name));
"""
# Serialises the CREATE ... IF NOT EXISTS above between concurrent first runs.
_DDL_LOCK = 0x6462_7264_6701


@dataclass(frozen=True)
class RunKey:
    """Identifies one pipeline within one DAG run."""

    project: str
    pipeline: str
    run_id: str

    def values(self) -> tuple[str, str, str]:
        return (self.project, self.pipeline, self.run_id)


class ResultStore:
    def __init__(self, target: PostgresTarget, key: RunKey) -> None:
        self.target = target
        self.key = key

    def ensure_schema(self) -> None:
        with self.target.transaction("creating the results schema") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
            cur.execute(_DDL)

    def stage_started(self, stage: str) -> None:
        self.target.execute(
            f"""INSERT INTO {RESULTS_SCHEMA}.stage_runs (project, pipeline, run_id, stage, status, started_at)
            VALUES (%s, %s, %s, %s, 'running', now())
            ON CONFLICT (project, pipeline, run_id, stage)
            DO UPDATE SET status = 'running', started_at = now(), finished_at = NULL, error = NULL, warnings = '[]'""",
            (*self.key.values(), stage),
            doing="recording the stage start",
        )

    def stage_finished(self, stage: str, *, error: str | None, warnings: list[str]) -> None:
        self.target.execute(
            f"""UPDATE {RESULTS_SCHEMA}.stage_runs SET status = %s, finished_at = now(), error = %s, warnings = %s
            WHERE project = %s AND pipeline = %s AND run_id = %s AND stage = %s""",
            ("failed" if error else "success", error, json.dumps(warnings), *self.key.values(), stage),
            doing="recording the stage end",
        )

    def table_stat(self, stage: str, table: str, rows: int, seconds: float, **detail: Any) -> None:
        self.target.execute(
            f"""INSERT INTO {RESULTS_SCHEMA}.table_stats
            (project, pipeline, run_id, stage, table_name, rows, seconds, detail)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (project, pipeline, run_id, stage, table_name)
            DO UPDATE SET rows = EXCLUDED.rows, seconds = EXCLUDED.seconds, detail = EXCLUDED.detail,
            recorded_at = now()""",
            (*self.key.values(), stage, table, rows, seconds, json.dumps(detail, default=str)),
            doing="recording table statistics",
        )

    def table_stats(self, stage: str) -> dict[str, dict[str, Any]]:
        rows = self.target.rows(
            f"""SELECT table_name, rows, seconds, detail FROM {RESULTS_SCHEMA}.table_stats
            WHERE project = %s AND pipeline = %s AND run_id = %s AND stage = %s""",
            (*self.key.values(), stage),
            doing="reading table statistics",
        )
        return {name: {"rows": n, "seconds": s, **detail} for name, n, s, detail in rows}

    def validation(self, name: str, kind: str, table: str | None, passed: bool, on_failure: str, detail: str) -> None:
        self.target.execute(
            f"""INSERT INTO {RESULTS_SCHEMA}.validation_results
            (project, pipeline, run_id, check_name, kind, table_name, passed, on_failure, detail)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (project, pipeline, run_id, check_name) DO UPDATE SET kind = EXCLUDED.kind,
            table_name = EXCLUDED.table_name, passed = EXCLUDED.passed, on_failure = EXCLUDED.on_failure,
            detail = EXCLUDED.detail, checked_at = now()""",
            (*self.key.values(), name, kind, table, passed, on_failure, detail),
            doing="recording a validation result",
        )

    def validations(self) -> list[dict[str, Any]]:
        rows = self.target.rows(
            f"""SELECT check_name, kind, table_name, passed, on_failure, detail FROM {RESULTS_SCHEMA}.validation_results
            WHERE project = %s AND pipeline = %s AND run_id = %s ORDER BY checked_at, check_name""",
            self.key.values(),
            doing="reading validation results",
        )
        keys = ("check", "kind", "table", "passed", "on_failure", "detail")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def proof(self, table: str, status: str, detail: str, evidence: dict[str, Any]) -> None:
        """The proof of one target table: proven, differs or skipped, with per-range counts and fingerprints."""
        self.target.execute(
            f"""INSERT INTO {RESULTS_SCHEMA}.proofs (project, pipeline, run_id, table_name, status, detail, evidence)
            VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (project, pipeline, run_id, table_name)
            DO UPDATE SET status = EXCLUDED.status, detail = EXCLUDED.detail, evidence = EXCLUDED.evidence,
            proven_at = now()""",
            (*self.key.values(), table, status, detail, json.dumps(evidence, default=str)),
            doing="recording a proof",
        )

    def proofs(self) -> list[dict[str, Any]]:
        rows = self.target.rows(
            f"""SELECT table_name, status, detail, evidence FROM {RESULTS_SCHEMA}.proofs
            WHERE project = %s AND pipeline = %s AND run_id = %s ORDER BY proven_at, table_name""",
            self.key.values(),
            doing="reading proofs",
        )
        return [{"table": t, "status": s, "detail": d, "evidence": e} for t, s, d, e in rows]

    def stages(self) -> dict[str, dict[str, Any]]:
        rows = self.target.rows(STAGE_RUNS_SQL, self.key.values(), doing="reading stage runs")
        return merge_stages(rows)

    def save_report(self, report: dict[str, Any], succeeded: bool) -> None:
        self.target.execute(
            f"""INSERT INTO {RESULTS_SCHEMA}.reports (project, pipeline, run_id, succeeded, report)
            VALUES (%s, %s, %s, %s, %s) ON CONFLICT (project, pipeline, run_id)
            DO UPDATE SET report = EXCLUDED.report, succeeded = EXCLUDED.succeeded, created_at = now()""",
            (*self.key.values(), succeeded, json.dumps(report, default=str)),
            doing="saving the report",
        )


STAGE_RUNS_SQL = f"""SELECT stage, status,
    extract(epoch FROM coalesce(finished_at, now()) - started_at), error, warnings
    FROM {RESULTS_SCHEMA}.stage_runs WHERE project = %s AND pipeline = %s AND run_id = %s ORDER BY stage"""
_STATUS_RANK = ("failed", "running", "success")


def stage_key(stage: str, instance: int | None) -> str:
    """The stage_runs name of one task instance: ``extract[2]`` for mapped instance 2, the stage itself otherwise."""
    return stage if instance is None else f"{stage}[{instance}]"


def merge_stages(rows: list[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """Stage rows (stage, status, seconds, error, warnings) with a stage's mapped instances (``extract[k]``) folded
    into one: failed if one failed, else running if one runs; the longest time; every error and warning once."""
    merged: dict[str, dict[str, Any]] = {}
    for name, status, seconds, error, warnings in rows:
        stage = str(name).split("[", 1)[0]
        row = merged.setdefault(stage, {"status": status, "seconds": 0.0, "error": None, "warnings": []})
        row["status"] = min(row["status"], status, key=lambda s: _STATUS_RANK.index(s) if s in _STATUS_RANK else 0)
        row["seconds"] = max(row["seconds"], float(seconds))
        row["error"] = "; ".join(dict.fromkeys(e for e in (row["error"], error) if e)) or None
        row["warnings"] = list(dict.fromkeys([*row["warnings"], *(warnings or [])]))
    return merged


def latest_reports(target: PostgresTarget, project: str) -> list[dict[str, Any]]:
    """The reports of the most recent run of a project, one per pipeline."""
    rows = target.rows(
        f"""SELECT report FROM {RESULTS_SCHEMA}.reports WHERE project = %s AND run_id = (
            SELECT run_id FROM {RESULTS_SCHEMA}.reports WHERE project = %s ORDER BY created_at DESC LIMIT 1)
        ORDER BY created_at""",
        (project, project),
        doing="reading reports",
    )
    return [r[0] for r in rows]
