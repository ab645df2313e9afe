"""make bench: DataBridge against the raw pipe, pgloader and dlt on shared/PERF.md's workload, in one session.

Each round runs every method once, in turn (alternating, so all share the same time window); the table shows
medians. Every method's table is checked against the raw pipe's: same row count, same order-independent checksum.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import workload  # noqa: E402
from measure import Run  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
HOME = Path(os.environ.get("DATABRIDGE_HOME", REPO / ".databridge")) / "bench"
PG_DB, PG_SRC_DB = "databridge_bench", "databridge_bench_src"
DLT_PACKAGES = ["dlt[postgres]==1.31.0", "sqlalchemy==2.1.9", "pyarrow==26.0.1", "connectorx==0.4.6", "pymysql==1.1.2"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--rows", type=int, default=1_000_000, help="rows in the workload (default 1M)")
    p.add_argument("--10m", dest="ten_million", action="store_true", help="10M rows (the memory-flatness run)")
    p.add_argument("--quick", action="store_true", help="100k rows, one round: to iterate")
    p.add_argument(
        "--schema",
        action="store_true",
        help="the whole-schema case instead: a 12-table MariaDB schema of --rows rows in all, "
        "migrated by DataBridge (six stages, an include project) and by pgloader; end states compared",
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--chunks",
        type=int,
        default=1,
        help="DataBridge's chunks, extracted at once as mapped instances, "
        "each in a process of its own (default 1: one stream)",
    )
    p.add_argument(
        "--methods", default="raw,pgloader,dlt,databridge", help="comma-separated subset; the first is the baseline"
    )
    p.add_argument("--no-extras", action="store_true", help="skip the transform and PostgreSQL -> PostgreSQL runs")
    p.add_argument(
        "--keep", action="store_true", help="keep the loaded tables in PostgreSQL (dropped by default: they are large)"
    )
    p.add_argument("--pg", default="127.0.0.1:5432", help="PostgreSQL host:port (user postgres)")
    p.add_argument("--mysql", default="127.0.0.1:3306", help="MariaDB host:port (user root, no password)")
    args = p.parse_args()
    if args.quick:
        args.rows, args.rounds = 100_000, 1
    if args.ten_million:
        args.rows = 10_000_000
    return args


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.pg_host, pg_port = args.pg.split(":")
        self.pg_port = int(pg_port)
        self.my_host, my_port = args.mysql.split(":")
        self.my_port = int(my_port)
        self.table = workload.table_name(args.rows)
        self.logs = HOME / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    # -- set-up ---------------------------------------------------------------------------------------------
    def pg(self, dbname: str = PG_DB) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.pg_host,
            port=self.pg_port,
            user="postgres",
            dbname=dbname,
            autocommit=True,
            options="-c TimeZone=UTC -c extra_float_digits=1",
        )

    def ensure_databases(self) -> None:
        with self.pg("postgres") as admin:
            for name in (PG_DB, PG_SRC_DB):
                if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    admin.execute(f'CREATE DATABASE "{name}"')

    def env(self) -> dict[str, str]:
        """The task process's environment: the two connections as Airflow reads them."""
        env = dict(os.environ)
        env["AIRFLOW_CONN_BENCH_MYSQL"] = json.dumps(
            {
                "conn_type": "mysql",
                "host": self.my_host,
                "port": self.my_port,
                "login": "root",
                "schema": workload.DATABASE,
            }
        )
        env["AIRFLOW_CONN_BENCH_PG_SOURCE"] = json.dumps(
            {
                "conn_type": "postgres",
                "host": self.pg_host,
                "port": self.pg_port,
                "login": "postgres",
                "schema": PG_SRC_DB,
            }
        )
        env["AIRFLOW_CONN_BENCH_TARGET"] = json.dumps(
            {"conn_type": "postgres", "host": self.pg_host, "port": self.pg_port, "login": "postgres", "schema": PG_DB}
        )
        env["PYTHONPATH"] = str(REPO / "plugins")
        return env

    def reset_schema(self, schema: str, db: str = PG_DB) -> None:
        with self.pg(db) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute("CHECKPOINT")  # every method starts with no dirty buffers of the one before

    def drop_targets(self) -> None:
        """The loaded copies go; the workload (MariaDB, and the PostgreSQL source) stays for the next run."""
        with self.pg() as conn:
            schemas = [
                r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").fetchall()
            ]
            for schema in schemas:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")

    def check(self, run: Run, table: str, db: str = PG_DB) -> Run:
        with self.pg(db) as conn:
            rows, total = conn.execute(measure.checksum_sql(table)).fetchone()  # type: ignore[misc]
        run.rows, run.checksum = int(rows), str(total)
        return run

    # -- the methods ----------------------------------------------------------------------------------------
    def raw_pipe(self) -> Run:
        """mariadb | psql \\copy into a typed table with its primary key (the state every other method ends in)."""
        self.reset_schema("bench_raw")
        with self.pg() as conn:
            conn.execute(workload.pg_table_ddl("bench_raw.orders"))
        select = f"SELECT {', '.join(workload.COLUMNS)} FROM {workload.DATABASE}.{self.table}"
        pipe = (
            f"mariadb --quick -B -N -h {self.my_host} -P {self.my_port} -u root -e '{select}' | "
            f"psql -q -h {self.pg_host} -p {self.pg_port} -U postgres -d {PG_DB} -v ON_ERROR_STOP=1 "
            f"-c \"\\copy bench_raw.orders FROM STDIN WITH (NULL 'NULL')\""
        )
        return self.check(
            measure.run_tree("raw pipe", ["bash", "-o", "pipefail", "-c", pipe], log_path=str(self.logs / "raw.log")),
            "bench_raw.orders",
        )

    def pgloader(self) -> Run:
        self.reset_schema("bench_pgloader")
        load = HOME / "pgloader.load"
        load.write_text(f"""LOAD DATABASE
  FROM mysql://root@{self.my_host}:{self.my_port}/{workload.DATABASE}
  INTO postgresql://postgres@{self.pg_host}:{self.pg_port}/{PG_DB}
  WITH include drop, create tables, create indexes, reset sequences, workers = 2, concurrency = 1,
       prefetch rows = 10000, batch rows = 10000, batch size = 64MB
  SET work_mem to '64MB', maintenance_work_mem to '256MB'
  INCLUDING ONLY TABLE NAMES MATCHING '{self.table}'
  ALTER SCHEMA '{workload.DATABASE}' RENAME TO 'bench_pgloader';
""")
        # Its defaults die with "Heap exhausted" on this table: a 4 GB heap is the tuning that makes it run.
        argv = ["pgloader", "--dynamic-space-size", "4096", "--no-ssl-cert-verification", str(load)]
        return self.check(
            measure.run_tree("pgloader", argv, log_path=str(self.logs / "pgloader.log")), f"bench_pgloader.{self.table}"
        )

    def dlt(self) -> Run:
        python = self.dlt_venv()
        self.reset_schema("bench_dlt")
        argv = [
            str(python),
            str(REPO / "scripts/bench/dlt_task.py"),
            f"mysql+pymysql://root@{self.my_host}:{self.my_port}/{workload.DATABASE}",
            f"postgresql://postgres:trust-auth-ignores-this@{self.pg_host}:{self.pg_port}/{PG_DB}",
            workload.DATABASE,
            self.table,
            "bench_dlt",
            "connectorx",
        ]
        return self.check(
            measure.run_tree("dlt (connectorx)", argv, log_path=str(self.logs / "dlt.log")), f"bench_dlt.{self.table}"
        )

    def databridge(self) -> Run:
        self.reset_schema("bench_databridge")
        chunks = self.args.chunks
        project = self.project("bench_mysql", "bench_mysql", "bench_databridge", workload.COLUMNS, chunks=chunks)
        extract = f"extract*{chunks}" if chunks > 1 else "extract"
        method = f"DataBridge ({chunks} chunks)" if chunks > 1 else "DataBridge"
        return self.check(
            self.run_databridge(method, project, (extract, "transform", "load_dimensions", "load_facts")),
            "bench_databridge.orders",
        )

    def run_databridge(self, method: str, project: Path, stages: tuple[str, ...], run_id: str | None = None) -> Run:
        """The stages by the real operators in a process of their own; a new run unless ``run_id`` continues one."""
        run_id = run_id or f"bench-{time.time_ns()}"
        argv = [sys.executable, str(REPO / "scripts/bench/databridge_task.py"), str(project), run_id, *stages]
        return measure.run_tree(method, argv, env=self.env(), log_path=str(self.logs / f"{project.stem}.log"))

    def project(
        self, name: str, source: str, schema: str, columns: tuple[str, ...], extra: str = "", chunks: int = 1
    ) -> Path:
        """A pass-through mapping project: every column unchanged, replace load, id as the key."""
        table = f"{workload.DATABASE}.{self.table}" if source == "bench_mysql" else "bench_source.orders"
        mapped = "".join(f"\n              - {{source: {c}}}" for c in columns)
        path = HOME / f"{name}.yaml"
        path.write_text(f"""name: {name}
defaults: {{batch_size: 10000, chunking: {{chunks: {chunks}, min_rows: 0}}}}
pipelines:
  - name: {name}
    source_conn_id: {source}
    target_conn_id: bench_target
    staging_schema: {schema}_staging
    tables:
      - source: {table}
        targets:
          - table: {schema}.orders
            role: fact
            load: replace
            keys: [id]
            columns:{mapped}{extra}
""")
        return path

    def dlt_venv(self) -> Path:
        """dlt in its own venv under the bench folder, so it can never move Airflow's pinned packages."""
        venv = HOME / "dlt-venv"
        python = venv / "bin/python"
        stamp = venv / ".installed"
        if not stamp.exists() or stamp.read_text() != " ".join(DLT_PACKAGES):
            print(f"dlt: installing {' '.join(DLT_PACKAGES)} into {venv}", flush=True)
            subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *DLT_PACKAGES], check=True)
            stamp.write_text(" ".join(DLT_PACKAGES))
        return python


def ensure_pgloader() -> None:
    """pgloader is Debian's package: installed with apt when missing (as root), else a clear message."""
    if shutil.which("pgloader"):
        return
    if os.geteuid() != 0:
        sys.exit("bench: pgloader is missing; install it with: sudo apt-get install pgloader")
    print("pgloader: installing the Debian package", flush=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "pgloader"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def medians(runs: list[Run]) -> dict[str, Any]:
    return {
        "seconds": statistics.median(r.seconds for r in runs),
        "wall": statistics.median(r.wall for r in runs),
        "peak_rss_mb": statistics.median(r.peak_rss_mb for r in runs),
        "client_cpu_seconds": statistics.median(r.cpu for r in runs),
        "rows": runs[0].rows,
        "checksums": sorted({r.checksum for r in runs}),
        "stages": {s: statistics.median(r.detail["stages"][s] for r in runs) for s in runs[0].detail.get("stages", {})},
    }


def run_rounds(bench: Bench, methods: dict[str, Callable[[], Run]], rounds: int) -> dict[str, list[Run]]:
    runs: dict[str, list[Run]] = {name: [] for name in methods}
    for n in range(1, rounds + 1):
        for name, method in methods.items():
            run = method()
            runs[name].append(run)
            stages = " ".join(f"{k} {v:.2f}" for k, v in run.detail.get("stages", {}).items())
            print(
                f"  round {n} {run.method:<22} {run.rows / run.seconds:>10,.0f} rows/s  {run.seconds:7.2f} s  "
                f"peak RSS {run.peak_rss_mb:7.1f} MB  client CPU {run.cpu:6.2f} s  rows {run.rows:,}  {stages}",
                flush=True,
            )
    return runs


def summarise(title: str, runs: dict[str, list[Run]], baseline: str) -> dict[str, Any]:
    table = {name: medians(r) for name, r in runs.items() if r}
    base = table[baseline]
    print(
        f"\n{title} (medians of {len(runs[baseline])} round(s); 'in rounds': the ratio within each round, "
        "median (min-max))"
    )
    print(
        f"{'method':<24}{'rows/s':>12}{'x ' + baseline:>16}{'in rounds':>20}"
        f"{'seconds':>10}{'peak RSS MB':>14}{'client CPU s':>14}  same rows+checksum"
    )
    for name, m in table.items():
        m["rows_per_second"] = m["rows"] / m["seconds"]
        m["ratio"] = base["seconds"] / m["seconds"]
        paired = [b.seconds / r.seconds for b, r in zip(runs[baseline], runs[name], strict=True)]
        m["ratio_in_rounds"] = {"median": statistics.median(paired), "min": min(paired), "max": max(paired)}
        m["matches"] = m["rows"] == base["rows"] and m["checksums"] == base["checksums"] and len(m["checksums"]) == 1
        spread = f"{statistics.median(paired):.2f} ({min(paired):.2f}-{max(paired):.2f})"
        print(
            f"{runs[name][0].method:<24}{m['rows_per_second']:>12,.0f}{m['ratio']:>16.2f}{spread:>20}{m['seconds']:>10.2f}{m['peak_rss_mb']:>14.1f}"
            f"{m['client_cpu_seconds']:>14.2f}  {'yes' if m['matches'] else 'NO'}"
        )
    return table


def main() -> None:
    args = parse_args()
    bench = Bench(args)
    if args.schema:
        return whole_schema(bench, args)
    wanted = args.methods.split(",")
    if "pgloader" in wanted:
        ensure_pgloader()
    bench.ensure_databases()
    workload.ensure(workload.mysql_connect(bench.my_host, bench.my_port, "root"), args.rows)
    all_methods = {"raw": bench.raw_pipe, "pgloader": bench.pgloader, "dlt": bench.dlt, "databridge": bench.databridge}
    methods = {k: v for k, v in all_methods.items() if k in wanted}
    results: dict[str, Any] = {"rows": args.rows, "rounds": args.rounds, "machine": machine()}
    if methods:  # --methods '' runs only the side benchmarks
        print(f"\nMariaDB -> PostgreSQL, {args.rows:,} rows, {args.rounds} round(s)", flush=True)
        results["mysql_to_postgres"] = summarise(
            "MariaDB -> PostgreSQL", run_rounds(bench, methods, args.rounds), next(iter(methods))
        )
    if not args.no_extras:
        import extras

        results["transform"] = extras.transform(bench, args.rounds)
        results["postgres_to_postgres"] = extras.postgres_to_postgres(bench, args.rounds)
    if not args.keep:
        bench.drop_targets()
    save(results)
    failed = [
        k
        for section in ("mysql_to_postgres", "postgres_to_postgres")
        for k, m in results.get(section, {}).items()
        if not m["matches"]
    ]
    if failed:
        sys.exit(f"bench: these methods did not produce the raw pipe's rows and checksum: {', '.join(failed)}")


def whole_schema(bench: Bench, args: argparse.Namespace) -> None:
    import schema_case

    ensure_pgloader()
    found = schema_case.run(bench, args)
    save({"rows": args.rows, "rounds": args.rounds, "machine": machine(), "whole_schema": found})
    if not (found["databridge"]["matches"] and found["databridge_no_proof"]["matches"]) or any(
        ": rows " in d or "checksums" in d for d in found["differences"]
    ):
        sys.exit("bench: DataBridge's and pgloader's targets do not hold the same rows and values (see above)")


def save(results: dict[str, Any]) -> None:
    out = HOME / f"results-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nresults: {out}")


def machine() -> dict[str, Any]:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem.split(":", 1)[1].strip(),
        "python": sys.version.split()[0],
    }


if __name__ == "__main__":
    main()
