"""What the wizard shows before Save (the YAML it will write, diffed against the file on disk), the cancel route that
notes who cancelled a run, and the newest run of any project (where Reports opens)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from databridge.views.runs import NOTE_LIMIT, cancelled
from databridge.views.service import line_diff
from tests.api.conftest import Api, assert_error
from tests.api.test_wizard import project
from tests.conftest import airflow_conn, pg_conn_fields
from tests.e2e.conftest import dagbag


def test_render_of_a_new_project_is_every_line_added_and_is_what_save_writes(api: Api, mappings: Path) -> None:
    draft = project("shop")
    rendered = api.call("POST", "/render", user="viewer", json={"project": draft}).json()
    assert (
        rendered["file"].endswith("wizard_demo.yaml") and rendered["exists"] is False and rendered["saved_yaml"] is None
    )
    assert rendered["changed"] is True and rendered["removed"] == 0 and rendered["conflict"] is None
    lines = rendered["yaml"].splitlines()
    assert [d for d in rendered["diff"] if d["op"] != "@"] == [{"op": "+", "text": line} for line in lines]
    assert rendered["added"] == len(lines)
    assert not (mappings / "wizard_demo.yaml").exists()  # a render writes nothing

    assert api.call("POST", "/projects", json={"project": draft}).status_code == 201
    assert (mappings / "wizard_demo.yaml").read_text() == rendered["yaml"]  # the same writer as Save
    again = api.call("POST", "/render", json={"project": draft}).json()
    assert (
        again["exists"] is True
        and again["changed"] is False
        and again["diff"] == []
        and (again["added"], again["removed"]) == (0, 0)
    )


def test_render_diffs_against_the_file_on_disk_even_when_edited_by_hand(api: Api, mappings: Path) -> None:
    draft = project("shop")
    assert api.call("POST", "/projects", json={"project": draft}).status_code == 201
    path = mappings / "wizard_demo.yaml"
    path.write_text(path.read_text() + "# a comment written by hand\n")
    changed = copy.deepcopy(draft)
    changed["description"] = "Customers of the shop"
    changed["pipelines"][0]["tables"][0]["targets"][0]["keys"] = ["id", "name"]
    rendered = api.call("POST", "/render", json={"project": changed}).json()
    ops = {(d["op"], d["text"].strip()) for d in rendered["diff"]}
    assert ("+", "description: Customers of the shop") in ops
    assert ("-", "# a comment written by hand") in ops  # the comment is what saving loses
    assert ("-", "- id") not in ops and ("+", "- name") in ops
    assert rendered["diff"][0]["op"] == "@" and rendered["diff"][0]["text"].startswith("@@ -")
    assert rendered["saved_yaml"] == path.read_text() and rendered["removed"] == 1 and rendered["added"] == 2


def test_render_names_another_file_holding_the_project_and_refuses_an_invalid_draft(api: Api, mappings: Path) -> None:
    (mappings / "legacy.yaml").write_text(yaml.safe_dump(project("shop"), sort_keys=False))
    rendered = api.call("POST", "/render", json={"project": project("shop")}).json()
    assert (
        rendered["exists"] is False
        and "already defined in" in rendered["conflict"]
        and "legacy.yaml" in rendered["conflict"]
    )
    broken = project("shop")
    broken["pipelines"][0]["source_conn_id"] = ""
    body = assert_error(api.call("POST", "/render", json={"project": broken}), 422, "VALIDATION_ERROR")
    assert any("source_conn_id" in p["path"] for p in body["problems"])
    assert_error(api.call("POST", "/render", user=None, json={"project": project("shop")}), 401, "AUTH_ERROR")


def test_line_diff_keeps_context_and_marks_hunks() -> None:
    old = "\n".join(f"line {i}" for i in range(20))
    new = old.replace("line 10", "line ten")
    assert line_diff(old, new, context=1) == [
        ("@", "@@ -10,3 +10,3 @@"),
        (" ", "line 9"),
        ("-", "line 10"),
        ("+", "line ten"),
        (" ", "line 11"),
    ]
    assert line_diff("", "a\nb") == [("@", "@@ -0,0 +1,2 @@"), ("+", "a"), ("+", "b")]


def test_a_cancelled_run_says_who_cancelled_it_and_when(
    api: Api, mappings: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    airflow_conn(monkeypatch, "wiz_src", conn_type="mysql", host="127.0.0.1", login="root", schema="shop")
    airflow_conn(monkeypatch, "wiz_tgt", **pg_conn_fields(pg_database))
    assert api.call("POST", "/projects", json={"project": project("shop")}).status_code == 201
    _dags_in_the_database(mappings, monkeypatch)
    for run_id in ("to_cancel", "with_note", "other"):
        started = api.call(
            "POST", "/api/v2/dags/wizard_demo/dagRuns", json={"dag_run_id": run_id, "logical_date": None, "conf": {}}
        )
        assert started.status_code == 200, started.text
    assert (
        api.call(
            "PATCH", "/api/v2/dags/wizard_demo/dagRuns/with_note", json={"note": "nightly load, watch the orders"}
        ).status_code
        == 200
    )

    assert_error(api.call("POST", "/projects/wizard_demo/runs/to_cancel/cancel", user="viewer"), 403, "AUTH_ERROR")
    answer = api.call("POST", "/projects/wizard_demo/runs/to_cancel/cancel")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (
        body["state"] == "failed" and body["cancelled"]["by"] == "admin" and body["cancelled"]["at"].endswith("+00:00")
    )

    status = api.call("GET", "/projects/wizard_demo/runs/to_cancel", user="viewer").json()
    assert status["state"] == "failed" and status["cancelled"] == body["cancelled"]
    note = api.call("GET", "/api/v2/dags/wizard_demo/dagRuns/to_cancel").json()["note"]
    assert note.startswith("Cancelled by admin in DataBridge at ")  # seen in Airflow's own UI too

    api.call("POST", "/projects/wizard_demo/runs/with_note/cancel")
    kept = api.call("GET", "/api/v2/dags/wizard_demo/dagRuns/with_note").json()["note"]
    assert kept.startswith("nightly load, watch the orders\n\nCancelled by admin in DataBridge at ")

    # A run failed another way (Airflow's own REST call) stays "failed": nothing says it was cancelled.
    api.call("PATCH", "/api/v2/dags/wizard_demo/dagRuns/other", json={"state": "failed"})
    runs = {r["run_id"]: r for r in api.call("GET", "/projects/wizard_demo/runs", user="viewer").json()["runs"]}
    assert (
        runs["other"]["cancelled"] is None
        and runs["to_cancel"]["cancelled"]["by"] == "admin"
        and runs["with_note"]["cancelled"]
    )

    assert_error(
        api.call("POST", "/projects/wizard_demo/runs/to_cancel/cancel"),
        409,
        "VALIDATION_ERROR",
        "has already ended (failed)",
    )
    assert_error(api.call("POST", "/projects/wizard_demo/runs/nope/cancel"), 404, "NOT_FOUND", "no run 'nope'")

    latest = api.call("GET", "/runs/latest", user="viewer").json()
    assert (latest["dag_id"], latest["run_id"]) == ("wizard_demo", "other")


def test_the_latest_run_is_null_before_any_run(api: Api, mappings: Path) -> None:
    (mappings / "never_run.yaml").write_text(yaml.safe_dump({**project("shop"), "name": "never_run"}, sort_keys=False))
    assert api.call("GET", "/runs/latest", user="viewer").json() == {"dag_id": None, "run_id": None}


def test_the_cancel_line_is_read_back_and_never_cut() -> None:
    assert cancelled("Cancelled by ada lovelace in DataBridge at 2026-12-07T01:02:03Z.") == {
        "by": "ada lovelace",
        "at": "2026-12-07T01:02:03+00:00",
    }
    assert cancelled("failed for another reason") is None and cancelled(None) is None
    from databridge.views.runs import _with_line

    line = "Cancelled by admin in DataBridge at 2026-12-07T01:02:03Z."
    long = _with_line("x" * 5000, line)
    assert (
        len(long) <= NOTE_LIMIT
        and long.endswith(line)
        and cancelled(long) == {"by": "admin", "at": "2026-12-07T01:02:03+00:00"}
    )


def _dags_in_the_database(mappings: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The project's DAG parsed and written to the metadata database, as the dag-processor does."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    bag = dagbag(mappings, monkeypatch)
    assert "wizard_demo" in bag.dags, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()  # type: ignore[no-untyped-call]
    sync_bag_to_db(bag, "dags-folder", None)
    return bag
