"""Known passwords and keys through a whole Airflow run (dag.test) that succeeds and one that fails: they appear in
no task log, XCom, report, results-schema row, metadata database or plugin API response. The stage-by-stage checks,
connection refusals included, are in tests/integration/test_secrets.py."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import MySQLdb
import pytest

from tests.api.conftest import Api
from tests.conftest import (
    MYSQL,
    airflow_conn,
    grant_sandbox,
    mysql_conn_fields,
    pg_admin,
    pg_conn_fields,
    pg_connect,
    unique_name,
)
from tests.e2e.conftest import dagbag
from tests.integration.runner import TargetDB
from tests.integration.test_couchdb import COUCH, S3_KEYS, bucket, couch_fields, require_servers, s3_fields

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["bucket"]  # a fixture, used by name

MYSQL_SECRET = "Ma-5ecret-Qx81-mysql"
PG_SECRET = "Pg-5ecret;Zw27 host=evil"  # the server trusts loopback, so any password works: it must still not be shown
S3_SECRET = S3_KEYS[1]  # the test S3 server's own secret (scripts/test_servers.sh)
SECRETS = (MYSQL_SECRET, PG_SECRET, S3_SECRET)

PROJECT = """\
name: secret_run
strategy: multi-pipeline
defaults: {retries: 0}
pipelines:
  - name: erp
    source_conn_id: sec_mysql
    target_conn_id: sec_target
    tables:
      - source: $mysql_db.$customers
        targets:
          - table: erp.customers
            keys: [id]
            columns: [{source: id}, {source: name}]
  - name: docs
    source_conn_id: sec_couch
    target_conn_id: sec_target
    depends_on: [erp]
    tables:
      - source: $couch_db.note
        targets:
          - table: docs.notes
            keys: [note_id]
            columns: [{source: _id, target: note_id}, {source: text}, {source: _rev, exclude: true},
                      {source: type, exclude: true}]
    attachments: {conn_id: sec_s3, bucket: $bucket}
"""


@pytest.fixture
def mysql_user(mysql_database: str) -> Iterator[str]:
    """A MariaDB user that may read ``mysql_database``, with the known password, and a table to read."""
    user = unique_name("dbsecret")
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    cur = conn.cursor()
    cur.execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40))")
    cur.execute("INSERT INTO customers VALUES (1, 'Ada'), (2, 'Bob')")
    for host in ("%", "localhost"):
        cur.execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{MYSQL_SECRET}'")
        cur.execute(f"GRANT SELECT ON `{mysql_database}`.* TO '{user}'@'{host}'")
    yield user
    for host in ("%", "localhost"):
        cur.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
    conn.close()


@pytest.fixture
def pg_role(pg_database: str) -> Iterator[str]:
    """A PostgreSQL role owning the target database, with the known password."""
    role = unique_name("dbsecret")
    with pg_admin() as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PG_SECRET}'")
        admin.execute(f'ALTER DATABASE "{pg_database}" OWNER TO {role}')
        grant_sandbox(admin, role)
    yield role
    with pg_connect(pg_database) as conn:
        conn.execute(f"REASSIGN OWNED BY {role} TO postgres")
        conn.execute(f"DROP OWNED BY {role}")
    with pg_admin() as admin:
        admin.execute(f'ALTER DATABASE "{pg_database}" OWNER TO postgres')
        admin.execute(f"DROP ROLE {role}")


@pytest.fixture
def couch_notes() -> Iterator[str]:
    """A CouchDB database with one note and its attachment."""
    require_servers()
    name = unique_name("dbtest")
    url = f"http://{COUCH['host']}:{COUCH['port']}/{name}"
    httpx.put(url).raise_for_status()
    attachment = {"content_type": "text/plain", "data": base64.b64encode(b"attached text").decode()}
    httpx.put(
        f"{url}/n1", json={"type": "note", "text": "hello", "_attachments": {"a.txt": attachment}}
    ).raise_for_status()
    yield name
    httpx.delete(url)


def secrets_in(where: str, text: str) -> list[str]:
    return [f"{where} holds {secret!r}" for secret in SECRETS if secret in text]


def airflow_home_files() -> dict[str, str]:
    """Every file under AIRFLOW_HOME (the metadata database with its XCom, rendered fields and any log file), as
    text."""
    home = Path(os.environ["AIRFLOW_HOME"])
    return {str(p.relative_to(home)): p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()}


def xcoms(dag_id: str) -> list[Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return [row.value for row in session.query(XComModel).filter(XComModel.dag_id == dag_id)]


def api_answers(api: Api, run_ids: list[str], couch_db: str, mysql_db: str) -> dict[str, str]:
    """Every plugin route that could show a connection, a run or a project, as the admin sees it."""
    project = (Path(os.environ["DATABRIDGE_MAPPINGS_DIR"]) / "secret_run.yaml").read_text()
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/connections", None),
        ("GET", "/health", None),
        ("GET", "/queue", None),
        ("GET", "/projects", None),
        ("GET", "/projects/secret_run", None),
        ("GET", "/projects/secret_run/runs", None),
        ("POST", "/validate", {"yaml": project, "lint": True}),
        (
            "POST",
            "/preview",
            {"yaml": project, "pipeline": "erp", "source": f"{mysql_db}.customers", "target": "erp.customers"},
        ),
    ]
    calls += [("GET", f"/projects/secret_run/runs/{run_id}", None) for run_id in run_ids]
    for conn_id, schema in (
        ("sec_mysql", mysql_db),
        ("sec_target", "public"),
        ("sec_couch", couch_db),
        ("sec_bad_mysql", mysql_db),
    ):
        calls += [("POST", f"/connections/{conn_id}/test", None), ("GET", f"/connections/{conn_id}/schemas", None)]
        calls += [("GET", f"/connections/{conn_id}/schemas/{schema}/tables", None)]
    calls += [("GET", f"/connections/sec_mysql/schemas/{mysql_db}/tables/customers", None)]
    answers = {}
    for method, path, body in calls:
        response = api.call(method, path, json=body)
        answers[f"{method} {path} ({response.status_code})"] = response.text
    return answers


def test_known_secrets_appear_in_no_output_of_a_run(
    api: Api, mappings: Path, mysql_database: str, mysql_user: str, pg_database: str, pg_role: str, couch_notes: str,
    bucket: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")  # the Test route must answer too
    airflow_conn(
        monkeypatch, "sec_mysql", **{**mysql_conn_fields(mysql_database), "login": mysql_user, "password": MYSQL_SECRET}
    )
    airflow_conn(
        monkeypatch,
        "sec_bad_mysql",
        **{**mysql_conn_fields(mysql_database), "login": mysql_user, "password": PG_SECRET},
    )
    airflow_conn(monkeypatch, "sec_target", **{**pg_conn_fields(pg_database), "login": pg_role, "password": PG_SECRET})
    airflow_conn(monkeypatch, "sec_couch", **couch_fields(couch_notes))
    airflow_conn(monkeypatch, "sec_s3", **s3_fields())
    project = PROJECT.replace("$mysql_db", mysql_database).replace("$couch_db", couch_notes).replace("$bucket", bucket)
    (mappings / "secret_run.yaml").write_text(project.replace("$customers", "customers"))
    good = dagbag(mappings, monkeypatch).dags["secret_run"].test()
    (mappings / "secret_run.yaml").write_text(project.replace("$customers", "customer"))  # a wrong table: the run fails
    bad = dagbag(mappings, monkeypatch).dags["secret_run"].test()

    assert str(good.state) == "success" and str(bad.state) == "failed"
    target = TargetDB(pg_database, "sec_target")
    assert target.rows("SELECT * FROM erp.customers ORDER BY 1") == [(1, "Ada"), (2, "Bob")]
    assert target.count("databridge_attachments.objects") == 1
    results = target.dump_schema("databridge")
    target.close()
    assert "source table" in results and "customer does not exist" in results, "the failure is in the results"
    answers = api_answers(api, [good.run_id, bad.run_id], couch_notes, mysql_database)
    assert "Access denied for user" in answers["POST /connections/sec_bad_mysql/test (502)"], "the refusal path ran"
    assert (
        mysql_user in answers["GET /connections (200)"]
        and good.run_id in answers["GET /projects/secret_run/runs (200)"]
    )
    files = airflow_home_files()
    assert "airflow.db" in files
    values = xcoms("secret_run")
    assert values, "the run left XCom values"
    captured = capfd.readouterr()  # dag.test() writes the task logs to the console, not to files
    assert "DataBridge report - project secret_run, pipeline erp" in captured.out + captured.err + caplog.text, (
        "task logs captured"
    )
    leaks = secrets_in("the results schema", results) + secrets_in("XCom", json.dumps(values, default=str))
    leaks += secrets_in("the captured output", caplog.text + captured.out + captured.err)
    leaks += [leak for name, text in files.items() for leak in secrets_in(name, text)]
    leaks += [leak for call, text in answers.items() for leak in secrets_in(call, text)]
    assert leaks == []
