"""The source's schema rebuilt on the tables a run creates: NOT NULL, defaults and identity with the table, then
uniques, indexes, CHECKs, comments and foreign keys once every table holds its rows (as pgloader does).

The extract reads each source table's schema objects (``SourceEngine.schema_of``), which only it can reach, and keeps
them with its table statistics (stage ``source_schema``). ``compiler/schema_ddl.py`` turns them into PostgreSQL DDL
for the mapping at hand: an object involving a column the mapping transforms, or a table outside the pipeline, is
skipped with its reason. The load builds the ``create`` objects right after it creates a table; the last load stage
builds the ``after`` objects of every table this run created. Each object is built in a savepoint of its own, so one
the data breaks (a CHECK, a foreign key) is listed as failed with the server's reason and the others stand. What was
built, skipped or failed is kept (stage ``schema``) for the report. ``schema_rebuild: data_only`` turns it all off.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.plan import SourcePlan, TableRef, TargetPlan
from databridge.compiler.schema_ddl import AFTER, CREATE, SchemaObject, relation_names, schema_objects
from databridge.engines.base import SourceEngine
from databridge.engines.schema import CheckDef, ColumnDef, ForeignKeyDef, IndexDef, TableSchema
from databridge.errors import EngineError
from databridge.runtime.context import StageContext

SOURCE_STAGE = "source_schema"
RESULT_STAGE = "schema"
"""A column mapping that copies its source column, perhaps cast: the source's constraints on it still apply."""


def read_source(ctx: StageContext, source: SourceEngine, plans: list[SourcePlan]) -> None:
    """The extract's part: each source table's schema objects, kept for the load (a table that cannot be read is
    a warning: its target is built without them)."""
    if not ctx.plan.schema_rebuild:
        return
    for plan in plans:
        try:
            schema = source.schema_of(plan.source)
        except EngineError as exc:
            ctx.warnings.append(f"{plan.source}: its schema objects could not be read, so they are not rebuilt: {exc}")
            continue
        ctx.store.table_stat(SOURCE_STAGE, str(plan.source), 0, 0.0, schema=dataclasses.asdict(schema))


def created(ctx: StageContext, cur: psycopg.Cursor[Any], target: TargetPlan) -> None:
    """The load just created ``target`` and wrote its rows: build its ``create`` objects in the load's transaction,
    and mark it for ``after_load``."""
    found = Pipeline.of(ctx).objects(target, _relation_names(cur, target.table.schema or "public"))
    _record(ctx, str(target.table), [_build(cur, o) for o in found if o.phase == CREATE], created=True)


def after_load(ctx: StageContext) -> None:
    """The last load stage's part: the ``after`` objects of every table this run created, foreign keys last."""
    created = _created_this_run(ctx)
    targets = [t for _, t in ctx.plan.targets() if str(t.table) in created]
    outcomes: dict[str, list[dict[str, Any]]] = {str(t.table): [] for t in targets}
    view = Pipeline.of(ctx)
    with ctx.target.transaction("rebuilding the source's schema objects") as cur:
        planned: list[tuple[TargetPlan, SchemaObject]] = []
        taken: dict[str, set[str]] = {}  # per target schema: names given to earlier tables' objects count as taken
        for target in targets:
            schema = target.table.schema or "public"
            names = taken.setdefault(schema, _relation_names(cur, schema))
            found = view.objects(target, names)
            names |= relation_names(found)
            planned += [(target, o) for o in found if o.phase == AFTER]
        ordered = [p for p in planned if p[1].kind != "foreign_key"] + [
            p for p in planned if p[1].kind == "foreign_key"
        ]
        for target, obj in ordered:
            outcomes[str(target.table)].append(_build(cur, obj))
    for table, done in outcomes.items():
        _record(ctx, table, done)


@dataclass(frozen=True)
class Pipeline:
    """The pipeline's tables as schema_ddl sees them: each source table's schema, target and copied columns."""

    schemas: dict[str, TableSchema]
    """By source table (str of its TableRef)."""
    sources: dict[TableRef, SourcePlan]
    """Every target's source plan, by target table."""
    tables: dict[TableRef, TableRef]
    """Source table (as the plan names it, and as its catalog does) → its one target."""
    referenced: dict[TableRef, dict[str, str]]
    """Source table → its copied columns (source name → target name), for foreign keys pointing at it."""

    @classmethod
    def of(cls, ctx: StageContext) -> Pipeline:
        kept = ctx.store.table_stats(SOURCE_STAGE) if ctx.plan.schema_rebuild else {}
        schemas = {name: table_schema(stat["schema"]) for name, stat in kept.items()}
        tables: dict[TableRef, TableRef] = {}
        referenced: dict[TableRef, dict[str, str]] = {}
        for plan in ctx.plan.sources:
            if len(plan.targets) != 1:
                continue  # a table feeding several targets: a key to it would not know which one
            names = [plan.source] + ([schemas[str(plan.source)].table] if str(plan.source) in schemas else [])
            for name in names:
                tables[name], referenced[name] = plan.targets[0].table, copied_columns(plan.targets[0])
        sources = {t.table: plan for plan in ctx.plan.sources for t in plan.targets}
        return cls(schemas, sources, tables, referenced)

    def objects(self, target: TargetPlan, taken: set[str]) -> list[SchemaObject]:
        schema = self.schemas.get(str(self.sources[target.table].source))
        if schema is None:
            return []
        types = {c.name: c.type for c in target.columns if c.type}
        found = schema_objects(
            schema,
            target.table,
            copied_columns(target),
            self.tables,
            types=types,
            referenced=self.referenced,
            taken=taken,
        )
        return [
            o for o in found if o.kind != "enum_check"
        ]  # the load holds an ENUM's labels itself: a CHECK or an enum type (enums)


def copied_columns(target: TargetPlan) -> dict[str, str]:
    """Source column → target column, for the mappings that copy their source column (cast or not)."""
    return {source: c.name for c in target.columns if (source := c.copied_source) is not None}


def _build(cur: psycopg.Cursor[Any], obj: SchemaObject) -> dict[str, Any]:
    outcome = {"kind": obj.kind, "table": obj.table, "name": obj.name, "source": obj.source, "phase": obj.phase}
    if obj.sql is None:
        return {**outcome, "status": "skipped", "reason": obj.skipped}
    try:
        with cur.connection.transaction():
            cur.execute(obj.sql)
    except psycopg.Error as exc:
        return {**outcome, "status": "failed", "reason": str(exc).splitlines()[0]}
    return {**outcome, "status": "built", **({"note": obj.note} if obj.note else {})}


def _record(ctx: StageContext, table: str, done: list[dict[str, Any]], *, created: bool = False) -> None:
    kept = ctx.store.table_stats(RESULT_STAGE).get(table, {})
    objects = [o for o in kept.get("objects", []) if not created and o["phase"] == CREATE] + done
    ctx.store.table_stat(RESULT_STAGE, table, len(objects), 0.0, created=True, objects=objects)


def _created_this_run(ctx: StageContext) -> set[str]:
    return {t for t, stat in ctx.store.table_stats(RESULT_STAGE).items() if stat.get("created")}


def _relation_names(cur: psycopg.Cursor[Any], schema: str) -> set[str]:
    rows = cur.execute("SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace(%s)", (schema,)).fetchall()
    names = {str(r[0]) for r in rows}
    names |= {
        str(r[0])
        for r in cur.execute(
            "SELECT conname FROM pg_constraint WHERE connamespace = to_regnamespace(%s)", (schema,)
        ).fetchall()
    }
    return names


def table_schema(data: dict[str, Any]) -> TableSchema:
    """A TableSchema back from its JSON form (``dataclasses.asdict``)."""
    return TableSchema(
        **{
            **_tupled(data),
            "table": _ref(data["table"]),
            "columns": tuple(ColumnDef(**c) for c in data["columns"]),
            "uniques": tuple(IndexDef(**_tupled(i)) for i in data["uniques"]),
            "indexes": tuple(IndexDef(**_tupled(i)) for i in data["indexes"]),
            "checks": tuple(CheckDef(**c) for c in data["checks"]),
            "foreign_keys": tuple(
                ForeignKeyDef(**{**_tupled(f), "references": _ref(f["references"])}) for f in data["foreign_keys"]
            ),
            "enums": tuple((c, tuple(labels)) for c, labels in data["enums"]),
        }
    )


def _ref(data: dict[str, Any]) -> TableRef:
    return TableRef(data["schema"], data["name"])


def _tupled(data: dict[str, Any]) -> dict[str, Any]:
    """JSON's lists back as the tuples the dataclasses hold."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
