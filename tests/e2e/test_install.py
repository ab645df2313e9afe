"""`pip install` of the built wheel into a fresh venv outside the repository, as a user of an existing Airflow does.

The wheel is installed with constraints-3.11.txt into a new venv in a temporary folder; Airflow runs from that venv
with its own AIRFLOW_HOME, one copied DAG file, a mappings folder elsewhere named by Airflow's configuration, and no
path into the repository. The plugin must come from the package's entry point, the project's rows must land, a
broken project must be Airflow's import error naming its YAML, and the `databridge` command must answer in JSON.

The packages are resolved once per constraints file into a wheelhouse (~/.cache/databridge, about 2-5 minutes over
the network); later runs install from it without the network in about a minute.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG, REPO, pg_connect
from tests.e2e.conftest import build_demo_source

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(1800)]

CONSTRAINTS = REPO / "constraints-3.11.txt"
DEMO_TABLES = {
    "analytics.dim_customer": "customers",
    "analytics.dim_product": "products",
    "analytics.fact_order": "orders",
}
BROKEN = "name: broken_one\npipelines:\n  - name: p\n    source_conn_id: a\n    target_conn_id: b\n    tables: []\n"


def run(
    args: list[Any], *, env: dict[str, str] | None = None, cwd: Path | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, timeout=1500)
    if ok and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args[:4]))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def airflow_json(stdout: str) -> Any:
    """The JSON of an `airflow ... -o json` command: its last line (warnings may come first on stdout)."""
    return json.loads(next(line for line in reversed(stdout.splitlines()) if line.startswith("[")))


def wheel_of_the_repository(work: Path) -> Path:
    """Build from a copy of the package's sources, so that nothing is written into the working tree."""
    src = work / "src"
    shutil.copytree(
        REPO / "plugins" / "databridge", src / "plugins" / "databridge", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "pyproject.toml", src)
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", work / "dist", src])
    return next((work / "dist").glob("databridge-*.whl"))


def wheelhouse(wheel: Path) -> Path:
    """Every dependency as a wheel, resolved with the constraints once (mysqlclient built once, too)."""
    key = hashlib.sha256(CONSTRAINTS.read_bytes() + (REPO / "pyproject.toml").read_bytes()).hexdigest()[:16]
    house = Path.home() / ".cache" / "databridge" / f"wheelhouse-{key}"
    if not (house / ".complete").exists():
        partial = house.with_name(f"{house.name}.{os.getpid()}")
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--progress-bar",
                "off",
                "-c",
                CONSTRAINTS,
                "-w",
                partial,
                wheel,
            ]
        )
        for own in partial.glob("databridge-*.whl"):
            own.unlink()
        (partial / ".complete").touch()
        for old in (h for h in house.parent.glob("wheelhouse-*") if "." not in h.name):  # older ones: ~230 MB each
            shutil.rmtree(old, ignore_errors=True)
        partial.rename(house)
    return house


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed: its bin folder."""
    work = tmp_path_factory.mktemp("install")
    wheel = wheel_of_the_repository(work)
    house = wheelhouse(wheel)
    run([sys.executable, "-m", "venv", work / "venv"])
    started = time.monotonic()
    pip = [work / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet", "--progress-bar", "off", "--no-compile"]
    run([*pip, "--no-index", "--find-links", house, "-c", CONSTRAINTS, wheel], env=clean_env())
    print(
        f"test_install: the wheel and {len(list(house.glob('*.whl')))} wheels installed in "
        f"{time.monotonic() - started:.0f} s"
    )
    return work / "venv" / "bin"


def clean_env(**extra: str) -> dict[str, str]:
    """The machine's environment without this test session's Airflow, DataBridge or Python paths."""
    drop = ("AIRFLOW", "DATABRIDGE", "PYTHONPATH", "VIRTUAL_ENV", "PIP_FIND_LINKS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(REPO)))
    return {**env, **extra}


@pytest.fixture
def user_airflow(venv: Path, tmp_path: Path, pg_database: str) -> dict[str, Any]:
    """An Airflow home with one copied DAG file, a mappings folder elsewhere and the demo's two connections."""
    home, mappings, source = tmp_path / "airflow_home", tmp_path / "elsewhere" / "projects", tmp_path / "shop.db"
    (home / "dags").mkdir(parents=True)
    mappings.mkdir(parents=True)
    shutil.copy(REPO / "dags" / "databridge_dags.py", home / "dags")
    shutil.copy(REPO / "include" / "mappings" / "demo_shop.yaml", mappings)
    (mappings / "broken_one.yaml").write_text(BROKEN)
    build_demo_source(source)
    target = {
        "conn_type": "postgres",
        "host": PG["host"],
        "port": PG["port"],
        "login": PG["user"],
        "schema": pg_database,
    }
    env = clean_env(
        AIRFLOW_HOME=str(home),
        PATH=f"{venv}{os.pathsep}{clean_env()['PATH']}",
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABRIDGE__MAPPINGS_DIR=str(mappings),
        AIRFLOW_CONN_DEMO_SHOP_SOURCE=json.dumps({"conn_type": "sqlite", "host": str(source)}),
        AIRFLOW_CONN_DATABRIDGE_TARGET=json.dumps(target),
    )
    run([venv / "airflow", "db", "migrate"], env=env, cwd=tmp_path)
    return {
        "env": env,
        "cwd": tmp_path,
        "bin": venv,
        "home": home,
        "mappings": mappings,
        "source": source,
        "target": pg_database,
    }


def test_installed_wheel_runs_a_project_from_a_mappings_folder_elsewhere(user_airflow: dict[str, Any]) -> None:
    env, cwd, bin_ = user_airflow["env"], user_airflow["cwd"], user_airflow["bin"]
    location = run([bin_ / "python", "-c", "import databridge; print(databridge.__file__)"], env=env, cwd=cwd).stdout
    assert location.strip().startswith(str(bin_.parent)), location

    plugins = run([bin_ / "airflow", "plugins", "-o", "json"], env=env, cwd=cwd).stdout
    ours = [p for p in airflow_json(plugins) if p["name"] == "databridge"]
    assert len(ours) == 1 and "EntryPoint(name='databridge'" in ours[0]["source"], plugins

    run([bin_ / "airflow", "dags", "test", "demo_shop"], env=env, cwd=cwd)
    source = sqlite3.connect(user_airflow["source"])
    with pg_connect(user_airflow["target"]) as conn:
        for target, table in DEMO_TABLES.items():
            landed = conn.execute(f"SELECT count(*) FROM {target}").fetchone()
            assert landed is not None and landed[0] == source.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0

    uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{user_airflow['target']}"
    report = json.loads(
        run(
            [bin_ / "databridge", "report", "--json", "--target-uri", uri, "--project", "demo_shop"], env=env, cwd=cwd
        ).stdout
    )
    assert report["succeeded"] is True and [r["pipeline"] for r in report["reports"]] == ["shop"]


def test_installed_wheel_shows_a_broken_project_as_an_import_error_of_its_yaml(user_airflow: dict[str, Any]) -> None:
    env, cwd, bin_ = user_airflow["env"], user_airflow["cwd"], user_airflow["bin"]
    run([bin_ / "airflow", "dags", "reserialize"], env=env, cwd=cwd)  # writes the broken project's DAG file
    run([bin_ / "airflow", "dags", "reserialize"], env=env, cwd=cwd)  # parses it: Airflow stores its import error
    listed = run(
        [bin_ / "airflow", "dags", "list-import-errors", "-o", "json"], env=env, cwd=cwd, ok=False
    ).stdout  # 1: errors found
    errors = airflow_json(listed)
    assert [Path(e["filepath"]).name for e in errors] == ["broken_one.py"], listed
    assert "elsewhere/projects/broken_one.yaml: pipelines[0].tables" in errors[0]["error"]
    dags = run([bin_ / "airflow", "dags", "list", "-o", "json"], env=env, cwd=cwd).stdout
    assert [d["dag_id"] for d in airflow_json(dags)] == ["demo_shop"]


def test_installed_databridge_command_checks_and_lints_in_json(user_airflow: dict[str, Any]) -> None:
    env, cwd, bin_ = user_airflow["env"], user_airflow["cwd"], user_airflow["bin"]
    checked = run([bin_ / "databridge", "check", "--json"], env=env, cwd=cwd, ok=False)
    assert checked.returncode == 1
    projects = {p["file"]: p for p in json.loads(checked.stdout)["projects"]}
    assert projects["elsewhere/projects/demo_shop.yaml"]["dag_id"] == "demo_shop"
    assert projects["elsewhere/projects/broken_one.yaml"]["ok"] is False

    linted = run(
        [bin_ / "databridge", "lint", "--json", user_airflow["mappings"] / "demo_shop.yaml", "--sample", "500"],
        env=env,
        cwd=cwd,
        ok=False,
    )
    document = json.loads(linted.stdout)
    [project] = document["projects"]
    [pipeline] = project["pipelines"]
    assert (project["dag_id"], pipeline["pipeline"]) == ("demo_shop", "shop")
    assert linted.returncode == (1 if pipeline["errors"] else 0) and document["ok"] is (pipeline["errors"] == 0)
    assert all(
        {"table", "column", "kind", "message", "examples", "suggestion", "severity"} <= set(p)
        for p in pipeline["problems"]
    )
