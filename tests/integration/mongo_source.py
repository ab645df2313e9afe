"""The MongoDB-wire test server (scripts/test_servers.sh): its URL, fresh databases, and Airflow connections to them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pymongo
import pytest

from tests.conftest import REPO, TEST_SERVER_PORTS, unique_name

MONGO_URL = os.environ.get("DATABRIDGE_TEST_MONGO_URL", "")
"""From the ports file of scripts/test_servers.sh (tests/conftest.py): a free port, never a MongoDB of the
user's own."""


def mongo_client() -> pymongo.MongoClient[dict[str, Any]]:
    if not MONGO_URL:
        pytest.fail(
            "no MongoDB-wire test server: start it with scripts/test_servers.sh start (it writes its port to "
            f"{TEST_SERVER_PORTS})"
        )
    return pymongo.MongoClient(MONGO_URL, serverSelectionTimeoutMS=5_000, tz_aware=True)


def mongo_conn_fields(database: str, **extra: Any) -> dict[str, Any]:
    """An Airflow connection of type mongo to ``database`` on the test server."""
    (host, port), *_ = pymongo.uri_parser.parse_uri(MONGO_URL)["nodelist"]
    fields: dict[str, Any] = {"conn_type": "mongo", "host": host, "port": port, "schema": database}
    return {**fields, "extra": extra} if extra else fields


@pytest.fixture
def mongo_database() -> Iterator[str]:
    """A fresh database name on the test server, dropped afterwards."""
    client = mongo_client()
    try:
        client.admin.command("ping")
    except pymongo.errors.PyMongoError as exc:
        pytest.fail(f"no MongoDB-wire server at {MONGO_URL} ({exc}); start it with scripts/test_servers.sh start")
    name = unique_name("dbtest")
    yield name
    client.drop_database(name)
    client.close()


def fill_catalog(database: str, orders: int = 200) -> None:
    """The catalogue example's source (scripts/mongo_demo_source.py), in ``database``."""
    script = REPO / "scripts" / "mongo_demo_source.py"
    subprocess.run(
        [sys.executable, str(script), "--url", MONGO_URL, "--database", database, "--orders", str(orders)],
        check=True,
        capture_output=True,
    )
