"""Shared fixtures: fresh databases on the machine's real PostgreSQL and MariaDB, and Airflow connections for them."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[1]

# Airflow reads its configuration when first imported: give the whole test session its own home.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="databridge-airflow-")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["DATABRIDGE_STRICT"] = "1"
os.environ.pop("DATABRIDGE_MAPPINGS_DIR", None)

PG = {
    "host": os.environ.get("DATABRIDGE_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("DATABRIDGE_TEST_PG_PORT", "5432")),
    "user": os.environ.get("DATABRIDGE_TEST_PG_USER", "postgres"),
}
MYSQL = {
    "host": os.environ.get("DATABRIDGE_TEST_MYSQL_HOST", "127.0.0.1"),
    "port": int(os.environ.get("DATABRIDGE_TEST_MYSQL_PORT", "3306")),
    "user": os.environ.get("DATABRIDGE_TEST_MYSQL_USER", "root"),
}

TEST_SERVER_PORTS = REPO / (os.environ.get("DATABRIDGE_HOME") or ".databridge") / "test-servers" / "ports.env"
"""Where scripts/test_servers.sh writes the free ports it picked for the MongoDB-wire, CouchDB and S3 servers."""


def load_test_server_ports(path: Path = TEST_SERVER_PORTS) -> dict[str, str]:
    """The test servers' ports (DATABRIDGE_TEST_*_PORT, DATABRIDGE_TEST_MONGO_URL) into the environment, where the
    fixtures read them; a variable already set wins. Returns what the file holds."""
    found = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line) if path.exists() else {}
    for key, value in found.items():
        os.environ.setdefault(key, value)
    return found


load_test_server_ports()

_counter = itertools.count()


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


def pg_admin() -> psycopg.Connection[Any]:
    return psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname="postgres", autocommit=True)


def grant_sandbox(admin: psycopg.Connection[Any], role: str) -> None:
    """Let a non-superuser target role run custom SQL as the README says: a member of databridge_sandbox."""
    admin.execute(
        "DO $$ BEGIN CREATE ROLE databridge_sandbox NOLOGIN NOINHERIT; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    admin.execute(f"GRANT databridge_sandbox TO {role}")


def pg_connect(dbname: str) -> psycopg.Connection[Any]:
    return psycopg.connect(host=PG["host"], port=PG["port"], user=PG["user"], dbname=dbname, autocommit=True)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    yield from fresh_pg_database()


def fresh_pg_database() -> Iterator[str]:
    name = unique_name("dbtest")
    with pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database_2() -> Iterator[str]:
    """A second, independent PostgreSQL database."""
    yield from fresh_pg_database()


@pytest.fixture
def mysql_database() -> Iterator[str]:
    """A new, empty MariaDB database, dropped afterwards."""
    import MySQLdb

    name = unique_name("dbtest")
    conn = MySQLdb.connect(host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", autocommit=True)
    conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield name
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def airflow_conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    """Define an Airflow connection through its AIRFLOW_CONN_ environment variable (real Airflow lookup)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def pg_conn_fields(dbname: str) -> dict[str, Any]:
    return {"conn_type": "postgres", "host": PG["host"], "port": PG["port"], "login": PG["user"], "schema": dbname}


def mysql_conn_fields(dbname: str) -> dict[str, Any]:
    return {
        "conn_type": "mysql",
        "host": MYSQL["host"],
        "port": MYSQL["port"],
        "login": MYSQL["user"],
        "schema": dbname,
    }


def free_port() -> int:
    """A loopback port nobody listens on now (for servers the tests start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process_groups(procs: Sequence[subprocess.Popen[Any]], grace: float) -> None:
    """Stop servers started with ``start_new_session=True``: SIGTERM to each whole process group, up to ``grace``
    seconds in all for them to exit, then SIGKILL to what is left of each group (forked children included)."""
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
