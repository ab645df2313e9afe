"""Foreign keys that close a reference cycle, for generated tables written out as a project (init, the wizard). Pure.

A pipeline that takes tables by include orders its loads leaving out the reference that closes a cycle
(compiler/order.py ``break_cycles``). A project written out in full has no include, and there a cycle among the
target tables' ``foreign_keys`` is refused, as a loop the user wrote by mistake. So the generated reference that
closes a cycle is written as a foreign_key check of the pipeline instead: the validate stage still checks it, and the
load order follows the rest of the graph.
"""

from __future__ import annotations

from databridge.spec.checks import find_cycle
from databridge.spec.models import ForeignKey, ForeignKeyCheck, TableMapping, TargetTable
from databridge.spec.names import parse_qualified


def split_cycles(mappings: list[TableMapping]) -> tuple[list[TableMapping], list[ForeignKeyCheck]]:
    """The mappings without the foreign keys that close a cycle, and those foreign keys as checks."""
    graph = _graph(mappings)
    closing: set[tuple[str, str]] = set()
    while cycle := find_cycle(graph):
        graph[cycle[-2]].remove(cycle[-1])
        closing.add((cycle[-2], cycle[-1]))
    if not closing:
        return mappings, []
    checks: list[ForeignKeyCheck] = []
    out = [m.model_copy(update={"targets": [_without(t, closing, checks) for t in m.targets]}) for m in mappings]
    return out, checks


def _normal(table: str) -> str:
    return str(parse_qualified(table).with_default_schema("public"))


def _graph(mappings: list[TableMapping]) -> dict[str, list[str]]:
    tables = {_normal(t.table) for m in mappings for t in m.targets}
    graph: dict[str, list[str]] = {}
    for target in (t for m in mappings for t in m.targets):
        me = _normal(target.table)
        refs = [_normal(fk.references) for fk in target.foreign_keys]
        graph.setdefault(me, []).extend(r for r in refs if r in tables and r != me)
    return graph


def _without(target: TargetTable, closing: set[tuple[str, str]], checks: list[ForeignKeyCheck]) -> TargetTable:
    me = _normal(target.table)
    kept: list[ForeignKey] = []
    for fk in target.foreign_keys:
        if (me, _normal(fk.references)) in closing:
            fields = {"referenced_columns": fk.referenced_columns} if fk.referenced_columns else {}
            checks.append(
                ForeignKeyCheck(
                    check="foreign_key", table=target.table, columns=fk.columns, references=fk.references, **fields
                )
            )
        else:
            kept.append(fk)
    return target if len(kept) == len(target.foreign_keys) else target.model_copy(update={"foreign_keys": kept})
