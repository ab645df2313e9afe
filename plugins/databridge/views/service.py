"""The wizard's project service, without any web framework: list, validate, save and load mapping projects.

Saving writes include/mappings/<name>.yaml (the folder of ``mappings_dir()``) atomically. The YAML is written from
the checked model: keys in the spec's order, values equal to the project's defaults left out. Comments and key
order of a hand-written file are not kept when the wizard saves it again; the spec itself is (load → save gives
an equal ``Project``).
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from databridge.compiler import compile_project
from databridge.compiler.plan import ProjectPlan
from databridge.errors import DataBridgeError, SpecError
from databridge.render.factory import display_name, mappings_dir, project_files
from databridge.spec import Project, load_project, parse_project
from databridge.spec.loader import MAX_PROJECT_BYTES
from databridge.views.errors import InvalidInput, NotFound, TooLarge, spec_problems
from databridge.views.problems import draft_of, in_ui_terms, ui_problem

DRAFT = "draft"
"""How errors name a project that is not saved yet."""


def list_projects(folder: Path | None = None) -> list[dict[str, Any]]:
    """Every project file with its DAG id and pipelines, or the error that keeps it from loading."""
    return [_describe(path) for path in project_files(folder or mappings_dir())]


def _describe(path: Path) -> dict[str, Any]:
    name = display_name(path)
    try:
        plan = compile_project(load_project(path, name), name)
    except DataBridgeError as exc:
        return {"file": name, "ok": False, "error": str(exc)}
    return {
        "file": name,
        "ok": True,
        "dag_id": plan.name,
        "description": plan.description.strip(),
        "pipelines": [
            {
                "name": p.name,
                "source_conn_id": p.source_conn_id,
                "target_conn_id": p.target_conn_id,
                "depends_on": list(p.depends_on),
                "tables": [str(t) for t in p.load_order],
            }
            for p in plan.pipelines
        ],
    }


def draft_text(spec: dict[str, Any] | None, text: str | None) -> str:
    """The draft as YAML text, whether it came as a JSON object or as YAML; exactly one must be given."""
    if (spec is None) == (text is None):
        raise InvalidInput(
            "send the project either as `project` (a JSON object) or as `yaml` (text), not both or neither"
        )
    text = text if text is not None else yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_PROJECT_BYTES:
        raise TooLarge(
            f"the project is {size:,} bytes as YAML, more than the {MAX_PROJECT_BYTES:,} bytes a project may "
            "have; split it into several projects"
        )
    return text


def compiled(text: str, file: str = DRAFT) -> tuple[Project, ProjectPlan]:
    """Parse, check and compile a draft; InvalidInput lists every problem, with the wizard's step that fixes it."""
    try:
        project = parse_project(text, file)
        return project, compile_project(project, file)
    except SpecError as exc:
        raise InvalidInput(str(exc), problems=ui_problems(exc, text)) from None


def ui_problems(exc: SpecError, text: str) -> list[dict[str, Any]]:
    """The spec's problems (path, message) with the wizard's step, control and words for each (views/problems.py)."""
    return in_ui_terms(spec_problems(exc), draft_of(text))


def validate(text: str) -> dict[str, Any]:
    """Every problem of a draft as {path, message}; an empty list when it compiles."""
    try:
        project, _plan = compiled(text)
    except InvalidInput as exc:
        return {"valid": False, "problems": exc.problems}
    return {"valid": True, "problems": [], "project": to_json(project)}


def to_json(project: Project) -> dict[str, Any]:
    """The whole spec as JSON, defaults included (the wizard shows them)."""
    return project.model_dump(mode="json")


def to_yaml(project: Project) -> str:
    """The spec as readable YAML: the spec's key order, defaults left out."""
    return yaml.safe_dump(
        project.model_dump(mode="json", exclude_defaults=True), sort_keys=False, allow_unicode=True, width=120
    )


def save(text: str, *, overwrite: bool = False, folder: Path | None = None) -> dict[str, Any]:
    """Write a valid draft to <folder>/<name>.yaml; nothing is written when it is invalid or would clobber a file."""
    project, _plan = compiled(text)
    folder = folder or mappings_dir()
    path = folder / f"{project.name}.yaml"
    _refuse_clobber(project.name, path, folder, overwrite)
    existed = path.exists()
    _write_atomically(path, to_yaml(project))
    return {"saved": True, "file": display_name(path), "dag_id": project.name, "created": not existed}


def render(text: str, folder: Path | None = None) -> dict[str, Any]:
    """What ``save`` would write, without writing it: the YAML (the same writer), the file's text on disk now (None
    when new) and the line diff between them (a new file: every line added); ``conflict`` when another file holds the
    project's name."""
    project, _plan = compiled(text)
    folder = folder or mappings_dir()
    path = folder / f"{project.name}.yaml"
    new = to_yaml(project)
    old = path.read_text(encoding="utf-8") if path.exists() else None
    conflict = None
    try:
        _refuse_clobber(project.name, path, folder, overwrite=True)
    except InvalidInput as exc:
        conflict = str(exc)
    lines = line_diff(old or "", new)
    return {
        "file": display_name(path), "dag_id": project.name, "exists": old is not None, "yaml": new, "saved_yaml": old,
        "changed": old != new, "added": sum(op == "+" for op, _ in lines), "removed": sum(op == "-" for op, _ in lines),
        "diff": [{"op": op, "text": line} for op, line in lines], "conflict": conflict,
    }  # fmt: skip


def line_diff(old: str, new: str, context: int = 3) -> list[tuple[str, str]]:
    """The changed lines ("-" removed, "+" added) with ``context`` unchanged lines (" ") around them; "@" heads each
    hunk with its line numbers."""
    out: list[tuple[str, str]] = []
    for line in list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context))[2:]:
        op = "@" if line.startswith("@@") else line[:1]
        out.append((op, line if op == "@" else line[1:]))
    return out


def _refuse_clobber(name: str, path: Path, folder: Path, overwrite: bool) -> None:
    for other in project_files(folder):
        if other != path and _project_name(other) == name:
            message = f"project {name!r} is already defined in {display_name(other)}; DAG ids must be unique"
            fix = (
                f"another project file, {display_name(other)}, is named {name!r}: give this project another name in "
                "step 1 (Tables)"
            )
            raise InvalidInput(
                message, status=409, problems=[ui_problem("name", message, step=1, control="#project-name", fix=fix)]
            )
    if path.exists() and not overwrite:
        message = f"{display_name(path)} already exists; send overwrite: true to replace it"
        fix = (
            f"{display_name(path)} already exists: tick “Replace the saved file of this project” and save again, or "
            "give the project another name in step 1 (Tables)"
        )
        raise InvalidInput(
            message, status=409, problems=[ui_problem("overwrite", message, step=6, control="#overwrite", fix=fix)]
        )


def _project_name(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_PROJECT_BYTES:
            return None  # never loaded as a project (spec/loader.py refuses it), so it names none
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError, RecursionError):  # any file in the folder, broken ones too
        return None
    return str(data.get("name")) if isinstance(data, dict) else None


def _write_atomically(path: Path, text: str) -> None:
    """A temp file beside the target, then rename: the dag-processor never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".", suffix=".yaml.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load(name: str, folder: Path | None = None) -> dict[str, Any]:
    """A saved project by DAG id: its spec as JSON and the file's text."""
    path = project_path(name, folder)
    project = load_project(path, display_name(path))
    return {
        "file": display_name(path),
        "dag_id": project.name,
        "project": to_json(project),
        "yaml": path.read_text(encoding="utf-8"),
    }


def saved_project(name: str, folder: Path | None = None) -> Project:
    """The saved project ``name`` (its DAG id), checked; NOT_FOUND when no file holds it."""
    path = project_path(name, folder)
    return load_project(path, display_name(path))


def project_path(name: str, folder: Path | None = None) -> Path:
    """The file holding project ``name`` (its DAG id), or NOT_FOUND."""
    folder = folder or mappings_dir()
    for path in project_files(folder):
        if _project_name(path) == name:
            return path
    raise NotFound(f"no mapping project named {name!r} in {display_name(folder / 'x.yaml').rsplit('/', 1)[0]}")
