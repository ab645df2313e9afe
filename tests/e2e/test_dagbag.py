"""Every mapping project becomes a DAG of six operators per pipeline; a broken one never hides the others."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from databridge.errors import SpecError
from databridge.render import build_dags
from tests.conftest import REPO
from tests.e2e.conftest import copy_project, dagbag

pytestmark = pytest.mark.e2e

STAGES = ["extract", "transform", "load_dimensions", "load_facts", "validate", "report"]
BROKEN = """name: broken_project
pipelines:
  - name: p
    source_conn_id: a
    target_conn_id: b
    tables:
      - source: shop.items
        targets:
          - {table: items, load: upsrt, columns: [{source: id}]}
"""


def chain(group: str) -> list[tuple[str, str]]:
    ids = [f"{group}.{s}" for s in STAGES]
    return list(zip(ids, ids[1:], strict=False))


def test_every_example_project_imports_without_errors() -> None:
    bag = dagbag()
    assert bag.import_errors == {}
    files = sorted(p.stem for p in (REPO / "include" / "mappings").glob("*.yaml"))
    assert sorted(bag.dag_ids) == files == ["couch_docs", "demo_shop", "mongo_catalog", "mssql_crm", "warehouse_sync"]


def test_single_pipeline_project_is_exactly_six_chained_tasks() -> None:
    dag = dagbag().dags["demo_shop"]
    assert [t.task_id for t in dag.tasks] == [f"shop.{s}" for s in STAGES]
    for upstream, downstream in chain("shop"):
        assert dag.get_task(upstream).downstream_task_ids == {downstream}
    extract = dag.get_task("shop.extract")  # mapped over the default 4 chunk indexes
    assert (type(extract).__name__, extract.operator_class.__name__) == ("MappedOperator", "ExtractOperator")
    assert extract.expand_input.value == {"chunk": [0, 1, 2, 3]}
    assert dag.get_task("shop.report").trigger_rule == "all_done"


def test_depends_on_becomes_an_edge_between_pipeline_groups() -> None:
    dag = dagbag().dags["warehouse_sync"]
    assert len(dag.tasks) == 12
    assert dag.get_task("ingest.report").downstream_task_ids == {"publish.extract"}
    assert dag.get_task("publish.extract").upstream_task_ids == {"ingest.report"}
    for group in ("ingest", "publish"):
        for upstream, downstream in chain(group):
            assert downstream in dag.get_task(upstream).downstream_task_ids


def test_schedule_retries_tags_and_doc_come_from_the_spec() -> None:
    dag = dagbag().dags["warehouse_sync"]
    assert dag.timetable.expression == "0 2 * * *"
    assert str(dag.timetable.timezone) in ("Europe/Paris", "Timezone('Europe/Paris')")
    assert dag.catchup is False
    assert set(dag.tags) == {"databridge", "erp", "warehouse"}
    assert "include/mappings/warehouse_sync.yaml" in dag.doc_md
    task = dag.get_task("publish.load_facts")
    assert task.retries == 3
    assert task.retry_delay == dt.timedelta(seconds=10)
    assert task.retry_exponential_backoff
    assert task.execution_timeout == dt.timedelta(minutes=60)
    assert type(dagbag().dags["demo_shop"].timetable).__name__ == "NullTimetable"


def test_broken_project_is_an_import_error_naming_its_yaml_and_others_load(
    mappings: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABRIDGE_STRICT")
    copy_project("demo_shop", mappings)
    (mappings / "broken.yaml").write_text(BROKEN)
    assert dagbag(mappings, monkeypatch, dags_folder).dag_ids == [
        "demo_shop"
    ]  # this parse writes the broken one's file
    stub = dags_folder / "databridge_import_errors" / "broken.py"
    bag = dagbag(mappings, monkeypatch, dags_folder)  # as the dag processor's next listing of the folder
    assert bag.dag_ids == ["demo_shop"]
    assert list(bag.import_errors) == [str(stub)]
    shown = bag.import_errors[str(stub)]  # Airflow's traceback of the file: its one line, then the loader's message
    assert shown.rstrip().endswith(
        "databridge.errors.SpecError: include/mappings/broken.yaml: pipelines[0].tables[0].targets[0].load: 'upsrt' is "
        "not allowed; write one of 'replace', 'append' or 'upsert' (did you mean 'upsert'?)"
    )
    assert f"raise_if_broken({str(mappings / 'broken.yaml')!r})" in shown
    assert "loader.py" not in shown


def test_a_fixed_project_loses_its_import_error_and_becomes_a_dag(
    mappings: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABRIDGE_STRICT")
    broken = mappings / "broken.yaml"
    broken.write_text(BROKEN)
    dagbag(mappings, monkeypatch, dags_folder)
    stub = dags_folder / "databridge_import_errors" / "broken.py"
    assert stub.is_file()
    broken.write_text(BROKEN.replace("upsrt", "replace"))
    bag = dagbag(mappings, monkeypatch, dags_folder)  # the stub parses without error now; the factory removes it
    assert bag.import_errors == {}
    assert bag.dag_ids == ["broken_project"]
    assert not stub.exists()
    assert dagbag(mappings, monkeypatch, dags_folder).import_errors == {}


def test_a_deleted_broken_project_loses_its_dag_file(
    mappings: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABRIDGE_STRICT")
    (mappings / "broken.yaml").write_text(BROKEN)
    dagbag(mappings, monkeypatch, dags_folder)
    assert [p.name for p in (dags_folder / "databridge_import_errors").iterdir()] == ["broken.py"]
    (mappings / "broken.yaml").unlink()
    assert dagbag(mappings, monkeypatch, dags_folder).import_errors == {}
    assert list((dags_folder / "databridge_import_errors").iterdir()) == []


def test_a_broken_project_without_a_dag_file_is_a_warning(mappings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (mappings / "broken.yaml").write_text(BROKEN)
    with pytest.warns(UserWarning, match=r"include/mappings/broken.yaml: .*did you mean 'upsert'"):
        assert build_dags({}, mappings, strict=False) == {}


def test_strict_mode_fails_on_a_broken_project(mappings: Path) -> None:
    (mappings / "broken.yaml").write_text(BROKEN)
    with pytest.raises(SpecError, match=r"did you mean 'upsert'"):
        build_dags({}, mappings, strict=True)


def test_a_new_project_file_is_a_new_dag_on_the_next_parse(mappings: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy_project("demo_shop", mappings)
    assert dagbag(mappings, monkeypatch).dag_ids == ["demo_shop"]
    (mappings / "second.yaml").write_text(
        (mappings / "demo_shop.yaml").read_text().replace("name: demo_shop", "name: second_shop")
    )
    assert sorted(dagbag(mappings, monkeypatch).dag_ids) == ["demo_shop", "second_shop"]


def test_two_files_with_the_same_project_name_are_refused(
    mappings: Path, dags_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABRIDGE_STRICT")
    copy_project("demo_shop", mappings)
    twin = mappings / "zz_twin.yaml"
    twin.write_text((mappings / "demo_shop.yaml").read_text())
    dagbag(mappings, monkeypatch, dags_folder)
    bag = dagbag(mappings, monkeypatch, dags_folder)
    assert bag.dag_ids == ["demo_shop"]
    stub = dags_folder / "databridge_import_errors" / "zz_twin.py"
    assert "project name 'demo_shop' is already used by include/mappings/demo_shop.yaml" in bag.import_errors[str(stub)]
