"""dlt's sql_database source into PostgreSQL, run in its own venv (it never shares DataBridge's packages).

Usage: dlt_task.py MYSQL_URL POSTGRES_URL DATABASE TABLE DATASET BACKEND
Prints, as its last line, JSON with the seconds of pipeline.run (extract, normalize and load).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time


def main(mysql_url: str, pg_url: str, database: str, table: str, dataset: str, backend: str) -> None:
    import dlt
    from dlt.sources.sql_database import sql_database

    source = sql_database(
        credentials=mysql_url, schema=database, table_names=[table], backend=backend, chunk_size=50_000
    )
    pipeline = dlt.pipeline(
        pipeline_name="databridge_bench",
        pipelines_dir=tempfile.mkdtemp(prefix="dlt-bench-"),
        destination=dlt.destinations.postgres(pg_url),
        dataset_name=dataset,
    )
    start = time.perf_counter()
    pipeline.run(source, write_disposition="replace")
    print(json.dumps({"seconds": time.perf_counter() - start, "backend": backend}))


if __name__ == "__main__":
    main(*sys.argv[1:7])
