"""Run stages of a project through the real operators, in a process of its own: the one the resume tests kill.

    python tests/integration/stage_process.py PROJECT.yaml RUN_ID extract,transform,...

A step ``wait=PATH`` between two stages waits until the file PATH exists (the test says when the run may go on).

Connections come from the AIRFLOW_CONN_* variables the test set. Exit status 1 and the stage's message on failure.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from airflow.sdk.exceptions import AirflowException  # noqa: E402

from tests.integration.runner import pipeline_params, run_stage  # noqa: E402


def main(project: str, run_id: str, stages: str) -> int:
    params = pipeline_params(Path(project).read_text(), file=project)
    for stage in stages.split(","):
        if stage.startswith("wait="):
            while not Path(stage.removeprefix("wait=")).exists():
                time.sleep(0.05)
            continue
        try:
            run_stage(params, stage, run_id, file=project)
        except AirflowException as exc:
            print(f"STAGE FAILED {stage}: {exc}", flush=True)
            return 1
        print(f"STAGE DONE {stage}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
