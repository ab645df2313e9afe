"""Which runs a rollback must undo: the run asked for, and every later run that changed one of the same tables."""

from __future__ import annotations

import datetime as dt

from databridge.runtime.rollback import Version, runs_to_undo, undo_command

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def version(run_id: str, table: str, minute: int) -> Version:
    return Version("p", run_id, table, f'"public"."{table}"', ("id",), "upsert", "upserted", None, 1, T0 + dt.timedelta(minutes=minute))


def test_later_runs_on_other_tables_are_left_alone() -> None:
    live = [version("r1", "a", 0), version("r2", "a", 1), version("r3", "b", 2)]
    assert runs_to_undo(live, "r2") == ["r2"]


def test_a_later_run_on_the_same_table_is_included_and_so_is_what_it_touched_after() -> None:
    live = [version("r1", "a", 0), version("r2", "b", 2), version("r3", "b", 3), version("r3", "c", 3), version("r4", "c", 4)]
    assert runs_to_undo(live, "r2") == ["r2", "r3", "r4"]


def test_earlier_runs_are_never_included() -> None:
    live = [version("r1", "a", 0), version("r2", "a", 1)]
    assert runs_to_undo(live, "r2") == ["r2"]


def test_the_undo_command_quotes_what_a_shell_would_split() -> None:
    assert undo_command("include/mappings/x.yaml", "manual__2026-11-28T03:00:00+00:00") == (
        "python -m databridge.cli rollback include/mappings/x.yaml --run manual__2026-11-28T03:00:00+00:00"
    )
    assert undo_command("include/mappings/my project.yaml", "run 1") == "python -m databridge.cli rollback 'include/mappings/my project.yaml' --run 'run 1'"
