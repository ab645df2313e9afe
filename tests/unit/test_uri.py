"""The one connection-URI parser of the command line (--conn, --target-uri, init --source): every engine's URI."""

from __future__ import annotations

from typing import Any

import pytest

from databridge import cli
from databridge.engines.uri import info_from_uri
from databridge.errors import DataBridgeError
from databridge.generate import init


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "postgresql://bob:pw@db:5433/sales?sslmode=require",
            ("postgres", "db", 5433, "bob", "pw", "sales", {"sslmode": "require"}),
        ),
        ("mariadb://root@127.0.0.1:3306/shop", ("mysql", "127.0.0.1", 3306, "root", None, "shop", {})),
        ("mssql://sa:S3cret%21@sql.example:1433/erp", ("mssql", "sql.example", 1433, "sa", "S3cret!", "erp", {})),
        (
            "mongodb://reader:pw@127.0.0.1:27018/catalog?authSource=admin",
            ("mongo", "127.0.0.1", 27018, "reader", "pw", "catalog", {"authSource": "admin"}),
        ),
        (
            "mongodb+srv://reader:pw@cluster0.example.net/catalog",
            ("mongo", "cluster0.example.net", None, "reader", "pw", "catalog", {"srv": "true"}),
        ),
        (
            "couchdb://admin:pw@127.0.0.1:5984/docs",
            ("couchdb", "127.0.0.1", 5984, "admin", "pw", "docs", {"scheme": "http"}),
        ),
        ("http://127.0.0.1:5984/docs/", ("couchdb", "127.0.0.1", 5984, None, None, "docs", {"scheme": "http"})),
        (
            "https://couch.example:6984/docs?type_field=kind",
            ("couchdb", "couch.example", 6984, None, None, "docs", {"scheme": "https", "type_field": "kind"}),
        ),
        ("sqlite:////data/shop%20v1.db", ("sqlite", "/data/shop v1.db", None, None, None, None, {})),
    ],
)
def test_every_engines_uri_becomes_a_connection(uri: str, expected: tuple[Any, ...]) -> None:
    info = info_from_uri(uri, "src")
    assert (
        info.conn_type,
        info.host,
        info.port,
        info.login,
        info.password,
        info.database,
        dict(info.extra),
    ) == expected
    assert info.conn_id == "src"


def test_the_commands_share_the_one_parser() -> None:
    assert cli.parse_conn("src=mongodb://127.0.0.1:27017/catalog")[1] == info_from_uri(
        "mongodb://127.0.0.1:27017/catalog", "src"
    )
    assert init._source_info("couchdb://127.0.0.1:5984/docs", "src") == info_from_uri(
        "couchdb://127.0.0.1:5984/docs", "src"
    )


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("oracle://u:hunter2@h/db", "URI scheme 'oracle' is not known; write postgresql://"),
        ("mongodb://u:hunter2@h1:27017,h2:27017/db", "several hosts"),
        ("mongodb://u:hunter2@h:port/db", "the port in its URI is not a number"),
    ],
)
def test_bad_uris_say_what_to_write_without_showing_them(uri: str, says: str) -> None:
    with pytest.raises(DataBridgeError, match=says) as caught:
        info_from_uri(uri, "src")
    assert "hunter2" not in str(caught.value) and "'src'" in str(caught.value)
    assert "mongodb://" in str(info_error("oracle://h/db"))


def info_error(uri: str) -> DataBridgeError:
    with pytest.raises(DataBridgeError) as caught:
        info_from_uri(uri)
    return caught.value
