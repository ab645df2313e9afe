"""Naming conventions of generated names: the issue's examples, and two names that meet are one error naming both."""

from __future__ import annotations

import pytest

from databridge.generate.naming import NameCollision, convert, convert_all, snake_case

SNAKE = [
    ("InvoiceLineId", "invoice_line_id"),
    ("MediaTypeId", "media_type_id"),
    ("HTTPStatus", "http_status"),
    ("Unit Price", "unit_price"),
    ("unit-price", "unit_price"),
    ("Order  -  Items", "order_items"),
    ("CustomerID", "customer_id"),
    ("Address2Line", "address2_line"),
    ("getHTTPResponseCode", "get_http_response_code"),
    ("already_snake", "already_snake"),
    ("_id", "_id"),
    ("address.city", "address_city"),
    ("Price ($)", "price"),
    ("ÄrzteListe", "ärzte_liste"),
    ("ID", "id"),
]


@pytest.mark.parametrize(("name", "expected"), SNAKE)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected
    assert convert(name, "snake_case") == expected


def test_as_is_and_lower() -> None:
    assert convert("InvoiceLineId", "as_is") == "InvoiceLineId"
    assert convert("InvoiceLineId", "lower") == "invoicelineid"
    assert convert("$$", "snake_case") == "$$"  # nothing would be left: kept as it is


def test_two_names_that_meet_are_one_error_naming_both() -> None:
    assert convert_all(["OrderId", "Total"], "snake_case", "columns") == {"OrderId": "order_id", "Total": "total"}
    with pytest.raises(NameCollision) as caught:
        convert_all(["OrderId", "Total", "order_id"], "snake_case", "source table shop.orders: columns")
    assert str(caught.value) == (
        "source table shop.orders: columns 'OrderId' and 'order_id' both become 'order_id' under naming: snake_case; "
        "list one of them under tables: with a target name of its own, or choose another naming"
    )
    with pytest.raises(NameCollision, match="'Orders' and 'orders' both become 'orders' under naming: lower"):
        convert_all(["Orders", "orders"], "lower", "tables")
    assert convert_all(["Orders", "orders"], "as_is", "tables") == {"Orders": "Orders", "orders": "orders"}
