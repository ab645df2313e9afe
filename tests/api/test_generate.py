"""The wizard's generator route against a real MariaDB source: every column, keys, foreign keys and roles of the
chosen tables, named by the convention; what it answers saves as a valid project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import MySQLdb
import pytest

from tests.api.conftest import Api, assert_error
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
    cur.execute("CREATE TABLE Artist (ArtistId INT PRIMARY KEY, Name VARCHAR(120))")
    cur.execute(
        "CREATE TABLE Album (AlbumId INT PRIMARY KEY, Title VARCHAR(160), ArtistId INT, FOREIGN KEY (ArtistId) "
        "REFERENCES Artist (ArtistId))"
    )
    cur.execute("CREATE TABLE Team (TeamId INT PRIMARY KEY, LeadId INT)")
    cur.execute(
        "CREATE TABLE Person (PersonId INT PRIMARY KEY, TeamId INT, FOREIGN KEY (TeamId) REFERENCES Team (TeamId))"
    )
    cur.execute("ALTER TABLE Team ADD FOREIGN KEY (LeadId) REFERENCES Person (PersonId)")
    cur.execute("CREATE TABLE Clash (OrderId INT, order_id INT)")
    conn.close()
    airflow_conn(monkeypatch, "gen_src", **mysql_conn_fields(mysql_database), password="")
    airflow_conn(monkeypatch, "gen_tgt", **pg_conn_fields(pg_database))
    yield mysql_database


def test_the_chosen_tables_come_back_mapped_with_keys_foreign_keys_and_roles(api: Api, source: str) -> None:
    body = {"tables": [f"{source}.Album", f"{source}.Artist"], "naming": "snake_case", "target_schema": "music"}

    answer = api.call("POST", "/connections/gen_src/generate", json=body)

    assert answer.status_code == 200, answer.text
    album, artist = answer.json()["tables"]
    assert album == {
        "source": f"{source}.Album",
        "targets": [
            {
                "table": "music.album",
                "role": "fact",
                "keys": ["album_id"],
                "columns": [
                    {"source": "AlbumId", "target": "album_id"},
                    {"source": "Title", "target": "title"},
                    {"source": "ArtistId", "target": "artist_id"},
                ],
                "foreign_keys": [{"columns": ["artist_id"], "references": "music.artist"}],
            }
        ],
    }
    assert artist["targets"][0]["role"] == "dimension" and artist["targets"][0]["keys"] == ["artist_id"]
    assert answer.json()["types"][f"{source}.Album"] == {
        "AlbumId": "integer",
        "Title": "varchar(160)",
        "ArtistId": "integer",
    }
    assert answer.json()["validations"] == []


def test_a_reference_cycle_comes_back_as_a_check_and_the_result_saves(api: Api, source: str, mappings: Path) -> None:
    answer = api.call(
        "POST", "/connections/gen_src/generate", json={"tables": [f"{source}.Person", f"{source}.Team"]}
    ).json()

    assert answer["validations"] == [
        {
            "check": "foreign_key",
            "table": f"{source}.Team",
            "columns": ["LeadId"],
            "references": f"{source}.Person",
            "referenced_columns": ["PersonId"],
        }
    ]
    assert [t["targets"][0]["role"] for t in answer["tables"]] == ["dimension", "dimension"]
    project = {
        "name": "generated",
        "pipelines": [
            {
                "name": "main",
                "source_conn_id": "gen_src",
                "target_conn_id": "gen_tgt",
                "tables": answer["tables"],
                "validations": answer["validations"],
            }
        ],
    }
    saved = api.call("POST", "/projects", json={"project": project})
    assert saved.status_code == 201, saved.text
    assert (mappings / "generated.yaml").exists()


def test_names_that_collide_and_missing_tables_are_clear_errors(api: Api, source: str) -> None:
    clash = api.call(
        "POST", "/connections/gen_src/generate", json={"tables": [f"{source}.Clash"], "naming": "snake_case"}
    )
    assert_error(
        clash,
        422,
        "VALIDATION_ERROR",
        f"source table {source}.Clash: "
        "columns 'OrderId' and 'order_id' both become 'order_id' under naming: snake_case",
    )
    missing = api.call("POST", "/connections/gen_src/generate", json={"tables": [f"{source}.Albun"]})
    assert_error(missing, 404, "NOT_FOUND", f"source table {source}.Albun does not exist")
    assert_error(
        api.call("POST", "/connections/gen_src/generate", json={"tables": [], "naming": "camel"}),
        422,
        "VALIDATION_ERROR",
    )


def test_a_draft_taking_tables_by_pattern_validates_and_previews_them(api: Api, source: str) -> None:
    pipeline = {
        "name": "main",
        "source_conn_id": "gen_src",
        "target_conn_id": "gen_tgt",
        "include": [f"{source}.A*"],
        "naming": "snake_case",
        "target_schema": "music",
    }
    draft = {"project": {"name": "by_pattern", "pipelines": [pipeline]}}

    assert api.call("POST", "/validate", json=draft).json()["valid"] is True
    preview = api.call("POST", "/preview", json={**draft, "table": 0})

    assert preview.status_code == 200, preview.text
    assert preview.json()["source"] == f"{source}.Album"  # the tables the pattern takes, in name order
    assert [t["table"] for t in preview.json()["targets"]] == ["music.album"]
    assert_error(
        api.call("POST", "/preview", json={**draft, "table": 2}), 422, "VALIDATION_ERROR", "has 2 table mapping(s)"
    )
