"""Orders: pipelines after what they depend on; target tables dimensions first, each after what it references."""

from __future__ import annotations

from collections.abc import Sequence

from databridge.compiler.plan import TableRef, TargetPlan
from databridge.spec.checks import find_cycle


def order_pipelines(names: Sequence[str], depends_on: dict[str, Sequence[str]]) -> list[str]:
    """Names in a stable dependency order (the spec checks have already refused cycles)."""
    return _stable_topological(list(names), {n: [d for d in depends_on.get(n, ()) if d in names] for n in names})


def order_targets(targets: Sequence[TargetPlan], *, break_cycles: bool = False) -> list[TableRef]:
    """Load order; raises ValueError naming the tables when references loop or a dimension needs a fact.

    ``break_cycles``: for tables taken by pattern (generate/), whose foreign keys are the source's own, a loop is not a
    mistake in the project: the reference that closes it is left out of the order (the validate stage still checks
    it; the load creates foreign keys after the data), so they load in the order the rest of the graph allows."""
    roles = {t.table: t.role for t in targets}
    refs = {
        t.table: [fk.references for fk in t.foreign_keys if fk.references in roles and fk.references != t.table]
        for t in targets
    }
    for table, needed in refs.items():
        for ref in needed:
            if roles[table] == "dimension" and roles[ref] == "fact":
                raise ValueError(
                    f"dimension {table} references fact {ref}, but dimensions load first; make {ref} a dimension "
                    "or drop the reference"
                )
    graph = {str(t): [str(r) for r in rs] for t, rs in refs.items()}
    while break_cycles and (cycle := find_cycle(graph)):
        graph[cycle[-2]].remove(cycle[-1])
    cycle = find_cycle(graph)
    if cycle:
        raise ValueError(f"target tables reference each other in a cycle: {' -> '.join(cycle)}; drop one foreign key")
    by_name = {str(t): t for t in roles}
    order: list[TableRef] = []
    for role in ("dimension", "fact"):
        names = [str(t.table) for t in targets if t.role == role]
        order += [by_name[n] for n in _stable_topological(names, graph)]
    return order


def _stable_topological(nodes: list[str], needs: dict[str, list[str]]) -> list[str]:
    done: list[str] = []
    remaining = list(nodes)
    while remaining:
        ready = next(n for n in remaining if all(d in done or d not in remaining for d in needs.get(n, ())))
        done.append(ready)
        remaining.remove(ready)
    return done
