"""A real Airflow (api-server, scheduler, dag-processor) with the plugin, FAB users, a MariaDB source and a PostgreSQL
target, and headless Debian Chromium driven by Playwright (no browser download: ``executable_path``)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import MySQLdb
import pytest

from tests.conftest import MYSQL, PG, REPO, free_port, pg_admin, stop_process_groups, unique_name

CHROMIUM = "/usr/bin/chromium"
# The flags this machine needs: no sandbox as root, and no background calls to Google's hosts (the network is closed).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
START_TIMEOUT = 120
SERVERS = ("api-server", "scheduler", "dag-processor")


@dataclass
class Airflow:
    url: str
    home: Path
    mappings: Path
    passwords: dict[str, str]
    source_db: str
    target_db: str
    logs: Path
    env: dict[str, str] = field(default_factory=dict)

    def log_tail(self, lines: int = 40) -> str:
        parts = []
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


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    """A MariaDB source database with two small tables, and empty PostgreSQL databases for the target and Airflow's metadata."""
    source, target, meta = unique_name("uisrc"), unique_name("uitgt"), unique_name("uimeta")
    conn = MySQLdb.connect(host=MYSQL["host"], port=MYSQL["port"], user=MYSQL["user"], passwd="", autocommit=True)
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE `{source}` CHARACTER SET utf8mb4")
    cur.execute(f"USE `{source}`")
    cur.execute("CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, email VARCHAR(80), active TINYINT(1), joined DATE)")
    cur.executemany("INSERT INTO customers VALUES (%s, %s, %s, %s, %s)", [(i, f"  customer {i} ", f"C{i}@Example.org", i % 2, f"2024-01-{i % 28 + 1:02d}") for i in range(1, 201)])
    cur.execute("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2), placed DATETIME)")
    cur.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s)", [(i, i % 200 + 1, i * 1.25, f"2024-02-{i % 28 + 1:02d} 10:00:00") for i in range(1, 501)])
    with pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
        admin.execute(f'CREATE DATABASE "{meta}"')
    yield {"source": source, "target": target, "meta": meta}
    cur.execute(f"DROP DATABASE IF EXISTS `{source}`")
    conn.close()
    with pg_admin() as admin:
        for name in (target, meta):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def airflow_env(home: Path, mappings: Path, port: int, dbs: dict[str, str]) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    conn = {"host": MYSQL["host"], "port": MYSQL["port"], "login": MYSQL["user"], "schema": dbs["source"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABRIDGE_"))}
    env.update({
        "PATH": f"{venv_bin}:{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__FAB__SESSION_BACKEND": "securecookie",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{dbs['meta']}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "databridge-browser-tests-" + "k" * 40,
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
        "DATABRIDGE_MAPPINGS_DIR": str(mappings),
        "AIRFLOW_CONN_BRIDGE_SRC": json.dumps({"conn_type": "mysql", **conn, "password": ""}),
        "AIRFLOW_CONN_BRIDGE_TGT": json.dumps({"conn_type": "postgres", "host": PG["host"], "port": PG["port"], "login": PG["user"], "schema": dbs["target"]}),
    })  # fmt: skip
    return env


@pytest.fixture(scope="module")
def airflow(databases: dict[str, str]) -> Iterator[Airflow]:
    """Airflow's api-server, scheduler and dag-processor in one process group, stopped as a group even on failure."""
    root = Path(tempfile.mkdtemp(prefix="databridge-ui-"))
    home, mappings, logs = root / "airflow", root / "mappings", root / "logs"
    for folder in (home, mappings, logs):
        folder.mkdir()
    port = free_port()
    env = airflow_env(home, mappings, port, databases)
    started = time.monotonic()
    _run(["airflow", "db", "migrate"], env, logs / "migrate.log")
    users = home / "databridge_users.json"
    _run([sys.executable, str(REPO / "scripts" / "demo_users.py"), "--file", str(users)], env, logs / "users.log")
    prepared = time.monotonic()
    passwords = {name: entry["password"] for name, entry in json.loads(users.read_text()).items()}
    script = " & ".join(f"airflow {c} > {shlex.quote(str(logs / f'{c}.log'))} 2>&1" for c in SERVERS) + " & wait"
    group = subprocess.Popen(["bash", "-c", script], env=env, start_new_session=True, cwd=root)
    server = Airflow(f"http://127.0.0.1:{port}", home, mappings, passwords, databases["source"], databases["target"], logs, env)
    try:
        _wait_healthy(server, group)
        print(f"\nairflow: metadata + users {prepared - started:.1f} s, servers healthy {time.monotonic() - prepared:.1f} s")
        yield server
    finally:
        stop_process_groups([group], grace=10)
        # Airflow's logs of the last run stay beside the screenshots (the servers' logs are where failures show).
        shutil.copytree(logs, screenshots_dir().parent / "airflow-logs", dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


def _run(command: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("w") as out:
        done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=180, check=False)
    if done.returncode:
        pytest.fail(f"{' '.join(command[:3])} failed:\n{log.read_text()[-3000:]}")


def _wait_healthy(server: Airflow, group: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if group.poll() is not None:
            pytest.fail(f"Airflow stopped at start:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/api/v2/monitor/health", timeout=2) as response:
                health = json.loads(response.read())
            if health["scheduler"]["status"] == "healthy" and (health.get("dag_processor") or {}).get("status") == "healthy":
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(1)
    pytest.fail(f"Airflow was not healthy after {START_TIMEOUT} s:\n{server.log_tail()}")


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()
