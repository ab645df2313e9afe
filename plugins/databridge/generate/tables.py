"""The generator: discovered source tables (what ``describe()`` returns) → the spec's table mappings. Pure.

One function, ``generate``, serves the three ways of taking a whole database: a pipeline's ``include`` patterns
(resolved by the extract stage when a run starts), ``databridge init`` (which writes the result out as a project
file) and the wizard's "Add all tables". For every table it writes:

- one target table, named by the naming convention, in ``target_schema`` (default: the source schema, converted);
- every column in source order, renamed by the convention only where the name changes (``{source: X}`` otherwise),
  with no type: the staging type is the type matrix's, and the target is created from it. A table whose names all
  stay the same is therefore a pass-through table (compiler/plan.py ``moves_staging``);
- the source's primary key as ``keys``;
- its foreign keys to the other generated tables, and the role from that graph: a table another one references is
  a dimension (so every table of a reference cycle is one), any other a fact.

``explicit`` entries (a pipeline's ``tables:``) override what the generator gives their table: the entry's own fields
win, a target's ``columns`` replace the generated mapping of each source column they name (``exclude: true`` leaves
one out; columns they do not name stay generated), and ``role``, ``keys`` and ``foreign_keys`` are generated only when
the entry leaves them out. A target without ``columns`` takes every column (``described`` holds the tables such
entries name that no pattern took). Two source names that meet after conversion are an error naming both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from databridge.generate.naming import NameCollision, collision_message, convert, convert_all
from databridge.spec.models import ColumnMapping, ForeignKey, Naming, TableMapping, TargetTable
from databridge.spec.names import parse_qualified

if TYPE_CHECKING:
    from databridge.engines.base import TableInfo

Key = tuple[str, str]
"""A source table as (schema, name)."""
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


class GenerateError(ValueError):
    """Names that meet after conversion, every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(dict.fromkeys(problems))
        super().__init__("; ".join(self.problems))


def generate(
    tables: Sequence[TableInfo],
    naming: Naming = "as_is",
    target_schema: str | None = None,
    *,
    explicit: Sequence[TableMapping] = (),
    described: Sequence[TableInfo] = (),
    default_schema: str = "",
) -> list[TableMapping]:
    """The table mappings of ``tables`` (taken by pattern) and of the ``explicit`` entries: the explicit ones first, in
    their order (so their field paths stay those of the file), then the generated ones in the order of ``tables``."""
    infos = {_key(t): t for t in [*described, *tables]}
    patterned = list(dict.fromkeys(_key(t) for t in tables))
    problems: list[str] = []
    out, written, taken = [], set(), set(patterned)
    for entry in explicit:
        key = _explicit_key(entry, default_schema)
        written.add(key)
        out.append(_override(entry, infos.get(key), key in taken, naming, problems))
    out += [_generated(infos[k], naming, target_schema, problems) for k in patterned if k not in written]
    problems += _table_collisions(out, len(explicit), naming)
    if problems:
        raise GenerateError(problems)
    return _link(out, infos, set(patterned), default_schema)


def source_text(schema: str, name: str) -> str:
    """schema.table as the spec reads it, parts quoted where needed."""
    return f"{_quoted(schema)}.{_quoted(name)}" if schema else _quoted(name)


def target_table(info: TableInfo, naming: Naming, target_schema: str | None) -> str:
    schema = target_schema or convert(info.schema, naming)
    return source_text(schema, convert(info.name, naming))


def _quoted(part: str) -> str:
    return part if _PLAIN.match(part) else '"' + part.replace('"', '""') + '"'


def _key(info: TableInfo) -> Key:
    return (info.schema, info.name)


def _explicit_key(entry: TableMapping, default_schema: str) -> Key:
    name = parse_qualified(entry.source)
    return (name.schema or default_schema, name.name)


def _generated(info: TableInfo, naming: Naming, target_schema: str | None, problems: list[str]) -> TableMapping:
    columns = _columns(info, naming, problems)
    keys = _keys(info, columns)
    target = TargetTable(
        table=target_table(info, naming, target_schema), columns=columns, **({"keys": keys} if keys else {})
    )
    return TableMapping(source=source_text(info.schema, info.name), targets=[target])


def _columns(
    info: TableInfo, naming: Naming, problems: list[str], skip: frozenset[str] = frozenset()
) -> list[ColumnMapping]:
    """Every column of the table, renamed where the convention changes its name (those in ``skip``, which written
    mappings replace, keep theirs)."""
    names = [c.name for c in info.columns if c.name not in skip]
    try:
        converted = convert_all(names, naming, f"source table {source_text(info.schema, info.name)}: columns")
    except NameCollision as exc:
        problems.append(str(exc))
        converted = {n: n for n in names}
    renamed = [(c.name, converted.get(c.name, c.name)) for c in info.columns]
    return [ColumnMapping(source=old) if new == old else ColumnMapping(source=old, target=new) for old, new in renamed]


def _keys(info: TableInfo, columns: Sequence[ColumnMapping]) -> list[str]:
    """The primary key under the names the columns give it; none when a key column is not loaded unchanged."""
    names = _target_names(columns)
    keys = [names.get(k) for k in info.primary_key]
    return [k for k in keys if k] if all(keys) else []


def _table_collisions(mappings: list[TableMapping], written: int, naming: Naming) -> list[str]:
    """Two source tables must not become one target table (two written entries are the spec checks' to report)."""
    problems = []
    seen: dict[str, tuple[int, str]] = {}
    for i, mapping in enumerate(mappings):
        for target in mapping.targets:
            table = _normal(target.table)
            first = seen.setdefault(table, (i, mapping.source))
            if first[0] != i and (i >= written or first[0] >= written):
                problems.append(collision_message("source tables", first[1], mapping.source, table, naming))
    return problems


def _normal(table: str) -> str:
    try:
        return str(parse_qualified(table).with_default_schema("public"))
    except ValueError:
        return table  # refused by the spec checks


def _override(
    entry: TableMapping, info: TableInfo | None, patterned: bool, naming: Naming, problems: list[str]
) -> TableMapping:
    """An explicit entry with what it leaves out filled in from its table (``info``; None: written out in full, or a
    table missing from the source, which the extract reports)."""
    if info is None:
        return entry
    return entry.model_copy(
        update={"targets": [_override_target(t, info, patterned, naming, problems) for t in entry.targets]}
    )


def _override_target(
    target: TargetTable, info: TableInfo, patterned: bool, naming: Naming, problems: list[str]
) -> TargetTable:
    if target.columns is not None and not patterned:
        return target  # a table named only under tables:, its columns written out: as it was before patterns
    written = target.columns or []
    skip = frozenset(c.source for c in written if c.source)
    columns = _merged_columns(_columns(info, naming, problems, skip), written)
    update: dict[str, object] = {"columns": columns}
    if patterned and "keys" not in target.model_fields_set:
        update["keys"] = _keys(info, columns)
    return target.model_copy(update=update)


def _merged_columns(generated: list[ColumnMapping], written: list[ColumnMapping]) -> list[ColumnMapping]:
    """The generated columns, each replaced by the written mappings of its source column; the other written ones
    (expressions, columns the table does not have: the extract names them) after them."""
    by_source: dict[str, list[ColumnMapping]] = {}
    for column in written:
        if column.source is not None:
            by_source.setdefault(column.source, []).append(column)
    merged = [c for g in generated for c in by_source.pop(g.source or "", [g])]
    return merged + [c for c in written if c.source is None or c.source in by_source]


def _target_names(columns: Sequence[ColumnMapping]) -> dict[str, str]:
    """Source column → the target column it is loaded into unchanged (its first such mapping)."""
    names: dict[str, str] = {}
    for c in columns:
        if c.source is not None and not c.exclude and c.expression is None:
            names.setdefault(c.source, c.target or c.source)
    return names


def _link(
    mappings: list[TableMapping], infos: Mapping[Key, TableInfo], patterned: set[Key], default_schema: str
) -> list[TableMapping]:
    """Foreign keys between the tables taken by pattern, and their roles from that graph (where not written)."""
    keys = [_explicit_key(m, default_schema) for m in mappings]
    placed = {k: m.targets[0] for k, m in zip(keys, mappings, strict=True) if k in patterned and m.targets}
    links = {k: _foreign_keys(infos[k], placed) for k in placed}
    referenced = {fk.references for k, fks in links.items() for fk in fks if fk.references != placed[k].table}
    out = []
    for key, mapping in zip(keys, mappings, strict=True):
        if key not in placed:
            out.append(mapping)
            continue
        first = _linked(
            mapping.targets[0], links[key], "dimension" if mapping.targets[0].table in referenced else "fact"
        )
        out.append(mapping.model_copy(update={"targets": [first, *mapping.targets[1:]]}))
    return out


def _linked(target: TargetTable, foreign_keys: list[ForeignKey], role: str) -> TargetTable:
    update: dict[str, object] = {}
    if "foreign_keys" not in target.model_fields_set and foreign_keys:
        update["foreign_keys"] = foreign_keys
    if "role" not in target.model_fields_set:
        update["role"] = role
    return target.model_copy(update=update) if update else target


def _foreign_keys(info: TableInfo, placed: Mapping[Key, TargetTable]) -> list[ForeignKey]:
    """The table's foreign keys whose columns, on both sides, are loaded unchanged into the first targets."""
    by_text = {f"{k[0]}.{k[1]}": k for k in placed}
    mine = _target_names(placed[_key(info)].columns or [])
    out = []
    for fk in info.foreign_keys:
        ref = by_text.get(fk.references)
        if ref is None:
            continue  # a table not migrated here
        theirs = _target_names(placed[ref].columns or [])
        columns = [mine.get(c) for c in fk.columns]
        referenced = [theirs.get(c) for c in fk.referenced_columns]
        if all(columns) and all(referenced):
            cols, refs = [c for c in columns if c], [r for r in referenced if r]
            out.append(
                ForeignKey(
                    columns=cols, references=placed[ref].table, **({} if refs == cols else {"referenced_columns": refs})
                )
            )
    return out
