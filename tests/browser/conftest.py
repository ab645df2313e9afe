"""A real Airflow started as `make airflow` starts it (scripts/airflow.sh serve) with the plugin, FAB users, a MariaDB
source and a PostgreSQL target, and headless Debian Chromium driven by Playwright (no browser download:
``executable_path``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from tests.conftest import MYSQL, PG, REPO, free_port, pg_admin, stop_process_groups, unique_name

CHROMIUM = "/usr/bin/chromium"
# The flags this machine needs: no sandbox as root, and no background calls to Google's hosts (the network is closed).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCRIPT = REPO / "scripts" / "airflow.sh"  # what `make airflow` runs
READY = "airflow.sh: ready on http://"
START_TIMEOUT = 240


@dataclass
class Airflow:
    url: str
    home: Path
    mappings: Path
    passwords: dict[str, str]
    source_db: str
    target_db: str
    logs: Path
    env: dict[str, str]
    output: Path  # what scripts/airflow.sh printed

    def log_tail(self, lines: int = 40) -> str:
        parts = [f"--- {self.output.name}\n" + self.output.read_text(encoding="utf-8", errors="replace")]
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
            parts.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(parts)


def screenshots_dir() -> Path:
    """Where the browser tests keep their screenshots (git-ignored, printed at the end of the run)."""
    home = Path(os.environ.get("DATABRIDGE_HOME", REPO / ".databridge"))
    folder = home / "artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/system_deps.sh (Debian package chromium)")
    return CHROMIUM


@pytest.fixture(scope="package")
def databases() -> Iterator[dict[str, str]]:
    """A MariaDB source database with two small tables, and empty PostgreSQL databases for the target and Airflow's
    metadata."""
    source, target, meta = unique_name("uisrc"), unique_name("uitgt"), unique_name("uimeta")
    conn = MySQLdb.connect(host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE `{source}` CHARACTER SET utf8mb4")
    cur.execute(f"USE `{source}`")
    cur.execute(
        "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(80), active "
        "TINYINT(1), joined DATE)"
    )
    cur.executemany(
        "INSERT INTO customers VALUES (%s, %s, %s, %s, %s)",
        [(i, f"  customer {i} ", f"C{i}@Example.org", i % 2, f"2024-01-{i % 28 + 1:02d}") for i in range(1, 201)],
    )
    cur.execute(
        "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2), placed DATETIME)"
    )
    cur.executemany(
        "INSERT INTO orders VALUES (%s, %s, %s, %s)",
        [(i, i % 200 + 1, i * 1.25, f"2024-02-{i % 28 + 1:02d} 10:00:00") for i in range(1, 501)],
    )
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
        admin.execute(f'CREATE DATABASE "{meta}"')
    yield {"source": source, "target": target, "meta": meta}
    cur.execute(f"DROP DATABASE IF EXISTS `{source}`")
    conn.close()
    with pg_admin() as admin:
        for name in (target, meta):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def airflow_env(root: Path, mappings: Path, port: int, dbs: dict[str, str]) -> dict[str, str]:
    """What a user could set before `make airflow`: its home, port, mappings folder and metadata database, plus the
    test's connections and shorter intervals. Everything else comes from scripts/airflow_env.sh."""
    conn = {"host": MYSQL["host"], "port": MYSQL["port"], "login": MYSQL["user"], "schema": dbs["source"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABRIDGE_"))}
    env.update(
        {
            "DATABRIDGE_HOME": str(root),
            "AIRFLOW_PORT": str(port),
            "DATABRIDGE_MAPPINGS_DIR": str(mappings),
            # The module logs in a dozen times within minutes; FAB's login rate limit would turn the later ones away.
            "AIRFLOW__FAB__AUTH_RATE_LIMITED": "False",
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{dbs['meta']}",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW_CONN_BRIDGE_SRC": json.dumps({"conn_type": "mysql", **conn, "password": ""}),
            "AIRFLOW_CONN_BRIDGE_TGT": json.dumps(
                {
                    "conn_type": "postgres",
                    "host": PG["host"],
                    "port": PG["port"],
                    "login": PG["user"],
                    "schema": dbs["target"],
                }
            ),
        }
    )
    return env


@pytest.fixture(scope="package")
def airflow(databases: dict[str, str]) -> Iterator[Airflow]:
    """Airflow as `make airflow` starts it: scripts/airflow.sh serve (api-server, scheduler, dag-processor and
    triggerer, FAB auth manager, the users of databridge_users.json). Stopped as Ctrl-C stops it, even on failure;
    any Airflow process left afterwards fails the module."""
    with served(databases) as server:
        yield server


@contextlib.contextmanager
def served(databases: dict[str, str], name: str = "", settings: dict[str, str] | None = None) -> Iterator[Airflow]:
    """One Airflow through scripts/airflow.sh serve, with ``settings`` over airflow_env's, in a temporary home; its
    logs are kept in the artifacts folder (``airflow-logs`` + ``-name``) and any process left after Ctrl-C fails."""
    root = Path(tempfile.mkdtemp(prefix=f"databridge-ui-{name}-" if name else "databridge-ui-"))
    mappings = root / "mappings"
    mappings.mkdir()
    port = free_port()
    env = airflow_env(root, mappings, port, databases) | (settings or {})
    server = Airflow(
        f"http://127.0.0.1:{port}",
        root / "airflow",
        mappings,
        {},
        databases["source"],
        databases["target"],
        root / "logs" / "airflow",
        env,
        root / "airflow.sh.out",
    )
    started = time.monotonic()
    with server.output.open("w") as out:
        script = start_serve(env, out, root)
    left: list[str] = []
    try:
        _wait_ready(server, script)
        users = json.loads((server.home / "databridge_users.json").read_text())
        server.passwords.update({user: entry["password"] for user, entry in users.items()})
        label = f"airflow ({name})" if name else "airflow"
        print(f"\n{label}: scripts/airflow.sh serve ready in {time.monotonic() - started:.1f} s")
        yield server
    finally:
        left = stop_like_ctrl_c(script, server)
        # Airflow's logs of the last run stay beside the screenshots (the servers' logs are where failures show).
        kept = screenshots_dir().parent / ("airflow-logs" + (f"-{name}" if name else ""))
        shutil.copytree(root / "logs", kept, dirs_exist_ok=True)
        shutil.copy(server.output, kept)
        shutil.rmtree(root, ignore_errors=True)
    assert not left, f"Airflow processes left after Ctrl-C to scripts/airflow.sh: {left}"


def start_serve(env: dict[str, str], out: Any, cwd: Path) -> subprocess.Popen[Any]:
    """scripts/airflow.sh serve, started as a terminal starts it: in a session of its own, with SIGINT at its default.
    A process started in the background of a non-interactive shell (CI's, say) inherits SIGINT ignored, and bash can
    neither trap nor reset a signal ignored when it started: the Ctrl-C the tests send would then stop nothing."""
    return subprocess.Popen([str(SCRIPT), "serve"], env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=cwd, preexec_fn=_default_sigint)  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _wait_ready(server: Airflow, script: subprocess.Popen[Any]) -> None:
    """The script's ready line (it waits for the login page and every component healthy), then the login page."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if script.poll() is not None:
            pytest.fail(f"scripts/airflow.sh serve stopped at start:\n{server.log_tail()}")
        if READY in server.output.read_text():
            with urllib.request.urlopen(f"{server.url}/auth/login/", timeout=10) as response:
                assert response.status == 200
            return
        time.sleep(1)
    pytest.fail(f"scripts/airflow.sh serve was not ready after {START_TIMEOUT} s:\n{server.log_tail()}")


def stop_like_ctrl_c(script: subprocess.Popen[Any], server: Airflow) -> list[str]:
    """SIGINT to the script's process group, as Ctrl-C in a terminal sends it; the script stops Airflow's own process
    group. Returns the Airflow processes still there afterwards (killed, so that nothing outlives the tests)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(script.pid, signal.SIGINT)
    try:
        script.wait(timeout=120)  # the script itself gives Airflow 30 s, then kills; a loaded machine is slower
    except subprocess.TimeoutExpired:
        stop_process_groups([script], grace=1)
    found = re.search(r"process group (\d+)", server.output.read_text())
    if not found:
        return []
    group = int(found.group(1))
    left = [
        line
        for line in subprocess.run(
            ["ps", "-e", "-o", "pgid=,stat=,args="], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if line.split()[0] == str(group) and not line.split()[1].startswith("Z")
    ]
    if left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
    return left


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="package")
def shots() -> Any:
    from tests.browser.pages import Shots

    return Shots()


@pytest.fixture(autouse=True, scope="package")
def patient_expectations() -> None:
    """Pages answer within seconds, but the machine is shared: wait up to 20 s for what the UI should show."""
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)
