"""make bench --schema: a whole MariaDB schema (shop.py) migrated by DataBridge and by pgloader, each into a
database of its own, both end states compared with the source's and each other's.

Each round runs pgloader, then DataBridge, into freshly created databases. pgloader runs its default MySQL migration
(it creates tables, indexes and foreign keys) with the bench's 4 GB heap; DataBridge runs its six stages from the
include project below, in one process as an Airflow task runs them (databridge_task.py), timed stage by stage.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import endstate
import measure
import shop
import workload
from endstate import KINDS, TableState
from measure import Run

HERE = Path(__file__).resolve().parent
TARGETS = {"databridge": "databridge_bench_shop_db", "pgloader": "databridge_bench_shop_pgloader"}
STAGES = ("extract", "transform", "load_dimensions", "load_facts", "validate", "report")
SCHEMA = shop.DATABASE
"""Both tools name the target schema after the source database."""

PROJECT = f"""name: bench_shop
pipelines:
  - name: shop
    source_conn_id: bench_shop_mysql
    target_conn_id: bench_shop_target
    include: ["{shop.DATABASE}.*"]
"""
NO_PROOF = "    proof: {on_failure: skip}\n"
"""The second DataBridge run's one extra line: validate without the proof that reads every row on both sides again
(README: Proof of migration), so what is left is the migration pgloader does."""

REPORTED = "SELECT report->'schema_objects' FROM databridge.reports ORDER BY created_at DESC LIMIT 1"
"""What DataBridge's report says it rebuilt (per table: built, and each object skipped or failed with its reason)."""


class SchemaCase:
    def __init__(self, bench: Any) -> None:
        self.bench = bench
        self.mysql = workload.mysql_connect(bench.my_host, bench.my_port, "root")
        self.columns: dict[str, list[tuple[str, str, str]]] = {}
        self.source: dict[str, TableState] = {}

    def prepare(self, rows: int) -> None:
        shop.ensure(self.mysql, rows)
        cur = self.mysql.cursor()
        self.columns = endstate.mysql_columns(cur, shop.DATABASE)
        self.source = endstate.mysql_state(cur, shop.DATABASE)

    def fresh_database(self, name: str) -> None:
        with self.bench.pg("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
            admin.execute("CHECKPOINT")  # every method starts with no dirty buffers of the one before

    def finish(self, run: Run, tool: str) -> Run:
        """The run's end state, read from its target: rows and checksum for the bench's table, the rest as detail."""
        with self.bench.pg(TARGETS[tool]) as conn:
            state = endstate.pg_state(conn, SCHEMA, self.columns)
        run.rows, run.checksum = sum(s.rows for s in state.values()), endstate.digest(state)
        run.detail["end_state"] = state
        return run

    def pgloader(self) -> Run:
        self.fresh_database(TARGETS["pgloader"])
        b = self.bench
        # Its default migration; the 4 GB heap is the bench's tuning (its default heap dies on 1M rows).
        argv = [
            "pgloader",
            "--dynamic-space-size",
            "4096",
            "--no-ssl-cert-verification",
            f"mysql://root@{b.my_host}:{b.my_port}/{shop.DATABASE}",
            f"postgresql://postgres@{b.pg_host}:{b.pg_port}/{TARGETS['pgloader']}",
        ]
        return self.finish(measure.run_tree("pgloader", argv, log_path=str(b.logs / "schema_pgloader.log")), "pgloader")

    def databridge(self, proof: bool = True) -> Run:
        self.fresh_database(TARGETS["databridge"])
        b = self.bench
        project = b.logs.parent / f"bench_shop{'' if proof else '_no_proof'}.yaml"
        project.write_text(PROJECT + ("" if proof else NO_PROOF))
        env = b.env()
        env["AIRFLOW_CONN_BENCH_SHOP_MYSQL"] = json.dumps(
            {"conn_type": "mysql", "host": b.my_host, "port": b.my_port, "login": "root", "schema": shop.DATABASE}
        )
        env["AIRFLOW_CONN_BENCH_SHOP_TARGET"] = json.dumps(
            {
                "conn_type": "postgres",
                "host": b.pg_host,
                "port": b.pg_port,
                "login": "postgres",
                "schema": TARGETS["databridge"],
            }
        )
        argv = [sys.executable, str(HERE / "databridge_task.py"), str(project), f"bench-{time.time_ns()}", *STAGES]
        method, log = (
            ("DataBridge", "schema_databridge.log")
            if proof
            else ("DataBridge, proof: skip", "schema_databridge_no_proof.log")
        )
        run = self.finish(measure.run_tree(method, argv, env=env, log_path=str(b.logs / log)), "databridge")
        with b.pg(TARGETS["databridge"]) as conn:
            objects = conn.execute(REPORTED).fetchone()[0]
        run.detail["schema_report"] = {
            "built": sum(e["built"] for e in objects.values()),
            "not_built": [o for e in objects.values() for o in e["not_built"]],
        }
        return run

    def drop(self) -> None:
        with self.bench.pg("postgres") as admin:
            for name in TARGETS.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shop.drop(self.mysql)


def run(bench: Any, args: Any) -> dict[str, Any]:
    """The rounds, the summary, the side-by-side end states; the databases dropped unless ``--keep``."""
    from bench import run_rounds, summarise

    case = SchemaCase(bench)
    case.prepare(args.rows)
    print(
        f"\nWhole schema: MariaDB {shop.DATABASE} ({len(case.source)} tables, "
        f"{sum(s.rows for s in case.source.values()):,} rows) -> PostgreSQL, {args.rounds} round(s); DataBridge runs "
        f"its six stages from this project (then again with {NO_PROOF.strip()!r} added):\n{PROJECT}",
        flush=True,
    )
    methods = {
        "pgloader": case.pgloader,
        "databridge": case.databridge,
        "databridge_no_proof": lambda: case.databridge(proof=False),
    }
    runs = run_rounds(bench, methods, args.rounds)
    table = summarise("Whole schema, MariaDB -> PostgreSQL", runs, "pgloader")
    table["seconds_ratio"] = {name: _seconds_ratio(runs, name) for name in ("databridge", "databridge_no_proof")}
    ends = {tool: runs[tool][-1].detail["end_state"] for tool in ("databridge", "pgloader")}
    table["differences"] = compare(case.source, ends["databridge"], ends["pgloader"], case.columns)
    table["end_states"] = {
        "source": endstate.as_json(case.source),
        **{tool: endstate.as_json(s) for tool, s in ends.items()},
    }
    table["databridge_report"] = _print_report(runs["databridge"][-1])
    table["same_every_round"] = len({r.checksum for rs in runs.values() for r in rs}) == 1
    if not args.keep:
        case.drop()
    return table


def _print_report(run: Run) -> dict[str, Any]:
    reported: dict[str, Any] = run.detail["schema_report"]
    print(
        f"\nDataBridge's report: {reported['built']} schema objects built "
        f"(NOT NULL, defaults and identities included), {len(reported['not_built'])} skipped or failed"
        + "".join(f"\n  {o}" for o in reported["not_built"])
    )
    return reported


def _seconds_ratio(runs: dict[str, list[Run]], name: str) -> dict[str, float]:
    """A DataBridge run's seconds over pgloader's, of the medians and within each round."""
    ours, theirs = runs[name], runs["pgloader"]
    paired = [a.seconds / b.seconds for a, b in zip(ours, theirs, strict=True)]
    medians = statistics.median(r.seconds for r in ours) / statistics.median(r.seconds for r in theirs)
    print(
        f"{'' if name != 'databridge' else chr(10)}{ours[0].method} seconds / pgloader seconds: {medians:.2f} (in "
        f"rounds {statistics.median(paired):.2f}, {min(paired):.2f}-{max(paired):.2f}); {1 / medians:.2f}x as fast"
    )
    return {
        "of_medians": medians,
        "in_rounds_median": statistics.median(paired),
        "min": min(paired),
        "max": max(paired),
    }


def compare(
    source: dict[str, TableState],
    ours: dict[str, TableState],
    theirs: dict[str, TableState],
    columns: dict[str, list[tuple[str, str, str]]],
) -> list[str]:
    """Print the three end states side by side and every difference; returns the differences."""
    print("\nEnd states: source / DataBridge / pgloader (checksum: DataBridge's against pgloader's)")
    header = f"{'table':<20}{'rows':>26}  {'checksum':<10}" + "".join(f"{k:>11}" for k in KINDS)
    print(header)
    for table in sorted(set(source) | set(ours) | set(theirs)):
        s, d, p = (x.get(table, TableState()) for x in (source, ours, theirs))
        rows = f"{s.rows:,} / {d.rows:,} / {p.rows:,}"
        same = "same" if d.checksum == p.checksum and d.rows == p.rows else "DIFFERENT"
        print(
            f"{table:<20}{rows:>26}  {same:<10}"
            + "".join(f"{f'{len(s.objects[k])}/{len(d.objects[k])}/{len(p.objects[k])}':>11}" for k in KINDS)
        )
    totals = "".join(f"{f'{_total(source, k)}/{_total(ours, k)}/{_total(theirs, k)}':>11}" for k in KINDS)
    print(f"{'all':<20}{'':>26}  {'':<10}{totals}")
    differences = _differences(source, ours, theirs)
    print("\nDifferences:" if differences else "\nNo differences in rows, checksums or objects.")
    for line in differences:
        print(f"  {line}")
    if differences:
        print(WHY)
    _print_normalised(ours, theirs, columns)
    return differences


WHY = (
    "Why, where they are the tools' choices: pgloader builds a MySQL UNIQUE key as a unique index (no constraint)"
    " and\ndoes not migrate CHECK constraints; DataBridge builds UNIQUE constraints, the source's CHECKs, and types"
    " an ENUM as\ntext with a CHECK on its labels where pgloader creates an enum type."
)


def _total(state: dict[str, TableState], kind: str) -> int:
    return sum(len(s.objects[kind]) for s in state.values())


def _differences(
    source: dict[str, TableState], ours: dict[str, TableState], theirs: dict[str, TableState]
) -> list[str]:
    found = []
    for table in sorted(set(source) | set(ours) | set(theirs)):
        s, d, p = (x.get(table, TableState()) for x in (source, ours, theirs))
        if not d.rows == p.rows == s.rows:
            found.append(f"{table}: rows source {s.rows:,}, DataBridge {d.rows:,}, pgloader {p.rows:,}")
        if d.checksum != p.checksum:
            found.append(f"{table}: the checksums of the normalised values differ")
        for kind in KINDS:
            found += _object_differences(table, kind, s, d, p)
        for signature in sorted(set(d.objects["UNIQUE"]) & set(p.objects["UNIQUE"])):
            forms = ["index" if signature in x.unique_indexes else "constraint" for x in (d, p)]
            if forms[0] != forms[1]:
                found.append(
                    f"{table}: {signature} is a {forms[0]} in DataBridge's target, a unique {forms[1]} in pgloader's"
                )
    return found


def _object_differences(table: str, kind: str, s: TableState, d: TableState, p: TableState) -> list[str]:
    """An object one target lacks that the other (or the source) has. CHECKs are compared by count: each server
    writes the same condition its own way."""
    if kind == "CHECK":
        counts = [len(x.objects[kind]) for x in (s, d, p)]
        if len(set(counts)) == 1:
            return []
        return [
            f"{table}: CHECKs source {counts[0]}, DataBridge {counts[1]} {d.objects[kind]}, pgloader {counts[2]} "
            f"{p.objects[kind]}"
        ]
    found = []
    for signature in sorted(set(s.objects[kind]) | set(d.objects[kind]) | set(p.objects[kind])):
        where = [
            name for name, x in (("source", s), ("DataBridge", d), ("pgloader", p)) if signature in x.objects[kind]
        ]
        if len(where) < 3:
            found.append(f"{table}: {signature} only in {' and '.join(where)}")
    return found


def _print_normalised(
    ours: dict[str, TableState], theirs: dict[str, TableState], columns: dict[str, list[tuple[str, str, str]]]
) -> None:
    """Every column is compared as text by its source type's rule; these are the columns whose types the tools chose
    differently, with the rule that made them comparable."""
    print("\nColumns typed differently by the two tools (compared on values normalised to text by the rule shown):")
    for table, cols in sorted(columns.items()):
        for column, rule, source_type in cols:
            d, p = (x.get(table, TableState()).types.get(column, "-") for x in (ours, theirs))
            if d != p:
                print(f"  {table}.{column} {source_type}: DataBridge {d}, pgloader {p} -> {endstate.RULES[rule]}")
    print(
        "  (every other column: the same type in both; all columns are normalised alike: "
        + "; ".join(endstate.RULES.values())
        + ")"
    )
