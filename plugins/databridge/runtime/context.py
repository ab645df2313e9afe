"""What a stage works with: the pipeline plan, the target, the results store, and the warnings it collects."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from databridge.compiler.plan import PipelinePlan
from databridge.engines.postgres import PostgresTarget
from databridge.runtime.results import ResultStore


@dataclass
class StageContext:
    plan: PipelinePlan
    target: PostgresTarget
    store: ResultStore
    log: Any
    """The operator's logger (Airflow's structlog logger in a task, a logging.Logger elsewhere)."""
    warnings: list[str] = field(default_factory=list)
    progress_rows: Any = field(default=None, repr=False)
    """The stage's writer of progress rows (runtime/progress.py ``ProgressRows``), made on first use."""

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.log.warning(message)


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """Yields a one-item list that holds the elapsed seconds once the block ends."""
    elapsed = [0.0]
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - start


def rate(rows: int, seconds: float) -> float:
    return round(rows / seconds, 1) if seconds > 0 else 0.0
