"""Read a mapping project from YAML, turning every mistake into one SpecError naming file, field and fix."""

from __future__ import annotations

import reprlib
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from databridge.errors import SpecError
from databridge.spec.checks import check_project
from databridge.spec.models import PATTERN_HELP, CustomCheck, ForeignKeyCheck, NotNullCheck, Project
from databridge.spec.names import did_you_mean

MAX_PROJECT_BYTES = 1024 * 1024
"""The largest project file DataBridge reads or the wizard accepts (1 MB): a real project is a few KB, and every
DAG parse reads every file, so a runaway file would slow every parse and fill every error message."""


def load_project(path: str | Path, display: str | None = None) -> Project:
    """Parse and check one project file; raises SpecError listing every problem found.

    ``display`` is how errors name the file (default: the path as given).
    """
    path = Path(path)
    name = display or str(path)
    try:
        check_size(path.stat().st_size, name)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex()
        raise SpecError(
            name, [("", f"is not UTF-8 text (byte 0x{byte} at offset {exc.start}); save the file as UTF-8")]
        ) from None
    except OSError as exc:
        raise SpecError(name, [("", f"cannot read the file: {exc}")]) from exc
    return parse_project(text, name)


def check_size(size: int, file: str) -> None:
    """Refuse a project larger than MAX_PROJECT_BYTES before reading or parsing it."""
    if size > MAX_PROJECT_BYTES:
        raise SpecError(
            file,
            [
                (
                    "",
                    f"is {size:,} bytes, more than the {MAX_PROJECT_BYTES:,} bytes a project may have; split it "
                    "into several projects",
                )
            ],
        )


def parse_project(text: str, file: str) -> Project:
    """Parse and check project YAML given as text; ``file`` names it in errors."""
    check_size(len(text.encode("utf-8", errors="surrogatepass")), file)
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
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader that also refuses repeated keys
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if problem.startswith("but ") and getattr(exc, "context", None):
            problem = f"{exc.context}, {problem}"  # type: ignore[attr-defined]
        raise SpecError(file, [("", f"{where}invalid YAML: {problem}{_yaml_hint(problem)}")]) from None
    except RecursionError:
        raise SpecError(
            file, [("", "invalid YAML: lists or mappings nest hundreds of levels deep; a project is a few levels")]
        ) from None
    if data is None:
        raise SpecError(file, [("", "the file is empty: a project needs at least 'name' and 'pipelines'")])
    if not isinstance(data, dict):
        raise SpecError(
            file, [("", f"a project is a mapping of keys (name, pipelines, ...), not a {type(data).__name__}")]
        )
    return data


_YAML_HINTS = {
    "'\\t'": "; indent with spaces (YAML does not allow tabs)",
    "found another document": "; a project file holds one YAML document: remove the second '---'",
    "could not determine a constructor": "; a project is plain YAML: remove the tag",
}


def _yaml_hint(problem: str) -> str:
    return next((hint for words, hint in _YAML_HINTS.items() if words in problem), "")


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error, not a silent overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in this mapping; keep one", key_node.start_mark
                )
            seen.add(key) if isinstance(key, typing.Hashable) else None
        return super().construct_mapping(node, deep)


def format_path(loc: tuple[int | str, ...]) -> str:
    """('pipelines', 0, 'tables') -> 'pipelines[0].tables'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """Pydantic's errors as the spec's (path, message) pairs; a value fitting none of text/number/boolean is one."""
    problems: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        if loc and loc[-1] in _SCALAR_MEMBERS:
            problem = (
                format_path(_drop_union_tags(loc[:-1])),
                f"write one value: text, a number or true/false (got {_short(err.get('input'))})",
            )
        else:
            problem = _describe(err)
        if problem not in problems:
            problems.append(problem)
    return problems


_SCALAR_MEMBERS = ("str", "int", "float", "bool")
"""How pydantic names the members of ``str | int | float | bool`` (a default, an expected value) in an error path."""


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
    if kind == "too_short":
        return format_path(loc), _too_short(loc, err["ctx"]["min_length"])
    if kind == "literal_error":
        expected = err["ctx"]["expected"]
        hint = did_you_mean(str(value), [e.strip(" '") for e in expected.replace(" or ", ",").split(",")])
        return format_path(loc), f"{value!r} is not allowed; write one of {expected}{hint}"
    if kind == "union_tag_invalid":
        tag = err["ctx"]["tag"]
        expected = err["ctx"]["expected_tags"]
        return format_path(
            loc
        ), f"check {tag!r} is unknown; write one of {expected}{did_you_mean(tag, _tags(expected))}"
    if kind == "union_tag_not_found":
        return format_path(loc), "needs 'check:' (not_null, foreign_key or custom)"
    if kind == "string_type" and isinstance(value, bool):
        return format_path(loc), f"YAML read {value} (from yes/no/on/off/true/false); put the text in quotes"
    if kind == "value_error":
        return format_path(loc), str(err["ctx"]["error"])
    if kind == "string_pattern_mismatch":
        return format_path(loc), f"{_short(value)} {PATTERN_HELP.get(err['ctx']['pattern'], 'has the wrong form')}"
    return format_path(loc), f"{err['msg'][0].lower()}{err['msg'][1:]} (got {_short(value)}){_TYPE_HINTS.get(kind, '')}"


NO_COLUMNS = "no column is mapped: list at least one column, or leave columns out to take every source column unchanged"
"""The message of a target table whose ``columns`` is an empty list (the wizard says it in its own terms)."""


def _too_short(loc: tuple[int | str, ...], least: int) -> str:
    if len(loc) > 2 and loc[-1] == "columns" and loc[-3] == "targets":
        return NO_COLUMNS
    return f"is empty: list at least {least} item{'s' if least > 1 else ''}"


_TYPE_HINTS = {
    "date_from_datetime_parsing": "; write a date as YYYY-MM-DD",
    "date_parsing": "; write a date as YYYY-MM-DD",
    "model_type": "; write a mapping of keys (key: value, ...)",
    "model_attributes_type": "; write a mapping of keys (key: value, ...)",
}


def _tags(expected: str) -> list[str]:
    return [t.strip(" '") for t in expected.replace(" or ", ",").split(",")]


_REPR = reprlib.Repr()
"""Bounded repr: a value built from YAML aliases may hold millions of items (the "billion laughs")."""
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxstring, _REPR.maxother = 3, 6, 6, 80, 80


def _short(value: Any) -> str:
    text = _REPR.repr(value)
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
