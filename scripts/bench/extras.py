"""The two side benchmarks: the transform stage against a hand-written INSERT … SELECT, and PostgreSQL → PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import measure
import workload
from measure import Run

# The transform benchmark's mappings, and the same expressions as someone would write them by hand, into an
# unlogged table as the transform's ready table is.
MAPPINGS = """
              - {source: id}
              - {source: code, transform: [trim, upper]}
              - {source: name, transform: [trim, lower], default: "unknown"}
              - {source: amount}
              - {source: created_at, target: created_day, date_format: "YYYY-MM-DD"}
              - {target: total, expression: "ROUND(CAST({amount} * {quantity} AS numeric), 2)", type: "numeric(16,2)"}
              - {source: score, type: "double precision"}
              - {source: notes}"""
HAND_TABLE = """CREATE UNLOGGED TABLE {table} (id bigint, code text, name text, amount numeric(12,2), created_day text,
  total numeric(16,2), score double precision, notes text)"""
HAND_INSERT = """INSERT INTO {table} SELECT id, upper(btrim(code)), coalesce(nullif(lower(btrim(name)), ''), 'unknown'),
  amount, to_char(created_at, 'YYYY-MM-DD'), ROUND(CAST(amount * quantity AS numeric), 2), score, notes
  FROM {staging}"""


def transform(bench: Any, rounds: int) -> dict[str, Any]:
    """Stage once, then time the transform stage and the hand-written statement, alternating."""
    bench.reset_schema("bench_transform")
    bench.reset_schema("bench_transform_staging")
    project = bench.project("bench_transform", "bench_mysql", "bench_transform", (), MAPPINGS)
    run_id = f"bench-{time.time_ns()}"  # the transforms below are retries of this run: staging belongs to it
    bench.run_databridge("DataBridge extract", project, ("extract",), run_id)
    with bench.pg() as conn:
        staging = conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables WHERE schemaname = "
            "'bench_transform_staging'"
        ).fetchone()[0]
    runs: dict[str, list[Run]] = {"hand": [], "databridge": []}
    for n in range(1, rounds + 1):
        runs["hand"].append(_hand(bench, staging))
        runs["databridge"].append(bench.run_databridge("DataBridge transform", project, ("transform",), run_id))
        for name in runs:
            r = runs[name][-1]
            print(f"  round {n} {r.method:<22} {r.seconds:7.2f} s", flush=True)
    hand = sorted(r.seconds for r in runs["hand"])[len(runs["hand"]) // 2]
    ours = sorted(r.seconds for r in runs["databridge"])[len(runs["databridge"]) // 2]
    print(f"\ntransform stage {ours:.2f} s vs hand-written INSERT … SELECT {hand:.2f} s: {hand / ours:.2f}x")
    return {"hand_seconds": hand, "databridge_seconds": ours, "ratio": hand / ours, "rounds": rounds}


def _hand(bench: Any, staging: str) -> Run:
    table = "bench_transform.hand"
    with bench.pg() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute("CHECKPOINT")
        start = time.perf_counter()
        with conn.transaction():
            conn.execute(HAND_TABLE.format(table=table))
            conn.execute(HAND_INSERT.format(table=table, staging=staging))
        seconds = time.perf_counter() - start
    return Run("INSERT … SELECT by hand", seconds, seconds, 0.0)


def postgres_to_postgres(bench: Any, rounds: int) -> dict[str, Any]:
    """A PostgreSQL source database holding the workload (copied once from the raw pipe's table) into the target."""
    _ensure_pg_source(bench)
    methods = {"raw": lambda: _pg_raw_pipe(bench), "databridge": lambda: _pg_databridge(bench)}
    from bench import run_rounds, summarise

    return summarise("PostgreSQL -> PostgreSQL", run_rounds(bench, methods, rounds), "raw")  # type: ignore[no-any-return]


def _ensure_pg_source(bench: Any) -> None:
    with bench.pg() as target:
        if target.execute("SELECT to_regclass('bench_raw.orders') IS NULL").fetchone()[0]:
            bench.raw_pipe()  # the reference copy of the workload, when the MariaDB methods did not run
    with bench.pg() as target, bench.pg("databridge_bench_src") as source:
        wanted = target.execute(measure.checksum_sql("bench_raw.orders")).fetchone()
        have = source.execute("SELECT to_regclass('bench_source.orders') IS NOT NULL").fetchone()[0]
        if have and source.execute(measure.checksum_sql("bench_source.orders")).fetchone() == wanted:
            return
        print("PostgreSQL source: copying the workload into databridge_bench_src.bench_source.orders", flush=True)
        source.execute("DROP SCHEMA IF EXISTS bench_source CASCADE")
        source.execute("CREATE SCHEMA bench_source")
        source.execute(workload.pg_table_ddl("bench_source.orders"))
        with (
            target.cursor().copy("COPY bench_raw.orders TO STDOUT (FORMAT binary)") as out,
            source.cursor().copy("COPY bench_source.orders FROM STDIN (FORMAT binary)") as into,
        ):
            for chunk in out:
                into.write(chunk)
        source.execute("VACUUM ANALYZE bench_source.orders")


def _pg_raw_pipe(bench: Any) -> Run:
    bench.reset_schema("bench_pg_raw")
    with bench.pg() as conn:
        conn.execute(workload.pg_table_ddl("bench_pg_raw.orders"))
    psql = f"psql -q -h {bench.pg_host} -p {bench.pg_port} -U postgres -v ON_ERROR_STOP=1"
    pipe = (
        f"{psql} -d databridge_bench_src -c '\\copy bench_source.orders TO STDOUT' | "
        f"{psql} -d databridge_bench -c '\\copy bench_pg_raw.orders FROM STDIN'"
    )
    run = measure.run_tree(
        "raw pipe (psql | psql)", ["bash", "-o", "pipefail", "-c", pipe], log_path=str(bench.logs / "pg_raw.log")
    )
    return bench.check(run, "bench_pg_raw.orders")  # type: ignore[no-any-return]


def _pg_databridge(bench: Any) -> Run:
    bench.reset_schema("bench_pg_databridge")
    project = bench.project("bench_pg", "bench_pg_source", "bench_pg_databridge", workload.COLUMNS)
    run = bench.run_databridge("DataBridge", project, ("extract", "transform", "load_dimensions", "load_facts"))
    return bench.check(run, "bench_pg_databridge.orders")  # type: ignore[no-any-return]
