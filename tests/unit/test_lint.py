"""The pure parts of the lint: declared types' limits, value checks, URIs → connections, and how problems print."""

from __future__ import annotations

from decimal import Decimal

import pytest

from databridge.cli import parse_conn
from databridge.compiler.plan import ColumnPlan
from databridge.engines.uri import info_from_uri
from databridge.errors import DataBridgeError
from databridge.lint import LintProblem, format_problems, has_errors
from databridge.lint.declared import parse_type
from databridge.lint.pipeline import direct_source, limit_checker
from databridge.lint.problems import examples, show
from databridge.lint.sample import copy_text_field, is_zero_date
from databridge.lint.values import Where, fraction_digits, integer_digits


@pytest.mark.parametrize(("text", "base", "length", "precision", "scale"), [
    ("numeric(12,2)", "numeric", None, 12, 2),
    ("decimal(3, 1)", "numeric", None, 3, 1),
    ("numeric(5)", "numeric", None, 5, 0),
    ("numeric", "numeric", None, None, None),
    ("varchar(40)", "varchar", 40, None, None),
    ("character varying(3)", "varchar", 3, None, None),
    ("varchar", "varchar", None, None, None),
    ("char", "char", 1, None, None),
    ("CHAR(2)", "char", 2, None, None),
    ("int4", "integer", None, None, None),
    ("timestamp without time zone", "timestamp", None, None, None),
    ("public.mood", "public.mood", None, None, None),
])  # fmt: skip
def test_declared_types_are_read_for_their_limits(
    text: str, base: str, length: int | None, precision: int | None, scale: int | None
) -> None:
    declared = parse_type(text)
    assert (declared.base, declared.length, declared.precision, declared.scale) == (base, length, precision, scale)


def test_arrays_and_unconstrained_types_have_no_limits() -> None:
    assert parse_type("varchar(3)[]").max_length is None
    assert parse_type("integer[]").integer_range is None
    assert parse_type("numeric").numeric_limits is None
    assert parse_type("smallint").integer_range == (-32768, 32767)


def check(type_text: str, values: list[object]) -> list[LintProblem]:
    checker = limit_checker(Where("public.t", "c", "c"), parse_type(type_text))
    assert checker is not None
    for value in values:
        checker.see(value)
    return checker.problems(len(values))


def test_decimal_scale_is_a_warning_and_precision_an_error() -> None:
    problems = check("numeric(5,2)", [Decimal("1.50"), Decimal("1.234"), 2.5, "999.994", "999.995", None, "abc"])
    assert [(p.kind, p.severity, p.examples) for p in problems] == [
        ("decimal_scale", "warning", ("1.234", "999.994", "999.995")),
        ("decimal_precision", "error", ("999.995",)),  # rounds to 1000.00
    ]
    assert "3 of 7 rows read" in problems[0].message and "ROUND({c}, 2)" in problems[0].suggestion


def test_strings_longer_than_the_type_ignore_trailing_spaces() -> None:
    (problem,) = check("varchar(3)", ["abc", "abc   ", "abcd", 12345, None])
    assert problem.examples == ("abcd", "12345") and "varchar(5)" in problem.suggestion


def test_integers_out_of_range_suggest_the_type_that_fits() -> None:
    (problem,) = check("smallint", [1, "40000", Decimal("-70000"), 3.0, "x", True])
    assert problem.examples == ("40000", "-70000") and "`type: integer`" in problem.suggestion
    (problem,) = check("integer", [2**40])
    assert "`type: bigint`" in problem.suggestion


def test_digits_are_counted_as_postgres_rounds() -> None:
    assert fraction_digits(Decimal("1.500")) == 1 and fraction_digits(Decimal("2E+3")) == 0
    assert integer_digits(Decimal("99.995"), 2) == 3 and integer_digits(Decimal("0.4")) == 0


def test_zero_dates_and_copy_text() -> None:
    assert is_zero_date("0000-00-00 00:00:00") and is_zero_date("2024-00-10") and not is_zero_date("2024-01-10")
    assert copy_text_field(b"\\N") is None and copy_text_field(b"a\\tb\\\\c") == "a\tb\\c"


def test_direct_mappings_are_recognised() -> None:
    assert direct_source(ColumnPlan("a", '"a"')) == "a"
    assert direct_source(ColumnPlan("a", 'CAST("we""ird" AS numeric(10,2))', "numeric(10,2)")) == 'we"ird'
    assert direct_source(ColumnPlan("a", 'CAST(btrim(CAST("a" AS text)) AS integer)', "integer")) is None


def test_uris_become_connections_without_airflow() -> None:
    pg = info_from_uri("postgresql://bob:p%40ss@db.example:5433/sales?sslmode=require", "tgt")
    assert (pg.conn_type, pg.host, pg.port, pg.login, pg.password, pg.database, dict(pg.extra)) == (
        "postgres",
        "db.example",
        5433,
        "bob",
        "p@ss",
        "sales",
        {"sslmode": "require"},
    )
    my = info_from_uri("mariadb://root@127.0.0.1:3306/shop", "src")
    assert (my.conn_type, my.login, my.password, my.database, my.conn_id) == ("mysql", "root", None, "shop", "src")
    assert info_from_uri("sqlite:////data/shop%20v1.db").host == "/data/shop v1.db"
    assert parse_conn("src = sqlite:////x.db")[0] == "src"


@pytest.mark.parametrize("bad", ["oracle://u:hunter2@h/db", "mysql://u:hunter2@h:port/db", "sqlite://"])
def test_bad_uris_are_refused_without_showing_them(bad: str) -> None:
    with pytest.raises(DataBridgeError) as caught:
        info_from_uri(bad, "src")
    assert "hunter2" not in str(caught.value) and "src" in str(caught.value)
    with pytest.raises(DataBridgeError, match="CONN_ID=URI"):
        parse_conn("no-equals-sign")


def test_problems_print_grouped_by_table() -> None:
    problems = [
        LintProblem("shop.orders", "qty", "conversion", "the mapping fails", ("abc",), "use `type: text`"),
        LintProblem(
            "public.fact", "amount", "decimal_scale", "rounded", ("1.234",), "use `type: numeric(12,3)`", "warning"
        ),
        LintProblem("shop.orders", "made", "naive_datetime", "no zone", (), "set naive_timezone"),
    ]
    assert format_problems(problems).splitlines() == [
        "shop.orders",
        "  error   qty: conversion: the mapping fails (e.g. 'abc') -> use `type: text`",
        "  error   made: naive_datetime: no zone -> set naive_timezone",
        "public.fact",
        "  warning amount: decimal_scale: rounded (e.g. '1.234') -> use `type: numeric(12,3)`",
    ]
    assert has_errors(problems) and not has_errors(problems[1:2])


def test_examples_are_distinct_short_and_at_most_five() -> None:
    assert examples(["a", "a", "b", 1, 2, 3, 4]) == ("a", "b", "1", "2", "3")
    assert show("x" * 50) == "x" * 40 + "… (50 chars)"
