"""Preview shows each transformed value beside the source value it was made of, and arrays and objects as JSON."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from tests.api.conftest import Api
from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def source(
    api: Api, mysql_database: str, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40), tags SET('red','green','blue'), attrs JSON, "
        "status VARCHAR(10))"
    )
    cur.execute("""INSERT INTO items VALUES (1, '  lamp ', 'red,blue', '{"w": 2, "tags": ["a", "b"]}', 'ok'),
        (2, 'desk', '', NULL, 'deleted'), (3, ' chair', 'green', '[1, 2]', 'ok')""")
    conn.close()
    airflow_conn(monkeypatch, "ba_src", **mysql_conn_fields(mysql_database), password="")
    airflow_conn(monkeypatch, "ba_tgt", **pg_conn_fields(pg_database))
    yield mysql_database


def draft(db: str) -> dict[str, Any]:
    return {
        "name": "before_after",
        "pipelines": [
            {
                "name": "main",
                "source_conn_id": "ba_src",
                "target_conn_id": "ba_tgt",
                "tables": [
                    {
                        "source": f"{db}.items",
                        "targets": [
                            {
                                "table": "public.items",
                                "filter": "{status} <> 'deleted'",
                                "columns": [
                                    {"source": "id"},
                                    {"source": "name", "transform": ["trim", "upper"]},
                                    {"source": "tags"},
                                    {"source": "attrs"},
                                    {"target": "label", "expression": "{name} || ' #' || {id}"},
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }


def test_the_preview_gives_the_source_value_beside_the_transformed_one(api: Api, source: str) -> None:
    response = api.call("POST", "/preview", json={"project": draft(source), "limit": 10})
    assert response.status_code == 200, response.text
    (target,) = response.json()["targets"]
    names = [c["name"] for c in target["columns"]]
    assert target["before"]["columns"] == ["id", "name", "tags", "attrs", None]  # label is made of two columns
    after = [dict(zip(names, row, strict=True)) for row in target["rows"]]
    before = [dict(zip(names, row, strict=True)) for row in target["before"]["rows"]]
    assert len(before) == len(after) == 2  # the filter left desk out, on both sides
    pairs = {a["id"]: (b["name"], a["name"]) for a, b in zip(after, before, strict=True)}
    assert pairs == {1: ("  lamp ", "LAMP"), 3: (" chair", "CHAIR")}
    assert all(b["label"] is None for b in before)


def test_arrays_and_objects_are_json_not_python_reprs(api: Api, source: str) -> None:
    response = api.call("POST", "/preview", json={"project": draft(source), "limit": 10})
    assert response.status_code == 200, response.text
    (target,) = response.json()["targets"]
    names = [c["name"] for c in target["columns"]]
    rows = {row[0]: dict(zip(names, row, strict=True)) for row in target["rows"]}
    assert rows[1]["tags"] == ["red", "blue"] and rows[3]["tags"] == ["green"]
    assert rows[1]["attrs"] == {"w": 2, "tags": ["a", "b"]} and rows[3]["attrs"] == [1, 2]
    assert "['" not in response.text and "{'" not in response.text
