"""The embedded PostgreSQL (scripts/embedded_pg.py) leaves a pytest session quietly: no `--- Logging error ---`
tracebacks at interpreter exit (the wheel's exit handler used to log into pytest's closed capture streams)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

SESSION = """
import tests.conftest  # the test session's environment, as the suite has it (Airflow's logging set up by the imports)
from tests.integration.test_target_restart import OwnServer


def test_own_server(tmp_path):
    server = OwnServer(tmp_path)
    with server.connect() as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    server.stop()
"""


def test_a_session_that_started_and_stopped_its_own_server_ends_without_logging_errors(tmp_path: Path) -> None:
    test_file = tmp_path / "test_own_server.py"
    test_file.write_text(SESSION)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        str(test_file),
        "--rootdir",
        str(REPO),
        "-c",
        str(REPO / "pyproject.toml"),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "Logging error" not in done.stderr + done.stdout, done.stderr
