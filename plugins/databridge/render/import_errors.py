"""Show a broken project as an Airflow import error of its own YAML file, while the other projects load."""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Any

log = logging.getLogger(__name__)


def report_import_error(file: str, message: str) -> bool:
    """Attach ``message`` to the import result Airflow is building for the factory file.

    All projects come from one factory file, and Airflow records import errors per file it parses: raising
    would drop every project's DAG. Airflow 3's Python importer keeps the errors of the file being parsed in
    a ``DagImportResult`` on its stack; an error added there under the YAML file's own path is stored and
    shown as that file's import error (and never marks the good DAGs stale). Outside Airflow's parser (a
    plain import, a test) the error is logged and raised as a warning instead. Returns True when attached.
    """
    result = _current_import_result()
    if result is None:
        log.error("%s", message)
        warnings.warn(message, stacklevel=3)
        return False
    from airflow.dag_processing.importers.base import DagImportError

    result.errors.append(DagImportError(file_path=file, message=message, error_type="databridge-spec", stacktrace=message))
    return True


def _current_import_result() -> Any:
    try:
        from airflow.dag_processing.importers.base import DagImportResult
    except ImportError:  # not inside an Airflow installation that has importers
        return None
    frame = sys._getframe(1)
    while frame is not None:
        candidate = frame.f_locals.get("result")
        if isinstance(candidate, DagImportResult):
            return candidate
        frame = frame.f_back  # type: ignore[assignment]
    return None
