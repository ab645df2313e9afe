"""The wizard against real servers: connections, browsing, validate, preview, save and load."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest
import yaml

from databridge.spec import load_project
from tests.api.conftest import Api, assert_error
from tests.conftest import MYSQL, REPO, airflow_conn, mysql_conn_fields, pg_conn_fields, pg_connect

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture
def servers(
    api: Api, mysql_database: str, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A MariaDB source with one small table, an empty PostgreSQL target, their Airflow connections."""
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, active TINYINT(1), "
        "joined DATE, note TEXT)"
    )
    cur.execute(
        "INSERT INTO customers VALUES (1, '  ada ', 1, '2024-01-02', 'x'), (2, 'bob', 0, NULL, NULL), (3, 'cy', "
        "NULL, '2023-05-06', 'z')"
    )
    conn.close()
    airflow_conn(
        monkeypatch, "wiz_src", **mysql_conn_fields(mysql_database), password="", extra={"secret_token": "s3cr3t"}
    )
    airflow_conn(monkeypatch, "wiz_tgt", **pg_conn_fields(pg_database), password="hunter2")
    airflow_conn(monkeypatch, "wiz_down", **{**pg_conn_fields(pg_database), "port": 1})
    yield {"source": mysql_database, "target": pg_database}


def project(source_db: str, expression: str = "UPPER(TRIM({name}))", table: str = "customers") -> dict[str, Any]:
    return {
        "name": "wizard_demo",
        "pipelines": [{
            "name": "crm",
            "source_conn_id": "wiz_src",
            "target_conn_id": "wiz_tgt",
            "tables": [{
                "source": f"{source_db}.{table}",
                "targets": [{
                    "table": "public.customer",
                    "keys": ["id"],
                    "columns": [
                        {"source": "id"},
                        {"target": "name", "expression": expression},
                        {"source": "active", "default": False},
                        {"source": "joined", "date_format": "YYYY/MM/DD"},
                        {"source": "note", "exclude": True},
                    ],
                }],
            }],
        }],
    }  # fmt: skip


def test_connections_are_listed_without_secrets(api: Api, servers: dict[str, str]) -> None:
    listed = {c["conn_id"]: c for c in api.call("GET", "/connections").json()}
    assert listed["wiz_src"]["conn_type"] == "mysql" and listed["wiz_src"]["can_be_source"]
    assert listed["wiz_tgt"]["can_be_target"] and not listed["wiz_src"]["can_be_target"]
    text = api.call("GET", "/connections").text
    assert "hunter2" not in text and "s3cr3t" not in text and "secret_token" not in text and "password" not in text


def test_a_connection_is_tested(api: Api, servers: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW__CORE__TEST_CONNECTION", "Enabled"
    )  # Airflow's default (Disabled): tests/api/test_connections.py
    assert api.call("POST", "/connections/wiz_src/test").json()["ok"] is True
    target = api.call("POST", "/connections/wiz_tgt/test").json()
    assert "PostgreSQL" in target["detail"]
    assert target["warnings"] == [
        "the target connection's user 'postgres' is a superuser; custom SQL runs as databridge_sandbox, but a "
        "superuser session is one escape away from every file and database of the server: connect as a non-superuser "
        "that owns the target schemas (README: Security)"
    ]
    assert api.call("POST", "/connections/wiz_src/test").json()["warnings"] == []
    assert_error(
        api.call("POST", "/connections/wiz_down/test"),
        502,
        "CONNECTION_ERROR",
        "cannot open postgres connection 'wiz_down'",
    )
    assert_error(api.call("POST", "/connections/wiz_srx/test"), 404, "NOT_FOUND", "did you mean 'wiz_src'")


def test_a_source_is_browsed(api: Api, servers: dict[str, str]) -> None:
    db = servers["source"]
    assert db in api.call("GET", "/connections/wiz_src/schemas").json()
    assert api.call("GET", f"/connections/wiz_src/schemas/{db}/tables").json() == ["customers"]
    table = api.call("GET", f"/connections/wiz_src/schemas/{db}/tables/customers").json()
    columns = {c["name"]: c for c in table["columns"]}
    assert table["primary_key"] == ["id"] and table["approx_rows"] is not None
    assert columns["active"]["native_type"] == "tinyint(1)" and columns["active"]["pg_type"] == "boolean"
    assert "boolean" in columns["active"]["note"] and columns["name"]["nullable"] is False
    assert_error(
        api.call("GET", f"/connections/wiz_src/schemas/{db}/tables/customer"),
        404,
        "NOT_FOUND",
        "did you mean 'customers'",
    )
    assert_error(api.call("GET", "/connections/wiz_src/schemas/no_such_db/tables"), 404, "NOT_FOUND")
    assert_error(api.call("GET", "/connections/nope/schemas"), 404, "NOT_FOUND")


def test_a_draft_is_validated(api: Api, servers: dict[str, str]) -> None:
    good = api.call("POST", "/validate", json={"project": project(servers["source"]), "lint": True}).json()
    assert good["valid"] is True and good["problems"] == [] and isinstance(good["lint"], list)
    bad = project(servers["source"], expression="UPPER({name}")
    bad["pipelines"][0]["tables"][0]["targets"][0]["load"] = "upsrt"
    result = api.call("POST", "/validate", json={"project": bad}).json()
    assert result["valid"] is False
    paths = [p["path"] for p in result["problems"]]
    assert "pipelines[0].tables[0].targets[0].load" in paths, result
    as_yaml = api.call("POST", "/validate", json={"yaml": "name: x\npipelines: []\n"}).json()
    assert as_yaml["valid"] is False and as_yaml["problems"][0]["path"] == "pipelines"


def test_a_preview_runs_the_transform_sql_on_real_rows(api: Api, servers: dict[str, str]) -> None:
    with pg_connect(servers["target"]) as conn:
        conn.execute(
            "CREATE TABLE public.customer (id integer PRIMARY KEY, name text, active boolean, joined date, region text)"
        )
    result = api.call("POST", "/preview", json={"project": project(servers["source"]), "limit": 10}).json()
    assert result["sample_rows"] == 3 and result["estimated_rows"] is not None
    (target,) = result["targets"]
    names = [c["name"] for c in target["columns"]]
    rows = {r[0]: dict(zip(names, r, strict=True)) for r in target["rows"]}
    assert rows[1] == {"id": 1, "name": "ADA", "active": True, "joined": "2024/01/02"}
    assert rows[2]["active"] is False and rows[3]["active"] is False  # the default fills the NULL
    warnings = " | ".join(target["warnings"])
    assert (
        "region: target column not mapped" in warnings
        and "joined: the mapping gives text, the existing target column is date" in warnings
    )
    with pg_connect(servers["target"]) as conn:  # nothing kept
        assert conn.execute("SELECT count(*) FROM public.customer").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'databridge%'").fetchone() == (0,)


def test_a_preview_shows_the_width_a_clean_up_keeps_as_the_load_creates_it(api: Api, servers: dict[str, str]) -> None:
    draft = project(servers["source"])
    draft["pipelines"][0]["tables"][0]["targets"][0]["columns"][1] = {"source": "name", "transform": ["trim", "upper"]}
    (target,) = api.call("POST", "/preview", json={"project": draft, "limit": 10}).json()["targets"]
    assert {c["name"]: c["type"] for c in target["columns"]}["name"] == "character varying(40)"


def test_a_bad_preview_is_a_clear_4xx(api: Api, servers: dict[str, str]) -> None:
    source = servers["source"]
    assert_error(
        api.call("POST", "/preview", json={"project": project(source, table="customer")}),
        404,
        "NOT_FOUND",
        "did you mean 'customers'",
    )
    assert_error(
        api.call("POST", "/preview", json={"project": project(source, expression="UPPER({name}")}),
        422,
        "VALIDATION_ERROR",
    )
    body = assert_error(
        api.call("POST", "/preview", json={"project": project(source, expression="{nmae} || 'x'")}),
        422,
        "VALIDATION_ERROR",
        "unknown source column",
    )
    assert "did you mean 'name'" in body["problems"][0]["message"]
    failing = assert_error(
        api.call("POST", "/preview", json={"project": project(source, expression="CAST({name} AS integer)")}),
        422,
        "VALIDATION_ERROR",
        "fails on the sample",
    )
    assert failing["problems"] and failing["problems"][0]["path"] == "public.customer.name"
    unknown = project(source)
    unknown["pipelines"][0]["source_conn_id"] = "no_such_conn"
    assert_error(
        api.call("POST", "/preview", json={"project": unknown}), 404, "NOT_FOUND", "'no_such_conn' is not defined"
    )


def test_save_writes_only_valid_projects(api: Api, servers: dict[str, str], mappings: Path) -> None:
    source = servers["source"]
    assert_error(
        api.call("POST", "/projects", json={"project": project(source, expression="UPPER({name}")}),
        422,
        "VALIDATION_ERROR",
    )
    assert_error(api.call("POST", "/projects", user="viewer", json={"project": project(source)}), 403, "AUTH_ERROR")
    assert list(mappings.iterdir()) == []
    saved = api.call("POST", "/projects", json={"project": project(source)})
    assert saved.status_code == 201 and saved.json()["created"] is True
    path = mappings / "wizard_demo.yaml"
    assert list(yaml.safe_load(path.read_text())) == ["name", "pipelines"]  # defaults left out, the spec's order
    assert_error(api.call("POST", "/projects", json={"project": project(source)}), 409, "VALIDATION_ERROR", "overwrite")
    (mappings / "other.yaml").write_text(path.read_text())
    assert_error(
        api.call("POST", "/projects", json={"project": project(source), "overwrite": True}),
        409,
        "VALIDATION_ERROR",
        "already defined in",
    )
    (mappings / "other.yaml").unlink()
    again = api.call("POST", "/projects", json={"project": project(source), "overwrite": True})
    assert again.status_code == 201 and again.json()["created"] is False
    assert sorted(p.name for p in mappings.iterdir()) == ["wizard_demo.yaml"]  # no temp file left
    assert api.call("GET", "/projects", user="viewer").json()[0]["dag_id"] == "wizard_demo"


@pytest.mark.parametrize("example", sorted(p.stem for p in (REPO / "include" / "mappings").glob("*.yaml")))
def test_load_then_save_keeps_the_spec(api: Api, mappings: Path, example: str) -> None:
    original = REPO / "include" / "mappings" / f"{example}.yaml"
    (mappings / original.name).write_text(original.read_text())
    before = load_project(original)
    loaded = api.call("GET", f"/projects/{before.name}", user="viewer").json()
    assert loaded["yaml"] == original.read_text()
    saved = api.call("POST", "/projects", json={"project": loaded["project"], "overwrite": True})
    assert saved.status_code == 201, saved.text
    assert load_project(mappings / f"{before.name}.yaml") == before


SLOW = "regexp_replace(repeat(md5({name}), 200000), '[0-9]', '', 'g')"
"""Allowed, and about 2.5 s a row in PostgreSQL: without a limit, a preview of three rows would take ~8 s,
a lint more."""


def test_slow_mapping_sql_is_cancelled_on_the_server_at_the_interactive_limit(
    api: Api, servers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABRIDGE_INTERACTIVE_SQL_TIMEOUT", "1")
    started = time.monotonic()
    body = assert_error(
        api.call("POST", "/preview", json={"project": project(servers["source"], expression=SLOW)}),
        422,
        "VALIDATION_ERROR",
    )
    assert (
        "public.customer: the mapping's SQL ran longer than 1 s on 3 sample row(s) and was cancelled on the server"
        in body["error"]
    )
    lint = api.call(
        "POST", "/validate", json={"project": project(servers["source"], expression=SLOW), "lint": True}
    ).json()
    assert [p["message"] for p in lint["lint"] if p["column"] == "(mappings)"] == [
        "the mappings ran longer than 1 s on 3 sample row(s) and were cancelled on the server"
    ], json.dumps(lint["lint"])
    assert time.monotonic() - started < 20
    with pg_connect(servers["target"]) as conn:
        running = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%REGEXP_REPLACE(REPEAT(%%' AND state = "
            "'active' AND pid <> pg_backend_pid()"
        ).fetchone()
    assert running == (0,)
