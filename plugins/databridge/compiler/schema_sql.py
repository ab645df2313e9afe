"""A source's defaults, CHECKs and index expressions rewritten as PostgreSQL by sqlglot, or the reason they cannot be.

The texts come from a source catalog (engines/schema.py) in its dialect. Each is parsed, its columns renamed to the
target's (quoted) and printed as PostgreSQL; what DataBridge cannot vouch for means the same there is refused with
a reason. A default may hold only constants and the clock (literals, CURRENT_TIMESTAMP, now(), CURRENT_DATE,
casts and arithmetic of those); a CHECK or an index expression may also use columns, operators and the pure
functions custom SQL may use (compiler/allowlist.py).
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from databridge.compiler import allowlist
from databridge.compiler.expressions import sql_literal

CONSTANT_NODES: frozenset[type[exp.Expr]] = frozenset({
    exp.Literal, exp.Boolean, exp.Null, exp.Neg, exp.Paren, exp.Cast, exp.DataType, exp.DataTypeParam, exp.Add,
    exp.Sub, exp.Mul, exp.Div, exp.Interval, exp.Var, exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime,
    exp.Localtimestamp, exp.Array, exp.BitString,
})  # fmt: skip
"""What a default may be built of: constants, the clock, casts and arithmetic."""
CLOCK_CALLS = {"now": "CURRENT_TIMESTAMP", "localtimestamp": "LOCALTIMESTAMP"}
"""Clock functions sqlglot leaves as plain calls in some dialects (MySQL's now()), by their PostgreSQL meaning."""
SQLITE_CLOCK = {"datetime('now')": "CURRENT_TIMESTAMP", "date('now')": "CURRENT_DATE"}
"""SQLite's idioms for the current time and date."""
BOOLEAN_WORDS = {"1": "true", "0": "false", "true": "true", "false": "false"}
"""MySQL's and SQLite's booleans (0/1, b'1', '1') as PostgreSQL's."""


class Untranslatable(ValueError):
    """A source SQL text that is not built in PostgreSQL; the message says why, for the report."""


class AbsentColumn(Untranslatable):
    """The text names a source column the mapping does not copy unchanged."""


def translate_default(text: str, dialect: str, pg_type: str) -> str | None:
    """A column default as PostgreSQL SQL for a column of ``pg_type``; None when it is NULL (no default)."""
    if dialect == "sqlite" and text.strip().lower() in SQLITE_CLOCK:
        return SQLITE_CLOCK[text.strip().lower()]
    tree = _uncast(_plain(_parse(text, dialect)))
    if isinstance(tree, exp.Null):
        return None
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() in CLOCK_CALLS and not call.expressions:
            tree = _replaced(tree, call, sqlglot.parse_one(CLOCK_CALLS[call.name.lower()], read="postgres"))
    for node in tree.walk():
        _vouch_constant(node, text)
    typed = _typed(tree, text, pg_type, dialect)
    return typed if typed is not None else tree.sql(dialect="postgres")


def translate_expression(
    text: str, dialect: str, columns: Mapping[str, str], known: tuple[str, ...]
) -> tuple[str, tuple[str, ...]]:
    """A CHECK condition, index expression or partial-index predicate as PostgreSQL, with the source columns it
    names. ``columns`` maps source columns copied unchanged to their target names; ``known`` is every source column
    (names not among them are not columns). PostgreSQL names are exact; other engines' are case-insensitive."""
    tree = _plain(_parse(text, dialect))
    used: list[str] = []
    for column in list(tree.find_all(exp.Column)):
        source = _resolve(column.name, known, exact=dialect == "postgres")
        if source not in columns:
            raise AbsentColumn(
                f"it uses column {source!r}, which is not copied unchanged to the target (transformed or not mapped)"
            )
        column.replace(exp.column(exp.to_identifier(columns[source], quoted=True)))
        used.append(source)
    for node in tree.walk():
        _vouch_expression(node)
    return tree.sql(dialect="postgres"), tuple(dict.fromkeys(used))


def _parse(text: str, dialect: str) -> exp.Expr:
    try:
        tree = sqlglot.parse_one(text, read=dialect)
    except SqlglotError:
        tree = None
    if tree is None or isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command):
        raise Untranslatable(f"sqlglot cannot read {text!r} as a {dialect} expression")
    return tree


def _plain(tree: exp.Expr) -> exp.Expr:
    """MySQL's charset introducers (_utf8mb4'a') and T-SQL's N'...' are plain string literals in PostgreSQL; so is a
    constant cast to a type of the source's own ('new'::order_status), which the target stages as text."""
    for node in list(tree.find_all(exp.Introducer, exp.National)):
        tree = _replaced(
            tree, node, exp.Literal.string(node.expression.name if isinstance(node, exp.Introducer) else node.name)
        )
    for cast in list(tree.find_all(exp.Cast)):
        if _user_type(cast.to) and isinstance(cast.this.unnest(), exp.Literal):
            tree = _replaced(tree, cast, cast.this.unnest())
    return tree


def _user_type(node: exp.Expr) -> bool:
    return isinstance(node, exp.DataType) and node.this == exp.DataType.Type.USERDEFINED


def _replaced(tree: exp.Expr, node: exp.Expr, by: exp.Expr) -> exp.Expr:
    """``tree`` with ``node`` replaced (the tree itself when it is the node)."""
    if node is tree:
        return by
    node.replace(by)
    return tree


def _uncast(tree: exp.Expr) -> exp.Expr:
    """A constant cast to the source column's type ('x'::character varying, 'new'::status) is the bare constant:
    PostgreSQL casts it to the target column's type, which may differ (an enum staged as text)."""
    value = tree.unnest()
    while isinstance(value, exp.Cast) and isinstance(value.this.unnest(), exp.Literal | exp.Null | exp.Cast):
        value = value.this.unnest()
    return value if isinstance(value, exp.Literal | exp.Null) else tree


def _unwrapped(tree: exp.Expr) -> exp.Expr:
    while isinstance(tree, exp.Paren | exp.Cast):
        tree = tree.this
    return tree


def _vouch_constant(node: exp.Expr, text: str) -> None:
    if _user_type(node):
        raise Untranslatable(
            f"{text} casts to {node.sql(dialect='postgres')}, a type of the source that the target does not have"
        )
    if isinstance(node, exp.Anonymous) and node.name.lower() == "nextval":
        raise Untranslatable(f"{text} takes values from a sequence of the source, which the migration does not create")
    if type(node) not in CONSTANT_NODES:
        raise Untranslatable(
            f"{text} {_uses(node)}; a default is built only from constants, the clock, casts and arithmetic"
        )


def _vouch_expression(node: exp.Expr) -> None:
    types, names = allowlist.function_nodes()
    if _user_type(node):
        raise Untranslatable(
            f"it casts to {node.sql(dialect='postgres')}, a type of the source that the target does not have"
        )
    if isinstance(node, exp.Anonymous):
        if node.name.lower() not in names:
            raise Untranslatable(f"it {_uses(node)}")
    elif type(node) not in allowlist.EXPRESSION_NODES and type(node) not in types:
        raise Untranslatable(f"it {_uses(node)}")


def _uses(node: exp.Expr) -> str:
    """What a refused node is, in the report's words."""
    if isinstance(node, exp.Func):
        name = node.name if isinstance(node, exp.Anonymous) else node.sql(dialect="postgres").split("(", 1)[0]
        return f"calls {name.lower()}(), which DataBridge cannot vouch for in PostgreSQL"
    shown = node.sql(dialect="postgres")
    return f"uses {node.key.upper()} ({shown[:40]}), which DataBridge does not translate"


def _typed(tree: exp.Expr, text: str, pg_type: str, dialect: str) -> str | None:
    """Constants PostgreSQL would not take for the column's type as they are: 0/1, '1' and b'1' for a boolean, a
    MySQL SET's 'a,b' for text[]; a MySQL zero date is refused."""
    value = _unwrapped(tree)
    word = value.name.lower() if isinstance(value, exp.Literal | exp.BitString) else None
    if pg_type == "boolean" and word in BOOLEAN_WORDS:
        return BOOLEAN_WORDS[word]
    if dialect == "mysql" and isinstance(value, exp.Literal) and value.is_string and pg_type.endswith("[]"):
        labels = [label for label in value.name.split(",") if label]
        return f"ARRAY[{', '.join(sql_literal(label) for label in labels)}]::{pg_type}"
    if isinstance(value, exp.Literal) and value.is_string and value.name.startswith("0000-00-00"):
        raise Untranslatable(f"{text} is a MySQL zero date, which PostgreSQL cannot store")
    return None


def _resolve(name: str, known: tuple[str, ...], *, exact: bool) -> str:
    if name in known:
        return name
    folded = [k for k in known if k.lower() == name.lower()]
    if not exact and len(folded) == 1:
        return folded[0]
    raise AbsentColumn(f"it names {name!r}, which is not a column of the source table")
