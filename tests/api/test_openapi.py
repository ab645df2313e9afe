"""The OpenAPI document tells every error a route can answer, in the one error shape; a wrong method gets 405 with
``Allow`` naming every method of the path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, assert_error, concrete

pytestmark = pytest.mark.e2e

ERROR_SCHEMA = "#/components/schemas/ErrorAnswer"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in document["paths"].items() for method, op in item.items()]


def expected_errors(op: dict[str, Any]) -> set[str]:
    """What every route can answer (login, token, body limit), and what its parameters and body add."""
    places = {p["in"] for p in op.get("parameters", [])}
    expected = {"401", "403", "413"}
    expected |= {"404"} if "path" in places else set()
    expected |= {"400", "422"} if "requestBody" in op else set()
    expected |= {"422"} if places else set()
    return expected


def test_every_operation_documents_its_errors_in_the_error_shape(api: Api) -> None:
    document = api.call("GET", "/openapi.json").json()
    missing, wrong_shape = {}, []
    for method, path, op in operations(document):
        responses = op["responses"]
        if gaps := expected_errors(op) - set(responses):
            missing[f"{method} {path}"] = sorted(gaps)
        for status, answer in responses.items():
            if status.startswith(("4", "5")) and answer["content"]["application/json"]["schema"] != {
                "$ref": ERROR_SCHEMA
            }:
                wrong_shape.append(f"{method} {path} {status}")
    assert missing == {} and wrong_shape == []
    assert set(document["components"]["schemas"]["ErrorAnswer"]["required"]) == {"success", "error", "code"}


def test_the_routes_that_touch_databases_document_their_failures(api: Api) -> None:
    paths = api.call("GET", "/openapi.json").json()["paths"]
    for path, method in [("/preview", "post"), ("/validate", "post"), ("/connections/{connection_id}/test", "post")]:
        assert {"404", "502", "503"} <= set(paths[path][method]["responses"]), path
    assert "409" in paths["/projects"]["post"]["responses"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/projects", "GET, POST"),
        ("PUT", "/health", "GET"),
        ("GET", "/validate", "POST"),
        ("PATCH", "/connections/some_conn/test", "POST"),
        ("POST", "/ui/wizard", "GET"),
        ("POST", "/ui/static/js/app.js", "GET"),
    ],
)
def test_a_wrong_method_gets_405_with_allow(api: Api, method: str, path: str, allow: str) -> None:
    response = api.call(method, path)
    assert_error(response, 405, "VALIDATION_ERROR", f"{method} is not allowed on this path; use {allow}")
    assert response.headers["Allow"] == allow


def test_every_path_answers_an_undocumented_method_with_405_and_allow(api: Api) -> None:
    """The walk a schema-driven fuzzer makes: each path of the document, each method it does not list."""
    wrong = {}
    for path, item in api.call("GET", "/openapi.json").json()["paths"].items():
        documented = ", ".join(sorted(m.upper() for m in item))
        for method in {"GET", "POST", "PUT", "PATCH", "DELETE"} - {m.upper() for m in item}:
            response = api.call(method, concrete(path))
            if (response.status_code, response.headers.get("Allow")) != (405, documented):
                wrong[f"{method} {path}"] = (response.status_code, response.headers.get("Allow"))
    assert wrong == {}
