"""docker-compose.yaml's structure (no Docker engine runs here: tests/e2e/test_celery.py runs the same topology
natively). Checked on the parsed YAML with its anchors and merge keys resolved, as Compose reads it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

AIRFLOW_SERVICES = {
    "airflow-api-server": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    return loaded


def test_every_component_of_the_distributed_deployment_is_there(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "airflow-init", *AIRFLOW_SERVICES}
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"][0] == command, name
        assert "healthcheck" in services[name] and services[name]["restart"] == "unless-stopped"
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")


def test_airflow_runs_the_celery_executor_on_postgres_and_redis(compose: dict[str, Any]) -> None:
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        env = compose["services"][name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert re.fullmatch(
            r"postgresql\+psycopg2://\w+:\w+@postgres:5432/\w+", env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        )
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/")
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-api-server:8080/execution/"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"].startswith(
            "${AIRFLOW_JWT_SECRET:?"
        )  # one secret for every component


def test_the_project_is_mounted_into_every_airflow_service(compose: dict[str, Any]) -> None:
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        service = compose["services"][name]
        assert {
            "./dags:/opt/airflow/dags:ro",
            "./plugins:/opt/airflow/plugins:ro",
            "./include:/opt/airflow/include:ro",
        } <= set(service["volumes"])
        assert service["environment"]["DATABRIDGE_MAPPINGS_DIR"] == "/opt/airflow/include/mappings"
        assert service["build"] == "." and service["image"].startswith("databridge-airflow:3.3.2")


def test_the_worker_service_scales(compose: dict[str, Any]) -> None:
    """`docker compose up --scale airflow-worker=3` needs no fixed container name and no host port."""
    worker = compose["services"]["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker and "hostname" not in worker
    assert worker["command"] == ["celery", "worker"]
    assert worker["environment"]["AIRFLOW__CELERY__WORKER_CONCURRENCY"].startswith("${AIRFLOW_WORKER_CONCURRENCY:-")
    assert worker["depends_on"]["airflow-api-server"]["condition"] == "service_healthy"


def test_services_start_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"
        assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert (
        "ports" not in services["postgres"] and "ports" not in services["redis"]
    )  # reachable on the compose network only
    assert all(set(s.get("depends_on", {})) <= set(services) for s in services.values())
    assert set(compose["volumes"]) == {
        v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if not v.startswith(".")
    }


def test_the_image_installs_the_pinned_celery() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert (
        "FROM apache/airflow:3.3.2-python3.11" in dockerfile
        and "pip install --no-cache-dir -r requirements.txt" in dockerfile
    )
    requirements = (REPO / "requirements.txt").read_text().splitlines()
    assert "celery[redis]==5.6.3" in requirements
    assert any(re.fullmatch(r"apache-airflow-providers-celery==[\d.]+", line) for line in requirements)
    # installed with the constraints the tests ran with (scripts/constraints.py), which pin the same celery
    assert (
        "-r requirements.txt -c constraints-3.11.txt" in dockerfile
        and "COPY" in dockerfile
        and "constraints-3.11.txt ./" in dockerfile
    )
    assert "celery==5.6.3" in (REPO / "constraints-3.11.txt").read_text().splitlines()
