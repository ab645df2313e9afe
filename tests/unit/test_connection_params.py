"""What each engine's driver is given for a connection: what Airflow's provider hooks would give theirs (TLS and
other extras), plus DataBridge's defaults and session settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pymssql
import pytest

from databridge.engines import mssql
from databridge.engines.base import ConnectionInfo
from databridge.engines.hooks import connectorx_ssl, mongo_extras, mysql_params, mysql_wants_tls
from databridge.engines.mongo.source import _client_options
from databridge.engines.postgres import SESSION_OPTIONS, conninfo
from databridge.errors import EngineError


def info(conn_type: str, extra: dict[str, Any], **fields: Any) -> ConnectionInfo:
    return ConnectionInfo(
        "c1",
        conn_type,
        host=fields.get("host", "db1"),
        port=fields.get("port"),
        login="etl",
        password="pw",
        database="crm",
        extra=extra,
    )


def test_postgres_gets_every_libpq_extra_postgreshook_passes_and_none_of_its_own() -> None:
    extra = {
        "sslmode": "verify-full",
        "sslrootcert": "/ca.pem",
        "sslcert": "/c.pem",
        "sslkey": "/c.key",
        "connect_timeout": 3,
        "keepalives_idle": 30,
        "options": "-c search_path=sales",
        "cursor": "dictcursor",
        "sqlalchemy_scheme": "postgresql",
        "aws_conn_id": "aws_default",
    }
    params = conninfo(info("postgres", extra))
    assert params == {
        "host": "db1", "port": 5432, "user": "etl", "password": "pw", "dbname": "crm", "sslmode": "verify-full",
        "sslrootcert": "/ca.pem", "sslcert": "/c.pem", "sslkey": "/c.key", "connect_timeout": 3, "keepalives_idle": 30,
        "application_name": "databridge", "options": f"-c search_path=sales {SESSION_OPTIONS}",
    }  # fmt: skip


def test_postgres_defaults_fill_what_the_connection_leaves_out() -> None:
    params = conninfo(ConnectionInfo("c1", "postgres"))
    assert params == {
        "host": "127.0.0.1",
        "port": 5432,
        "connect_timeout": 10,
        "application_name": "databridge",
        "options": SESSION_OPTIONS,
    }


def test_mysql_tls_extras_as_mysqlhook_reads_them_reach_connectorx_too() -> None:
    # An extra given in a connection URI arrives as text: the hook reads ``ssl`` as JSON.
    params = mysql_params(
        info("mysql", {"ssl": '{"ca": "/ca.pem"}', "ssl_mode": "VERIFY_IDENTITY", "cursor": "sscursor"}, port=3307)
    )
    assert (
        params["ssl"] == {"ca": "/ca.pem"} and params["ssl_mode"] == "VERIFY_IDENTITY" and "cursorclass" not in params
    )
    assert (params["host"], params["port"], params["db"], params["user"], params["passwd"]) == (
        "db1",
        3307,
        "crm",
        "etl",
        "pw",
    )
    assert connectorx_ssl(params) == {"ssl-mode": "verify_identity", "ssl-ca": "/ca.pem"}
    assert mysql_wants_tls(params)


@pytest.mark.parametrize(
    ("extra", "uri", "wants"),
    [
        ({}, {}, False),
        ({"ssl": {"ca": "/ca.pem"}}, {"ssl-mode": "verify_ca", "ssl-ca": "/ca.pem"}, True),
        ({"ssl_mode": "REQUIRED"}, {"ssl-mode": "required"}, True),
        ({"ssl_mode": "PREFERRED", "ssl": {"ca": "/ca.pem"}}, {"ssl-mode": "preferred", "ssl-ca": "/ca.pem"}, False),
        (
            {"ssl": {"ca": "/ca.pem", "cert": "/c.pem", "key": "/c.key"}},
            None,
            True,
        ),  # ConnectorX presents no client certificate
    ],
    ids=["none", "ca", "required", "preferred", "client-certificate"],
)
def test_mysql_tls_settings_for_connectorx(extra: dict[str, Any], uri: dict[str, str] | None, wants: bool) -> None:
    params = mysql_params(info("mysql", extra))
    assert connectorx_ssl(params) == uri
    assert mysql_wants_tls(params) is wants


def test_mongo_options_as_mongohook_passes_them() -> None:
    extra = {
        "ssl": "true",
        "allow_insecure": "true",
        "tlsCAFile": "/ca.pem",
        "authSource": "admin",
        "sample_size": "50",
        "w": "majority",
    }
    assert mongo_extras(info("mongo", extra)) == {
        "tls": "true",
        "tlsAllowInvalidCertificates": True,
        "tlsCAFile": "/ca.pem",
        "authSource": "admin",
        "w": "majority",
    }
    options = _client_options(info("mongo", {"srv": "true", "tls": "true"}, host="cluster0.example.org"))
    assert options["host"] == "mongodb+srv://cluster0.example.org" and options["tls"] == "true" and "srv" not in options


def test_mssql_gets_every_extra_mssqlhook_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    given: dict[str, Any] = {}

    def connect(**kwargs: Any) -> None:
        given.update(kwargs)
        raise pymssql.OperationalError(20009, b"unreachable")

    monkeypatch.setattr(pymssql, "connect", connect)  # SQL Server cannot run here: what pymssql is given
    extra = {
        "conn_properties": "SET ANSI_NULLS ON;",
        "timeout": "30",
        "encryption": "require",
        "sqlalchemy_scheme": "mssql+pymssql",
    }
    with pytest.raises(EngineError, match="cannot connect"):
        mssql.MSSQLSource(info("mssql", extra))
    assert (
        given["conn_properties"] == "SET ANSI_NULLS ON;" and given["encryption"] == "require" and given["timeout"] == 30
    )
    assert "sqlalchemy_scheme" not in given and given["tds_version"] == "7.4" and given["autocommit"] is True


def test_connectorx_uri_carries_the_tls_settings() -> None:
    from databridge.engines.mysql import MySQLSource

    source = MySQLSource.__new__(MySQLSource)  # the URI only: no server is opened
    source.info = info("mysql", {})
    source.params = mysql_params(info("mysql", {"ssl": {"ca": "/ca dir/ca.pem"}}))
    url = urlsplit(source._url())
    assert (url.hostname, url.username, url.password, url.path) == ("db1", "etl", "pw", "/crm")
    assert parse_qs(url.query) == {"ssl-mode": ["verify_ca"], "ssl-ca": ["/ca dir/ca.pem"]}


def test_a_socket_file_connection_is_read_by_mysqlclient_alone() -> None:
    from databridge.engines.mysql import MySQLSource, _params

    socket_info = ConnectionInfo("c1", "mysql", login="etl", extra={"unix_socket": "/run/mysqld/mysqld.sock"})
    params = _params(socket_info)
    assert params["host"] == "localhost" and params["unix_socket"] == "/run/mysqld/mysqld.sock"
    source = MySQLSource.__new__(MySQLSource)  # no server is opened
    source.params = params
    assert not source._arrow_reaches()
    source.params = _params(info("mysql", {}))
    assert params["host"] != source.params["host"] == "db1" and source._arrow_reaches()
