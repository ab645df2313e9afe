"""Extract streams in batches: the memory it needs does not grow with the size of the table."""

from __future__ import annotations

import tracemalloc

import pytest

from .conftest import Source
from .runner import TargetDB, end_lease, pipeline_params, run_stage

pytestmark = pytest.mark.integration

SMALL, LARGE = 5_000, 50_000
PAYLOAD = 200
FILL = {
    "postgres": "INSERT INTO wide SELECT g, repeat('x', {payload}) || g FROM generate_series(1, {rows}) g",
    "mysql": "INSERT INTO wide SELECT seq, CONCAT(REPEAT('x', {payload}), seq) FROM seq_1_to_{rows}",
    "sqlite": (
        "WITH RECURSIVE c(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM c WHERE g < {rows}) "
        "INSERT INTO wide SELECT g, substr(hex(zeroblob({payload})), 1, {payload}) || g FROM c"
    ),
}


def project(source: Source) -> str:
    return f"""
name: memory_check
defaults: {{batch_size: 500}}
pipelines:
  - name: wide
    source_conn_id: {source.conn_id}
    target_conn_id: it_target
    tables:
      - source: {source.schema}.wide
        targets:
          - table: public.wide_copy
            columns: [{{source: id}}, {{source: payload}}]
"""


def peak_extract_bytes(source: Source, rows: int, run_id: str) -> int:
    source.db.execute("DELETE FROM wide")
    source.db.execute(FILL[source.engine].format(rows=rows, payload=PAYLOAD))
    tracemalloc.start()
    try:
        result = run_stage(pipeline_params(project(source)), "extract", run_id)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result[f"{source.schema}.wide"]["staged_rows"] == rows
    return peak


def test_extract_memory_is_flat_from_5k_to_50k_rows(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, payload TEXT)")
    small = peak_extract_bytes(source, SMALL, "run-small")
    end_lease(target, "memory_check", "wide", "the small run was measured and ended")
    large = peak_extract_bytes(source, LARGE, "run-large")
    table_bytes = LARGE * PAYLOAD
    # Holding the table would need ~10 MB more for 45,000 more rows; one batch of 500 rows is ~0.1 MB.
    assert large < small + table_bytes // 10, (small, large)
