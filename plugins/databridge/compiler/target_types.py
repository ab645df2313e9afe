"""Target types the user may declare: PostgreSQL built-ins, or a schema-qualified user type."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.errors import ParseError

from databridge.spec.names import did_you_mean

KNOWN_TYPES = (
    "smallint", "integer", "int", "bigint", "numeric", "decimal", "real", "double precision",
    "boolean", "text", "varchar", "char", "character varying", "date", "time", "timetz",
    "timestamp", "timestamptz", "interval", "uuid", "json", "jsonb", "bytea", "inet", "cidr",
    "macaddr", "money", "xml", "bit", "varbit",
)  # fmt: skip
_TYPE_SHAPE = re.compile(
    r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?(\s+with(out)?\s+time\s+zone)?(\[\])*$", re.IGNORECASE
)
_USER_TYPE = re.compile(r'^("[^"]+"|[A-Za-z_][A-Za-z0-9_]*)\.("[^"]+"|[A-Za-z_][A-Za-z0-9_]*)(\[\])?$')


def check_type(text: str) -> str:
    """Return the type as written when PostgreSQL knows it; raise ValueError with a suggestion otherwise."""
    text = text.strip()
    _refuse_catalog_type(text)
    if _USER_TYPE.match(text):
        return text
    try:
        if not _TYPE_SHAPE.match(text):
            raise ValueError(text)
        exp.DataType.build(text, dialect="postgres")
    except (ParseError, ValueError):
        base = re.split(r"[\s(\[]", text, maxsplit=1)[0].lower()
        raise ValueError(
            f"unknown type {text!r}{did_you_mean(base, KNOWN_TYPES)}; use a PostgreSQL type "
            "(text, varchar(n), integer, bigint, numeric(p,s), boolean, date, timestamp, timestamptz, jsonb, ...) "
            "or a schema-qualified user type such as public.mood"
        ) from None
    _check_size(text)
    return text


_CATALOG_TYPE = re.compile(
    r'^\s*"?(pg_catalog|information_schema|pg_[a-z0-9_]*)"?\s*\.|^\s*(reg[a-z]*|oid|xid|xid8|cid|tid|pg_lsn|pg_snapshot|txid_snapshot)\s*(\[\])?\s*$',
    re.IGNORECASE,
)


def _refuse_catalog_type(text: str) -> None:
    """A cast to regclass, regproc or oid looks up server objects; a type of the catalog's schemas is not a column
    type."""
    if _CATALOG_TYPE.match(text):
        raise ValueError(
            f"type {text!r} is a catalog type, which a mapping may not use; use a column type such as text, "
            "integer, numeric(p,s), timestamp or jsonb"
        )


_SIZED = re.compile(r"^\s*(numeric|decimal|varchar|character varying|char|character)\s*\(\s*(\d+)", re.IGNORECASE)
_SIZE_LIMITS = {"numeric": 1000, "decimal": 1000}
"""PostgreSQL's largest precision; lengths of character types go up to 10485760."""


def _check_size(text: str) -> None:
    """numeric(2000) or varchar(0) parse, but PostgreSQL refuses them when the table is created: say so now."""
    match = _SIZED.match(text)
    if not match:
        return
    kind, size = match.group(1).lower(), int(match.group(2))
    limit = _SIZE_LIMITS.get(kind, 10_485_760)
    if not 1 <= size <= limit:
        raise ValueError(f"{text!r}: the size of {kind} must be 1 to {limit}")
