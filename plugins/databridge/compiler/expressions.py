"""Custom SQL from the spec, checked with sqlglot: one scalar expression over the row's own columns."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import Token

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.sql_check import EXPRESSION, Scope, UnlistedSql, refuse_unlisted

PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\{([^{}]+)\}")
"""A {column} placeholder, or a string literal (matched so that braces inside it stay text: '{"a": 1}')."""
_TOKEN_PREFIX = "__databridge_col_"
_TOKEN = _TOKEN_PREFIX + "{}__"
_TOKEN_RE = re.compile(r"^__databridge_col_(\d+)__$")
_QUOTED_TOKEN = re.compile(r'"__databridge_col_(\d+)__"')
_CLASS_REPR = re.compile(r"<class '(?:\w+\.)*(\w+)'>")

MAX_LENGTH = 10_000
"""Longest custom SQL fragment accepted, in characters (a mapping's SQL is an expression, not a program)."""


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
    _check_length(text)
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
    _refuse_unsafe(tree, EXPRESSION, columns)
    tree = _bind_columns(tree, columns)
    return CheckedExpression(tree.sql(dialect="postgres"), tuple(columns))


def _check_length(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is {len(text):,} characters long; custom SQL may be at most {MAX_LENGTH:,}")


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
    _refuse_unicode_names(tokens)
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


def _refuse_unsafe(tree: exp.Expr, scope: Scope = EXPRESSION, columns: list[str] | None = None) -> None:
    try:
        refuse_unlisted(tree, scope)
    except UnlistedSql as exc:
        shown = _QUOTED_TOKEN.sub(lambda m: "{" + (columns or [])[int(m.group(1))] + "}", str(exc))
        raise ExpressionError(shown) from None


def _bind_columns(tree: exp.Expr, columns: list[str]) -> exp.Expr:
    """The tree with each placeholder token replaced by its quoted column (the root too: "{name}" alone)."""

    def bind(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, exp.Column):
            return node
        match = _TOKEN_RE.match(node.name)
        if _TOKEN_PREFIX in node.name and not match:
            raise ExpressionError(
                "has two {column} placeholders side by side; join them with an operator, e.g. {a} || {b}"
            )
        if node.table or not match:
            shown = node.sql(dialect="postgres")
            raise ExpressionError(
                f"names {shown!r} directly; write columns of this row as {{column}}, e.g. {{{node.name}}}"
            )
        return exp.column(columns[int(match.group(1))], quoted=True)

    return tree.transform(bind)


def _refuse_unicode_names(tokens: list[Token]) -> None:
    """U&"d\\0061ta" names a column by escapes; sqlglot reads it as U & "..." (the bitwise AND of two columns)."""
    for first, second in itertools.pairwise(tokens):
        if first.text.upper() == "U" and second.token_type == TokenType.AMP and second.start == first.end + 1:
            raise ExpressionError(
                "uses a Unicode-escaped name (U&\"...\"); write columns as {column} and text as '...'"
            )


def check_select(text: str, scope: Scope) -> str:
    """A read-only SELECT for a custom validation over the tables ``scope`` allows; returns it normalised with every
    table schema-qualified, or raises ExpressionError."""
    _check_length(text)
    tree = _parse_one(text)
    if not isinstance(tree, exp.Select):
        raise ExpressionError("must be one SELECT returning one value")
    _refuse_unsafe(tree, scope)
    return tree.sql(dialect="postgres")


def tables_read(select: str) -> list[str]:
    """The tables a checked SELECT reads, qualified and quoted as ``check_select`` wrote them (for grants)."""
    tree = sqlglot.parse_one(select, read="postgres")
    return list(dict.fromkeys(qualified(t.db, t.name) for t in tree.find_all(exp.Table)))


def sql_literal(value: str | int | float | bool) -> str:
    """A constant as an untyped SQL string literal, so PostgreSQL gives it the type of its context."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return "'" + text.replace("'", "''") + "'"


def quoted(name: str) -> str:
    return quote_ident(name)
