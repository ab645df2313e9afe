"""Spec problems in the wizard's terms: once, naming the pair, column or field, with the step and control that fix
it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e

PAIR = "pair shop.customers → public.customers (pipeline crm)"


def draft(columns: list[dict[str, Any]] | None, **schedule: Any) -> dict[str, Any]:
    target: dict[str, Any] = {"table": "public.customers"} | ({} if columns is None else {"columns": columns})
    pipeline = {
        "name": "crm",
        "source_conn_id": "src",
        "target_conn_id": "tgt",
        "tables": [{"source": "shop.customers", "targets": [target]}],
    }
    return {"name": "ui_words", "pipelines": [pipeline]} | ({"schedule": schedule} if schedule else {})


def test_a_pair_without_columns_is_one_problem_naming_the_pair_and_step_2(api: Api) -> None:
    body = api.call("POST", "/validate", json={"project": draft([])}).json()
    (problem,) = body["problems"]
    assert problem["path"] == "pipelines[0].tables[0].targets[0].columns"
    assert problem["where"] == PAIR
    assert problem["fix"] == "no column is mapped: map its columns in step 2 (Columns)"
    assert (problem["step"], problem["step_name"], problem["control"]) == (2, "Columns", "#pair-picker")
    assert (problem["pipeline"], problem["table"], problem["target"]) == (0, 0, 0)
    assert "list should have" not in str(body)


def test_saving_it_says_it_once_in_the_problems(api: Api, mappings: Path) -> None:
    body = assert_error(
        api.call("POST", "/projects", json={"project": draft([])}), 422, "VALIDATION_ERROR", "no column is mapped"
    )
    assert [p["fix"] for p in body["problems"]] == ["no column is mapped: map its columns in step 2 (Columns)"]
    assert list(mappings.iterdir()) == []


def test_a_column_and_a_schedule_field_lead_to_their_controls(api: Api) -> None:
    columns: list[dict[str, Any]] = [{"source": "id"}, {"source": "name", "transform": ["strip"]}]
    problems = api.call("POST", "/validate", json={"project": draft(columns, cron="0 3 * *")}).json()["problems"]
    by_path = {p["path"]: p for p in problems}
    cron = by_path["schedule.cron"]
    assert (cron["step"], cron["step_name"], cron["control"]) == (4, "Schedule", "#cron")
    column = by_path["pipelines[0].tables[0].targets[0].columns[1].transform[0]"]
    assert (column["step"], column["control"]) == (2, '#mappings tr[data-mapping="1"]')
    assert column["where"] == f"column name of {PAIR}"
    assert "did you mean 'trim'" in column["fix"]


def test_a_name_clash_says_what_to_do_in_the_wizard_and_keeps_the_apis_words(api: Api, mappings: Path) -> None:
    assert api.call("POST", "/projects", json={"project": draft(None)}).status_code == 201
    body = assert_error(
        api.call("POST", "/projects", json={"project": draft(None)}), 409, "VALIDATION_ERROR", "send overwrite: true"
    )
    (problem,) = body["problems"]
    assert problem["fix"] == (
        "include/mappings/ui_words.yaml already exists: tick “Replace the saved file of this project” and save again, "
        "or give the project another name in step 1 (Tables)"
    )
    assert "overwrite: true" not in problem["fix"]
    assert (problem["step"], problem["step_name"], problem["control"]) == (6, "Save & run", "#overwrite")
    (mappings / "other.yaml").write_text((mappings / "ui_words.yaml").read_text())
    body = assert_error(
        api.call("POST", "/projects", json={"project": draft(None), "overwrite": True}),
        409,
        "VALIDATION_ERROR",
        "already defined in",
    )
    assert (
        body["problems"][0]["control"] == "#project-name"
        and "give this project another name in step 1" in body["problems"][0]["fix"]
    )
