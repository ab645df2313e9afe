"""Report: what every stage did to every table, stored in the results schema and printed readably."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from databridge.runtime import ledger, resolve, schema_rebuild
from databridge.runtime.context import StageContext, rate
from databridge.runtime.enum_types import listed
from databridge.runtime.proof import SHOWN_DIFFERENCES
from databridge.runtime.rejects import REJECTS_TABLE
from databridge.runtime.rollback import shown_from, undo_command
from databridge.runtime.versions import VERSIONS_TABLE

STAGES = ("extract", "transform", "load_dimensions", "load_facts", "validate")


def build_report(ctx: StageContext, run_id: str, project_file: str | None = None) -> dict[str, Any]:
    store = ctx.store
    stages = store.stages()
    stats = {stage: store.table_stats(stage) for stage in ("extract", "transform", "load_dimensions", "load_facts")}
    loaded = {**stats["load_dimensions"], **stats["load_facts"]}
    with ctx.target.transaction("reading the batch ledger") as cur:
        resumed = ledger.resumes(cur, store.key)
    tables = [
        {**_table_row(source, target, stats, loaded), "resumed": resumed.get(str(source.source), [])}
        for source, target in ctx.plan.targets()
    ]
    validations = store.validations()
    errors = [f"{s}: {stages[s]['error']}" for s in STAGES if s in stages and stages[s]["error"]]
    errors += [f"{s}: did not finish" for s in STAGES if stages.get(s, {}).get("status") == "running"]
    missing = [s for s in STAGES if s not in stages]
    succeeded = not errors and not missing
    seconds = sum(v["seconds"] for s, v in stages.items() if s in STAGES)
    source_rows = sum(v.get("source_rows", 0) for v in stats["extract"].values())
    moved = sum(t["loaded_rows"] or 0 for t in tables)
    return {
        "project": ctx.plan.project,
        "pipeline": ctx.plan.name,
        "run_id": run_id,
        "succeeded": succeeded,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "stages": {s: stages.get(s, {"status": "not run"}) for s in STAGES},
        "not_run": missing,
        "tables": tables,
        "validations": validations,
        "proofs": [_proof_entry(p) for p in store.proofs()],
        "warnings": [w for s in STAGES for w in stages.get(s, {}).get("warnings") or []],
        "errors": errors,
        "rejects": _rejects(ctx),
        "schema_objects": _schema_objects(ctx),
        "undo": undo_command(project_file, run_id) if project_file and _kept_versions(ctx) else None,
        **resolve.changes(ctx),
        "totals": {
            "source_rows": source_rows,
            "loaded_rows": moved,
            "seconds": round(seconds, 2),
            "rows_per_second": rate(moved, seconds),
        },
    }


def _schema_objects(ctx: StageContext) -> dict[str, dict[str, Any]]:
    """Per created table: how many of the source's schema objects were built, and each skipped or failed one with
    its reason (runtime/schema_rebuild.py)."""
    found = {}
    for table, stat in sorted(ctx.store.table_stats(schema_rebuild.RESULT_STAGE).items()):
        objects = stat.get("objects", [])
        built = [o for o in objects if o["status"] == "built"]
        found[table] = {
            "built": len(built),
            "built_by_kind": {k: sum(o["kind"] == k for o in built) for k in dict.fromkeys(o["kind"] for o in built)},
            "notes": [f"{o['kind']} {o['name']}: {o['note']}" for o in built if o.get("note")],
            "not_built": [
                {k: o.get(k) for k in ("kind", "name", "source", "status", "reason")}
                for o in objects
                if o["status"] != "built"
            ],
        }
    return found


def _schema_lines(objects: dict[str, dict[str, Any]]) -> list[str]:
    if not objects:
        return []
    lines = ["", "Schema objects rebuilt from the source (schema_rebuild: full):"]
    for table, entry in objects.items():
        kinds = ", ".join(f"{n} {k}" for k, n in entry["built_by_kind"].items())
        lines.append(f"  {table}: {entry['built']} built ({kinds or 'none'})")
        lines += [f"    note: {n}" for n in entry["notes"]]
        lines += [
            f"    {o['status']}: {o['kind']} {o['source'] or o['name']}: {o['reason']}" for o in entry["not_built"]
        ]
    return lines


def _proof_entry(proof: dict[str, Any]) -> dict[str, Any]:
    """A table's proof; with every differing range when its detail names only the first ones."""
    entry = {k: proof[k] for k in ("table", "status", "detail")}
    parts = proof["evidence"].get("parts", [])
    if any(len(p.get("described", [])) > SHOWN_DIFFERENCES for p in parts):
        entry["differing_ranges"] = [f"{p['part']}: {d}" for p in parts for d in p.get("described", [])]
    return entry


def _rejects(ctx: StageContext) -> list[dict[str, Any]]:
    """Per table and stage: how many rows were rejected, and the commonest reasons."""
    rows = ctx.target.rows(
        f"""SELECT table_name, stage, count(*),
        (array_agg(coalesce(column_name || ': ', '') || reason ORDER BY reason))[1:3]
        FROM {REJECTS_TABLE} WHERE project = %s AND pipeline = %s AND run_id = %s GROUP BY 1, 2 ORDER BY 1, 2 DESC""",
        ctx.store.key.values(),
        doing="reading the rejected rows",
    )
    return [{"table": t, "stage": s, "rows": n, "first_reasons": list(r)} for t, s, n, r in rows]


def _kept_versions(ctx: StageContext) -> bool:
    query = (
        f"SELECT count(*) FROM {VERSIONS_TABLE} WHERE project = %s AND pipeline = %s AND run_id = %s AND "
        "rolled_back_at IS NULL"
    )
    return bool(ctx.target.scalar(query, ctx.store.key.values(), doing="reading the kept versions"))


def _table_row(source: Any, target: Any, stats: dict[str, dict[str, Any]], loaded: dict[str, Any]) -> dict[str, Any]:
    ext = stats["extract"].get(str(source.source), {})
    tr = stats["transform"].get(str(target.table), {})
    ld = loaded.get(str(target.table), {})
    seconds = sum(x.get("seconds", 0.0) for x in (ext, tr, ld))
    return {
        "target": str(target.table),
        "source": str(source.source),
        "role": target.role,
        "load": target.load,
        "source_rows": ext.get("source_rows"),
        "staged_rows": ext.get("staged_rows"),
        "extract_chunks": ext.get("chunks", 1 if ext else None),
        "transformed_rows": tr.get("ready_rows"),
        "loaded_rows": ld.get("loaded_rows"),
        "rejected_rows": tr.get("rejected_rows", 0) + ld.get("rejected_rows", 0),
        "skipped_rows": ld.get("skipped_rows", 0),
        "target_rows": ld.get("target_rows"),
        "extract_seconds": round(ext.get("seconds", 0.0), 3),
        "transform_seconds": round(tr.get("seconds", 0.0), 3),
        "load_seconds": round(ld.get("seconds", 0.0), 3),
        "rows_per_second": rate(ld.get("loaded_rows") or 0, seconds),
        "enum_types": ld.get("enum_types") or [],
    }


def format_report(report: dict[str, Any], cwd: Path | None = None) -> str:
    """The report as text for a terminal or a task log; paths inside ``cwd`` (the terminal's) are shown relative to
    it."""
    status = "SUCCEEDED" if report["succeeded"] else "FAILED"
    lines = [
        f"DataBridge report - project {report['project']}, pipeline {report['pipeline']}, run "
        f"{report['run_id']}: {status}",
        "",
    ]
    stages = report["stages"]
    lines += ["Stages:"] + [
        f"  {name:<16} {stages[name].get('status', 'not run'):<8} {stages[name].get('seconds', 0.0):>8.2f}s"
        for name in STAGES
        if name in stages
    ]
    lines += ["", "Tables:", _table_lines(report["tables"])]
    if report.get("new_tables"):
        lines += ["", "New in the source since the previous run (taken by include): " + ", ".join(report["new_tables"])]
    resumed = {t["source"]: t["resumed"] for t in report["tables"] if t.get("resumed")}
    if resumed:
        lines += ["", "Resumed after a failure (committed batches kept):"] + [
            f"  {s}: {', '.join(r)}" for s, r in resumed.items()
        ]
    t = report["totals"]
    lines += [
        f"  total: {t['source_rows']} source rows, {t['loaded_rows']} rows loaded in {t['seconds']}s "
        f"({t['rows_per_second']} rows/s)",
        "",
    ]
    lines += ["Validations:"] + [
        f"  [{'PASS' if v['passed'] else ('WARN' if v['on_failure'] == 'warn' else 'FAIL')}] "
        f"{v['check']}: {v['detail']}"
        for v in report["validations"]
    ]
    lines += _proof_lines(report.get("proofs", []))
    if report["warnings"]:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in report["warnings"]]
    if report.get("rejects"):
        lines += ["", "Rejected rows (in databridge.rejects):"] + [
            f"  {r['table']} ({r['stage']}): {r['rows']} row(s), e.g. {'; '.join(r['first_reasons'])}"
            for r in report["rejects"]
        ]
    lines += _skipped_lines(report["tables"])
    lines += _enum_type_lines(report["tables"])
    lines += _schema_lines(report.get("schema_objects", {}))
    if report["errors"]:
        lines += ["", "Errors:"] + [f"  - {e}" for e in report["errors"]]
    if report.get("undo"):
        lines += ["", f"To undo this run: {shown_from(report['undo'], cwd) if cwd else report['undo']}"]
    return "\n".join(lines)


_COLUMNS = (
    ("target", "target", "<"),
    ("source", "source", "<"),
    ("load", "load", "<"),
    ("source rows", "source_rows", ">"),
    ("loaded", "loaded_rows", ">"),
    ("rejected", "rejected_rows", ">"),
    ("in target", "target_rows", ">"),
    ("extract s", "extract_seconds", ">"),
    ("transform s", "transform_seconds", ">"),
    ("load s", "load_seconds", ">"),
    ("rows/s", "rows_per_second", ">"),
)


def _table_lines(tables: list[dict[str, Any]]) -> str:
    cells = [[h for h, _, _ in _COLUMNS]] + [
        ["-" if t[k] is None else str(t[k]) for _, k, _ in _COLUMNS] for t in tables
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(_COLUMNS))]
    out = []
    for row in cells:
        out.append("  " + "  ".join(f"{v:{a}{w}}" for v, (_, _, a), w in zip(row, _COLUMNS, widths, strict=True)))
    return "\n".join(out)


def _skipped_lines(tables: list[dict[str, Any]]) -> list[str]:
    """The rows appends left out, their key already in the target (on_existing: skip)."""
    skipped = [t for t in tables if t.get("skipped_rows")]
    if not skipped:
        return []
    return ["", "Skipped rows, their key already in the target (on_existing: skip):"] + [
        f"  {t['target']}: {t['skipped_rows']} row(s)" for t in skipped
    ]


def _enum_type_lines(tables: list[dict[str, Any]]) -> list[str]:
    """The enum types the ENUM columns of created tables got (enums: type), made or reused."""
    typed = [(t["target"], e) for t in tables for e in t.get("enum_types") or []]
    if not typed:
        return []
    return ["", "Enum types (enums: type):"] + [
        f"  {table}.{e['column']}: {e['type']} {listed(e['labels'])}, {e['status']}" for table, e in typed
    ]


def _proof_lines(proofs: list[dict[str, Any]]) -> list[str]:
    """Per table: PROVEN, or the ranges that differ with sample keys, every one of them when the detail names only the
    first (the evidence is in databridge.proofs)."""
    if not proofs:
        return []
    marks = {"proven": "PROVEN", "differs": "DIFFERS", "skipped": "SKIPPED"}
    lines = ["", "Proof of migration:"]
    for p in proofs:
        lines.append(f"  [{marks.get(p['status'], p['status'])}] {p['table']}: {p['detail']}")
        lines += [f"      {r}" for r in p.get("differing_ranges", [])]
    return lines
