"""The type matrix: each source engine's native types, the PostgreSQL type they are staged as, and what happens to
values.

One table, read top to bottom per engine; the first row whose pattern matches the whole lower-cased native type wins.
A pg_type may refer to the pattern's groups (\\1, \\2). The engines, the compiler and the wizard all read it here.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple


class TypeRule(NamedTuple):
    engine: str
    native: str
    """Regular expression over the lower-cased native type."""
    pg_type: str
    note: str
    """What is done to the values, in a sentence the wizard can show."""


_GEOMETRY = r"geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection"
# SQLite's character types with a length, as its documentation lists them: CHAR, VARCHAR, NCHAR, NVARCHAR, CHARACTER,
# VARYING CHARACTER, NATIVE CHARACTER, NATIONAL (VARYING) CHARACTER, VARCHAR2.
_SQLITE_CHAR = (
    r"(n|national |native |varying |national varying )?(var)?char(acter)?2?( varying)?\s*\(\s*(?P<n>\d+)\s*\)"
)
_NAIVE = "naive: stays timestamp, or with source_options.naive_timezone becomes timestamptz read in that zone"

MATRIX: tuple[TypeRule, ...] = (
    # --- MySQL / MariaDB (COLUMN_TYPE) -------------------------------------------------------------------------------
    TypeRule(
        "mysql",
        r"tinyint\(1\)( unsigned)?",
        "boolean",
        "tinyint(1) → boolean; NULL stays NULL; values other than 0/1 are refused by the lint",
    ),
    TypeRule("mysql", r"bit\(1\)", "boolean", "b'0' → false, b'1' → true; NULL stays NULL"),
    TypeRule(
        "mysql",
        r"bit\((\d+)\)",
        r"bit varying(\1)",
        "read as LPAD(BIN(x), n, '0'): every bit kept, leading zeros included",
    ),
    TypeRule(
        "mysql", r"tinyint(\(\d+\))?( unsigned)?( zerofill)?", "smallint", "exact (unsigned 0..255 fits smallint)"
    ),
    TypeRule(
        "mysql", r"smallint(\(\d+\))? unsigned( zerofill)?", "integer", "unsigned widened: 0..65535 needs integer"
    ),
    TypeRule("mysql", r"smallint(\(\d+\))?", "smallint", "exact"),
    TypeRule("mysql", r"mediumint(\(\d+\))?( unsigned)?( zerofill)?", "integer", "exact, signed or unsigned"),
    TypeRule("mysql", r"int(\(\d+\))? unsigned( zerofill)?", "bigint", "unsigned widened: 0..4294967295 needs bigint"),
    TypeRule("mysql", r"int(\(\d+\))?", "integer", "exact"),
    TypeRule(
        "mysql",
        r"bigint(\(\d+\))? unsigned( zerofill)?",
        "numeric(20,0)",
        "unsigned widened: up to 18446744073709551615 needs numeric(20,0)",
    ),
    TypeRule("mysql", r"bigint(\(\d+\))?", "bigint", "exact"),
    TypeRule(
        "mysql",
        r"(decimal|numeric)\((\d+),(\d+)\)( unsigned)?( zerofill)?",
        r"numeric(\2,\3)",
        "exact: read as Decimal, never through a float",
    ),
    TypeRule(
        "mysql",
        r"float(\(\d+(,\d+)?\))?( unsigned)?",
        "real",
        "read as DOUBLE (the text protocol would print 6 digits): every float32 value kept bit for bit",
    ),
    TypeRule(
        "mysql",
        r"(double|double precision|real)(\(\d+,\d+\))?( unsigned)?",
        "double precision",
        "bit-exact: read as binary doubles, never through rounded text",
    ),
    TypeRule("mysql", r"year(\(4\))?", "smallint", "the year as a number; the zero year 0000 stays 0"),
    TypeRule(
        "mysql",
        r"date",
        "date",
        "zero dates and dates with a zero year, month or day: source_options.zero_dates (NULL with a warning, or fail)",
    ),
    TypeRule("mysql", r"datetime(\(\d\))?", "timestamp", f"{_NAIVE}; zero dates as for date"),
    TypeRule(
        "mysql",
        r"timestamp(\(\d\))?",
        "timestamptz",
        "MySQL stores UTC and DataBridge reads in a +00:00 session: the instant is kept; zero dates as for date",
    ),
    TypeRule(
        "mysql",
        r"time(\(\d\))?",
        "interval",
        "MySQL TIME is a duration (-838:59:59..838:59:59), so interval, not time of day",
    ),
    TypeRule(
        "mysql",
        r"(var)?char\((\d+)\)",
        r"varchar(\2)",
        "both count characters; MySQL already drops CHAR's trailing spaces",
    ),
    TypeRule("mysql", r"(tiny|medium|long)?text", "text", "exact, any bytes of utf8mb4 (read in utf8mb4)"),
    TypeRule(
        "mysql",
        r"json",
        "jsonb",
        "MariaDB's JSON is longtext with a json_valid check; jsonb drops whitespace and sorts keys, the last "
        "duplicate key wins",
    ),
    TypeRule(
        "mysql",
        r"enum\(.*\)",
        "text",
        "the label as text; a target table created from the column unchanged gets a CHECK on the labels (also in "
        "the column note): MySQL's invalid value '' (not a label) makes its row a rejected row",
    ),
    TypeRule(
        "mysql",
        r"set\(.*\)",
        "text[]",
        "split on commas in the set's declared order; the empty set → '{}'; NULL stays NULL",
    ),
    TypeRule(
        "mysql",
        r"(var)?binary\(\d+\)|(tiny|medium|long)?blob",
        "bytea",
        "exact bytes (BINARY(n) keeps its trailing zero bytes)",
    ),
    TypeRule(
        "mysql", _GEOMETRY, "text", "WKT text via ST_AsText in the SELECT; PostGIS is not used and the SRID is dropped"
    ),
    # --- PostgreSQL (format_type) --------------------------------------------------------------------------------
    TypeRule(
        "postgres",
        r"timestamp(\(\d\))? without time zone",
        r"timestamp\1 without time zone",
        f"{_NAIVE} (AT TIME ZONE in the source)",
    ),
    TypeRule(
        "postgres",
        r"json|jsonb|uuid|interval|bytea|bit( varying)?(\(\d+\))?",
        r"\g<0>",
        "exact: PostgreSQL's own COPY text form, untouched",
    ),
    TypeRule(
        "postgres",
        r"(.+)\[\]",
        r"\1[]",
        "arrays keep their element type; arrays of enums and other user types become text[]",
    ),
    TypeRule(
        "postgres",
        r".+",
        r"\g<0>",
        "the same type; enums and user types → text, domains → their base type; COPY text form, untouched",
    ),
    # --- SQL Server (sys.types name with its length, precision or scale) --------------------------------------------
    TypeRule("mssql", r"bit", "boolean", "1 → true, 0 → false; NULL stays NULL"),
    TypeRule("mssql", r"tinyint", "smallint", "unsigned 0..255 fits smallint"),
    TypeRule("mssql", r"smallint", "smallint", "exact"),
    TypeRule("mssql", r"int", "integer", "exact"),
    TypeRule("mssql", r"bigint", "bigint", "exact"),
    TypeRule("mssql", r"(decimal|numeric)\((\d+),\s*(\d+)\)", r"numeric(\2,\3)", "exact: read as Decimal"),
    TypeRule("mssql", r"money", "numeric(19,4)", "exact: four decimal places, as SQL Server stores them"),
    TypeRule("mssql", r"smallmoney", "numeric(10,4)", "exact: four decimal places"),
    TypeRule("mssql", r"float(\((2[5-9]|3\d|4\d|5[0-3])\))?", "double precision", "bit-exact double"),
    TypeRule("mssql", r"float\(([1-9]|1\d|2[0-4])\)|real", "real", "exact float32"),
    TypeRule("mssql", r"date", "date", "exact"),
    TypeRule(
        "mssql",
        r"time(\(\d\))?",
        "time",
        "time of day; a 7th fractional digit (100 ns) is beyond PostgreSQL's microseconds and is reported by the lint",
    ),
    TypeRule("mssql", r"datetime", "timestamp(3)", f"{_NAIVE}; SQL Server's 1/300 s ticks are kept to the millisecond"),
    TypeRule("mssql", r"smalldatetime", "timestamp(0)", f"{_NAIVE}; minutes"),
    TypeRule(
        "mssql",
        r"datetime2(\(\d\))?",
        "timestamp(6)",
        f"{_NAIVE}; datetime2(7) holds 100 ns, PostgreSQL microseconds: a non-zero 7th digit is reported by the lint",
    ),
    TypeRule(
        "mssql",
        r"datetimeoffset(\(\d\))?",
        "timestamptz",
        "the instant is kept exactly (to the microsecond); the original offset is not kept",
    ),
    TypeRule(
        "mssql",
        r"uniqueidentifier",
        "uuid",
        "read as its string form, not its bytes: SQL Server stores the first three groups little-endian",
    ),
    TypeRule("mssql", r"rowversion|timestamp", "bytea", "the 8 bytes of the row version, exact (not a date)"),
    TypeRule("mssql", r"n?char\((\d+)\)", r"char(\1)", "exact; counts characters"),
    TypeRule("mssql", r"n?varchar\((\d+)\)", r"varchar(\1)", "exact; counts characters"),
    TypeRule("mssql", r"n?varchar\((max|-1)\)|n?text", "text", "exact, any length"),
    TypeRule("mssql", r"(var)?binary\((\d+|max|-1)\)|image", "bytea", "exact bytes"),
    TypeRule("mssql", r"xml", "xml", "exact"),
    TypeRule(
        "mssql", r"geometry|geography", "text", "WKT text via .STAsText(); PostGIS is not used and the SRID is dropped"
    ),
    TypeRule("mssql", r"sql_variant|hierarchyid", "text", "the value's text form"),
    # --- SQLite (declared type, checked in the order of SQLite's affinity rules) ------------------------------------
    TypeRule("sqlite", r"boolean|bool", "boolean", "0/1 (or true/false text) → boolean; NULL stays NULL"),
    TypeRule(
        "sqlite",
        r"datetime|timestamp",
        "timestamp",
        f"text as the application wrote it, parsed by PostgreSQL; {_NAIVE}",
    ),
    TypeRule("sqlite", r"date", "date", "text as the application wrote it, parsed by PostgreSQL"),
    TypeRule("sqlite", r"time", "time", "text as the application wrote it, parsed by PostgreSQL"),
    TypeRule(
        "sqlite",
        r"(decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)",
        r"numeric(\2,\3)",
        "exact when stored as text; SQLite may have stored the value as a float",
    ),
    TypeRule(
        "sqlite",
        r"(decimal|numeric)\s*\(\s*(\d+)\s*\)",
        r"numeric(\2,0)",
        "the declared precision, no fraction: SQLite does not enforce it, "
        "so the lint reports the values it would round",
    ),
    TypeRule(
        "sqlite",
        _SQLITE_CHAR,
        r"varchar(\g<n>)",
        "the declared length (SQLite neither enforces it nor pads CHAR): longer values are refused by the load "
        "and reported by the lint",
    ),
    TypeRule("sqlite", r".*int.*", "bigint", "INTEGER affinity: 64-bit integers, exact"),
    TypeRule("sqlite", r".*(char|clob|text).*", "text", "TEXT affinity: exact"),
    TypeRule("sqlite", r".*blob.*", "bytea", "exact bytes"),
    TypeRule("sqlite", r".*(real|floa|doub).*", "double precision", "REAL affinity: bit-exact doubles"),
    TypeRule("sqlite", r"", "text", "no declared type: each value's text form"),
    TypeRule("sqlite", r".*", "numeric", "NUMERIC affinity: exact numbers"),
    # --- MongoDB (BSON type aliases) ------------------------------------------------------------------------------
    TypeRule("bson", r"objectid", "text", "the 24 hexadecimal characters"),
    TypeRule("bson", r"decimal", "numeric", "Decimal128 → numeric, exact; NaN and Infinity are refused by the lint"),
    TypeRule("bson", r"double", "double precision", "bit-exact double"),
    TypeRule("bson", r"int", "integer", "exact"),
    TypeRule("bson", r"long", "bigint", "exact"),
    TypeRule("bson", r"bool", "boolean", "exact"),
    TypeRule("bson", r"date", "timestamptz", "BSON dates are UTC milliseconds: the instant is kept"),
    TypeRule("bson", r"timestamp", "bigint", "the internal replication timestamp as (seconds << 32) + increment"),
    TypeRule("bson", r"string|symbol|javascript|regex", "text", "exact"),
    TypeRule("bson", r"bindata", "bytea", "exact bytes (the subtype is not kept)"),
    TypeRule(
        "bson",
        r"object|array|mixed",
        "jsonb",
        "Extended JSON (relaxed); map paths to columns or arrays to child tables instead",
    ),
    TypeRule("bson", r"null|undefined|minkey|maxkey", "text", "no values to keep: NULL"),
    # --- JSON documents (CouchDB) ---------------------------------------------------------------------------------
    TypeRule("json", r"string", "text", "exact"),
    TypeRule("json", r"integer", "bigint", "exact; beyond 64 bits the lint reports it (map to numeric)"),
    TypeRule(
        "json",
        r"number",
        "double precision",
        "JSON numbers with a fraction or exponent, read as doubles; map to numeric to keep their decimal text",
    ),
    TypeRule("json", r"boolean", "boolean", "exact"),
    TypeRule("json", r"object|array|mixed", "jsonb", "jsonb drops whitespace and sorts keys"),
    TypeRule("json", r"null", "text", "no values to keep: NULL"),
)

ENGINE_ALIASES = {"postgresql": "postgres", "mariadb": "mysql", "mongo": "bson", "mongodb": "bson", "couchdb": "json"}
UNKNOWN_NOTE = "not in the type matrix: staged as its text form; declare a target type to convert it"


def rule_for(engine: str, native_type: str) -> TypeRule | None:
    """The matrix row that decides ``native_type`` of ``engine`` (None when no row matches)."""
    found = _match(engine, native_type)
    return found[0] if found else None


def pg_type_for(engine: str, native_type: str) -> str:
    """The default PostgreSQL type for a native type (text when the matrix has no row for it)."""
    found = _match(engine, native_type)
    return found[1].expand(found[0].pg_type) if found else "text"


def notes_for(engine: str, native_type: str) -> str:
    """What is done to values of a native type, in one sentence."""
    rule = rule_for(engine, native_type)
    return rule.note if rule else UNKNOWN_NOTE


def zoned(pg_type: str, naive_timezone: str | None) -> str:
    """A naive timestamp type becomes timestamptz when the source declares the zone of its naive values."""
    match = re.fullmatch(r"timestamp(\(\d\))?( without time zone)?", pg_type)
    if not (naive_timezone and match):
        return pg_type
    return f"timestamp{match.group(1)} with time zone" if match.group(1) else "timestamptz"


def _match(engine: str, native_type: str) -> tuple[TypeRule, re.Match[str]] | None:
    lowered = " ".join(native_type.lower().split())
    for rule, pattern in _compiled(ENGINE_ALIASES.get(engine, engine)):
        if match := pattern.fullmatch(lowered):
            return rule, match
    return None


@cache
def _compiled(engine: str) -> tuple[tuple[TypeRule, re.Pattern[str]], ...]:
    rules = tuple((r, re.compile(r.native)) for r in MATRIX if r.engine == engine)
    if not rules:
        engines = sorted({r.engine for r in MATRIX} | set(ENGINE_ALIASES))
        raise ValueError(f"the type matrix has no engine {engine!r}; use one of: {', '.join(engines)}")
    return rules
