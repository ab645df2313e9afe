"""POST /expressions/check: one mapping field checked as typed, with the spec checker's own messages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e


def check(api: Api, expression: str, user: str | None = "admin", **fields: Any) -> Any:
    return api.call("POST", "/expressions/check", user=user, json={"expression": expression, **fields})


def test_anonymous_and_viewer_calls_are_refused(api: Api) -> None:
    assert_error(check(api, "UPPER({name})", user=None), 401, "AUTH_ERROR", "not authenticated")
    assert_error(check(api, "UPPER({name})", user="viewer"), 403, "AUTH_ERROR")


def test_a_valid_expression_is_normalised(api: Api) -> None:
    response = check(api, "upper(trim({name})) || {code}", columns=["name", "code", "id"])
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "sql": 'UPPER(TRIM("name")) || "code"', "columns": ["name", "code"]}


def test_a_valid_filter_type_and_date_format(api: Api) -> None:
    assert check(api, "{active} AND {id} > 10", kind="filter").json()["columns"] == ["active", "id"]
    assert check(api, " numeric(12, 2) ", kind="type").json() == {"valid": True, "sql": "numeric(12, 2)", "columns": []}
    assert check(api, "%Y-%m-%d", kind="date_format").json()["sql"] == "YYYY-MM-DD"


@pytest.mark.parametrize(
    ("kind", "text", "words"),
    [
        ("expression", "UPPER({name}); DROP TABLE x", "expression: contains a semicolon; write one expression"),
        ("expression", "(SELECT 1)", "statements and subqueries (SELECT ...) are not allowed"),
        ("expression", "", "expression: is empty"),
        ("filter", "SUM({total}) > 1", "filter: uses sum(): aggregates and window functions are not allowed"),
        ("filter", "pg_sleep(1) IS NULL", "calls pg_sleep(), which custom SQL may not use"),
        ("type", "integr", "type: unknown type 'integr' (did you mean 'integer'?)"),
        ("date_format", "%Y-%q", "date_format: date_format '%Y-%q': '%q' is not a supported strftime code"),
        ("date_format", " ", "date_format is empty"),
    ],
)
def test_an_invalid_field_gets_the_spec_message(api: Api, kind: str, text: str, words: str) -> None:
    body = assert_error(check(api, text, kind=kind), 422, "VALIDATION_ERROR", words)
    assert body["problems"][0]["path"] == kind


def test_unknown_placeholder_columns_are_named_with_a_suggestion(api: Api) -> None:
    body = assert_error(check(api, "{nme} || {total} || {zzz}", columns=["name", "total"]), 422, "VALIDATION_ERROR")
    assert (
        body["error"] == "expression: unknown source column 'nme' (did you mean 'name'?); unknown source column 'zzz'"
    )
    assert [p["message"] for p in body["problems"]] == [
        "unknown source column 'nme' (did you mean 'name'?)",
        "unknown source column 'zzz'",
    ]


def test_an_unknown_kind_is_refused(api: Api) -> None:
    assert_error(check(api, "x", kind="sql"), 422, "VALIDATION_ERROR", "kind")
