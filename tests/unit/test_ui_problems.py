"""Each spec field path leads to the wizard's step and control that edit it, and every control named exists."""

from __future__ import annotations

import re
from typing import Any

import pytest

from databridge.views.problems import STEPS, locate, parse_path
from tests.conftest import REPO

JS = REPO / "plugins" / "databridge" / "views" / "static" / "js"
DRAFT: dict[str, Any] = {
    "name": "p",
    "pipelines": [
        {
            "name": "crm",
            "tables": [
                {
                    "source": "shop.orders",
                    "targets": [
                        {"table": "public.orders"},
                        {
                            "table": "public.order_copy",
                            "columns": [{"source": "id"}, {"target": "total", "expression": "{a} + {b}"}],
                        },
                    ],
                }
            ],
        },
        {"name": "erp", "depends_on": ["crm"]},
    ],
}
PAIR = "pair shop.orders → public.order_copy (pipeline crm)"

CASES = [
    ("name", 1, "#project-name", "project name"),
    ("schedule.cron", 4, "#cron", "schedule"),
    ("schedule.start_date", 4, "#start-date", "schedule"),
    ("defaults.retries", 4, "#defaults-retries", "defaults"),
    ("pipelines[1].depends_on[0]", 4, "#pipelines tbody tr:nth-child(2)", "pipeline erp"),
    ("pipelines[0].source_conn_id", 1, "#source-conn", "pipeline crm"),
    ("pipelines[0].tables[0].targets[1].keys", 1, '#pair-table tr[data-pair="0:1"]', PAIR),
    (
        "pipelines[0].tables[0].source",
        1,
        '#pair-table tr[data-pair="0:0"]',
        "pair shop.orders → public.orders (pipeline crm)",
    ),
    ("pipelines[0].tables[0].targets[1].columns", 2, "#pair-picker", PAIR),
    (
        "pipelines[0].tables[0].targets[1].columns[1].expression",
        2,
        '#mappings tr[data-mapping="1"]',
        f"column total of {PAIR}",
    ),
    ("pipelines[0].tables[0].targets[1].filter", 2, "#row-filter", PAIR),
    ("pipelines[0].validations[0].sql", 5, "#checks", "checks of pipeline crm"),
    ("overwrite", None, None, "overwrite"),
]


@pytest.mark.parametrize(("path", "step", "control", "where"), CASES)
def test_a_path_leads_to_its_step_and_control(path: str, step: int | None, control: str | None, where: str) -> None:
    found = locate(path, DRAFT, "some message")
    assert (found.get("step"), found.get("control"), found["where"]) == (step, control, where)
    if step:
        assert found["step_name"] == STEPS[step - 1] and found["fix"] == "some message"
    else:
        assert "edit it in the project's YAML file" in found["fix"]


def test_the_pair_and_pipeline_to_show_come_with_it() -> None:
    found = locate("pipelines[0].tables[0].targets[1].columns[0].source", DRAFT, "m")
    assert (found["pipeline"], found["table"], found["target"]) == (0, 0, 1)


def test_a_draft_that_is_not_what_the_path_says_still_gets_a_place() -> None:
    found = locate("pipelines[3].tables[2].targets[0].columns", {"pipelines": "nonsense"}, "m")
    assert found["where"] == "pair #3 → #1 (pipeline 4)" and found["step"] == 2


def test_paths_are_split_into_names_and_indexes() -> None:
    assert parse_path("pipelines[0].tables[12].targets[1].columns") == [
        ("pipelines", 0),
        ("tables", 12),
        ("targets", 1),
        ("columns", None),
    ]
    assert parse_path("") == []


TEMPLATED = {"defaults": "id: `defaults-${key}`", "conn": "id: `${which}-conn`"}
"""Ids the wizard builds in a template: #defaults-retries, #source-conn."""


def test_every_control_named_is_drawn_by_the_wizard() -> None:
    """The selectors point at ids and data attributes the wizard's modules really set."""
    source = "\n".join(p.read_text() for p in JS.rglob("*.js"))
    controls = {found["control"] for path, *_ in CASES if (found := locate(path, DRAFT, "m")).get("control")}
    controls |= {"#overwrite"}
    for control in controls:
        for ident in re.findall(r"#([\w-]+)", control):
            drawn = TEMPLATED.get(
                ident.split("-")[-1] if ident.endswith("-conn") else ident.split("-")[0], f'id: "{ident}"'
            )
            assert drawn in source, ident
        for attribute in re.findall(r"\[(data-[\w-]+)=", control):
            assert f'"{attribute}"' in source, attribute
