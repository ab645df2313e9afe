"""What custom SQL may contain: the node types, casts and functions listed here, and nothing else.

Every fragment a user writes (a column's ``expression``, a target's ``filter``, a custom check's ``sql``) is parsed
with sqlglot, and each node of its tree must be on these lists (``compiler/sql_check.py`` walks it). The functions
are pure and row-local: they compute a value from their arguments and nothing else. Whatever is not listed is
refused, so a function that evaluates SQL text (``ts_stat``, ``query_to_xml``), touches files, large objects,
settings, sequences, locks or other databases, looks up catalog objects, or returns a set is refused by default,
not by name. Each entry carries an example call; ``tests/unit/test_allowlist.py`` runs every one of them on a real
PostgreSQL under the sandbox role, so an entry cannot be added without proof that it works there.

Adding a function: put it in its family with an example whose arguments are literals, and run the tests.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

STRING_FUNCTIONS = {
    "upper": "upper('abc')", "lower": "lower('ABC')", "initcap": "initcap('ab cd')",
    "btrim": "btrim('  a  ')", "ltrim": "ltrim('  a')", "rtrim": "rtrim('a  ')", "trim": "trim(both 'x' from 'xax')",
    "length": "length('abc')", "char_length": "char_length('abc')", "octet_length": "octet_length('abc')",
    "substring": "substring('abcdef' from 2 for 3)", "substr": "substr('abcdef', 2, 3)",
    "left": "left('abcdef', 2)", "right": "right('abcdef', 2)",
    "lpad": "lpad('7', 3, '0')", "rpad": "rpad('7', 3, '0')",
    "replace": "replace('a-b', '-', '+')", "translate": "translate('abc', 'ab', 'xy')",
    "overlay": "overlay('abcdef' placing 'xx' from 2 for 2)", "reverse": "reverse('abc')",
    "repeat": "repeat('ab', 3)", "concat": "concat('a', 1, NULL)", "concat_ws": "concat_ws('-', 'a', 'b')",
    "strpos": "strpos('abc', 'b')", "position": "position('b' in 'abc')", "starts_with": "starts_with('abc', 'a')",
    "split_part": "split_part('a,b,c', ',', 2)", "ascii": "ascii('A')", "chr": "chr(65)",
    "format": "format('%s-%s', 'a', 1)", "string_to_array": "string_to_array('a,b', ',')",
    "array_to_string": "array_to_string(ARRAY['a', 'b'], ',')",
}  # fmt: skip
REGEX_FUNCTIONS = {
    "regexp_replace": "regexp_replace('a1b2', '[0-9]', '', 'g')", "regexp_match": "regexp_match('ab12', '[0-9]+')",
    "regexp_like": "regexp_like('ab12', '[0-9]')", "regexp_count": "regexp_count('a1b2', '[0-9]')",
    "regexp_substr": "regexp_substr('ab12', '[0-9]+')", "regexp_instr": "regexp_instr('ab12', '[0-9]')",
}  # fmt: skip
MATH_FUNCTIONS = {
    "abs": "abs(-2)", "ceil": "ceil(1.2)", "ceiling": "ceiling(1.2)", "floor": "floor(1.8)", "round": "round(1.256, 2)",
    "trunc": "trunc(1.256, 1)", "sign": "sign(-3)", "mod": "mod(7, 3)", "div": "div(7, 3)", "power": "power(2, 10)",
    "sqrt": "sqrt(16)", "cbrt": "cbrt(27)", "exp": "exp(1)", "ln": "ln(10)", "log": "log(100)", "log10": "log10(100)",
    "greatest": "greatest(1, 3, 2)", "least": "least(1, 3, 2)", "gcd": "gcd(12, 18)", "lcm": "lcm(4, 6)",
    "pi": "pi()", "degrees": "degrees(1)", "radians": "radians(180)", "sin": "sin(1)", "cos": "cos(1)",
    "tan": "tan(1)", "asin": "asin(0.5)", "acos": "acos(0.5)", "atan": "atan(1)", "atan2": "atan2(1, 2)",
    "width_bucket": "width_bucket(5.5, 0, 10, 4)", "scale": "scale(1.250)", "trim_scale": "trim_scale(1.2500)",
    "to_number": "to_number('1,234.5', '9G999D9')",
}  # fmt: skip
DATE_FUNCTIONS = {
    "now": "now()",
    "current_date": "current_date",
    "current_timestamp": "current_timestamp",
    "localtimestamp": "localtimestamp",
    "date_trunc": "date_trunc('month', timestamp '2024-05-17 10:00')",
    "date_part": "date_part('year', date '2024-05-17')",
    "extract": "extract(year from date '2024-05-17')",
    "to_char": "to_char(date '2024-05-17', 'YYYY-MM')",
    "to_date": "to_date('17.05.2024', 'DD.MM.YYYY')",
    "to_timestamp": "to_timestamp('2024-05-17 10:00', 'YYYY-MM-DD HH24:MI')",
    "make_date": "make_date(2024, 5, 17)",
    "make_time": "make_time(10, 30, 0)",
    "make_timestamp": "make_timestamp(2024, 5, 17, 10, 30, 0)",
    "make_interval": "make_interval(days => 3)",
    "age": "age(date '2024-05-17', date '2000-01-01')",
    "justify_days": "justify_days(interval '35 days')",
    "justify_hours": "justify_hours(interval '27 hours')",
    "justify_interval": "justify_interval(interval '1 mon -1 hour')",
    "isfinite": "isfinite(date '2024-05-17')",
    "timezone": "timezone('UTC', timestamptz '2024-05-17 10:00+02')",
}
CONDITIONAL_FUNCTIONS = {
    "coalesce": "coalesce(NULL, 'a')", "nullif": "nullif('a', '')", "num_nulls": "num_nulls(1, NULL)",
    "num_nonnulls": "num_nonnulls(1, NULL)",
}  # fmt: skip
JSON_FUNCTIONS = {
    "to_json": "to_json('a'::text)",
    "to_jsonb": "to_jsonb(1)",
    "json_build_object": "json_build_object('a', 1)",
    "jsonb_build_object": "jsonb_build_object('a', 1)",
    "json_build_array": "json_build_array(1, 'a')",
    "jsonb_build_array": "jsonb_build_array(1, 'a')",
    "json_typeof": "json_typeof('1'::json)",
    "jsonb_typeof": "jsonb_typeof('1'::jsonb)",
    "json_array_length": "json_array_length('[1, 2]'::json)",
    "jsonb_array_length": "jsonb_array_length('[1, 2]'::jsonb)",
    "jsonb_strip_nulls": "jsonb_strip_nulls('{\"a\": null}'::jsonb)",
    "json_extract_path": "json_extract_path('{\"a\": 1}'::json, 'a')",
    "json_extract_path_text": "json_extract_path_text('{\"a\": 1}'::json, 'a')",
    "jsonb_extract_path": "jsonb_extract_path('{\"a\": 1}'::jsonb, 'a')",
    "jsonb_extract_path_text": "jsonb_extract_path_text('{\"a\": 1}'::jsonb, 'a')",
}
HASH_FUNCTIONS = {
    "md5": "md5('abc')", "sha224": "sha224('abc'::bytea)", "sha256": "sha256('abc'::bytea)",
    "sha384": "sha384('abc'::bytea)", "sha512": "sha512('abc'::bytea)", "encode": "encode('abc'::bytea, 'hex')",
    "decode": "decode('616263', 'hex')",
}  # fmt: skip
ARRAY_FUNCTIONS = {
    "array_length": "array_length(ARRAY[1, 2], 1)", "cardinality": "cardinality(ARRAY[1, 2])",
    "array_position": "array_position(ARRAY['a', 'b'], 'b')",
}  # fmt: skip

FUNCTIONS: dict[str, str] = {
    **STRING_FUNCTIONS, **REGEX_FUNCTIONS, **MATH_FUNCTIONS, **DATE_FUNCTIONS, **CONDITIONAL_FUNCTIONS,
    **JSON_FUNCTIONS, **HASH_FUNCTIONS, **ARRAY_FUNCTIONS,
}  # fmt: skip
"""Every function a mapping may call, by its PostgreSQL name, with an example call."""

AGGREGATES = {
    "count": "count(*)", "count_distinct": "count(DISTINCT 1)", "sum": "sum(1)", "min": "min(1)", "max": "max(1)",
    "avg": "avg(1)", "bool_and": "bool_and(true)", "bool_or": "bool_or(true)", "string_agg": "string_agg('a', ',')",
    "stddev": "stddev(1.0)", "variance": "variance(1.0)",
}  # fmt: skip
"""What a custom check may add to the functions above: aggregates, which a check needs and an expression may not use."""

OPERATORS = {
    "+": "1 + 2",
    "-": "3 - 1",
    "*": "2 * 3",
    "/": "6 / 3",
    "%": "7 % 3",
    "^": "2 ^ 3",
    "unary -": "-(1)",
    "||": "'a' || 'b'",
    "=": "1 = 1",
    "<>": "1 <> 2",
    "<": "1 < 2",
    "<=": "1 <= 2",
    ">": "2 > 1",
    ">=": "2 >= 1",
    "AND": "true AND false",
    "OR": "true OR false",
    "NOT": "NOT true",
    "IS NULL": "NULL IS NULL",
    "IS DISTINCT FROM": "1 IS DISTINCT FROM 2",
    "IS NOT DISTINCT FROM": "1 IS NOT DISTINCT FROM 1",
    "IN": "1 IN (1, 2)",
    "BETWEEN": "2 BETWEEN 1 AND 3",
    "LIKE": "'abc' LIKE 'a%'",
    "ILIKE": "'ABC' ILIKE 'a%'",
    "LIKE ESCAPE": "'a%' LIKE 'a!%' ESCAPE '!'",
    "SIMILAR TO": "'abc' SIMILAR TO '(a|b)%'",
    "~": "'abc' ~ '^a'",
    "~*": "'ABC' ~* '^a'",
    "!~": "'abc' !~ '^b'",
    "CASE": "CASE WHEN 1 > 0 THEN 'y' ELSE 'n' END",
    "CAST": "CAST('1' AS integer)",
    "::": "'1'::bigint",
    "AT TIME ZONE": "timestamptz '2024-05-17 10:00+00' AT TIME ZONE 'UTC'",
    "INTERVAL": "date '2024-05-17' + interval '1 day'",
    "->": "'{\"a\": 1}'::jsonb -> 'a'",
    "->>": "'{\"a\": 1}'::jsonb ->> 'a'",
    "#>": "'{\"a\": {\"b\": 1}}'::jsonb #> '{a,b}'",
    "#>>": "'{\"a\": {\"b\": 1}}'::jsonb #>> '{a,b}'",
    "?": "'{\"a\": 1}'::jsonb ? 'a'",
    "@>": "'{\"a\": 1}'::jsonb @> '{\"a\": 1}'",
    "ARRAY[]": "ARRAY[1, 2]",
    "[]": "(ARRAY[1, 2])[1]",
    "E''": "E'a\\tb'",
    "$$": "$$it's$$",
}
"""The operators and constructs a mapping may use, with an example of each."""

CAST_TYPES = (
    "text", "varchar(10)", "char(3)", "smallint", "integer", "bigint", "numeric(12,2)", "numeric", "real",
    "double precision", "boolean", "date", "time", "timetz", "timestamp", "timestamptz", "interval", "uuid",
    "json", "jsonb", "bytea", "inet", "money", "text[]", "integer[]",
)  # fmt: skip
"""The types a cast in custom SQL may name (catalog types such as regclass or oid are not among them)."""

DATE_PARTS = frozenset({
    "century", "day", "days", "decade", "dow", "doy", "epoch", "hour", "hours", "isodow", "isoyear", "julian",
    "microsecond", "microseconds", "millennium", "millisecond", "milliseconds", "minute", "minutes", "mon", "mons",
    "month", "months", "quarter", "second", "seconds", "timezone", "timezone_hour", "timezone_minute", "week",
    "weeks", "year", "years",
})  # fmt: skip
"""Words sqlglot reads as bare names (exp.Var) in EXTRACT, INTERVAL and date_trunc: only these."""

EXPRESSION_NODES: frozenset[type[exp.Expr]] = frozenset({
    exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Neg, exp.Not, exp.And, exp.Or,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Pow, exp.IntDiv, exp.DPipe, exp.EQ, exp.NEQ, exp.GT, exp.GTE,
    exp.LT, exp.LTE, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ, exp.In, exp.Between, exp.Like, exp.ILike,
    exp.Escape, exp.SimilarTo, exp.RegexpLike, exp.RegexpILike, exp.Case, exp.If, exp.Cast, exp.DataType,
    exp.DataTypeParam, exp.Interval, exp.Var, exp.AtTimeZone, exp.Array, exp.Bracket, exp.RawString,
    exp.ByteString, exp.JSONPath, exp.JSONPathKey, exp.JSONPathRoot, exp.JSONPathSubscript, exp.Kwarg,
})  # fmt: skip
"""The structure of a scalar expression: columns, constants, operators, CASE, casts. Functions come from FUNCTIONS."""

CHECK_NODES: frozenset[type[exp.Expr]] = EXPRESSION_NODES | frozenset({
    exp.Select, exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered, exp.Limit,
    exp.Table, exp.TableAlias, exp.Alias, exp.Subquery, exp.Exists, exp.Distinct, exp.Star, exp.Filter,
})  # fmt: skip
"""A custom check adds one SELECT's clauses, joins and subqueries (the tables it names are checked on their own)."""


@cache
def function_nodes(*, aggregates: bool = False) -> tuple[frozenset[type[exp.Expr]], frozenset[str]]:
    """The sqlglot node types the listed functions parse into, and the names of those it keeps as Anonymous."""
    examples = [*FUNCTIONS.values(), *OPERATORS.values(), *(AGGREGATES.values() if aggregates else ())]
    types: set[type[exp.Expr]] = set()
    names: set[str] = set()
    for example in examples:
        for node in sqlglot.parse_one(example, read="postgres").walk():
            if isinstance(node, exp.Anonymous):
                names.add(str(node.name).lower())
            elif isinstance(node, exp.Func) and type(node) not in EXPRESSION_NODES:
                types.add(type(node))
    return frozenset(types), frozenset(names)


@cache
def cast_types() -> frozenset[object]:
    """The sqlglot type codes of CAST_TYPES (an array's element type is checked as a type of its own)."""
    return frozenset(exp.DataType.build(t, dialect="postgres").this for t in CAST_TYPES)
