"""Size limits of the API: a request body past 2 MB is answered 413 before it is parsed (declared or chunked), a
project past 1 MB is refused by every route that takes a draft, and no error echoes a draft back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from databridge.spec.loader import MAX_PROJECT_BYTES
from databridge.views.limits import MAX_BODY_BYTES
from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e

CHUNK = 64 * 1024
SMALL_ANSWER = 10_000
"""Bytes an error answer stays under, however large the request was."""


def big_yaml(size: int) -> str:
    """A project's YAML of ``size`` bytes: a name and a comment filling the rest."""
    head = "name: big\n# "
    return head + "x" * (size - len(head) - 1) + "\n"


@pytest.mark.parametrize("path", ["/validate", "/projects", "/preview", "/expressions/check", "/schedule/describe"])
def test_a_body_over_the_limit_is_refused_before_it_is_parsed(api: Api, mappings: Path, path: str) -> None:
    body = b'{"yaml": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    response = api.call("POST", path, content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "TOO_LARGE", f"more than the {MAX_BODY_BYTES:,} bytes a request may have")
    assert len(response.content) < SMALL_ANSWER and list(mappings.iterdir()) == []


def test_a_chunked_body_is_counted(api: Api) -> None:
    """No Content-Length: the body's bytes are counted as they arrive (where reading stops:
    tests/unit/test_body_limit.py)."""

    def chunks() -> Iterator[bytes]:
        yield b'{"yaml": "'
        for _ in range(3 * MAX_BODY_BYTES // CHUNK):
            yield b"x" * CHUNK

    response = api.call("POST", "/validate", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, "TOO_LARGE", "still arriving")


def test_a_body_within_the_limit_is_read_as_sent(api: Api) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"yaml": "name: x\\n", '
        yield b'"lint": false}'

    response = api.call("POST", "/validate", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()["valid"] is False, response.text


@pytest.mark.parametrize("path", ["/validate", "/projects", "/preview"])
def test_a_project_over_the_file_limit_is_refused(api: Api, mappings: Path, path: str) -> None:
    response = api.call("POST", path, json={"yaml": big_yaml(MAX_PROJECT_BYTES + 1)})
    assert_error(
        response,
        413,
        "TOO_LARGE",
        f"the project is {MAX_PROJECT_BYTES + 1:,} bytes as YAML, more than the {MAX_PROJECT_BYTES:,} bytes",
    )
    assert len(response.content) < SMALL_ANSWER and list(mappings.iterdir()) == []


def test_a_project_sent_as_json_counts_as_its_yaml(api: Api) -> None:
    response = api.call("POST", "/validate", json={"project": {"name": "big", "description": "x" * MAX_PROJECT_BYTES}})
    assert_error(response, 413, "TOO_LARGE", "bytes a project may have")


def test_a_project_at_the_file_limit_is_checked(api: Api) -> None:
    response = api.call("POST", "/validate", json={"yaml": big_yaml(MAX_PROJECT_BYTES)})
    assert response.status_code == 200 and response.json()["valid"] is False, response.text[:500]


@pytest.mark.parametrize("path", ["/projects", "/validate"])
def test_no_error_echoes_the_draft(api: Api, mappings: Path, path: str) -> None:
    """A key of 900 KB is named in its problem, and 20,000 problems are counted: the answer stays small."""
    for draft in ({"name": "x", "k" * 900_000: 1}, {"name": "x", **{f"k{i}": 1 for i in range(20_000)}}):
        response = api.call("POST", path, json={"project": draft})
        assert response.status_code in (200, 422) and len(response.content) < 100_000, (
            response.status_code,
            len(response.content),
        )
        problems = response.json()["problems"]
        assert len(problems) <= 101 and any("unknown field" in p["message"] for p in problems)
    assert list(mappings.iterdir()) == []


def test_a_long_pipeline_name_is_refused_without_being_echoed(api: Api) -> None:
    response = api.call("POST", "/preview", json={"yaml": "name: x\n", "pipeline": "p" * 500_000})
    assert_error(response, 422, "VALIDATION_ERROR", "body.pipeline")
    assert len(response.content) < SMALL_ANSWER
