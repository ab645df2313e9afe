"""scripts/test_servers.sh on free ports: a server of the user's own on a usual port (MongoDB's 27017, S3's 8333)
is neither used nor in the way, and the ports picked reach the tests through the ports file."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest

from tests.conftest import REPO, load_test_server_ports

pytestmark = pytest.mark.integration

SCRIPT = REPO / "scripts" / "test_servers.sh"
USUAL_PORTS = (27017, 8333)


@contextlib.contextmanager
def held(ports: tuple[int, ...]) -> Iterator[None]:
    """Something of the user's listens on each port (a port already taken stays as it is: taken)."""
    sockets = []
    for port in ports:
        sock = socket.socket()
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            sockets.append(sock)
        except OSError:
            sock.close()
    try:
        yield
    finally:
        for sock in sockets:
            sock.close()


def servers(home: Path, action: str, *names: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABRIDGE_HOME": str(home), "VENV_BIN": str(REPO / ".venv" / "bin")}
    for var in ("DATABRIDGE_TEST_MONGO_PORT", "DATABRIDGE_TEST_COUCH_PORT", "DATABRIDGE_TEST_S3_PORT"):
        env.pop(var, None)
    return subprocess.run(
        [str(SCRIPT), action, *names], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def test_servers_start_on_free_ports_written_where_the_tests_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        with held(USUAL_PORTS):
            started = servers(tmp_path, "start", "mongo", "s3")
            assert started.returncode == 0, started.stdout + started.stderr
            ports_file = tmp_path / "test-servers" / "ports.env"
            for var in ("DATABRIDGE_TEST_MONGO_URL", "DATABRIDGE_TEST_MONGO_PORT", "DATABRIDGE_TEST_S3_PORT"):
                monkeypatch.delenv(var, raising=False)
            found = load_test_server_ports(ports_file)
            mongo, s3 = int(found["DATABRIDGE_TEST_MONGO_PORT"]), int(found["DATABRIDGE_TEST_S3_PORT"])
            assert mongo not in USUAL_PORTS and s3 not in USUAL_PORTS
            assert os.environ["DATABRIDGE_TEST_MONGO_URL"] == f"mongodb://127.0.0.1:{mongo}"
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                os.environ["DATABRIDGE_TEST_MONGO_URL"], serverSelectionTimeoutMS=5_000
            )
            assert client.admin.command("ping")["ok"] == 1
            client.close()
            again = servers(tmp_path, "start", "mongo", "s3")
            assert again.returncode == 0 and again.stdout.count("(reused)") == 2, again.stdout
            assert load_test_server_ports(ports_file) == found, "a running server is reused on its port"
    finally:
        stopped = servers(tmp_path, "stop", "mongo", "s3")
    assert stopped.returncode == 0, stopped.stderr
    assert "mongo (pid" in stopped.stdout and "s3 (pid" in stopped.stdout
    assert (tmp_path / "test-servers" / "ports.env").read_text() == "", "stopped servers leave no port behind"
