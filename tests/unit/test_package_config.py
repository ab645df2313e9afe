"""The installed package: where the mappings folder comes from, and the CLI's machine-readable `check --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from databridge.cli import main
from databridge.render.factory import mappings_dir
from tests.conftest import REPO

BROKEN = REPO / "tests" / "unit" / "broken" / "load_typo.yaml"


def test_databridge_mappings_dir_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRIDGE_MAPPINGS_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("AIRFLOW__DATABRIDGE__MAPPINGS_DIR", str(tmp_path / "airflow"))
    assert mappings_dir() == tmp_path / "mine"


def test_airflow_setting_is_read_when_the_variable_is_not_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DATABRIDGE__MAPPINGS_DIR", str(tmp_path / "from_airflow"))
    assert mappings_dir() == tmp_path / "from_airflow"


def test_default_is_include_mappings_beside_the_dags_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(tmp_path / "project" / "dags"))
    assert mappings_dir() == tmp_path / "project" / "include" / "mappings"


def test_airflow_cfg_databridge_section_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "airflow.cfg").write_text(
        f"[core]\nload_examples = False\n\n[databridge]\nmappings_dir = {tmp_path / 'cfg_mappings'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABRIDGE_MAPPINGS"))}
    code = "from databridge.render.factory import mappings_dir; print(mappings_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "AIRFLOW_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == str(tmp_path / "cfg_mappings")


def test_check_json_lists_each_project_with_its_dag_or_its_error(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "--json", str(REPO / "include" / "mappings" / "demo_shop.yaml"), str(BROKEN)])
    out, err = capsys.readouterr()
    assert status == 1 and err == ""
    document = json.loads(out)
    assert document["ok"] is False
    good, broken = document["projects"]
    assert good == {
        "file": "include/mappings/demo_shop.yaml",
        "ok": True,
        "dag_id": "demo_shop",
        "pipelines": 1,
        "tables": 5,
        "tables_found_at_run": False,
    }
    assert broken["ok"] is False and broken["file"] == "unit/broken/load_typo.yaml"
    assert broken["error"].startswith("unit/broken/load_typo.yaml: ") and "did you mean" in broken["error"]


def test_check_json_of_the_configured_folder_is_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "include" / "mappings"
    folder.mkdir(parents=True)
    (folder / "demo_shop.yaml").write_text((REPO / "include" / "mappings" / "demo_shop.yaml").read_text())
    monkeypatch.setenv("AIRFLOW__DATABRIDGE__MAPPINGS_DIR", str(folder))
    assert main(["check", "--json"]) == 0
    assert [p["dag_id"] for p in json.loads(capsys.readouterr().out)["projects"]] == ["demo_shop"]


def test_constraints_file_matches_the_environment_the_tests_pass_in() -> None:
    """constraints-3.11.txt pins what this venv holds of the package's dependency closure (scripts/constraints.py)."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "constraints.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pinned = dict(line.split("==") for line in (REPO / "constraints-3.11.txt").read_text().splitlines() if "==" in line)
    assert pinned["apache-airflow"] == "3.3.2" and pinned["celery"] == "5.6.3"
    assert not {"pytest", "ruff", "mypy"} & set(pinned)
