"""Validate: row counts always, NOT NULL, foreign keys, custom rules and the proof of migration; every result stored,
failures in one error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import CheckPlan, TargetPlan
from databridge.engines.base import ConnectionInfo, SourceEngine
from databridge.errors import FailedCheck, ValidationFailed
from databridge.runtime.attachment_proof import prove_attachments
from databridge.runtime.context import StageContext
from databridge.runtime.proof import prove
from databridge.runtime.validate_checks import run_check


@dataclass(frozen=True)
class Outcome:
    name: str
    kind: str
    table: str | None
    passed: bool
    on_failure: str
    detail: str


def validate(ctx: StageContext, source: SourceEngine | None = None, s3: ConnectionInfo | None = None) -> dict[str, Any]:
    """``source`` and ``s3`` (for CouchDB attachments) are what the proof of migration reads besides the target."""
    outcomes = (
        row_count_outcomes(ctx)
        + [_run_check(ctx, check) for check in ctx.plan.checks]
        + proof_outcomes(ctx, source, s3)
    )
    for o in outcomes:
        ctx.store.validation(o.name, o.kind, o.table, o.passed, o.on_failure, o.detail)
        if not o.passed and o.on_failure == "warn":
            ctx.warn(f"validation {o.name}: {o.detail}")
    failures = [
        FailedCheck(o.table or "-", o.name, o.detail) for o in outcomes if not o.passed and o.on_failure == "fail"
    ]
    if failures:
        raise ValidationFailed(failures)
    return {"checks": len(outcomes), "passed": sum(o.passed for o in outcomes)}


def proof_outcomes(ctx: StageContext, source: SourceEngine | None, s3: ConnectionInfo | None = None) -> list[Outcome]:
    """The proof of migration (runtime/proof.py): one outcome per target table (and one for the attachments); a
    skipped table is a warning."""
    if ctx.plan.proof.on_failure == "skip":
        return []
    results = [(p.table, p.status, p.detail) for p in prove(ctx, source)]
    if ctx.plan.attachments is not None and source is not None and s3 is not None:
        results.append(prove_attachments(ctx, source, s3))
    outcomes = []
    for table, status, detail in results:
        if status == "skipped":
            ctx.warn(f"proof {table}: {detail}")
        outcomes.append(
            Outcome(f"proof {table}", "proof", table, status != "differs", ctx.plan.proof.on_failure, detail)
        )
    return outcomes


def row_count_outcomes(ctx: StageContext) -> list[Outcome]:
    """Source → staging → transformed → loaded → target, per table, aware of filters and load modes."""
    extracted = ctx.store.table_stats("extract")
    transformed = ctx.store.table_stats("transform")
    loaded = {**ctx.store.table_stats("load_dimensions"), **ctx.store.table_stats("load_facts")}
    outcomes = []
    for source in ctx.plan.sources:
        ext = extracted.get(str(source.source), {})
        ok = (
            ext.get("source_rows") == ext.get("staged_rows")
            and bool(ext)
            and ext.get("chunks_done") == ext.get("chunks")
        )
        detail = f"source {ext.get('source_rows')} rows, staged {ext.get('staged_rows')}"
        if "chunks" in ext:
            detail += f" ({ext['chunks_done']} of {ext['chunks']} chunks)"
        outcomes.append(
            Outcome(f"row count {source.source} -> staging", "row_count", str(source.source), ok, "fail", detail)
        )
        for target in source.targets:
            outcomes.append(
                _target_count(ctx, target, transformed.get(str(target.table), {}), loaded.get(str(target.table), {}))
            )
    return outcomes


def _target_count(ctx: StageContext, target: TargetPlan, tr: dict[str, Any], ld: dict[str, Any]) -> Outcome:
    expected, ready, moved, total = (
        tr.get("expected_rows"),
        tr.get("ready_rows"),
        ld.get("loaded_rows"),
        ld.get("target_rows"),
    )
    rejected, skipped = (tr.get("rejected_rows", 0), ld.get("rejected_rows", 0)), ld.get("skipped_rows", 0)
    ok = (
        expected is not None
        and ready is not None
        and moved is not None
        and expected - rejected[0] == ready == moved + rejected[1] + skipped
    )
    detail = f"expected {expected}, transformed {ready}, loaded {moved} ({target.load}), target holds {total}"
    if any(rejected):
        detail += f", rejected {rejected[0]} in transform and {rejected[1]} in load (stored in databridge.rejects)"
    if skipped:
        detail += f", skipped {skipped} whose key the target already held (on_existing: skip)"
    if ok and target.load == "replace":
        ok = total == moved
    if ok and target.load == "upsert":
        missing = _missing_keys(ctx, target)
        ok, detail = missing == 0, f"{detail}, {missing} staged keys absent from the target"
    return Outcome(f"row count {target.table}", "row_count", str(target.table), ok, "fail", detail)


def _missing_keys(ctx: StageContext, target: TargetPlan) -> int:
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in target.keys)
    ready = qualified(ctx.plan.staging_schema, target.ready_table)
    table = qualified(target.table.schema, target.table.name)
    query = f"SELECT count(*) FROM {ready} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {on})"
    return int(ctx.target.scalar(query, doing=f"checking upserted keys of {target.table}"))


def _run_check(ctx: StageContext, check: CheckPlan) -> Outcome:
    passed, detail = run_check(ctx, check)
    table = str(check.table) if check.table else None
    return Outcome(check.name, check.kind, table, passed, check.on_failure, detail)
