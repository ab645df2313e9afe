"""Connections through Airflow's own resolution: a connection only a secrets backend holds serves a real run and the
plugin's routes; the list reads no secret; the Test route follows Airflow's [core] test_connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import MySQLdb
import pytest

from tests.api.conftest import Api, assert_error
from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields, pg_connect, unique_name
from tests.e2e.conftest import dagbag
from tests.integration.runner import passthrough_yaml

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LOCAL_BACKEND = "airflow.secrets.local_filesystem.LocalFilesystemBackend"


@pytest.fixture
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Airflow's local secrets backend, configured as a user configures Vault or AWS Secrets Manager: [secrets]
    backend and backend_kwargs. The file starts empty; the test writes connections into it."""
    import airflow.sdk.configuration as sdk_configuration

    path = tmp_path / "connections.json"
    path.write_text("{}")
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", LOCAL_BACKEND)
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps({"connections_file_path": str(path)}))
    # The task SDK builds its backends once per process when a custom one is set: this test's own, forgotten after it.
    monkeypatch.setattr(sdk_configuration, "_secrets_backend_cache", {})
    return path


def customers(database: str) -> None:
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=database, autocommit=True
    )
    conn.cursor().execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(20))")
    conn.cursor().execute("INSERT INTO customers VALUES (1, 'Ada'), (2, 'Bob'), (3, 'Cy')")
    conn.close()


def test_a_run_and_the_routes_resolve_a_target_only_the_secrets_backend_holds(
    api: Api, mappings: Path, secrets_file: Path, mysql_database: str, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    customers(mysql_database)
    airflow_conn(monkeypatch, "vault_src", **mysql_conn_fields(mysql_database))
    secrets_file.write_text(json.dumps({"vault_tgt": pg_conn_fields(pg_database)}))
    (mappings / "vault.yaml").write_text(
        passthrough_yaml("vault", "vault_src", "vault_tgt", f"{mysql_database}.customers", ["name"])
    )
    run = dagbag(mappings, monkeypatch).dags["vault_it"].test()
    assert str(run.state) == "success"
    with pg_connect(pg_database) as conn:
        assert conn.execute("SELECT id, name FROM landing.customers ORDER BY id").fetchall() == [
            (1, "Ada"),
            (2, "Bob"),
            (3, "Cy"),
        ]

    listed = [c["conn_id"] for c in api.call("GET", "/connections").json()]
    assert "vault_src" in listed and "vault_tgt" not in listed, (
        "a secrets backend cannot be listed; its ids still resolve"
    )
    status = api.call("GET", f"/projects/vault_it/runs/{run.run_id}")
    assert status.status_code == 200, status.text
    stored = {s["stage"]: s for s in status.json()["pipelines"][0]["stages"] if "status" in s}  # read from the target
    assert stored["extract"]["rows"] == 3 and stored["report"]["state"] == "success", stored
    assert "public" in api.call("GET", "/connections/vault_tgt/schemas").json()
    monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
    tested = api.call("POST", "/connections/vault_tgt/test").json()
    assert tested["ok"] is True and "PostgreSQL" in tested["detail"]
    assert_error(api.call("POST", "/connections/vault_tgx/test"), 404, "NOT_FOUND", "[secrets] backend")


@pytest.fixture
def undecryptable() -> Iterator[str]:
    """A metadata-database connection whose password and extra no Fernet key decrypts (a rotated key, a copied
    database): Airflow fails on reading them."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete, insert

    conn_id = unique_name("rotated")
    row = {
        "conn_id": conn_id,
        "conn_type": "mysql",
        "host": "db.example.org",
        "port": 3306,
        "login": "etl",
        "schema": "erp",
    }
    encrypted = {
        "password": "gAAAA-not-a-fernet-token",
        "is_encrypted": True,
        "extra": "gAAAA-nor-this",
        "is_extra_encrypted": True,
    }
    with create_session() as session:
        session.execute(insert(Connection.__table__).values(**row, **encrypted))
    yield conn_id
    with create_session() as session:
        session.execute(delete(Connection.__table__).where(Connection.__table__.c.conn_id == conn_id))


def test_the_list_reads_no_password_or_extra(api: Api, undecryptable: str) -> None:
    response = api.call("GET", "/connections")
    assert response.status_code == 200, response.text
    listed = {c["conn_id"]: c for c in response.json()}
    assert listed[undecryptable] | {"test_connection": None} == {
        "conn_id": undecryptable, "conn_type": "mysql", "host": "db.example.org", "port": 3306, "login": "etl",
        "database": "erp", "can_be_source": True, "can_be_target": False, "test_connection": None,
    }  # fmt: skip


@pytest.mark.parametrize("setting", [None, "Disabled", "Hidden", "nonsense"])
def test_the_test_route_answers_403_unless_airflow_enables_testing(
    api: Api, monkeypatch: pytest.MonkeyPatch, pg_database: str, setting: str | None
) -> None:
    airflow_conn(monkeypatch, "gate_tgt", **pg_conn_fields(pg_database))
    if setting is None:
        monkeypatch.delenv("AIRFLOW__CORE__TEST_CONNECTION", raising=False)  # Airflow's default: Disabled
    else:
        monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", setting)
    shown = "Hidden" if setting == "Hidden" else "Disabled"
    body = assert_error(
        api.call("POST", "/connections/gate_tgt/test"), 403, "DISABLED", f"[core] test_connection = {shown}"
    )
    assert (
        "AIRFLOW__CORE__TEST_CONNECTION=Enabled" in body["error"]
        and "test_connection = Enabled under [core]" in body["error"]
    )
    listed = {c["conn_id"]: c for c in api.call("GET", "/connections").json()}
    assert listed["gate_tgt"]["test_connection"] == shown
    monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
    assert api.call("POST", "/connections/gate_tgt/test").json()["ok"] is True
    assert api.call("GET", "/connections").json()[0]["test_connection"] == "Enabled"
