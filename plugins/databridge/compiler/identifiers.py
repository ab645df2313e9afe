"""PostgreSQL identifiers: always quoted, so reserved words, capitals, spaces and unicode just work."""

from __future__ import annotations

import hashlib

MAX_IDENTIFIER_BYTES = 63


def quote_ident(name: str) -> str:
    if "\x00" in name:
        raise ValueError(f"name {name!r} contains a NUL character, which PostgreSQL cannot store; remove it")
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str | None, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}" if schema else quote_ident(name)


def short_name(*parts: str) -> str:
    """Join parts with '__' into a name PostgreSQL keeps whole (63 bytes), hashing the tail if needed.

    A hash is added too when a part holds '__' (or starts or ends with '_'), as the join alone would be
    ambiguous: ('a__b', 'c') and ('a', 'b__c') must not share a staging table.
    """
    name = "__".join(parts)
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES and name.split("__") == list(parts):
        return name
    digest = hashlib.sha1("\x00".join(parts).encode()).hexdigest()[:10]
    head = name.encode()[: MAX_IDENTIFIER_BYTES - 12].decode(errors="ignore")
    return f"{head}__{digest}"
