"""Validation check kinds: one registry (runtime/validate_checks.py) of spec model → plan builder → runner; a kind that
is not registered is refused, never planned or run as another kind."""

from __future__ import annotations

import textwrap
import typing
from typing import Literal

import pytest

from databridge.compiler import compile_project
from databridge.compiler.plan import CheckPlan, TableRef
from databridge.errors import CompileError
from databridge.runtime import validate_checks
from databridge.runtime.validate_checks import CHECK_KINDS, kind_of
from databridge.spec import parse_project
from databridge.spec.models import Check, CheckBase

PROJECT = """
    name: kinds
    pipelines:
      - name: main
        source_conn_id: src
        target_conn_id: tgt
        tables:
          - source: shop.customers
            targets:
              - table: dim_customer
                columns: [{source: id}, {source: email}]
        validations:
          - {check: not_null, table: dim_customer, columns: [email]}
"""


class UniqueCheck(CheckBase):
    """A kind the spec might grow one day, with no plan builder or runner registered."""

    check: Literal["unique"]
    table: str
    columns: list[str]


def test_a_check_kind_with_no_registered_builder_is_refused_not_planned_as_not_null() -> None:
    project = parse_project(textwrap.dedent(PROJECT), "kinds.yaml")
    pipeline = project.pipelines[0]
    unknown = UniqueCheck(check="unique", table="dim_customer", columns=["email"])
    project = project.model_copy(update={"pipelines": [pipeline.model_copy(update={"validations": [unknown]})]})
    with pytest.raises(
        CompileError,
        match="unknown validation check kind UniqueCheck; the known kinds are custom, foreign_key, not_null",
    ):
        compile_project(project, "kinds.yaml")


def test_a_planned_check_of_an_unknown_kind_is_not_run() -> None:
    with pytest.raises(CompileError, match="unknown validation check kind 'unique'"):
        kind_of("unique")
    with pytest.raises(CompileError, match="'unique'"):
        validate_checks.run_check(None, CheckPlan("unique", "u", "fail", TableRef("public", "t"), ("id",)))  # type: ignore[arg-type]


def test_every_registered_kind_has_its_model_plan_builder_and_runner() -> None:
    assert set(CHECK_KINDS) == {"not_null", "foreign_key", "custom"}
    for name, kind in CHECK_KINDS.items():
        assert kind.kind == name
        assert issubclass(kind.model, CheckBase)
        assert typing.get_args(kind.model.model_fields["check"].annotation) == (name,)  # the YAML ``check:`` value
        assert callable(kind.plan) and callable(kind.run)


def test_every_model_of_the_spec_check_union_is_registered() -> None:
    union = typing.get_args(typing.get_args(Check)[0])
    assert {kind.model for kind in CHECK_KINDS.values()} == set(union)


def test_the_declared_kinds_compile_through_the_registry() -> None:
    plan = compile_project(parse_project(textwrap.dedent(PROJECT), "kinds.yaml"), "kinds.yaml")
    assert plan.pipelines[0].checks == (
        CheckPlan(
            "not_null", "public.dim_customer(email) not null", "fail", TableRef("public", "dim_customer"), ("email",)
        ),
    )
