"""The source unreachable for a while: Airflow retries the extract with exponential backoff and it goes on after its
last committed batch; unreachable for good, the run fails with a message naming the source and never its password.

The source is MariaDB behind a TCP proxy run by the test (tests/integration/faults.py), cut mid-extract.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MYSQL, airflow_conn, pg_conn_fields, pg_connect, unique_name
from tests.e2e.conftest import dagbag
from tests.integration.faults import EVENT_COLUMNS, TcpProxy, events_yaml, make_events, mysql, source_events, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

ROWS = 120_000
PASSWORD = "Outage-s3cret-9Qz"
RETRIES = (
    "\n  retries: {retries}\n  retry_delay_seconds: 1\n  retry_exponential_backoff: true\n  max_retry_delay_seconds: 4"
)


@pytest.fixture
def proxied_source(mysql_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    """``events`` in MariaDB, read by a user with a password through a proxy: Airflow connection ``outage_source``."""
    make_events(mysql_database, ROWS)
    user = unique_name("outage")
    admin = mysql(mysql_database)
    for host in ("127.0.0.1", "localhost", "%"):
        admin.cursor().execute(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY '{PASSWORD}'")
        admin.cursor().execute(f"GRANT SELECT ON `{mysql_database}`.* TO '{user}'@'{host}'")
    proxy = TcpProxy(MYSQL["host"], MYSQL["port"])
    airflow_conn(
        monkeypatch,
        "outage_source",
        conn_type="mysql",
        host="127.0.0.1",
        port=proxy.port,
        login=user,
        password=PASSWORD,
        schema=mysql_database,
    )
    yield proxy
    proxy.close()
    for host in ("127.0.0.1", "localhost", "%"):
        admin.cursor().execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
    admin.close()


def outage_dag(mappings: Path, monkeypatch: pytest.MonkeyPatch, database: str, retries: int) -> Any:
    text = events_yaml(
        "outage_it", "outage_source", "outage_target", database, defaults=RETRIES.format(retries=retries)
    )
    (mappings / "outage_it.yaml").write_text(text.replace("  retries: 0\n", ""))
    return dagbag(mappings, monkeypatch).dags["outage_it"]


def extract_tries(dag_run: Any) -> list[tuple[Any, Any]]:
    """(start, end) of every try of the extract task instance that reads the table (mapped instance 0), in order."""
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session

    with create_session() as session:
        past = (
            session.query(TaskInstanceHistory)
            .filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id="events.extract", map_index=0)
            .all()
        )
        tries = sorted((h.try_number, h.start_date, h.end_date) for h in past)
    [last] = [ti for ti in dag_run.get_task_instances() if ti.task_id == "events.extract" and ti.map_index == 0]
    return [(start, end) for _, start, end in tries] + [(last.start_date, last.end_date)]


def committed_batches(dbname: str) -> int:
    with pg_connect(dbname) as conn:
        exists = conn.execute("SELECT to_regclass('databridge.batch_ledger') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return 0
        return int(conn.execute("SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'extract'").fetchone()[0])  # type: ignore[index]


def cut_mid_extract(proxy: TcpProxy, dbname: str, down_for: float | None) -> threading.Thread:
    """Cut the proxy once a batch is committed; bring it back after ``down_for`` seconds (None: never)."""

    def outage() -> None:
        wait_until("a committed extract batch", lambda: committed_batches(dbname) >= 1, timeout=60, every=0.005)
        proxy.cut()
        if down_for is not None:
            time.sleep(down_for)
            proxy.restore()

    thread = threading.Thread(target=outage, daemon=True)
    thread.start()
    return thread


def test_source_back_after_an_outage_the_retried_extract_goes_on(
    airflow_db: None,
    proxied_source: TcpProxy,
    mysql_database: str,
    pg_database: str,
    mappings: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    airflow_conn(monkeypatch, "outage_target", **pg_conn_fields(pg_database))
    dag = outage_dag(mappings, monkeypatch, mysql_database, retries=6)
    outage = cut_mid_extract(proxied_source, pg_database, down_for=5.0)

    dag_run = dag.test()
    outage.join(10)

    tries = extract_tries(dag_run)
    print("TRIES", [(a.isoformat(), b.isoformat()) for a, b in tries])
    assert str(dag_run.state) == "success"
    gaps = [later[0] - earlier[1] for earlier, later in zip(tries, tries[1:], strict=False)]
    assert len(tries) >= 2, tries  # the outage failed at least one try, and a retry went on
    # Backing off: with three tries or more, each wait is at least as long as the one before. (On a loaded machine the
    # first try can hang on the cut connection until the 5 s outage is over, and the second then succeeds.)
    assert all(b >= a for a, b in zip(gaps, gaps[1:], strict=False)) and (len(gaps) < 2 or gaps[-1] > gaps[0]), gaps
    with pg_connect(pg_database) as conn:
        copied = conn.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM landing.events ORDER BY id").fetchall()
        resumed = conn.execute(
            "SELECT count(*) FROM databridge.batch_ledger WHERE stage = 'extract' AND resumed"
        ).fetchone()
    assert [tuple(r) for r in copied] == source_events(mysql_database)
    assert resumed == (1,)


def test_source_down_for_good_fails_naming_the_source_without_its_password(
    airflow_db: None,
    proxied_source: TcpProxy,
    mysql_database: str,
    pg_database: str,
    mappings: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    airflow_conn(monkeypatch, "outage_target", **pg_conn_fields(pg_database))
    dag = outage_dag(mappings, monkeypatch, mysql_database, retries=2)
    cut_mid_extract(proxied_source, pg_database, down_for=None)

    dag_run = dag.test()

    assert str(dag_run.state) == "failed"
    assert len(extract_tries(dag_run)) == 3
    with pg_connect(pg_database) as conn:
        [(error,)] = conn.execute("SELECT error FROM databridge.stage_runs WHERE stage = 'extract[0]'").fetchall()
        [(errors, stored)] = conn.execute("SELECT report->'errors', t::text FROM databridge.reports t").fetchall()
    assert error.startswith(
        "MySQL: cannot connect with mysql connection 'outage_source' "
        f"(127.0.0.1:{proxied_source.port}/{mysql_database}): (200"
    ), error
    assert "Can't connect to server on '127.0.0.1'" in error
    assert errors == [f"extract: {error}"]
    captured = capfd.readouterr()
    assert error in captured.out + captured.err
    assert PASSWORD not in error + stored + captured.out + captured.err
