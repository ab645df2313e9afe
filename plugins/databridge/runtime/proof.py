"""Proof of migration: each target table compared with its source by fingerprints computed inside the databases.

Two comparisons per target table, each over the same key ranges on both sides (engines/fingerprint.py):

- **source → target**: the key and every column loaded unchanged (``ColumnPlan.unchanged_source``, same type in the
  staging and target tables), fingerprinted in the source database and in the target. When the target has a
  ``filter``, the source side is the staging table with the filter applied (the filter is PostgreSQL SQL).
- **ready → target**: the key and every transformed column (expressions, transforms, formats, defaults, types),
  fingerprinted in the ready table (the transform stage's output) and in the target, both inside the target: it
  proves the load; the transform itself is the SQL the plan shows.

For append and upsert loads the target side is limited to the keys of this run's ready table (earlier rows stay).
A table that rejected rows in this run (runtime/rejects.py), or skipped rows whose key it already held
(runtime/existing.py), is proven ready → target only, on every column.
A table without a key is compared as one range (an order-independent sum); it cannot be narrowed to rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from databridge.compiler.expressions import sql_literal
from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import ColumnPlan, SourcePlan, TargetPlan
from databridge.engines.base import SourceColumn, SourceEngine
from databridge.engines.canonical import kind_of
from databridge.engines.capabilities import computes_fingerprints
from databridge.engines.fingerprint import RANGE_KINDS, ProofColumn, Side, SqlSide
from databridge.runtime import existing, rejects
from databridge.runtime.context import StageContext
from databridge.runtime.narrow import Comparison, compare
from databridge.runtime.progress import progress_of
from databridge.runtime.results import RESULTS_SCHEMA

PROOFS_TABLE = f"{RESULTS_SCHEMA}.proofs"
RUN_COLUMNS = ("project", "pipeline", "run_id", "table_name")
"""The key of a table's proof in the results schema."""
SHOWN_DIFFERENCES = 5
"""Differing ranges named per comparison in the message of a table; all of them are in the stored evidence
(``described``) and the run report, and the message says where."""


@dataclass
class PartProof:
    """One comparison of a table: which columns, how, and what was found."""

    part: str
    method: str
    columns: list[str]
    key: list[str]
    comparison: Comparison

    def evidence(self) -> dict[str, Any]:
        c = self.comparison
        return {
            "part": self.part,
            "method": self.method,
            "columns": self.columns,
            "key": self.key,
            "equal": c.equal,
            "queries": c.queries,
            "ranges": [r.evidence() for r in c.ranges],
            "differences": [d.evidence() for d in c.differences],
            "described": self.described(),
        }

    def described(self) -> list[str]:
        """Every differing range as the message words it."""
        key, side = ", ".join(self.key) or "rows", self.part.split(" ")[0]
        return [d.describe(key, side) for d in self.comparison.differences]

    @property
    def cut(self) -> bool:
        """Whether the message leaves differing ranges out."""
        return len(self.comparison.differences) > SHOWN_DIFFERENCES

    def problem(self) -> str | None:
        if self.comparison.equal:
            return None
        described = self.described()
        shown = "; ".join(described[:SHOWN_DIFFERENCES])
        more = f"; and {len(described) - SHOWN_DIFFERENCES} more range(s)" if self.cut else ""
        return f"{self.part}: {len(described)} range(s) differ: {shown}{more}"


@dataclass
class TableProof:
    table: str
    source: str
    status: str
    """proven, differs or skipped."""
    detail: str
    parts: list[PartProof]

    def evidence(self) -> dict[str, Any]:
        return {"source": self.source, "parts": [p.evidence() for p in self.parts]}


def prove(ctx: StageContext, source: SourceEngine | None) -> list[TableProof]:
    """Every target table of the pipeline, proven or not, with its evidence stored in the results schema."""
    proofs = []
    loaded = {**ctx.store.table_stats("load_dimensions"), **ctx.store.table_stats("load_facts")}
    for source_plan, target in ctx.plan.targets():
        progress = progress_of(
            ctx, "proof", str(target.table), total=loaded.get(str(target.table), {}).get("target_rows")
        )
        proof = _prove_table(ctx, source, source_plan, target)
        progress.finish(sum(r.target_rows for p in proof.parts[:1] for r in p.comparison.ranges))
        ctx.store.proof(proof.table, proof.status, proof.detail, proof.evidence())
        ctx.log.info("proof %s: %s (%s)", proof.table, proof.status, proof.detail)
        proofs.append(proof)
    return proofs


def _prove_table(ctx: StageContext, source: SourceEngine | None, plan: SourcePlan, target: TargetPlan) -> TableProof:
    name, skip = str(target.table), _skip_reason(ctx, target)
    if not ctx.target.column_types(target.table.schema or "public", target.table.name):
        return TableProof(name, str(plan.source), "differs", "the target table does not exist", [])
    if skip:
        return TableProof(name, str(plan.source), "skipped", skip, [])
    rejected, skipped = rejects.count_for_run(ctx, target), existing.skipped_in_run(ctx, target)
    # A pass-through table's staging table may have become the target (moved by rename, runtime/load.py): there is
    # no ready table left to compare with, as the target is it.
    moved = plan.moves_staging and not ctx.target.column_types(ctx.plan.staging_schema, plan.staging_table)
    if moved and rejected:
        return TableProof(
            name,
            str(plan.source),
            "skipped",
            f"{rejected} row(s) rejected on purpose and the staging table became the target: "
            "nothing else to compare with",
            [],
        )
    # Rows set aside or skipped on purpose are not this run's rows in the target: the load of the rest is proven from
    # the ready table.
    direct = None if rejected or skipped else _direct_part(ctx, source, plan, target, moved)
    covered = set(direct.columns) if direct else set()
    ready = None if moved else _ready_part(ctx, plan, target, covered)
    parts = [p for p in (direct, ready) if p is not None]
    problems = [p for p in (part.problem() for part in parts) if p]
    if problems:
        return TableProof(name, str(plan.source), "differs", " | ".join(problems) + _listed_in(ctx, name, parts), parts)
    rows = parts[0].comparison.ranges if parts else []
    count = sum(r.target_rows for r in rows)
    summary = ", ".join(f"{p.part} over {len(p.comparison.ranges)} range(s) ({len(p.columns)} columns)" for p in parts)
    summary += _not_compared(rejected, skipped)
    unproven = [c.name for c in target.columns if c.name not in covered]
    if moved and unproven:
        summary += (
            f"; {', '.join(unproven)} as staged (the source cannot fingerprint them, and the staging table became "
            "the target: no copy to compare)"
        )
    return TableProof(name, str(plan.source), "proven", f"{count} rows proven: {summary}", parts)


def _not_compared(rejected: int, skipped: int) -> str:
    """Why the source was not compared with the target."""
    why = [f"{rejected} row(s) rejected on purpose (in {rejects.REJECTS_TABLE})"] if rejected else []
    why += [f"{skipped} row(s) skipped, their key already in the target (on_existing: skip)"] if skipped else []
    return f"; source -> target not compared: {' and '.join(why)}" if why else ""


def _listed_in(ctx: StageContext, table: str, parts: list[PartProof]) -> str:
    """Where every differing range is, when the message names only the first ones."""
    if not any(p.cut for p in parts):
        return ""
    where = " AND ".join(
        f"{column} = {sql_literal(value)}"
        for column, value in zip(RUN_COLUMNS, (*ctx.store.key.values(), table), strict=True)
    )
    return (
        ". Every differing range is listed in this run's report (printed by its report task, and by python -m "
        f"databridge.cli report --project {ctx.plan.project} --target-uri ...) and in {PROOFS_TABLE}: SELECT "
        f"evidence->'parts' FROM {PROOFS_TABLE} WHERE {where}"
    )


def _skip_reason(ctx: StageContext, target: TargetPlan) -> str | None:
    """Why a table is not proven at all (None: it is)."""
    if target.load != "replace" and not target.keys:
        return (
            f"not proven: an {target.load} load without keys cannot tell this run's rows from earlier ones "
            "(declare keys)"
        )
    limit = ctx.plan.proof.max_rows
    if limit is not None:
        rows = int(
            ctx.target.scalar(f"SELECT count(*) FROM {_table(target)}", doing=f"counting the rows of {target.table}")
        )
        if rows > limit:
            return f"not proven: {rows} rows, above proof.max_rows ({limit})"
    return None


def _direct_part(
    ctx: StageContext, source: SourceEngine | None, plan: SourcePlan, target: TargetPlan, moved: bool = False
) -> PartProof | None:
    """Key and unchanged columns, source database against target table (which is the staging table when ``moved``)."""
    staged = ctx.target.column_types(
        *(
            (target.table.schema or "public", target.table.name)
            if moved
            else (ctx.plan.staging_schema, plan.staging_table)
        )
    )
    columns = _direct_columns(ctx, source, plan, target, staged)
    if not columns:
        return None
    keyed = all(k in {c.name for c, _ in columns} for k in target.keys) and bool(target.keys)
    key = [next(pair for pair in columns if pair[0].name == k) for k in target.keys] if keyed else []
    source_side, method = _source_side(ctx, source, plan, target, columns, key)
    target_side = _target_side(ctx, target, [(c.name, s.kind) for c, s in columns], [(c.name, s.kind) for c, s in key])
    ranged = keyed and (key[0][1].kind in RANGE_KINDS or getattr(source_side, "dialect", None) is target_side.dialect)
    parallel = not method.startswith("staging")  # the source side has its own connection: both run at once
    comparison = compare(
        source_side, target_side, range_rows=ctx.plan.proof.range_rows, ranged=ranged, keyed=keyed, parallel=parallel
    )
    return PartProof(
        "source -> target", method, [c.name for c, _ in columns], list(target.keys) if keyed else [], comparison
    )


def _direct_columns(
    ctx: StageContext, source: SourceEngine | None, plan: SourcePlan, target: TargetPlan, staged: dict[str, str]
) -> list[tuple[ColumnPlan, ProofColumn]]:
    """(target column, the source column as its side reads it) for every column loaded unchanged."""
    typed = ctx.target.column_types(target.table.schema or "public", target.table.name)
    fingerprints = source if computes_fingerprints(source) and not target.filter_sql else None
    read: dict[str, SourceColumn] = {}
    if fingerprints is not None and source is not None:
        read = {
            c.name: dataclasses.replace(c, pg_type=staged[c.name])
            for c in source.columns(plan.source)
            if c.name in staged
        }
    out = []
    for column in target.columns:
        name = _read_as_is(column, staged, typed.get(column.name))
        if name is None:
            continue
        proof = (
            fingerprints.proof_column(read[name])
            if fingerprints
            else ProofColumn(name, quote_ident(name), kind_of(staged[name]))
        )
        if proof is not None:
            out.append((column, proof))
    return out


def _read_as_is(column: ColumnPlan, staged: dict[str, str], target_type: str | None) -> str | None:
    """The source column whose values this target column holds as they are: loaded unchanged in the same type, or
    only cast to the type it is staged as, or between integer types (``{source: id, type: bigint}``): casts that keep
    every value's text."""
    name = column.unchanged_source
    if name is not None and name in staged and target_type == staged[name]:
        return name
    cast = next((n for n in staged if column.type and column.sql == f"CAST({quote_ident(n)} AS {column.type})"), None)
    if (
        cast is not None
        and target_type is not None
        and (target_type == staged[cast] or {kind_of(staged[cast]), kind_of(target_type)} == {"int"})
    ):
        return cast
    return None


def _source_side(
    ctx: StageContext,
    source: SourceEngine | None,
    plan: SourcePlan,
    target: TargetPlan,
    columns: list[tuple[ColumnPlan, ProofColumn]],
    key: list[tuple[ColumnPlan, ProofColumn]],
) -> tuple[Side, str]:
    """The source database's side, or the staging table's when a filter (PostgreSQL SQL) picks the rows."""
    proofs, keys = [p for _, p in columns], [p for _, p in key]
    if target.filter_sql or not computes_fingerprints(source):
        staging = qualified(ctx.plan.staging_schema, plan.staging_table)
        why = (
            "the filter is PostgreSQL SQL"
            if target.filter_sql
            else f"{getattr(source, 'name', 'the source')} computes no fingerprint"
        )
        return ctx.target.proof_side(
            staging, proofs, keys, target.filter_sql, user_sql=target.filter_sql is not None
        ), f"staging table {staging} against the target, in the target ({why}); md5 row hashes summed per key range"
    side = source.proof_side(plan.source, proofs, keys)
    return side, f"{side.label} against the target; md5 row hashes summed per key range"


def _target_side(
    ctx: StageContext, target: TargetPlan, columns: list[tuple[str, str]], key: list[tuple[str, str]]
) -> SqlSide:
    """The target table (only this run's keys for append and upsert) as a side; columns are (name, kind)."""
    restrict = None
    if target.load != "replace":
        ready = qualified(ctx.plan.staging_schema, target.ready_table)
        on = " AND ".join(f"r.{quote_ident(k)} = t.{quote_ident(k)}" for k in target.keys)
        restrict = f"EXISTS (SELECT 1 FROM {ready} r WHERE {on})"
    as_t = [ProofColumn(n, f"t.{quote_ident(n)}", k) for n, k in columns]
    key_t = [ProofColumn(n, f"t.{quote_ident(n)}", k) for n, k in key]
    return ctx.target.proof_side(f"{_table(target)} t", as_t, key_t, restrict)


def _ready_part(ctx: StageContext, plan: SourcePlan, target: TargetPlan, covered: set[str]) -> PartProof | None:
    """Key and the columns the source comparison did not cover (transformed ones), ready table against target."""
    typed = ctx.target.column_types(target.table.schema or "public", target.table.name)
    transformed = [c.name for c in target.columns if c.name not in covered and c.name in typed]
    if not transformed:
        return None
    names = [k for k in target.keys if k not in transformed] + transformed
    columns = [(n, kind_of(typed[n])) for n in names]
    key = [(k, kind_of(typed[k])) for k in target.keys if k in typed]
    ready = qualified(ctx.plan.staging_schema, plan.ready_of(target))
    ready_side = ctx.target.proof_side(f"{ready} t", [ProofColumn(n, f"t.{quote_ident(n)}", k) for n, k in columns],
                                       [ProofColumn(n, f"t.{quote_ident(n)}", k) for n, k in key])  # fmt: skip
    target_side = _target_side(ctx, target, columns, key)
    comparison = compare(
        ready_side, target_side, range_rows=ctx.plan.proof.range_rows, ranged=bool(key), keyed=bool(key)
    )
    method = f"ready table {ready} against the target, in the target; md5 row hashes summed per key range"
    return PartProof("ready -> target", method, names, [k for k, _ in key], comparison)


def _table(target: TargetPlan) -> str:
    return qualified(target.table.schema or "public", target.table.name)
