"""Custom SQL from the spec, checked with sqlglot: one scalar expression over the row's own columns."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from databridge.compiler.identifiers import quote_ident

PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\{([^{}]+)\}")
"""A {column} placeholder, or a string literal (matched so that braces inside it stay text: '{"a": 1}')."""
_TOKEN_PREFIX = "__databridge_col_"
_TOKEN = _TOKEN_PREFIX + "{}__"
_TOKEN_RE = re.compile(r"^__databridge_col_(\d+)__$")
_QUOTED_TOKEN = re.compile(r'"__databridge_col_(\d+)__"')
_CLASS_REPR = re.compile(r"<class '(?:\w+\.)*(\w+)'>")

_FORBIDDEN_PREFIXES = ("pg_", "lo_", "dblink", "txid_")
_FORBIDDEN_FUNCTIONS = {
    "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
    "table_to_xml", "schema_to_xml", "database_to_xml", "set_config", "current_setting",
    "nextval", "setval", "currval", "lastval", "copy", "xpath",
}  # fmt: skip
_STATEMENTS = (
    exp.Query, exp.DML, exp.DDL, exp.Command, exp.Subquery, exp.Block, exp.Set, exp.Transaction,
    # sqlglot keeps these outside DDL/DML:
    exp.Drop, exp.Alter, exp.TruncateTable, exp.Grant, exp.Revoke, exp.Comment, exp.Analyze, exp.Describe,
    exp.Commit, exp.Rollback, exp.Use,
)  # fmt: skip


class ExpressionError(ValueError):
    """Custom SQL that DataBridge refuses to run; the message says why and what to write."""


@dataclass(frozen=True)
class CheckedExpression:
    sql: str
    """PostgreSQL text of the expression with columns quoted."""
    columns: tuple[str, ...]
    """Source columns it reads, in order of first use."""


def check_expression(text: str) -> CheckedExpression:
    """Parse custom SQL with {column} placeholders; raise ExpressionError unless it is a safe scalar."""
    columns: list[str] = []

    def to_token(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in columns:
            columns.append(name)
        return '"' + _TOKEN.format(columns.index(name)) + '"'

    tokenised = PLACEHOLDER.sub(to_token, text)
    tree = _parse_one(tokenised, columns)
    _refuse_unsafe(tree)
    tree = _bind_columns(tree, columns)
    return CheckedExpression(tree.sql(dialect="postgres"), tuple(columns))


def _parse_one(text: str, columns: list[str] | None = None) -> exp.Expr:
    if not text.strip():
        raise ExpressionError("is empty; write a SQL expression such as UPPER({name})")
    try:
        tokens = sqlglot.tokenize(text, read="postgres")
    except TokenError:
        raise ExpressionError("cannot be read as SQL: a quote (' or \") or $$ is left open; close it") from None
    if any(t.token_type == TokenType.SEMICOLON for t in tokens):
        raise ExpressionError("contains a semicolon; write one expression, not statements")
    if any(t.comments for t in tokens):
        raise ExpressionError("contains a comment; remove it (comments are not allowed in expressions)")
    try:
        tree = sqlglot.parse_one(text, read="postgres")
    except ParseError as exc:
        raise ExpressionError(f"is not valid SQL: {_parse_problem(exc, columns or [])}") from None
    if tree is None:
        raise ExpressionError("is not valid SQL")
    return tree


def _parse_problem(exc: ParseError, columns: list[str]) -> str:
    """sqlglot's complaint, without class names or positions (those count in the rewritten text)."""
    error = exc.errors[0] if exc.errors else {}
    description = _CLASS_REPR.sub(r"\1", str(error.get("description") or str(exc).splitlines()[0]))
    near = _QUOTED_TOKEN.sub(lambda m: "{" + columns[int(m.group(1))] + "}", str(error.get("highlight") or ""))
    return f"{description} near {near!r}" if near else description


def _refuse_unsafe(tree: exp.Expr) -> None:
    for node in tree.walk():
        if isinstance(node, _STATEMENTS):
            raise ExpressionError("must be a single expression; statements and subqueries (SELECT ...) are not allowed")
        if isinstance(node, exp.Star):
            raise ExpressionError("uses *; an expression gives one value: name the columns it needs as {column}")
        if isinstance(node, exp.Table):
            raise ExpressionError("reads another table; an expression may use only this row's columns, as {column}")
        if isinstance(node, exp.AggFunc | exp.Window):
            raise ExpressionError(f"uses {_function_name(node)}(): aggregates and window functions are not allowed, only scalar expressions over one row")
        if isinstance(node, exp.Func):
            _refuse_function(node)


def _function_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Window):
        node = node.this
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower() if isinstance(node, exp.Func) else node.key


def _refuse_function(node: exp.Func) -> None:
    name = _function_name(node)
    if name in _FORBIDDEN_FUNCTIONS or name.startswith(_FORBIDDEN_PREFIXES):
        raise ExpressionError(f"calls {name}(), which is not allowed in a mapping (it reads or changes server state)")


def _bind_columns(tree: exp.Expr, columns: list[str]) -> exp.Expr:
    """The tree with each placeholder token replaced by its quoted column (the root too: "{name}" alone)."""

    def bind(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column):
            return node
        match = _TOKEN_RE.match(node.name)
        if _TOKEN_PREFIX in node.name and not match:
            raise ExpressionError("has two {column} placeholders side by side; join them with an operator, e.g. {a} || {b}")
        if node.table or not match:
            shown = node.sql(dialect="postgres")
            raise ExpressionError(f"names {shown!r} directly; write columns of this row as {{column}}, e.g. {{{node.name}}}")
        return exp.column(columns[int(match.group(1))], quoted=True)

    return tree.transform(bind)


def check_select(text: str) -> str:
    """A read-only SELECT for a custom validation; returns it normalised, or raises ExpressionError."""
    tree = _parse_one(text)
    if not isinstance(tree, exp.Query):
        raise ExpressionError("must be one SELECT returning one value")
    for node in tree.walk():
        if isinstance(node, exp.DML | exp.DDL | exp.Command | exp.Into):
            raise ExpressionError("must only read: INSERT, UPDATE, DELETE, DDL and SELECT INTO are not allowed")
        if isinstance(node, exp.Func):
            _refuse_function(node)
    return tree.sql(dialect="postgres")


def sql_literal(value: str | int | float | bool) -> str:
    """A constant as an untyped SQL string literal, so PostgreSQL gives it the type of its context."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return "'" + text.replace("'", "''") + "'"


def quoted(name: str) -> str:
    return quote_ident(name)
