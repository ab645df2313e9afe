"""A whole MariaDB database migrated by a nine-line project through Airflow itself: the DAG is parsed from YAML that
names no table, its mapped extract finds the 13 tables when the run starts, and the run succeeds (dag.test)."""

from __future__ import annotations

from pathlib import Path

import MySQLdb
import pytest

from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields, pg_connect
from tests.e2e.conftest import dagbag
from tests.integration.music import TABLES, create_music, project_yaml
from tests.integration.shop import SourceDB

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_pattern_project_runs_in_airflow(
    airflow_db: None, mysql_database: str, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = MySQLdb.connect(
        host=MYSQL["host"],
        port=MYSQL["port"],
        user=MYSQL["user"],
        passwd="",
        db=mysql_database,
        charset="utf8mb4",
        autocommit=True,
    )
    create_music(SourceDB("mysql", conn))
    conn.close()
    airflow_conn(monkeypatch, "music_source", **mysql_conn_fields(mysql_database))
    airflow_conn(monkeypatch, "music_target", **pg_conn_fields(pg_database))
    (mappings / "music.yaml").write_text(project_yaml(mysql_database, "music_source", "music_target"))

    bag = dagbag(mappings, monkeypatch)
    assert bag.import_errors == {}
    dag = bag.dags["music"]
    dag_run = dag.test()

    assert str(dag_run.state) == "success", {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    assert (
        len([ti for ti in dag_run.get_task_instances() if ti.task_id == "store.extract"]) == 4
    )  # chunking.chunks instances
    with pg_connect(pg_database) as target:
        tables = [
            r[0]
            for r in target.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'music'"
            ).fetchall()
        ]
        report = target.execute("SELECT report FROM databridge.reports WHERE project = 'music'").fetchone()[0]  # type: ignore[index]
    assert len(tables) == len(TABLES) == 13
    assert report["succeeded"] is True and len(report["tables"]) == 13
