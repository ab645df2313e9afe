"""A PostgreSQL that accepts TLS connections only: a connection's TLS extras (and its other libpq extras, as
PostgresHook passes them) reach DataBridge's own driver; a connection without TLS is refused.

The machine's shared PostgreSQL is never touched: the module starts its own cluster (initdb from the PostgreSQL 15
binaries) on a free port, with a self-signed certificate and ``hostssl`` as the only line of pg_hba.conf.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from databridge.engines import open_source, open_target
from databridge.errors import EngineError
from databridge.operators.base import connection_info
from tests.conftest import airflow_conn, free_port

pytestmark = pytest.mark.integration

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "postgres"
"""initdb and postgres refuse to run as root: the cluster belongs to this system user when the tests run as root."""


@dataclass(frozen=True)
class TlsServer:
    port: int
    root_cert: Path
    """The server's self-signed certificate: the root a client verifies it with (sslrootcert)."""
    other_cert: Path
    """A certificate that did not sign the server's."""


def _as_server(command: list[str], folder: Path) -> None:
    user = SERVER_USER if os.geteuid() == 0 else None
    subprocess.run(
        command, check=True, user=user, cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, timeout=120
    )


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-x509",
            "-days",
            "2",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _configure(data: Path, port: int, cert: Path, key: Path, folder: Path) -> None:
    (data / "pg_hba.conf").write_text("hostssl all all 127.0.0.1/32 trust\n")  # TLS or nothing
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{folder}'\n"
            f"ssl = on\nssl_cert_file = '{cert}'\nssl_key_file = '{key}'\nfsync = off\n"
        )


@pytest.fixture(scope="module")
def tls_server() -> Iterator[TlsServer]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"the PostgreSQL 15 binaries are not in {PG_BIN}")
    folder = Path(tempfile.mkdtemp(prefix="databridge-tls-"))
    folder.chmod(0o755)
    cert, key = _certificate(folder, "server")
    other, _ = _certificate(folder, "other")
    if os.geteuid() == 0:
        shutil.chown(folder, SERVER_USER)
        shutil.chown(key, SERVER_USER)
    key.chmod(0o600)
    data, port = folder / "data", free_port()
    _as_server([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"], folder)
    _configure(data, port, cert, key, folder)
    _as_server([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w", "start"], folder)
    try:
        yield TlsServer(port, cert, other)
    finally:
        _as_server([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], folder)
        shutil.rmtree(folder, ignore_errors=True)


def define(monkeypatch: pytest.MonkeyPatch, server: TlsServer, conn_id: str, extra: dict[str, Any]) -> None:
    """The connection as an Airflow connection: DataBridge reads it back through Airflow's own lookup."""
    fields = {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": server.port,
        "login": "postgres",
        "schema": "postgres",
    }
    airflow_conn(monkeypatch, conn_id, **fields, extra=extra)


def test_verify_ca_with_the_servers_root_certificate_connects_over_tls(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {
        "sslmode": "verify-ca",
        "sslrootcert": str(tls_server.root_cert),
        "options": "-c search_path=tls_check,public",
    }
    define(monkeypatch, tls_server, "tls_target", extra | {"connect_timeout": 5, "target_session_attrs": "read-write"})
    target = open_target(connection_info("tls_target"))
    try:
        assert target.scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", doing="checking TLS") is True
        # The connection's own libpq options arrive, and DataBridge's session settings still apply after them.
        assert target.scalar("SHOW search_path", doing="checking the options") == "tls_check,public"
        assert target.scalar("SHOW TimeZone", doing="checking the session") == "UTC"
    finally:
        target.close()
    source = open_source(connection_info("tls_target"))
    try:
        assert "public" in source.schemas()
    finally:
        source.close()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"sslmode": "disable"}, "no pg_hba.conf entry"),
        ({"sslmode": "verify-ca", "sslrootcert": "OTHER"}, "certificate verify failed"),
    ],
    ids=["without-tls", "untrusted-certificate"],
)
def test_a_connection_without_trusted_tls_is_refused(
    tls_server: TlsServer, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str], words: str
) -> None:
    extra = {k: str(tls_server.other_cert) if v == "OTHER" else v for k, v in extra.items()}
    define(monkeypatch, tls_server, "tls_refused", extra)
    with pytest.raises(EngineError, match=words) as refused:
        open_target(connection_info("tls_refused"))
    assert not refused.value.transient, "a refused connection is a setting to fix, not a retry"
    assert "tls_refused" in str(refused.value)
