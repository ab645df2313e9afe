"""Names: qualified table names as users write them, suggestions for typos, quoted identifiers."""

from __future__ import annotations

import pytest

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.spec.loader import format_path
from databridge.spec.names import QualifiedName, did_you_mean, parse_qualified

# --- parse_qualified ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "schema", "name"),
    [
        ("orders", None, "orders"),
        ("shop.orders", "shop", "orders"),
        ("  shop . orders  ", "shop", "orders"),
        ('"my schema"."Tbl.x"', "my schema", "Tbl.x"),
        ('shop."Order Lines"', "shop", "Order Lines"),
        ('"say ""hi"""', None, 'say "hi"'),
        ('" padded "', None, " padded "),
        ("dbo.Users", "dbo", "Users"),
    ],
)
def test_parse_qualified(text: str, schema: str | None, name: str) -> None:
    assert parse_qualified(text) == QualifiedName(schema, name)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' has an empty name part"),
        ("shop.", "'shop.' has an empty name part"),
        (".orders", "'.orders' has an empty name part"),
        ("shop..orders", "'shop..orders' has an empty name part"),
        ('""', "'\"\"' has an empty name part"),
        ('"shop.orders', "'\"shop.orders' has an unclosed double quote"),
        ('shop."orders', "'shop.\"orders' has an unclosed double quote"),
        (
            "db.shop.orders",
            "'db.shop.orders' is not a table name: write table or schema.table (quote parts holding dots)",
        ),
    ],
)
def test_parse_qualified_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_qualified(text)
    assert str(caught.value) == message


def test_qualified_name_prints_and_takes_a_default_schema() -> None:
    assert str(QualifiedName("shop", "orders")) == "shop.orders"
    assert str(QualifiedName(None, "orders")) == "orders"
    assert QualifiedName(None, "orders").with_default_schema("public") == QualifiedName("public", "orders")
    assert QualifiedName("shop", "orders").with_default_schema("public") == QualifiedName("shop", "orders")


# --- did_you_mean -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "choices", "hint"),
    [
        ("sorce", ["source", "target", "type"], " (did you mean 'source'?)"),
        ("upsrt", ["replace", "append", "upsert"], " (did you mean 'upsert'?)"),
        ("ID", ["id", "name"], " (did you mean 'id'?)"),
        ("colour", ["source", "target"], ""),
        ("anything", [], ""),
    ],
)
def test_did_you_mean(word: str, choices: list[str], hint: str) -> None:
    assert did_you_mean(word, choices) == hint


def test_did_you_mean_takes_the_closest_of_several() -> None:
    assert (
        did_you_mean("customer_di", ["customer_name", "customer_id", "customers"]) == " (did you mean 'customer_id'?)"
    )


def test_did_you_mean_accepts_any_iterable() -> None:
    assert did_you_mean("ingset", (n for n in ["ingest", "publish"])) == " (did you mean 'ingest'?)"


# --- quote_ident --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("orders", '"orders"'),
        ("Orders", '"Orders"'),
        ("order", '"order"'),
        ("Order Date", '"Order Date"'),
        ('say "hi"', '"say ""hi"""'),
        ("prénom", '"prénom"'),
        ("a.b", '"a.b"'),
        ("", '""'),
    ],
)
def test_quote_ident(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_quote_ident_refuses_nul() -> None:
    with pytest.raises(
        ValueError, match=r"^name 'a\\x00b' contains a NUL character, which PostgreSQL cannot store; remove it$"
    ):
        quote_ident("a\x00b")


def test_qualified_quotes_each_part() -> None:
    assert qualified("my schema", 'T"x') == '"my schema"."T""x"'
    assert qualified(None, "orders") == '"orders"'


# --- field paths in messages --------------------------------------------------------------------------------


def test_format_path() -> None:
    assert format_path(("pipelines", 0, "tables", 2, "targets", 0, "columns", 1, "source")) == (
        "pipelines[0].tables[2].targets[0].columns[1].source"
    )
    assert format_path(("name",)) == "name"
    assert format_path(()) == ""
