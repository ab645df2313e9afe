"""End-to-end fixtures: a fresh Airflow metadata database and DagBags over the real dags/ factory."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """Airflow's metadata database, created once per session in the session's AIRFLOW_HOME."""
    from airflow.utils import db

    db.resetdb()
    yield


def dagbag(
    mappings: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None, dags: Path | None = None
) -> Any:
    """Parse dags/ (or ``dags``) as Airflow's dag processor does, optionally over another mappings folder."""
    from airflow.dag_processing.dagbag import DagBag

    if mappings is not None:
        assert monkeypatch is not None
        monkeypatch.setenv("DATABRIDGE_MAPPINGS_DIR", str(mappings))
    return DagBag(dag_folder=str(dags or REPO / "dags"))


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    """A DAGs folder of one's own holding the factory file, as a user's Airflow has: broken projects write there."""
    folder = tmp_path / "dags"
    folder.mkdir()
    shutil.copy(REPO / "dags" / "databridge_dags.py", folder)
    return folder


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    """An empty mappings folder for one test."""
    folder = tmp_path / "include" / "mappings"
    folder.mkdir(parents=True)
    return folder


def copy_project(name: str, folder: Path, replacements: dict[str, str] | None = None) -> Path:
    """Copy include/mappings/<name>.yaml into ``folder``, with text replacements."""
    text = (REPO / "include" / "mappings" / f"{name}.yaml").read_text()
    for old, new in (replacements or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def build_demo_source(path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "scripts" / "demo_source.py"), "--path", str(path)], check=True)


__all__ = ["build_demo_source", "copy_project", "dagbag", "shutil"]
