"""OpenLineage facets of a stage that ran: the source tables it read, the target tables it wrote, their schemas and
which source columns every target column is computed from (Airflow's openlineage provider asks the operator)."""

from __future__ import annotations

from typing import Any

from openlineage.client.generated.base import Dataset
from openlineage.client.generated.column_lineage_dataset import (
    ColumnLineageDatasetFacet,
    Fields,
    InputField,
    Transformation,
)
from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields

from databridge.compiler.lineage import ColumnLineage, filter_columns, target_lineage
from databridge.compiler.plan import PipelinePlan, SourcePlan, TargetPlan
from databridge.engines.base import ConnectionInfo
from databridge.engines.lineage import DatasetId, dataset_id
from databridge.render.assets import LOAD_ROLES


def stage_lineage(stage: str, plan: PipelinePlan, source: ConnectionInfo, target: ConnectionInfo) -> Any:
    """The OperatorLineage of one stage: extract reads the source tables; each load reads them and writes its role's
    target tables; the other stages work inside the target's staging schema and report nothing."""
    from airflow.providers.openlineage.extractors.base import OperatorLineage

    if stage == "extract":
        return OperatorLineage(inputs=[_source_dataset(source, s) for s in plan.sources])
    role = LOAD_ROLES.get(stage)
    if role is None:
        return None
    pairs = plan.targets(role)
    read = list({id(s): s for s, _ in pairs}.values())
    return OperatorLineage(
        inputs=[_source_dataset(source, s) for s in read],
        outputs=[_target_dataset(source, target, s, t) for s, t in pairs],
    )


def _source_dataset(info: ConnectionInfo, source: SourcePlan) -> Dataset:
    ident = dataset_id(info, source.source)
    fields = [SchemaDatasetFacetFields(name=c) for c in source.columns]
    return Dataset(namespace=ident.namespace, name=ident.name, facets={"schema": SchemaDatasetFacet(fields=fields)})


def _target_dataset(
    source_info: ConnectionInfo, info: ConnectionInfo, source: SourcePlan, target: TargetPlan
) -> Dataset:
    ident, read = dataset_id(info, target.table), dataset_id(source_info, source.source)
    fields = [
        SchemaDatasetFacetFields(name=c.name, type=c.type, ordinal_position=i + 1) for i, c in enumerate(target.columns)
    ]
    columns = {c.target: _fields(read, c) for c in target_lineage(target) if c.sources}
    filtered = [
        _input(read, name, "INDIRECT", "FILTER", f"rows where {target.filter_sql}") for name in filter_columns(target)
    ]
    lineage = ColumnLineageDatasetFacet(fields=columns, dataset=filtered or None)
    return Dataset(
        namespace=ident.namespace,
        name=ident.name,
        facets={"schema": SchemaDatasetFacet(fields=fields), "columnLineage": lineage},
    )


def _fields(read: DatasetId, column: ColumnLineage) -> Fields:
    subtype, description = ("IDENTITY", None) if column.identity else ("TRANSFORMATION", column.sql)
    inputs = [_input(read, name, "DIRECT", subtype, description) for name in column.sources]
    return Fields(inputFields=inputs, transformationType=subtype, transformationDescription=description)


def _input(read: DatasetId, name: str, kind: str, subtype: str, description: str | None) -> InputField:
    transformation = Transformation(type=kind, subtype=subtype, description=description)
    return InputField(namespace=read.namespace, name=read.name, field=name, transformations=[transformation])
