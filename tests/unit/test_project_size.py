"""A project file past MAX_PROJECT_BYTES is refused, unread, with one SpecError naming the file, its size and the
limit: by the loader and so by the DAG factory and the CLI, which load through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from databridge.errors import SpecError
from databridge.render.factory import build_dags
from databridge.spec import load_project, parse_project
from databridge.spec.loader import MAX_PROJECT_BYTES

TOO_BIG = (
    f"is {MAX_PROJECT_BYTES + 1:,} bytes, more than the {MAX_PROJECT_BYTES:,} bytes a project may have; split it "
    "into several projects"
)


def write(path: Path, size: int) -> Path:
    """A project file of ``size`` bytes: a name and a comment filling the rest."""
    head = "name: big\n# "
    path.write_text(head + "x" * (size - len(head) - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == size
    return path


def test_a_file_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    path = write(tmp_path / "big.yaml", MAX_PROJECT_BYTES + 1)
    with pytest.raises(SpecError) as caught:
        load_project(path, "include/mappings/big.yaml")
    assert str(caught.value) == f"include/mappings/big.yaml: {TOO_BIG}"


def test_a_file_at_the_limit_is_parsed(tmp_path: Path) -> None:
    path = write(tmp_path / "big.yaml", MAX_PROJECT_BYTES)
    with pytest.raises(SpecError) as caught:
        load_project(path, "big.yaml")
    assert caught.value.problems == [("pipelines", "is required but missing")]


def test_text_over_the_limit_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(SpecError) as caught:
        parse_project("name: x\n" + "[" * MAX_PROJECT_BYTES, "draft")
    assert caught.value.problems == [
        (
            "",
            f"is {MAX_PROJECT_BYTES + 8:,} bytes, more than the {MAX_PROJECT_BYTES:,} bytes a project may have; "
            "split it into several projects",
        )
    ]


def test_the_dag_factory_reports_the_file(tmp_path: Path) -> None:
    write(tmp_path / "big.yaml", MAX_PROJECT_BYTES + 1)
    with pytest.raises(SpecError, match=TOO_BIG):
        build_dags({}, folder=tmp_path, strict=True)
