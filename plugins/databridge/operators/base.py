"""The base of the six operators: plain JSON params in, a typed plan rebuilt, errors translated in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseHook, BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from databridge.compiler.plan import PipelinePlan, from_json
from databridge.engines import open_source, open_target
from databridge.engines.base import ConnectionInfo, SourceEngine, SourceOptions
from databridge.engines.postgres import PostgresTarget
from databridge.errors import DataBridgeError, EngineError
from databridge.runtime import lease, progress, resolve
from databridge.runtime.context import StageContext
from databridge.runtime.lease import RunFinished
from databridge.runtime.results import ResultStore, RunKey, stage_key


def connection_info(conn_id: str) -> ConnectionInfo:
    """An Airflow Connection as DataBridge's ConnectionInfo (the password stays out of repr and logs)."""
    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception as exc:  # Airflow raises its own not-found error type, which differs by version
        raise EngineError(
            f"Airflow connection {conn_id!r} is not defined: add it (Admin > Connections, or `airflow "
            f"connections add {conn_id} ...`)",
            transient=False,
        ) from exc
    return ConnectionInfo.from_airflow(conn)


def _run_finished(context: Any) -> RunFinished:
    """Asks Airflow for another run's state: None for a run it does not know (another Airflow's, no task context)."""
    ti = context.get("ti")

    def finished(run_id: str) -> bool | None:
        if ti is None:
            return None
        try:
            state = ti.get_dagrun_state(dag_id=ti.dag_id, run_id=run_id)
        except Exception:  # an unknown run is answered with an error whose type differs by Airflow version
            return None
        return str(getattr(state, "value", state)).lower() in ("success", "failed")  # an enum: its str() is its name

    return finished


class DataBridgeOperator(BaseOperator):
    """Runs one stage of one pipeline. Subclasses name the stage and implement ``run``."""

    stage: ClassVar[str]
    needs_source: ClassVar[bool] = False
    template_fields: Sequence[str] = ()
    ui_color = "#e0f7fa"

    def __init__(self, *, pipeline: dict[str, Any], project_file: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from_json(PipelinePlan, pipeline)  # a malformed plan fails at parse time, not mid-run
        self.pipeline = pipeline
        self.project_file = project_file

    instance: int | None = None
    """The mapped task instance's index when the stage is split over several (extract chunks); None otherwise."""

    def run(self, ctx: StageContext, source: SourceEngine | None, run_id: str) -> dict[str, Any]:
        raise NotImplementedError

    def uses_source(self, plan: PipelinePlan) -> bool:
        return self.needs_source

    doing: ClassVar[str] = ""
    """What the stage does with the staged rows, for the message when another run has taken them over."""

    def lease_claim(self) -> lease.Claim:
        """How the stage holds the staging lease while it runs (runtime/lease.py): it must hold it already."""
        return lease.keeping(self.doing)

    def resolved(self, ctx: StageContext) -> PipelinePlan:
        """The plan of this run: the file's, or, for a pipeline that takes tables by pattern, the one its extract found
        and stored (runtime/resolve.py)."""
        return resolve.for_stage(ctx)

    run_finished: RunFinished = staticmethod(lambda run_id: None)
    """Whether another run of this DAG has ended, as Airflow knows it (set from the task's context)."""

    def execute(self, context: Any) -> dict[str, Any]:
        self.run_finished = _run_finished(context)
        try:
            result = self._execute(context["run_id"])
            self._emit_assets(context)
            return result
        except EngineError as exc:
            if exc.transient:
                raise AirflowException(f"{exc} (transient: will retry)") from None
            raise AirflowFailException(str(exc)) from None
        except DataBridgeError as exc:
            raise AirflowFailException(str(exc)) from None

    ran: PipelinePlan | None = None
    """The plan the stage ran on (the tables its run found), once it succeeded: what its assets and lineage name."""

    def _emit_assets(self, context: Any) -> None:
        """A load's tables that its outlets could not name when the DAG was parsed, as asset events of its alias."""
        if self.ran is None or "outlet_events" not in context:
            return
        from databridge.render.assets import emit_found_tables

        emitted = emit_found_tables(
            context["outlet_events"], self.outlets, self.ran, self.stage, connection_info(self.ran.target_conn_id)
        )
        if emitted:
            self.log.info("asset events for the tables found at run time: %s", ", ".join(emitted))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """What Airflow's openlineage provider reports for this stage (operators/lineage.py)."""
        if self.ran is None:
            return None
        from databridge.operators.lineage import stage_lineage

        plan = self.ran
        return stage_lineage(
            self.stage, plan, connection_info(plan.source_conn_id), connection_info(plan.target_conn_id)
        )

    def _record_failure(self, store: ResultStore, stage: str, exc: Exception, warnings: list[str]) -> None:
        """Store the stage's error; when the target itself is what failed (lost, restarting), the error raised stays
        the one that stopped the stage, and the retry records its own outcome."""
        message = str(exc) if isinstance(exc, DataBridgeError) else f"unexpected {type(exc).__name__}: {exc}"
        try:
            store.stage_finished(stage, error=message, warnings=warnings)
        except EngineError as lost:
            self.log.warning("%s: could not record the failure in the target: %s", stage, lost)

    def _execute(self, run_id: str) -> dict[str, Any]:
        plan = from_json(PipelinePlan, self.pipeline)
        target = open_target(connection_info(plan.target_conn_id))
        self._target = target
        source = None
        ctx: StageContext | None = None
        try:
            store = ResultStore(target, RunKey(plan.project, plan.name, run_id))
            store.ensure_schema()
            ctx = StageContext(plan, target, store, self.log)
            stage = stage_key(self.stage, self.instance)
            store.stage_started(stage)
            try:
                ctx.plan = self.resolved(ctx)
                with lease.held(ctx, stage, self.lease_claim()):
                    options = SourceOptions(zero_dates=plan.zero_dates, naive_timezone=plan.naive_timezone)
                    source = (
                        open_source(connection_info(plan.source_conn_id), options) if self.uses_source(plan) else None
                    )
                    result = self.run(ctx, source, run_id)
            except Exception as exc:  # recorded whatever it is, so the report never shows a stage stuck "running"
                self._record_failure(store, stage, exc, ctx.warnings)
                raise
            store.stage_finished(stage, error=None, warnings=ctx.warnings)
            self.ran = ctx.plan
            return result
        finally:
            self._target = None
            if ctx is not None:
                progress.close(ctx)
            if source is not None:
                source.close()
            target.close()

    _target: PostgresTarget | None = None
    """The target while a stage runs: what ``on_kill`` cancels."""

    def on_kill(self) -> None:
        """Airflow stops the task (its timeout, marked failed, the run cancelled): the statement the target runs for
        it is cancelled on the server too, instead of running on after its client is gone."""
        target = self._target
        if target is not None:
            self.log.info("stopping: cancelling the statement the target is running for this stage")
            target.cancel()
