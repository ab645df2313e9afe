"""Which runs a rollback must undo: the run asked for, and every later run that changed one of the same tables."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from pathlib import Path

import pytest

from databridge.runtime.rollback import Version, runs_to_undo, shown_from, undo_command

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def version(run_id: str, table: str, minute: int) -> Version:
    return Version(
        "p",
        run_id,
        table,
        f'"public"."{table}"',
        ("id",),
        "upsert",
        "upserted",
        None,
        1,
        T0 + dt.timedelta(minutes=minute),
    )


def test_later_runs_on_other_tables_are_left_alone() -> None:
    live = [version("r1", "a", 0), version("r2", "a", 1), version("r3", "b", 2)]
    assert runs_to_undo(live, "r2") == ["r2"]


def test_a_later_run_on_the_same_table_is_included_and_so_is_what_it_touched_after() -> None:
    live = [
        version("r1", "a", 0),
        version("r2", "b", 2),
        version("r3", "b", 3),
        version("r3", "c", 3),
        version("r4", "c", 4),
    ]
    assert runs_to_undo(live, "r2") == ["r2", "r3", "r4"]


def test_earlier_runs_are_never_included() -> None:
    live = [version("r1", "a", 0), version("r2", "a", 1)]
    assert runs_to_undo(live, "r2") == ["r2"]


def test_the_undo_command_quotes_what_a_shell_would_split() -> None:
    python = "/opt/db/.venv/bin/python"
    assert undo_command("/srv/mappings/x.yaml", "manual__2026-11-28T03:00:00+00:00", python) == (
        "/opt/db/.venv/bin/python -m databridge.cli rollback /srv/mappings/x.yaml --run "
        "manual__2026-11-28T03:00:00+00:00"
    )
    assert (
        undo_command("/srv/my project.yaml", "run 1", python)
        == f"{python} -m databridge.cli rollback '/srv/my project.yaml' --run 'run 1'"
    )


def test_the_undo_command_names_the_interpreter_and_the_file_by_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    python, _m, _cli, _rollback, file, *_ = shlex.split(undo_command("mappings/x.yaml", "r1"))
    assert python == sys.executable and Path(python).is_absolute()
    assert file == str(tmp_path / "mappings" / "x.yaml")


def test_a_terminal_sees_the_paths_inside_its_folder_relative_to_it() -> None:
    command = undo_command("/work/db/include/mappings/x y.yaml", "r1", "/work/db/.venv/bin/python")
    assert (
        shown_from(command, Path("/work/db"))
        == ".venv/bin/python -m databridge.cli rollback 'include/mappings/x y.yaml' --run r1"
    )
    assert (
        shown_from(command, Path("/work/db/include/mappings"))
        == "/work/db/.venv/bin/python -m databridge.cli rollback './x y.yaml' --run r1"
    )
    assert shown_from(command, Path("/elsewhere")) == command
