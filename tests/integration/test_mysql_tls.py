"""A MySQL connection's TLS extras, read as MySqlHook reads them, against the test MariaDB (which offers no TLS): a
connection that asks for TLS is refused, by the driver or by DataBridge's own check, never read in clear; one that
turns TLS off reads, through mysqlclient and through ConnectorX's URI alike."""

from __future__ import annotations

from typing import Any

import MySQLdb
import pytest

from databridge.compiler.plan import TableRef
from databridge.engines import open_source
from databridge.engines.mysql import MySQLSource
from databridge.errors import EngineError
from databridge.operators.base import connection_info
from tests.conftest import MYSQL, airflow_conn, mysql_conn_fields

pytestmark = pytest.mark.integration


def no_tls_on_the_server() -> None:
    conn = MySQLdb.connect(host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="")
    try:
        cur = conn.cursor()
        cur.execute("SHOW VARIABLES LIKE 'have_ssl'")
        row = cur.fetchone()
    finally:
        conn.close()
    if row and row[1] == "YES":
        pytest.skip("the test MariaDB offers TLS: these tests need one that does not")


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"ssl_mode": "REQUIRED"}, "its extra asks for TLS"),  # MariaDB's client library alone would connect in clear
        ({"ssl": {"ca": "/etc/ssl/certs/ca-certificates.crt"}}, "its extra asks for TLS"),
        ({"ssl": '{"ca": "/etc/ssl/certs/ca-certificates.crt"}', "ssl_mode": "VERIFY_CA"}, "SSL is required"),
    ],
    ids=["required", "ca", "verify-ca-as-uri-text"],
)
def test_a_connection_asking_for_tls_is_refused_by_a_server_without_it(
    mysql_database: str, monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any], words: str
) -> None:
    no_tls_on_the_server()
    airflow_conn(monkeypatch, "tls_mysql", **mysql_conn_fields(mysql_database), extra=extra)
    with pytest.raises(EngineError, match=words) as refused:
        open_source(connection_info("tls_mysql"))
    assert not refused.value.transient and "tls_mysql" in str(refused.value)


def test_tls_turned_off_reads_through_mysqlclient_and_connectorx(
    mysql_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_tls_on_the_server()
    conn = MySQLdb.connect(
        host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", db=mysql_database, autocommit=True
    )
    conn.cursor().execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(10))")
    conn.cursor().execute("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    conn.close()
    airflow_conn(monkeypatch, "clear_mysql", **mysql_conn_fields(mysql_database), extra={"ssl_mode": "DISABLED"})
    source = open_source(connection_info("clear_mysql"))
    assert isinstance(source, MySQLSource)
    try:
        assert "ssl-mode=disabled" in source._url()
        columns = source.columns(TableRef(mysql_database, "t"))
        batches = source.arrow_batches(TableRef(mysql_database, "t"), columns, 100)
        assert batches is not None, "the Arrow path reads this table"
        assert sum(batch.num_rows for batch in batches) == 3
    finally:
        source.close()
