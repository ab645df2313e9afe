"""Rollback on each load mode: run 1, run 2 changing the data, roll back run 2 → the target is exactly as after run 1.
A dry run changes nothing; a later run on the same tables is refused unless rolled back too; expired versions go."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from databridge.cli import main
from databridge.render.factory import build_dags
from tests.conftest import PG

from .conftest import Source
from .runner import PROJECT_FILE, STAGES, TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

TABLE = "landing.items"


def _project(source: Source, target: TargetDB, load: str, keep_days: int = 7) -> str:
    keys = "" if load == "append" else "keys: [id]"
    return f"""\
name: rollback_it
defaults: {{keep_versions_days: {keep_days}}}
pipelines:
  - name: items
    source_conn_id: {source.conn_id}
    target_conn_id: {target.conn_id}
    tables:
      - source: {source.schema}.items
        targets:
          - table: {TABLE}
            load: {load}
            {keys}
            columns:
              - {{source: id}}
              - {{source: name}}
              - {{source: qty, type: "numeric(8,2)"}}
"""


@pytest.fixture
def items(source: Source) -> Source:
    source.db.execute("CREATE TABLE items (id integer PRIMARY KEY, name text, qty numeric(8,2))")
    with source.db.conn.cursor().copy("COPY items FROM STDIN") as copy:
        for i in range(1, 1001):
            copy.write_row((i, f"item {i}", i % 13))
    return source


def _change_source(source: Source) -> None:
    source.db.execute("UPDATE items SET name = 'renamed', qty = 99 WHERE id IN (3, 500)")
    source.db.execute("DELETE FROM items WHERE id = 7")
    source.db.execute("INSERT INTO items VALUES (1001, 'new', 1), (1002, NULL, NULL)")


def _cli(project: Path, target: TargetDB, run_id: str, *flags: str) -> int:
    uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{target.dbname}"
    return main(["rollback", str(project), "--run", run_id, "--conn", f"{target.conn_id}={uri}", *flags])


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rollback_it.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
@pytest.mark.parametrize("load", ["replace", "replace-with-view", "append", "upsert"])
def test_rolling_back_run_2_restores_the_state_after_run_1(
    items: Source, target: TargetDB, load: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(items, target, load.split("-")[0])
    run_pipeline(project, "run-1")
    if load == "replace-with-view":  # the table keeps its identity: a view on it still works after the rollback
        target.execute(f"CREATE VIEW landing.item_names AS SELECT name FROM {TABLE}")
    after_1, rows_1 = target.checksum(TABLE), target.count(TABLE)
    _change_source(items)
    result = run_pipeline(project, "run-2")
    after_2 = target.checksum(TABLE)
    assert after_2 != after_1
    path = _write(tmp_path, project)
    assert result["report"]["succeeded"]
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-2'")
    undo = [sys.executable, "-m", "databridge.cli", "rollback", os.path.abspath(PROJECT_FILE), "--run", "run-2"]
    assert report[0]["undo"] == shlex.join(undo)

    assert _cli(path, target, "run-2") == 0  # dry run
    dry = capsys.readouterr().out
    assert "would roll back (dry run; add --yes to do it)" in dry and "run run-2, pipeline items:" in dry
    assert target.checksum(TABLE) == after_2

    assert _cli(path, target, "run-2", "--yes") == 0
    assert target.checksum(TABLE) == after_1
    assert target.count(TABLE) == rows_1
    assert target.scalar("SELECT rolled_back_at IS NOT NULL FROM databridge.versions WHERE run_id = 'run-2'")
    assert _cli(path, target, "run-2", "--yes") == 2, "already rolled back: nothing kept"
    assert "nothing of run 'run-2' is kept" in capsys.readouterr().err


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_the_reports_undo_command_runs_as_printed_from_another_folder(
    items: Source, target: TargetDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The DAG's report task names the project file by absolute path, and the interpreter too: pasted in a shell
    elsewhere (here: a folder that is neither the repository nor the mappings folder), the command works."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "rollback_it.yaml").write_text(_project(items, target, "replace"))
    dag = build_dags({}, folder, strict=True)["rollback_it"]
    run_pipeline((folder / "rollback_it.yaml").read_text(), "run-1")
    _change_source(items)
    run_pipeline((folder / "rollback_it.yaml").read_text(), "run-2", stages=STAGES[:-1])
    dag.get_task("items.report").execute({"run_id": "run-2"})
    [report] = target.rows("SELECT report FROM databridge.reports WHERE run_id = 'run-2'")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        shlex.split(report[0]["undo"]), cwd=elsewhere, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (
        "would roll back (dry run; add --yes to do it) project rollback_it" in done.stdout
        and "run run-2, pipeline items:" in done.stdout
    )

    monkeypatch.chdir(tmp_path)  # `report` in a terminal: the paths inside its folder, relative to it
    uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{target.dbname}"
    capsys.readouterr()
    assert main(["report", "--target-uri", uri, "--project", "rollback_it"]) == 0
    assert (
        f"To undo this run: {shlex.quote(sys.executable)} "
        "-m databridge.cli rollback mappings/rollback_it.yaml --run run-2" in capsys.readouterr().out
    )


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_a_later_run_on_the_same_table_is_refused_unless_rolled_back_too(
    items: Source, target: TargetDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(items, target, "upsert")
    path = _write(tmp_path, project)
    run_pipeline(project, "run-1")
    after_1 = target.checksum(TABLE)
    _change_source(items)
    run_pipeline(project, "run-2")
    items.db.execute("UPDATE items SET name = 'third' WHERE id = 1")
    run_pipeline(project, "run-3")
    after_3 = target.checksum(TABLE)

    assert _cli(path, target, "run-2", "--yes") == 2
    assert capsys.readouterr().err == (
        "error: project 'rollback_it': cannot roll back run 'run-2' alone: later run(s) changed the same tables since: "
        "run-3 (landing.items). Roll those back first, or add --with-later to roll them back too\n"
    )
    assert target.checksum(TABLE) == after_3

    assert _cli(path, target, "run-2", "--yes", "--with-later") == 0
    out = capsys.readouterr().out
    assert out.index("run run-3") < out.index("run run-2"), "newest first"
    assert target.checksum(TABLE) == after_1


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_rolling_back_the_first_run_drops_the_table_it_created(items: Source, target: TargetDB, tmp_path: Path) -> None:
    project = _project(items, target, "replace")
    run_pipeline(project, "run-1")
    assert _cli(_write(tmp_path, project), target, "run-1", "--yes") == 0
    assert target.tables("landing") == []


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_expired_versions_are_dropped_by_the_next_run(
    items: Source, target: TargetDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(items, target, "replace", keep_days=1)
    run_pipeline(project, "run-1")
    run_pipeline(project, "run-2")
    [history] = target.tables("databridge_history")
    target.execute("UPDATE databridge.versions SET expires_at = now() - interval '1 second' WHERE run_id = 'run-2'")

    run_pipeline(project, "run-3")

    assert history not in target.tables("databridge_history")
    assert [r[0] for r in target.rows("SELECT run_id FROM databridge.versions ORDER BY created_at")] == [
        "run-1",
        "run-3",
    ]
    assert _cli(_write(tmp_path, project), target, "run-2") == 2
    assert "older than keep_versions_days" in capsys.readouterr().err


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_keep_versions_days_0_keeps_nothing(items: Source, target: TargetDB) -> None:
    project = _project(items, target, "replace", keep_days=0)
    run_pipeline(project, "run-1")
    run_pipeline(project, "run-2")
    assert target.tables("databridge_history") == []
    assert target.count("databridge.versions") == 0


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_a_run_holding_the_staging_is_not_rolled_back_under(
    items: Source, target: TargetDB, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run 3 extracted and never reached its report (running, or killed): rolling back run 2 waits for --force."""
    project = _project(items, target, "upsert")
    run_pipeline(project, "run-1")
    _change_source(items)
    run_pipeline(project, "run-2")
    after_2 = target.checksum(TABLE)
    run_stage(pipeline_params(project), "extract", "run-3")
    path = _write(tmp_path, project)
    capsys.readouterr()

    assert _cli(path, target, "run-2", "--yes") == 2
    assert "run 'run-3' holds its staging" in capsys.readouterr().err
    assert target.checksum(TABLE) == after_2, "nothing rolled back"
    assert _cli(path, target, "run-2", "--yes", "--force") == 0
    assert target.checksum(TABLE) != after_2
