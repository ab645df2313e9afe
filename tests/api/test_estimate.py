"""POST /validate with ``estimate``: a timed calibration batch per table through the extract path, nothing kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from tests.api.conftest import Api, assert_error
from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields, pg_conn_fields, pg_connect

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

EVENTS = 12_000


@pytest.fixture
def servers(
    api: Api, mysql_database: str, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """A MariaDB source with a 12,000-row table and a 3-row one, an empty PostgreSQL target, their connections."""
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    cur = conn.cursor()
    cur.execute(
        "CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(20) NOT NULL, at DATETIME, amount DECIMAL(10,2))"
    )
    cur.execute(
        "INSERT INTO events SELECT seq, CONCAT('kind', seq % 7), '2026-01-01 00:00:00' + INTERVAL seq MINUTE, "
        f"seq / 100 FROM seq_1_to_{EVENTS}"
    )
    cur.execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40))")
    cur.execute("INSERT INTO customers VALUES (1, 'ada'), (2, 'bob'), (3, 'cy')")
    conn.close()
    airflow_conn(monkeypatch, "est_src", **mysql_conn_fields(mysql_database), password="")
    airflow_conn(monkeypatch, "est_tgt", **pg_conn_fields(pg_database), password="hunter2")
    yield {"source": mysql_database, "target": pg_database}


def project(source_db: str, events: str = "events") -> dict[str, Any]:
    def table(name: str, columns: list[str]) -> dict[str, Any]:
        return {
            "source": f"{source_db}.{name}",
            "targets": [{"table": f"public.{name}", "columns": [{"source": c} for c in columns]}],
        }

    tables = [table(events, ["id", "kind", "at", "amount"]), table("customers", ["id", "name"])]
    return {
        "name": "estimate_demo",
        "pipelines": [{"name": "crm", "source_conn_id": "est_src", "target_conn_id": "est_tgt", "tables": tables}],
    }


def test_each_table_gets_an_extract_estimate_and_nothing_is_kept(api: Api, servers: dict[str, str]) -> None:
    body = {"project": project(servers["source"]), "estimate": True, "calibration_rows": 1000}
    result = api.call("POST", "/validate", json=body).json()
    assert result["valid"] is True, result
    events, customers = result["estimates"]
    assert (
        events["pipeline"] == "crm"
        and events["source"] == f"{servers['source']}.events"
        and events["stage"] == "extract"
    )
    assert events["rows"] == EVENTS and events["calibration_rows"] == 1000
    assert events["rows_per_second"] > 0 and events["seconds"] > 0
    assert events["seconds"] == pytest.approx(EVENTS / events["rows_per_second"], abs=0.001)
    assert customers["rows"] == 3 and customers["calibration_rows"] == 3 and customers["seconds"] > 0
    with pg_connect(servers["target"]) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'databridge%'").fetchone() == (0,)


def test_a_postgresql_source_is_cut_at_the_calibration_batch(
    api: Api, servers: dict[str, str], pg_database_2: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL sources stream COPY text (the sink's other path): the batch still stops at calibration_rows."""
    with pg_connect(pg_database_2) as conn:
        conn.execute(
            "CREATE SCHEMA shop; CREATE TABLE shop.events AS SELECT g AS id, 'kind' || g % 7 AS kind FROM "
            "generate_series(1, 2500) g"
        )
    airflow_conn(monkeypatch, "est_pg", **pg_conn_fields(pg_database_2))
    draft = project(servers["source"])
    draft["pipelines"][0].update(
        source_conn_id="est_pg",
        tables=[
            {
                "source": "shop.events",
                "targets": [{"table": "public.events", "columns": [{"source": "id"}, {"source": "kind"}]}],
            }
        ],
    )
    (found,) = api.call(
        "POST", "/validate", json={"project": draft, "estimate": True, "calibration_rows": 1000}
    ).json()["estimates"]
    assert (found["source"], found["rows"], found["calibration_rows"]) == ("shop.events", 2500, 1000) and found[
        "seconds"
    ] > 0


def test_no_estimate_unless_asked(api: Api, servers: dict[str, str]) -> None:
    assert "estimates" not in api.call("POST", "/validate", json={"project": project(servers["source"])}).json()


def test_bad_estimates_are_clear_errors(api: Api, servers: dict[str, str]) -> None:
    source = servers["source"]
    asked = {"estimate": True}
    assert_error(
        api.call("POST", "/validate", json={"project": project(source, events="event"), **asked}),
        404,
        "NOT_FOUND",
        "did you mean 'events'",
    )
    unknown = project(source)
    unknown["pipelines"][0]["source_conn_id"] = "no_such_conn"
    assert_error(
        api.call("POST", "/validate", json={"project": unknown, **asked}),
        404,
        "NOT_FOUND",
        "'no_such_conn' is not defined",
    )
    assert_error(
        api.call("POST", "/validate", json={"project": project(source), "calibration_rows": 5, **asked}),
        422,
        "VALIDATION_ERROR",
    )


def test_estimates_need_login_and_permission(api: Api, servers: dict[str, str]) -> None:
    body = {"project": project(servers["source"]), "estimate": True}
    assert_error(api.call("POST", "/validate", user=None, json=body), 401, "AUTH_ERROR")
    assert_error(api.call("POST", "/validate", user="viewer", json=body), 403, "AUTH_ERROR")
