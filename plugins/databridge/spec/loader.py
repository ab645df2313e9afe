"""Read a mapping project from YAML, turning every mistake into one SpecError naming file, field and fix."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from databridge.errors import SpecError
from databridge.spec.checks import check_project
from databridge.spec.models import CustomCheck, ForeignKeyCheck, NotNullCheck, Project
from databridge.spec.names import did_you_mean


def load_project(path: str | Path, display: str | None = None) -> Project:
    """Parse and check one project file; raises SpecError listing every problem found.

    ``display`` is how errors name the file (default: the path as given).
    """
    path = Path(path)
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(name, [("", f"cannot read the file: {exc}")]) from exc
    return parse_project(text, name)


def parse_project(text: str, file: str) -> Project:
    """Parse and check project YAML given as text; ``file`` names it in errors."""
    data = _parse_yaml(text, file)
    try:
        project = Project.model_validate(data)
    except ValidationError as exc:
        raise SpecError(file, validation_problems(exc)) from None
    problems = check_project(project)
    if problems:
        raise SpecError(file, problems)
    return project


def _parse_yaml(text: str, file: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(file, [("", f"{where}invalid YAML: {problem}")]) from None
    if data is None:
        raise SpecError(file, [("", "the file is empty: a project needs at least 'name' and 'pipelines'")])
    if not isinstance(data, dict):
        raise SpecError(file, [("", f"a project is a mapping of keys (name, pipelines, ...), not a {type(data).__name__}")])
    return data


def format_path(loc: tuple[int | str, ...]) -> str:
    """('pipelines', 0, 'tables') -> 'pipelines[0].tables'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as the spec's (path, message) pairs."""
    return [_describe(err) for err in exc.errors()]


def _describe(err: Any) -> tuple[str, str]:
    raw_loc = tuple(err["loc"])
    loc = _drop_union_tags(raw_loc)
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _fields_at(raw_loc[:-1])
        hint = did_you_mean(key, allowed) or (f" (allowed: {', '.join(sorted(allowed))})" if allowed else "")
        return format_path(loc), f"unknown field {key!r}{hint}"
    if kind == "missing":
        return format_path(loc), "is required but missing"
    if kind == "literal_error":
        expected = err["ctx"]["expected"]
        hint = did_you_mean(str(value), [e.strip(" '") for e in expected.replace(" or ", ",").split(",")])
        return format_path(loc), f"{value!r} is not allowed; write one of {expected}{hint}"
    if kind == "union_tag_invalid":
        tag = err["ctx"]["tag"]
        expected = err["ctx"]["expected_tags"]
        return format_path(loc), f"check {tag!r} is unknown; write one of {expected}{did_you_mean(tag, _tags(expected))}"
    if kind == "union_tag_not_found":
        return format_path(loc), "needs 'check:' (not_null, foreign_key or custom)"
    if kind == "value_error":
        return format_path(loc), str(err["ctx"]["error"])
    if kind == "string_pattern_mismatch":
        return format_path(loc), f"{value!r} must start with a letter and hold only letters, digits and underscores (at most 63)"
    return format_path(loc), f"{err['msg'][0].lower()}{err['msg'][1:]} (got {_short(value)})"


def _tags(expected: str) -> list[str]:
    return [t.strip(" '") for t in expected.replace(" or ", ",").split(",")]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_UNION_TAGS = {"not_null": NotNullCheck, "foreign_key": ForeignKeyCheck, "custom": CustomCheck}


def _drop_union_tags(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """Pydantic puts the discriminator value in the location of a tagged union member: hide it."""
    return tuple(p for i, p in enumerate(loc) if not (p in _UNION_TAGS and i and isinstance(loc[i - 1], int)))


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model found by walking ``loc`` (with union tags) down from Project."""
    annotation: Any = Project
    for i, part in enumerate(loc):
        if isinstance(part, int):
            continue
        if part in _UNION_TAGS and i and isinstance(loc[i - 1], int):
            annotation = _UNION_TAGS[part]
            continue
        model = _model_in(annotation)
        if model is None:
            return []
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
    model = _model_in(annotation)
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Annotated):
        models = [m for m in (_model_in(a) for a in args) if m is not None]
        return models[0] if len(models) == 1 else None
    return None
