"""Show a broken project as an Airflow import error naming its YAML file, while the other projects load.

Airflow records import errors per DAG file it parses, and a DAG file that raises loses every DAG it defines: the
factory file cannot raise for one project. So each broken project gets a small DAG file of its own, written into
``databridge_import_errors/`` beside the factory file. Parsing it loads the project again and raises the loader's
message (``include/mappings/x.yaml: pipelines[0]...``), which Airflow keeps as that file's import error, through
nothing but its ordinary parsing. Once the YAML loads (or is deleted) the file raises nothing, and the factory
removes it on its next parse.
"""

from __future__ import annotations

import ast
import logging
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = "databridge_import_errors"
_CALL = re.compile(r"^raise_if_broken\((.+)\)$", re.MULTILINE)
_STUB = '''"""DataBridge mapping project {yaml} does not load: this airflow DAG file shows why, as its import error.

Written by DataBridge when it parsed {factory}; fix the YAML file and this file goes away on the next parse.
"""

from databridge.render.import_errors import raise_if_broken

raise_if_broken({path!r})
'''


def raise_if_broken(project_file: str) -> None:
    """Raise what keeps the project out of the DAGs, if anything still does (Airflow's import error of the caller)."""
    from databridge.render.factory import project_error

    path = Path(project_file)
    error = project_error(path) if path.is_file() else None
    if error is not None:
        # Without the loader's frames, the traceback Airflow shows is the DAG file's line, then this, then the message.
        raise error.with_traceback(None)


def report_import_error(dag_file: str | None, project_file: Path, message: str) -> Path | None:
    """Write the broken project's DAG file beside ``dag_file`` (the factory's); returns it, or None when it cannot be.

    Without a DAG file (a plain import, a test) or a writable DAG folder, the message is logged and raised as a
    warning instead (Airflow keeps a DAG file's warnings too).
    """
    if dag_file is None:
        _warn(message)
        return None
    stub = Path(dag_file).parent / FOLDER / f"{project_file.stem}.py"
    text = _STUB.format(yaml=project_file.name, factory=Path(dag_file).name, path=str(project_file.resolve()))
    try:
        stub.parent.mkdir(exist_ok=True)
        if not stub.is_file() or stub.read_text() != text:  # unchanged: no new modification time, no extra parse
            stub.write_text(text)
    except OSError as exc:
        _warn(f"{message} (DataBridge could not write {stub} to show it as an import error: {exc.strerror})")
        return None
    return stub


def remove_fixed(dag_file: str | None, folder: Path, broken: Iterable[Path]) -> None:
    """Delete the DAG files of this mappings folder's projects that load again, and of any project file now gone."""
    if dag_file is None:
        return
    still_broken = {p.resolve() for p in broken}
    for stub in (Path(dag_file).parent / FOLDER).glob("*.py"):
        target = _project_of(stub)
        if target is None:
            continue
        if not target.is_file() or (target.parent == folder.resolve() and target not in still_broken):
            stub.unlink(missing_ok=True)


def _project_of(stub: Path) -> Path | None:
    match = _CALL.search(stub.read_text())
    return Path(ast.literal_eval(match.group(1))) if match else None


def _warn(message: str) -> None:
    log.error("%s", message)
    warnings.warn(message, stacklevel=3)
