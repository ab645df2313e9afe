"""Assets: the URIs a project is scheduled on, the outlets of its load stages, after_projects and its checks."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from airflow.sdk import Asset, AssetAlias, AssetAll, AssetOrTimeSchedule

from databridge.compiler import ProjectPlan, compile_project
from databridge.errors import SpecError
from databridge.render.dag import build_dag
from databridge.render.factory import build_dags
from databridge.spec import parse_project
from databridge.spec.asset_uris import canonical_uri

TARGET = {"conn_type": "postgres", "host": "db.example", "port": 5433, "login": "etl", "schema": "dwh"}


def project_text(name: str = "orders", schedule: str = "{}", pipelines: tuple[str, ...] = ("main",)) -> str:
    blocks = "".join(
        f"""
          - name: {p}
            source_conn_id: src
            target_conn_id: assets_tgt
            tables:
              - source: shop.customers
                targets: [{{table: analytics.dim_customer, role: dimension, columns: [{{source: id}}]}}]
              - source: shop.orders
                targets: [{{table: fact_order, columns: [{{source: id}}]}}]
"""
        for p in pipelines
    )
    strategy = "multi-pipeline" if len(pipelines) > 1 else "single-pipeline"
    return textwrap.dedent(f"name: {name}\nstrategy: {strategy}\nschedule: {schedule}\npipelines:") + textwrap.dedent(
        blocks
    )


def plan(text: str) -> ProjectPlan:
    return compile_project(parse_project(text, "include/mappings/p.yaml"), "include/mappings/p.yaml")


@pytest.fixture
def target_conn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ASSETS_TGT", json.dumps(TARGET))


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("postgres://db.example/dwh/public/orders", "postgres://db.example:5432/dwh/public/orders"),
        ("POSTGRESQL://db.example:5433/dwh/public/orders/", "postgres://db.example:5433/dwh/public/orders"),
        ("s3://bucket/key", "s3://bucket/key"),
    ],
)
def test_asset_uris_are_written_as_airflow_normalizes_them(written: str, canonical: str) -> None:
    assert canonical_uri(written) == canonical
    assert plan(project_text(schedule=f"{{assets: ['{written}']}}")).schedule.assets == (canonical,)


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("orders", "is not an asset URI; write scheme://host/path"),
        ("postgres://db.example/dwh/orders", "must name a database, a schema and a table"),
        (
            "postgres://etl:secret@db.example/dwh/public/orders",
            "'postgres://db.example/dwh/public/orders' is written with a user name or password",
        ),
    ],
)
def test_a_bad_asset_uri_is_a_spec_error_naming_the_field(uri: str, says: str) -> None:
    with pytest.raises(SpecError) as raised:
        plan(project_text(schedule=f"{{assets: ['{uri}']}}"))
    assert "schedule.assets[0]" in str(raised.value)
    assert says in str(raised.value)
    assert "secret" not in str(raised.value)


def test_assets_cannot_be_combined_with_once() -> None:
    with pytest.raises(SpecError, match="cron @once cannot be combined with assets or after_projects"):
        plan(project_text(schedule="{cron: '@once', after_projects: [orders]}"))


def test_load_stages_declare_their_tables_alias_and_pipeline_asset(target_conn: None) -> None:
    dag = build_dag(plan(project_text()))
    uris = {task.task_id: [o.uri for o in task.outlets if isinstance(o, Asset)] for task in dag.tasks}
    aliases = {task.task_id: [o.name for o in task.outlets if isinstance(o, AssetAlias)] for task in dag.tasks}
    assert uris["main.load_dimensions"] == ["postgres://db.example:5433/dwh/analytics/dim_customer"]
    assert uris["main.load_facts"] == ["postgres://db.example:5433/dwh/public/fact_order", "databridge://orders/main"]
    assert aliases["main.load_dimensions"] == ["databridge.orders.main.load_dimensions"]
    assert aliases["main.load_facts"] == ["databridge.orders.main.load_facts"]
    assert all(
        not task.outlets for task in dag.tasks if task.task_id.split(".")[1] not in ("load_dimensions", "load_facts")
    )


def test_without_the_target_connection_at_parse_time_only_the_alias_and_pipeline_asset_are_declared() -> None:
    dag = build_dag(plan(project_text()))
    outlets = dag.get_task("main.load_facts").outlets
    assert [type(o).__name__ for o in outlets] == ["AssetAlias", "Asset"]


def test_after_projects_waits_for_every_pipeline_of_those_projects(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(project_text("upstream", pipelines=("ingest", "publish")))
    (tmp_path / "b.yaml").write_text(project_text("downstream", schedule="{after_projects: [upstream]}"))
    dags = build_dags({}, tmp_path, strict=True)
    condition = dags["downstream"].timetable.asset_condition
    assert isinstance(condition, AssetAll)
    assert sorted(a.uri for a in condition.objects if isinstance(a, Asset)) == [
        "databridge://upstream/ingest",
        "databridge://upstream/publish",
    ]
    assert type(dags["upstream"].timetable).__name__ == "NullTimetable"


def test_assets_with_a_cron_run_on_either() -> None:
    dag = build_dag(plan(project_text(schedule="{cron: '0 3 * * *', assets: ['postgres://h/d/s/t']}")))
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    assert isinstance(dag.timetable.asset_condition, AssetAll)
    assert [a.uri for a in dag.timetable.asset_condition.objects if isinstance(a, Asset)] == ["postgres://h:5432/d/s/t"]


def test_an_unknown_project_names_file_field_and_fix(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(project_text("upstream"))
    (tmp_path / "b.yaml").write_text(
        project_text("downstream", schedule="{after_projects: [upstream, upstrem_x, downstream]}")
    )
    with pytest.raises(SpecError) as raised:
        build_dags({}, tmp_path, strict=True)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path.parent.name}/{tmp_path.name}/b.yaml: 2 problems")
    assert (
        "schedule.after_projects[1]: no project named 'upstrem_x' in this mappings folder (did you mean 'upstream'?)"
        in message
    )
    assert "write the name: of another project of the folder (one of: upstream)" in message
    assert "schedule.after_projects[2]: a project cannot run after itself; remove 'downstream'" in message


def test_a_broken_reference_leaves_the_other_projects_built(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(project_text("upstream"))
    (tmp_path / "b.yaml").write_text(project_text("downstream", schedule="{after_projects: [nowhere]}"))
    assert list(build_dags({}, tmp_path, strict=False)) == ["upstream"]


def test_asset_schedules_survive_serialization(tmp_path: Path) -> None:
    """The scheduler reads the serialized DAG: the asset condition must be in it."""
    from airflow.serialization.serialized_objects import DagSerialization

    (tmp_path / "a.yaml").write_text(project_text("upstream"))
    (tmp_path / "b.yaml").write_text(
        project_text("downstream", schedule="{after_projects: [upstream], assets: ['postgres://h/d/s/t']}")
    )
    dag = DagSerialization.from_dict(DagSerialization.to_dict(build_dags({}, tmp_path, strict=True)["downstream"]))
    uris = sorted(a.uri for a in dag.timetable.asset_condition.objects)  # type: ignore[attr-defined]  # a serialized AssetAll
    assert uris == ["databridge://upstream/main", "postgres://h:5432/d/s/t"]
    assert type(dag.timetable.asset_condition).__name__ == "SerializedAssetAll"  # every one (its repr says AssetAny)


def test_the_check_command_names_an_unknown_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from databridge.cli import check

    (tmp_path / "a.yaml").write_text(project_text("upstream"))
    (tmp_path / "b.yaml").write_text(project_text("downstream", schedule="{after_projects: [upstreem]}"))
    assert check([str(tmp_path / "a.yaml")]) == 0
    assert check([str(tmp_path / "b.yaml")]) == 1
    error = capsys.readouterr().err
    assert (
        "b.yaml: schedule.after_projects[0]: "
        "no project named 'upstreem' in this mappings folder (did you mean 'upstream'?)" in error
    )
