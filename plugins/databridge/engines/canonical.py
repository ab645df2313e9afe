"""One canonical text per value, the same from every engine, so a row hashes equally in the source and the target.

The proof of a migration hashes each row's canonical text (``row_text``) and sums the 64-bit hashes per key range.
Every engine must produce the same text for equal values, whatever its native type and print format:

- NULL is no text at all (the row text writes it as ``-``; a value ``v`` as ``<length>:v``, so no separator is
ambiguous);
- integers in decimal; booleans ``1``/``0``;
- decimals without trailing zeros (``1.50`` and ``1.5`` are equal: the target's scale may differ from the source's);
- doubles (and floats, read as doubles) as their shortest round-trip digits and a power of ten, ``<digits>e<exp>``
  meaning 0.<digits> × 10^exp: the same double prints ``1e+20`` in PostgreSQL and ``1e20`` in MariaDB, both are
  ``1e21`` here; equal texts mean equal bits, except that -0 and 0 are one value (MariaDB prints both as 0);
- date-times ``YYYY-MM-DD HH:MM:SS.ffffff``, in UTC for those with a zone; dates ``YYYY-MM-DD``;
- text as UTF-8; bytes as lower-case hex; JSON as PostgreSQL's jsonb prints it (keys sorted, one space after ':'
  and ','), which only PostgreSQL computes in SQL.

A kind comes from the PostgreSQL type a column is staged as; engines that cannot produce a kind in SQL say so, and
that column is proven inside the target instead (see runtime/proof.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

NULL_TEXT = "-"
KINDS = ("int", "bool", "numeric", "float", "text", "tstz", "ts", "date", "bytes", "json", "other")
_INT = re.compile(r"^(smallint|integer|bigint|int|int2|int4|int8|smallserial|serial|bigserial)\b")
_FLOAT = re.compile(r"^(real|double precision|float4|float8|float)\b")


def kind_of(pg_type: str) -> str:
    """The canonical kind of a PostgreSQL type (as format_type or the type matrix writes it)."""
    t = pg_type.strip().lower()
    if t.endswith("[]"):
        return "other"
    if _INT.match(t):
        return "int"
    if _FLOAT.match(t):
        return "float"
    simple = {"boolean": "bool", "bool": "bool", "date": "date", "bytea": "bytes", "json": "json", "jsonb": "json"}
    if t in simple:
        return simple[t]
    if t.startswith(("numeric", "decimal")):
        return "numeric"
    if t.startswith(("timestamp with time zone", "timestamptz")):
        return "tstz"
    if t.startswith("timestamp"):
        return "ts"
    if t.startswith(("text", "character", "varchar", "char", "citext")):
        return "text"
    return "other"


def canonical(kind: str, value: Any) -> str | None:
    """The canonical text of a Python value as a driver returns it (SQLite, documents, tests)."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex() if kind == "bytes" else bytes(value).decode("utf-8")
    converters = {
        "int": _int,
        "bool": _bool,
        "numeric": _numeric,
        "float": _float,
        "tstz": _tstz,
        "ts": _ts,
        "date": _date,
        "json": _json,
    }
    convert = converters.get(kind)
    return convert(value) if convert else str(value)


def _int(value: Any) -> str:
    return str(int(str(value).strip()) if isinstance(value, str) else int(value))


def _bool(value: Any) -> str:
    if isinstance(value, str):
        return "1" if value.strip().lower() in ("t", "true", "y", "yes", "on", "1") else "0"
    return "1" if value else "0"


def _numeric(value: Any) -> str:
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    if not number.is_finite():
        return str(number)
    return "0" if number == 0 else _trim(f"{number:f}")


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _float(value: Any) -> str:
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(number)]
    return float_text(repr(number))


def float_text(text: str) -> str:
    """Any print of a double (``-1.5e-07``, ``0.00000015``, ``1e+20``) → ``[-]<digits>e<exp>`` (0 for zero).

    The SQL versions in this module compute exactly these steps; keep them in step with this one.
    """
    sign = "-" if text.startswith("-") else ""
    mantissa, _, exponent = text.lstrip("+-").lower().partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    leading = len(whole + fraction) - len(digits)
    digits = digits.rstrip("0")
    if not digits:
        return "0"
    return f"{sign}{digits}e{len(whole) - leading + int(exponent or 0)}"


def _tstz(value: Any) -> str:
    moment = _datetime(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _ts(value: Any) -> str:
    return _datetime(value).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return dt.datetime.fromisoformat(str(value).strip())


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()


def _json(value: Any) -> str:
    """jsonb's print: keys sorted by length then bytes, ", " and ": " separators, non-ASCII kept, numbers as numeric."""
    parsed = json.loads(value, parse_float=Decimal) if isinstance(value, str) else value
    return _jsonb(parsed)


def _jsonb(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: (len(kv[0].encode()), kv[0].encode()))
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {_jsonb(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jsonb(v) for v in value) + "]"
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return (
            f"{Decimal(repr(value)) if isinstance(value, float) else value:f}"  # jsonb numbers are numeric: 1e2 → 100
        )
    return json.dumps(value, ensure_ascii=False)


def row_text(texts: Sequence[str | None]) -> str:
    """The canonical text of a row: each value as ``<length>:<text>`` or ``-`` for NULL, joined by ``|``."""
    return "|".join(NULL_TEXT if t is None else f"{len(t)}:{t}" for t in texts)


def hash64(text: str) -> int:
    """The first 64 bits of the MD5 of a row text, unsigned (what the SQL versions compute)."""
    return int(hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16], 16)


def sum64(values: Sequence[int] | Any) -> int:
    """Sum of hashes modulo 2^64: order-independent, and a duplicated row changes it (a xor would not)."""
    return sum(values) % (1 << 64)


__all__ = ["KINDS", "canonical", "float_text", "hash64", "kind_of", "row_text", "sum64"]
