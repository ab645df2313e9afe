"""Airflow assets of a project: the tables its loads write, a "loaded" asset per pipeline, and what it is scheduled on.

A load stage declares as outlets the target tables known when the DAG is parsed (tables written out in the file,
their URIs from the target connection); the tables a run finds by pattern are emitted at run time through the
stage's asset alias (operators/base.py ``emit_assets``). Every pipeline's load_facts also updates
databridge://<project>/<pipeline>, which ``after_projects`` of another project is scheduled on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import Asset, AssetAlias, AssetAll

from databridge.compiler.plan import PipelinePlan, ProjectPlan, TableRef
from databridge.engines.base import ConnectionInfo
from databridge.engines.lineage import target_uri

LOAD_ROLES = {"load_dimensions": "dimension", "load_facts": "fact"}
"""The stages that write target tables, and the role of the tables each writes."""


def table_asset(info: ConnectionInfo, table: TableRef) -> Asset:
    uri = target_uri(info, table)
    return Asset(name=uri, uri=uri)


def pipeline_asset(project: str, pipeline: str) -> Asset:
    """Updated when the pipeline's load_facts stage has finished: every table of the pipeline is loaded."""
    return Asset(name=f"databridge.{project}.{pipeline}", uri=f"databridge://{project}/{pipeline}")


def stage_alias(project: str, pipeline: str, stage: str) -> AssetAlias:
    """The alias a load stage emits the tables it found at run time through."""
    return AssetAlias(name=f"databridge.{project}.{pipeline}.{stage}")


def stage_outlets(pipeline: PipelinePlan, stage: str, target: ConnectionInfo | None) -> list[Any]:
    """The outlets of one stage: none but for the loads (their tables known now, their alias, the pipeline's asset)."""
    role = LOAD_ROLES.get(stage)
    if role is None:
        return []
    outlets: list[Any] = [table_asset(target, t.table) for _, t in pipeline.targets(role)] if target is not None else []
    outlets.append(stage_alias(pipeline.project, pipeline.name, stage))
    if stage == "load_facts":
        outlets.append(pipeline_asset(pipeline.project, pipeline.name))
    return outlets


def emit_found_tables(
    outlet_events: Any, outlets: Sequence[Any], plan: PipelinePlan, stage: str, target: ConnectionInfo
) -> list[str]:
    """After a load stage succeeded: the tables it loaded that its outlets do not declare (found at run time by
    pattern, or the target connection was unknown at parse time), emitted through the stage's alias. Their URIs."""
    role = LOAD_ROLES.get(stage)
    if role is None:
        return []
    declared = {o.uri for o in outlets if isinstance(o, Asset)}
    found = [table_asset(target, t.table) for _, t in plan.targets(role)]
    alias = outlet_events[stage_alias(plan.project, plan.name, stage)]
    for asset in found:
        if asset.uri not in declared:
            alias.add(asset)
    return [a.uri for a in found if a.uri not in declared]


def schedule_condition(plan: ProjectPlan, projects: Mapping[str, tuple[str, ...]]) -> AssetAll | None:
    """Every asset the project waits for: those it names and each pipeline of the projects it runs after.
    ``projects``: the pipelines of every project of the folder (checked before: every name is there)."""
    assets = [Asset(name=uri, uri=uri) for uri in plan.schedule.assets]
    assets += [pipeline_asset(name, p) for name in plan.schedule.after_projects for p in projects[name]]
    return AssetAll(*assets) if assets else None


def target_at_parse(conn_id: str) -> ConnectionInfo | None:
    """The target connection when the DAG is parsed, for the URIs of its tables; None when it is not defined there
    (the tables are then emitted at run time only)."""
    from databridge.errors import EngineError
    from databridge.operators.base import connection_info

    try:
        return connection_info(conn_id)
    except EngineError:
        return None
