"""One DataBridge pipeline run by its real operators in this process (as an Airflow task process runs a stage).

Usage: databridge_task.py PROJECT.yaml RUN_ID STAGE [STAGE ...]; a STAGE "extract*N" runs the extract's N mapped
instances at once, each in a process of its own ("extract@k": instance k in this process).
Connections come from AIRFLOW_CONN_* variables. Prints, as its last line, JSON with the seconds and CPU seconds of
the stages and each stage's result, so the benchmark times the data path and not the interpreter's start.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
    timings, results, spans = {}, {}, {}
    cpu = time.process_time()  # every thread of this process: the reader's and the writer's too
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    for stage in stages:
        start = time.perf_counter()
        name, _, instances = stage.partition("*")
        if instances:  # the extract's mapped instances, each in a process of its own, all at once (as workers run them)
            results[name], (first, last) = _instances(project, run_id, name, int(instances))
            timings[name] = last - first  # from the first instance's start of work to the last one's end
            continue
        elif "@" in stage:  # one mapped instance: stage@k
            name, k = stage.split("@")
            began = time.time()
            results[stage] = operators[name](task_id=name, pipeline=params, project_file=project, chunk=int(k)).execute(
                {"run_id": run_id}
            )
            spans[stage] = (began, time.time())
        else:
            results[stage] = operators[stage](task_id=stage, pipeline=params, project_file=project).execute(
                {"run_id": run_id}
            )
        timings[name] = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu + (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    print(
        json.dumps(
            {"seconds": sum(timings.values()), "cpu": cpu, "stages": timings, "results": results, "spans": spans},
            default=str,
        )
    )


def _instances(project: str, run_id: str, stage: str, count: int) -> tuple[list[Any], tuple[float, float]]:
    """Each instance's results, and the span of their work: the first start and the last end (each process's
    interpreter start is not counted, as for one process)."""
    procs = [
        subprocess.Popen([sys.executable, __file__, project, run_id, f"{stage}@{k}"], stdout=subprocess.PIPE, text=True)
        for k in range(count)
    ]
    outputs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        sys.exit(f"{stage}: an instance failed\n" + "\n".join(outputs))
    reports = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    spans = [span for report in reports for span in report["spans"].values()]
    return [r["results"] for r in reports], (min(s[0] for s in spans), max(s[1] for s in spans))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
