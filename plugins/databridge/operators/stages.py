"""The six operators of a DataBridge pipeline, in the order they run."""

from __future__ import annotations

from typing import Any

from airflow.sdk import TriggerRule

from databridge.compiler.plan import PipelinePlan
from databridge.engines import open_source
from databridge.engines.base import SourceEngine, SourceOptions
from databridge.errors import DataBridgeError
from databridge.operators.base import DataBridgeOperator, connection_info
from databridge.runtime import lease, resolve
from databridge.runtime.attachments import copy_attachments, stage_stubs
from databridge.runtime.context import StageContext
from databridge.runtime.extract import extract
from databridge.runtime.load import load
from databridge.runtime.report import build_report, format_report
from databridge.runtime.transform import transform
from databridge.runtime.validate import validate


class ExtractOperator(DataBridgeOperator):
    """Streams every source table of the pipeline into typed staging tables in the target.

    Mapped over chunk indexes (``.expand(chunk=[0, 1, ...])``), instance k copies chunk k of every table split into
    more than k chunks, and instance 0 also every table read whole; with ``chunk`` None it copies everything.
    """

    stage = "extract"
    needs_source = True
    ui_color = "#cffafe"

    def __init__(self, *, chunk: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chunk = chunk
        self.instance = chunk

    def lease_claim(self) -> lease.Claim:
        return lease.taking(self.run_finished)

    def resolved(self, ctx: StageContext) -> PipelinePlan:
        plan = ctx.plan
        options = SourceOptions(zero_dates=plan.zero_dates, naive_timezone=plan.naive_timezone)
        return resolve.for_extract(
            ctx, lambda: open_source(connection_info(plan.source_conn_id), options), self.project_file
        )

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        assert source is not None
        summary = extract(ctx, source, self.project_file, self.chunk)
        if ctx.plan.attachments is not None and not self.chunk:
            summary["attachment stubs"] = stage_stubs(ctx, source)
        return summary


class TransformOperator(DataBridgeOperator):
    """Applies every column mapping inside the target, one statement per target table."""

    stage = "transform"
    doing = "transforming"
    ui_color = "#a5f3fc"

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        lease.require_complete(ctx)
        return transform(ctx)


class LoadDimensionsOperator(DataBridgeOperator):
    """Loads the dimension tables, in foreign-key order, each in one transaction."""

    stage = "load_dimensions"
    doing = "loading"
    ui_color = "#99f6e4"

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        return load(ctx, "dimension")


class LoadFactsOperator(DataBridgeOperator):
    """Loads the fact tables after the dimensions, each in one transaction; then copies CouchDB attachments to S3."""

    stage = "load_facts"
    doing = "loading"
    ui_color = "#5eead4"

    def uses_source(self, plan: PipelinePlan) -> bool:
        return plan.attachments is not None  # the attachments' bytes are read from the source

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        summary = load(ctx, "fact")
        if ctx.plan.attachments is not None:
            assert source is not None
            summary["attachments"] = copy_attachments(ctx, source, connection_info(ctx.plan.attachments.conn_id))
        return summary


class ValidateOperator(DataBridgeOperator):
    """Reconciles row counts, runs the NOT NULL, foreign-key and custom checks and proves every table; stores every
    result."""

    stage = "validate"
    doing = "validating"
    ui_color = "#32dbbc"

    def uses_source(self, plan: PipelinePlan) -> bool:
        return plan.proof.on_failure != "skip"  # the proof fingerprints the source tables in the source database

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        attachments = ctx.plan.attachments
        s3 = (
            connection_info(attachments.conn_id)
            if attachments is not None and ctx.plan.proof.on_failure != "skip"
            else None
        )
        return validate(ctx, source, s3)


class ReportOperator(DataBridgeOperator):
    """Stores and prints the run report, whatever happened upstream; fails the run if a stage failed."""

    stage = "report"
    ui_color = "#06b6d4"

    def __init__(self, *, project_path: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", TriggerRule.ALL_DONE)
        super().__init__(**kwargs)
        self.project_path = project_path
        """The project file's absolute path, for the rollback command (the DAG factory's; else project_file)."""

    def lease_claim(self) -> lease.Claim:
        return lease.reporting

    def resolved(self, ctx: StageContext) -> PipelinePlan:
        return resolve.for_stage(ctx, required=False)  # it reports whatever happened, an extract that found nothing too

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        report = build_report(ctx, run_id, self.project_path or self.project_file)
        ctx.store.save_report(report, report["succeeded"])
        lease.release(ctx)
        self.log.info("\n%s", format_report(report))
        if not report["succeeded"]:
            problems = report["errors"] or [f"{s}: not run" for s in report["not_run"]]
            raise DataBridgeError(f"pipeline {ctx.plan.name} failed; report stored. " + "; ".join(problems))
        return {"succeeded": True, "tables": len(report["tables"]), **report["totals"]}
