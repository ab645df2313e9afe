"""One DataBridge pipeline run by its real operators in this process (as an Airflow task process runs a stage).

Usage: databridge_task.py PROJECT.yaml RUN_ID STAGE [STAGE ...]
Connections come from AIRFLOW_CONN_* variables. Prints, as its last line, JSON with the seconds and CPU seconds of
the stages and each stage's result, so the benchmark times the data path and not the interpreter's start.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="databridge-bench-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


def main(project: str, run_id: str, stages: list[str]) -> None:
    from databridge.compiler import compile_project
    from databridge.compiler.plan import to_json
    from databridge.render.dag import STAGE_OPERATORS
    from databridge.spec import parse_project

    text = Path(project).read_text()
    plan = compile_project(parse_project(text, project), project)
    params = json.loads(json.dumps(to_json(plan.pipelines[0])))  # as Airflow serializes them
    operators = dict(STAGE_OPERATORS)
    timings, results = {}, {}
    cpu = time.process_time()  # every thread of this process: the reader's and the writer's too
    for stage in stages:
        start = time.perf_counter()
        results[stage] = operators[stage](task_id=stage, pipeline=params, project_file=project).execute({"run_id": run_id})
        timings[stage] = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(json.dumps({"seconds": sum(timings.values()), "cpu": cpu, "stages": timings, "results": results}, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
