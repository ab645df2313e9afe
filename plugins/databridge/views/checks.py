"""The data-aware lint of a draft, for the wizard's Validate step: every pipeline against its real source."""

from __future__ import annotations

import dataclasses
from typing import Any

from databridge.lint.command import lint_one
from databridge.views import connections
from databridge.views.service import compiled


def lint_draft(text: str, sample_rows: int) -> list[dict[str, Any]]:
    """Lint problems of every pipeline (sample of ``sample_rows`` per table), as JSON with the pipeline's name."""
    _project, plan = compiled(text)
    found = []
    for pipeline in plan.pipelines:
        given = {c: connections.connection(c) for c in (pipeline.source_conn_id, pipeline.target_conn_id)}
        for problem in lint_one(pipeline, given, sample_rows=sample_rows, full_scan=False):
            found.append({"pipeline": pipeline.name, **dataclasses.asdict(problem)})
    return found
