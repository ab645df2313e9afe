"""Run one method as a process tree, timing it and sampling the peak RSS of the whole tree; checksum its table."""

from __future__ import annotations

import json
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

SAMPLE_SECONDS = 0.02


@dataclass
class Run:
    """One run of one method: wall seconds, seconds of the measured work, peak RSS of its process tree."""

    method: str
    wall: float
    seconds: float
    peak_rss_mb: float
    cpu: float = 0.0
    """CPU seconds (user + system) of the method's own processes, servers not included."""
    rows: int = 0
    checksum: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def run_tree(method: str, argv: list[str], log_path: str, env: dict[str, str] | None = None) -> Run:
    """Start ``argv``; sample the RSS of it and all its descendants until it ends; fail loudly if it fails.

    Its output goes to ``log_path``. A process whose last line of output is a JSON object with ``seconds`` reports
    the time of its own work (Python methods: their interpreter and imports are not part of the data path);
    otherwise the wall time counts.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log_path, "w") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        peak = _watch(proc)
        wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process of the tree, once waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    output = Path(log_path).read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed (exit {proc.returncode}); see {log_path}\n{output[-2000:]}")
    detail = _last_json(output)
    cpu = float(detail.get("cpu", cpu))  # a process that timed its own work counts its own CPU for it
    return Run(method, wall, float(detail.get("seconds", wall)), peak / 2**20, cpu=cpu, detail=detail)


def _watch(proc: subprocess.Popen[bytes]) -> int:
    """Peak of the summed RSS of the process and its descendants, sampled every 20 ms."""
    root = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                total += p.memory_info().rss
        except psutil.Error:
            pass  # a child ended between listing and reading it
        peak = max(peak, total)
        time.sleep(SAMPLE_SECONDS)
    return peak


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            found: dict[str, Any] = json.loads(line)
            return found
    return {}


# Each column normalised to one text form whatever type a tool chose for it, so equal sums mean equal values:
# doubles as float8's shortest exact text, JSON as jsonb, booleans from 0/1 or true/false, date-times in UTC.
NORMALISED = """ROW(id::bigint, customer_id::bigint, code::text, name::text, amount::numeric(12,2),
  to_char(created_at::timestamp, 'YYYY-MM-DD HH24:MI:SS.US'), order_day::date,
  CASE WHEN active IS NULL THEN NULL ELSE active::text IN ('true', '1') END,
  score::float8, notes::text, attrs::text::jsonb, quantity::integer)::text"""


def checksum_sql(table: str) -> str:
    """Row count and an order-independent checksum: the sum of the first 64 bits of each normalised row's md5."""
    return (
        f"SELECT count(*), coalesce(sum(('x' || left(md5({NORMALISED}), 16))::bit(64)::bigint::numeric), 0) "
        f"FROM {table}"
    )
