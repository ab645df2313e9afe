"""A generated project written out as YAML a person edits: every table and column on its own line, the type matrix's
type of each column as a comment beside it. Pure.

Types are comments, not ``type:``: without one the staging table, and a target the load creates, take exactly that
type, and a table whose columns keep their names stays a pass-through table (moved into place, not copied). Writing
``type:`` chooses another type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from databridge.generate.tables import source_text
from databridge.spec.models import ColumnMapping, ForeignKey, ForeignKeyCheck, TableMapping, TargetTable

if TYPE_CHECKING:
    from databridge.engines.base import TableInfo

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.$]*$")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def render(
    header: Sequence[str],
    project: dict[str, str],
    pipeline: dict[str, str],
    tables: Sequence[TableMapping],
    checks: Sequence[ForeignKeyCheck],
    infos: Sequence[TableInfo],
) -> str:
    """The project file: ``header`` lines as comments, ``project`` and ``pipeline`` fields (plain values), the
    tables."""
    types = {(i.schema, i.name): {c.name: f"{c.native_type} -> {c.pg_type}" for c in i.columns} for i in infos}
    sources = {m.source: types.get(_key(i)) or {} for m, i in _paired(tables, infos)}
    lines = [f"# {line}" for line in header]
    lines += [f"{k}: {scalar(v)}" for k, v in project.items()]
    lines += ["pipelines:", f"  - name: {scalar(pipeline['name'])}"] + [
        f"    {k}: {scalar(v)}" for k, v in pipeline.items() if k != "name"
    ]
    lines.append("    tables:")
    for mapping in tables:
        lines += _table(mapping, sources.get(mapping.source, {}))
    if checks:
        lines += [
            "    validations:  # references that close a cycle of foreign keys: checked after loading, not "
            "followed by the load order"
        ]
        lines += [
            f"      - {_flow({'check': 'foreign_key', **c.model_dump(exclude_defaults=True, exclude={'check'})})}"
            for c in checks
        ]
    return "\n".join(lines) + "\n"


def scalar(value: object) -> str:
    """A YAML scalar: plain when it reads back as the same string, else double-quoted (JSON is YAML)."""
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


def _key(info: TableInfo) -> tuple[str, str]:
    return (info.schema, info.name)


def _paired(tables: Sequence[TableMapping], infos: Sequence[TableInfo]) -> Iterator[tuple[TableMapping, TableInfo]]:
    by_source = {source_text(i.schema, i.name): i for i in infos}
    for mapping in tables:
        if mapping.source in by_source:
            yield mapping, by_source[mapping.source]


def _table(mapping: TableMapping, types: dict[str, str]) -> list[str]:
    lines = [f"      - source: {scalar(mapping.source)}", "        targets:"]
    for target in mapping.targets:
        lines += _target(target, types)
    return lines


def _target(target: TargetTable, types: dict[str, str]) -> list[str]:
    lines = [
        f"          - table: {scalar(target.table)}",
        f"            role: {target.role}",
        f"            load: {target.load}",
    ]
    if target.keys:
        lines.append(f"            keys: {_flow(target.keys)}")
    lines.append("            columns:")
    lines += [_column(c, types) for c in target.columns or []]
    if target.foreign_keys:
        lines.append("            foreign_keys:")
        lines += [f"              - {_flow(_foreign_key(fk))}" for fk in target.foreign_keys]
    return lines


def _column(column: ColumnMapping, types: dict[str, str]) -> str:
    text = f"              - {_flow(column.model_dump(exclude_defaults=True))}"
    kind = types.get(column.source or "")
    return f"{text}  # {kind}" if kind else text


def _foreign_key(fk: ForeignKey) -> dict[str, object]:
    return fk.model_dump(exclude_defaults=True)


def _flow(value: object) -> str:
    """A flow collection: {a: b, c: [d, e]}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return scalar(value)
