"""Declared PostgreSQL types read for their limits: varchar/char length, numeric precision and scale, integer range."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SHAPE = re.compile(r"^\s*([a-z][a-z0-9_ ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*(\[\])*\s*$", re.IGNORECASE)
_ALIASES = {
    "int": "integer", "int4": "integer", "integer": "integer", "int2": "smallint", "smallint": "smallint",
    "int8": "bigint", "bigint": "bigint", "numeric": "numeric", "decimal": "numeric",
    "varchar": "varchar", "character varying": "varchar", "char": "char", "character": "char", "bpchar": "char",
    "nchar": "char",
}  # fmt: skip
INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class DeclaredType:
    """A type as written, with the limits the lint checks values against (None: no limit of that kind)."""

    text: str
    base: str
    """Normalised name: integer, smallint, bigint, numeric, varchar, char; otherwise the name as written,
    lower-cased."""
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    array: bool = False

    @property
    def integer_range(self) -> tuple[int, int] | None:
        return None if self.array else INTEGER_RANGES.get(self.base)

    @property
    def max_length(self) -> int | None:
        return None if self.array else self.length

    @property
    def numeric_limits(self) -> tuple[int, int] | None:
        """(precision, scale) of a numeric(p,s) / numeric(p); None for an unconstrained numeric."""
        if self.array or self.base != "numeric" or self.precision is None:
            return None
        return self.precision, self.scale or 0


def parse_type(text: str) -> DeclaredType:
    """Read a PostgreSQL type name: numeric(12,2), varchar(40), character varying(3), int4, text[] ..."""
    match = _SHAPE.match(text.replace("without time zone", "").replace("with time zone", "tz"))
    if not match:
        return DeclaredType(text, text.strip().lower())
    name, first, second, array = match.groups()
    name = " ".join(name.lower().split())
    base = _ALIASES.get(name, name)
    one, two = (int(first) if first else None), (int(second) if second else None)
    if base in ("varchar", "char"):
        return DeclaredType(text, base, length=one if one is not None or base == "varchar" else 1, array=bool(array))
    if base == "numeric":
        return DeclaredType(
            text,
            base,
            precision=one,
            scale=two if one is not None and two is not None else (0 if one else None),
            array=bool(array),
        )
    return DeclaredType(text, base, array=bool(array))
