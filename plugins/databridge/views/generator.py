"""The wizard's "Add all tables" and "Auto-map all": source tables → table mappings by the one generator (generate/),
the same that expands include patterns and writes ``databridge init`` files. No web framework here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.errors import MissingTable
from databridge.generate.cycles import split_cycles
from databridge.generate.tables import GenerateError, generate
from databridge.spec.models import Naming
from databridge.spec.names import parse_qualified
from databridge.views.connections import source_engine
from databridge.views.errors import InvalidInput, NotFound


def generate_tables(conn_id: str, names: Sequence[str], naming: Naming, target_schema: str | None) -> dict[str, Any]:
    """Every column, the primary key as keys, foreign keys and roles of the named tables, in their order; the foreign
    keys closing a reference cycle as foreign_key checks (a project written out in full cannot load in a cycle)."""
    refs = [_ref(name, i) for i, name in enumerate(names)]
    with source_engine(conn_id) as source:
        infos = []
        for ref in refs:
            try:
                infos.append(source.describe(ref if ref.schema else TableRef(source.default_schema(), ref.name)))
            except MissingTable as exc:
                raise NotFound(str(exc)) from None
    try:
        tables, checks = split_cycles(generate(infos, naming, target_schema))
    except GenerateError as exc:
        raise InvalidInput(
            "the generated names collide: " + "; ".join(exc.problems),
            problems=[{"path": "naming", "message": p} for p in exc.problems],
        ) from None
    return {
        "tables": [m.model_dump(mode="json", exclude_unset=True) for m in tables],
        "validations": [c.model_dump(mode="json", exclude_unset=True) for c in checks],
        "types": {m.source: {c.name: c.pg_type for c in info.columns} for m, info in zip(tables, infos, strict=True)},
    }


def _ref(name: str, index: int) -> TableRef:
    try:
        qualified = parse_qualified(name)
    except ValueError as exc:
        raise InvalidInput(
            f"tables[{index}]: {exc}", problems=[{"path": f"tables[{index}]", "message": str(exc)}]
        ) from None
    return TableRef(qualified.schema, qualified.name)
