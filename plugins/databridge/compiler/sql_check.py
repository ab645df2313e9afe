"""The allowlist applied: every node of a parsed fragment is listed in ``compiler/allowlist.py``, or it is refused
with the name of the first thing that is not."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlglot import exp

from databridge.compiler import allowlist

_STATEMENTS = (
    exp.Query, exp.Subquery, exp.DML, exp.DDL, exp.Command, exp.Transaction, exp.Commit, exp.Rollback, exp.Drop,
    exp.Alter, exp.TruncateTable, exp.Grant, exp.Revoke, exp.Set, exp.With, exp.Into, exp.Exists, exp.Use,
    exp.Comment, exp.Analyze, exp.Describe, exp.Lock, exp.Values,
)  # fmt: skip
_STATEMENT_WORDS = {"into": "SELECT INTO", "lock": "FOR UPDATE", "with": "WITH", "union": "UNION", "values": "VALUES"}
_CALL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*\(")
_WORD = re.compile(r"^[A-Za-z_]+$")
_CAST_HELP = (
    "text, varchar(n), integer, bigint, numeric(p,s), boolean, date, timestamp, timestamptz, interval, jsonb, "
    "uuid, bytea"
)


class UnlistedSql(ValueError):
    """A node of custom SQL that the allowlist does not hold; the message names it."""


@dataclass(frozen=True)
class Scope:
    """What a fragment may contain: a scalar expression, or a custom check's SELECT over the tables it may read."""

    check: bool = False
    tables: frozenset[tuple[str, str]] = frozenset()
    """(schema, table) a check may read; the project's own target tables."""
    schemas: frozenset[str] = frozenset()
    """Schemas every table of which a check may read (DataBridge's results)."""
    default_schema: str = "public"


EXPRESSION = Scope()


def refuse_unlisted(tree: exp.Expr, scope: Scope = EXPRESSION) -> None:
    """Raise UnlistedSql for the first node the allowlist does not hold."""
    nodes = allowlist.CHECK_NODES if scope.check else allowlist.EXPRESSION_NODES
    types, names = allowlist.function_nodes(aggregates=scope.check)
    walked = list(tree.walk())
    # Statements, windows and aggregates first, then functions: the message names what the fragment is trying to
    # do (a subquery, a refused call), not the construct around it.
    for node in walked:
        if (isinstance(node, (*_STATEMENTS, exp.Window)) and type(node) not in nodes) or (
            isinstance(node, exp.AggFunc) and type(node) not in types
        ):
            raise UnlistedSql(_unlisted(node, scope))
    for node in walked:
        if isinstance(node, exp.Anonymous):
            _refuse_function(node, names)
        elif isinstance(node, exp.Func) and type(node) not in types and type(node) not in nodes:
            raise UnlistedSql(_unlisted(node, scope))
    for node in walked:
        if isinstance(node, exp.Anonymous) or type(node) in types:
            continue
        if type(node) not in nodes:
            raise UnlistedSql(_unlisted(node, scope))
        _refuse_detail(node, scope)


def _refuse_function(node: exp.Anonymous, names: frozenset[str]) -> None:
    name = str(node.name).lower()
    if name not in names:
        raise UnlistedSql(_refused_function(_qualified_name(node.parent) if isinstance(node.parent, exp.Dot) else name))


_FIXED: tuple[tuple[type[exp.Expr], str], ...] = (
    (exp.Star, "uses *; an expression gives one value: name the columns it needs as {column}"),
    (exp.Table, "reads another table; an expression may use only this row's columns, as {column}"),
    (exp.UnicodeString, "uses a Unicode escape string (U&'...'); write the characters themselves"),
)


def _unlisted(node: exp.Expr, scope: Scope) -> str:
    """Why a node type is refused, in the user's words."""
    if isinstance(node, _STATEMENTS):
        if scope.check:
            return (
                f"must be one SELECT that only reads: {_STATEMENT_WORDS.get(node.key, node.key.upper())} is not allowed"
            )
        return "must be a single expression; statements and subqueries (SELECT ...) are not allowed"
    for kind, message in _FIXED:
        if isinstance(node, kind):
            return message
    if isinstance(node, exp.AggFunc | exp.Window):
        return (
            f"uses {_name(node)}(): aggregates and window functions are not allowed, "
            "only scalar expressions over one row"
        )
    if isinstance(node, exp.ObjectIdentifier):
        return f"casts to {node.name.lower()}, a catalog type that looks up server objects; cast only to {_CAST_HELP}"
    return _call_or_construct(node)


def _call_or_construct(node: exp.Expr) -> str:
    text = node.sql(dialect="postgres")
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        return _refused_function(_qualified_name(node))
    if isinstance(node, exp.Func) and _CALL.match(text):
        return _refused_function(_name(node))
    if isinstance(node, exp.Func) and _WORD.match(text):
        return f"uses {text}, which custom SQL may not use (it reads the session's state)"
    return f"uses {_construct(node)}, which custom SQL may not use"


def _refused_function(name: str) -> str:
    return (
        f"calls {name}(), which custom SQL may not use: only pure, row-local functions are allowed (the README's "
        "'What custom SQL may do' lists them)"
    )


def _qualified_name(node: exp.Expr) -> str:
    return node.sql(dialect="postgres").split("(", 1)[0].lower()


def _name(node: exp.Expr) -> str:
    """A function's name as PostgreSQL would see it (sqlglot's class names differ: StrPosition,
    ExplodingGenerateSeries)."""
    if isinstance(node, exp.Window):
        node = node.this
    text = node.sql(dialect="postgres")
    return text.split("(", 1)[0].strip().lower() if "(" in text else node.key


def _construct(node: exp.Expr) -> str:
    text = node.sql(dialect="postgres")
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"{node.key.upper()} ({shown})"


def _refuse_detail(node: exp.Expr, scope: Scope) -> None:
    """Listed node types whose content matters too."""
    if isinstance(node, exp.Var) and node.name.lower() not in allowlist.DATE_PARTS:
        raise UnlistedSql(f"uses the bare word {node.name!r}; quote text as '...' and write columns as {{column}}")
    if isinstance(node, exp.DataType):
        _refuse_type(node)
    if isinstance(node, exp.Identifier) and not isinstance(node.parent, _NAMED_BY_IDENTIFIER[scope.check]):
        raise UnlistedSql(f"uses the name {node.name!r} where custom SQL allows none")
    if isinstance(node, exp.Table):
        _refuse_table(node, scope)


_NAMED_BY_IDENTIFIER = {
    False: (exp.Column,),
    True: (exp.Column, exp.Table, exp.TableAlias, exp.Alias),
}


def _refuse_type(node: exp.DataType) -> None:
    if node.this in allowlist.cast_types() and not node.find(exp.Dot):
        return
    raise UnlistedSql(
        f"casts to {node.sql(dialect='postgres').lower()}, which custom SQL may not name; cast only to {_CAST_HELP}"
    )


def _refuse_table(node: exp.Table, scope: Scope) -> None:
    if not isinstance(node.this, exp.Identifier) or node.catalog:
        raise UnlistedSql(f"reads from {node.sql(dialect='postgres')}; a check may read only tables of this project")
    schema = node.db or scope.default_schema
    if (schema, node.name) in scope.tables or schema in scope.schemas:
        # Written out in full, so that no search_path (pg_catalog first) decides which table is read.
        node.set("db", exp.to_identifier(schema, quoted=True))
        node.set("this", exp.to_identifier(node.name, quoted=True))
        return
    raise UnlistedSql(
        f"reads {schema}.{node.name}, which is not a target table of this project; a check may read only "
        f"{_listed(scope.tables)} and DataBridge's results ({', '.join(sorted(scope.schemas))}.*)"
    )


def _listed(tables: Iterable[tuple[str, str]]) -> str:
    names = sorted(f"{s}.{t}" for s, t in tables)
    return (
        ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        if names
        else "its target tables"
    )
