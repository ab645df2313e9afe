"""An existing target table compared with what the plan gives it, before a row is written.

The plan's column types are the ready table's (what the mappings compute). A target column may be wider than that
(a bigint fed integers, a text fed varchar(40)), and then it holds every value as it is. Anything else is a
difference: a column the table lacks, or a type that would change or refuse values. ``on_schema_change`` decides:

- ``fail`` (the default): one error naming every difference and the fixes; nothing is written;
- ``alter``: missing columns are added and narrower types widened to the plan's; a type that cannot be widened
  (text into date) still fails;
- ``keep``: the table's types stay as they are; values are converted on the way in, and rows that do not convert
  are rejected (runtime/rejects.py). Missing columns still fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from databridge.compiler.identifiers import quote_ident
from databridge.compiler.plan import TargetPlan
from databridge.errors import EngineError
from databridge.runtime.bad_rows import column_types
from databridge.spec.names import did_you_mean

_INTEGERS = {"smallint": 1, "integer": 2, "bigint": 3}
_INTEGER_DIGITS = {1: 5, 2: 10, 3: 19}
_NUMERIC = re.compile(r"^numeric(?:\((\d+),(\d+)\))?$")
_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_MISSING_FIX = (
    "add the missing columns to the table, fix the mapping's target names, or set the target's on_schema_change: "
    "alter (adds them)"
)
_TYPE_FIX = (
    "change the mapping's `type:` to the table's, alter the table yourself, or set the target's on_schema_change: "
    "alter (widens the table's types) or keep (loads into the table's own types; "
    "values that do not convert are rejected)"
)


@dataclass(frozen=True)
class Difference:
    column: str
    planned: str
    existing: str | None
    """The table's type; None: the table has no such column."""

    def describe(self, existing_columns: list[str]) -> str:
        if self.existing is None:
            return (
                f"column {self.column!r} is missing (the mapping gives "
                f"{self.planned}){did_you_mean(self.column, existing_columns)}"
            )
        return f"column {self.column!r} is {self.existing} in the table, the mapping gives {self.planned}"


def reconcile(cur: psycopg.Cursor[Any], target: TargetPlan, table: str, ready: str) -> list[str]:
    """Compare, then fail, alter or keep by the target's rule; what was altered, as report lines."""
    existing = column_types(cur, table)
    found = differences(existing, column_types(cur, ready))
    if target.on_schema_change == "keep":
        found = [d for d in found if d.existing is None]
    if not found:
        return []
    if target.on_schema_change == "alter":
        return _alter(cur, target, table, found, list(existing))
    raise _error(target, found, list(existing))


def differences(existing: dict[str, str], planned: dict[str, str]) -> list[Difference]:
    """Planned columns the table lacks, or holds in a type that cannot take every planned value as it is."""
    return [
        Difference(name, kind, existing.get(name))
        for name, kind in planned.items()
        if existing.get(name) is None or not holds(existing[name], kind)
    ]


def holds(wide: str, narrow: str) -> bool:
    """Whether every value of type ``narrow`` is stored unchanged in a column of type ``wide`` (format_type names)."""
    if wide == narrow:
        return True
    if narrow in _INTEGERS:
        return _holds_integer(wide, _INTEGERS[narrow])
    if (n := _NUMERIC.match(narrow)) and (w := _NUMERIC.match(wide)):
        return _holds_numeric(w, n)
    if (n := _VARCHAR.match(narrow)) and (w := _VARCHAR.match(wide)):
        return w.group(1) is None or (n.group(1) is not None and int(w.group(1)) >= int(n.group(1)))
    return (narrow, wide) in {("real", "double precision")} or (wide == "text" and bool(_VARCHAR.match(narrow)))


def _holds_integer(wide: str, rank: int) -> bool:
    if wide in _INTEGERS:
        return _INTEGERS[wide] >= rank
    numeric = _NUMERIC.match(wide)
    if numeric is None:
        return False
    return numeric.group(1) is None or int(numeric.group(1)) - int(numeric.group(2)) >= _INTEGER_DIGITS[rank]


def _holds_numeric(wide: re.Match[str], narrow: re.Match[str]) -> bool:
    if wide.group(1) is None:
        return True
    if narrow.group(1) is None:
        return False
    (wp, ws), (np_, ns) = (int(wide.group(1)), int(wide.group(2))), (int(narrow.group(1)), int(narrow.group(2)))
    return ws >= ns and wp - ws >= np_ - ns


def _alter(
    cur: psycopg.Cursor[Any], target: TargetPlan, table: str, found: list[Difference], existing: list[str]
) -> list[str]:
    stuck = [d for d in found if d.existing is not None and not holds(d.planned, d.existing)]
    if stuck:
        raise _error(target, stuck, existing, alter=True)
    done = []
    for d in found:
        column = quote_ident(d.column)
        if d.existing is None:
            cur.execute(f"ALTER TABLE {table} ADD COLUMN {column} {d.planned}")
            done.append(f"{target.table}: added column {d.column} {d.planned} (on_schema_change: alter)")
        else:
            cur.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {d.planned}")
            done.append(
                f"{target.table}: widened column {d.column} from {d.existing} to {d.planned} (on_schema_change: alter)"
            )
    return done


def _error(target: TargetPlan, found: list[Difference], existing: list[str], *, alter: bool = False) -> EngineError:
    listed = "; ".join(d.describe(existing) for d in found)
    if alter:
        return EngineError(
            f"target table {target.table} differs from the mapping in ways on_schema_change: alter cannot widen: "
            f"{listed}; change the mapping's `type:` or convert the column yourself",
            transient=False,
        )
    fixes = [
        fix
        for fix, wanted in ((_MISSING_FIX, True), (_TYPE_FIX, False))
        if any((d.existing is None) == wanted for d in found)
    ]
    return EngineError(
        f"target table {target.table} differs from the mapping: {listed}; {'; '.join(fixes)}", transient=False
    )
