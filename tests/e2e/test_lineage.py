"""OpenLineage: a real run of the demo project (SQLite → PostgreSQL) through Airflow with the openlineage provider's
file transport; the events its stages emit are read back field by field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, pg_conn_fields
from tests.e2e.conftest import build_demo_source, copy_project

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def environment(home: Path, mappings: Path, source: Path, pg_db: str, events: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DATABRIDGE", "OPENLINEAGE"))}
    return {
        **env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "DATABRIDGE_MAPPINGS_DIR": str(mappings),
        "AIRFLOW_CONN_DEMO_SHOP_SOURCE": json.dumps({"conn_type": "sqlite", "host": str(source)}),
        "AIRFLOW_CONN_DATABRIDGE_TARGET": json.dumps(pg_conn_fields(pg_db)),
        # What a user sets to send lineage somewhere: here, one JSON event per line in a file.
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps({"type": "file", "log_file_path": str(events), "append": True}),
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "databridge_test",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }


@pytest.fixture(scope="module")
def lineage_run(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The demo project run once by `airflow dags test`; its OpenLineage events by (task, event type)."""
    from tests.conftest import fresh_pg_database

    root = tmp_path_factory.mktemp("lineage")
    mappings, home, events, log = root / "mappings", root / "airflow", root / "events.jsonl", root / "airflow.log"
    mappings.mkdir()
    home.mkdir()
    source = root / "shop.db"
    build_demo_source(source)
    copy_project("demo_shop", mappings)
    databases = fresh_pg_database()
    pg_db = next(databases)
    env = environment(home, mappings, source, pg_db, events)
    subprocess.run(["airflow", "db", "migrate"], env=env, cwd=REPO, check=True, capture_output=True, timeout=300)
    with log.open("wb") as out:
        done = subprocess.run(
            ["airflow", "dags", "test", "demo_shop", "2026-02-01"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    assert done.returncode == 0, log.read_text(errors="replace")[-5000:]
    assert events.exists(), log.read_text(errors="replace")[-5000:]
    by_task: dict[tuple[str, str], dict[str, Any]] = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        by_task[(event["job"]["name"], event["eventType"])] = event
    yield {"events": by_task, "source": source, "db": pg_db}
    next(databases, None)


def dataset(datasets: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [d for d in datasets if d["name"] == name]
    assert len(found) == 1, [d["name"] for d in datasets]
    return found[0]


def test_extract_reads_the_source_tables_with_their_columns(lineage_run: Any) -> None:
    event = lineage_run["events"][("demo_shop.shop.extract", "COMPLETE")]
    namespace = f"sqlite://{lineage_run['source']}"
    assert sorted((d["namespace"], d["name"]) for d in event["inputs"]) == [
        (namespace, f"main.{t}") for t in ("customers", "order_items", "orders", "products")
    ]
    customers = dataset(event["inputs"], "main.customers")
    names = [f["name"] for f in customers["facets"]["schema"]["fields"]]
    assert names[:2] == ["id", "first_name"] and "newsletter" in names and "internal_notes" not in names
    assert event["outputs"] == []


def test_load_dimensions_writes_the_dimensions_with_schema_and_column_lineage(lineage_run: Any) -> None:
    event = lineage_run["events"][("demo_shop.shop.load_dimensions", "COMPLETE")]
    target_ns, source_ns = "postgres://127.0.0.1:5432", f"sqlite://{lineage_run['source']}"
    db = lineage_run["db"]
    assert {(d["namespace"], d["name"]) for d in event["outputs"]} == {
        (target_ns, f"{db}.analytics.dim_customer"),
        (target_ns, f"{db}.analytics.customer_contact"),
        (target_ns, f"{db}.analytics.dim_product"),
    }
    assert {d["name"] for d in event["inputs"]} == {"main.customers", "main.products"}
    customer = dataset(event["outputs"], f"{db}.analytics.dim_customer")
    schema = [(f["name"], f.get("type")) for f in customer["facets"]["schema"]["fields"]]
    assert schema == [
        ("customer_id", "bigint"),
        ("full_name", None),
        ("email", None),
        ("country_code", "char(2)"),
        ("loyalty_points", "integer"),
        ("signup_date", "date"),
    ]
    fields = customer["facets"]["columnLineage"]["fields"]
    full_name = fields["full_name"]
    assert [(f["namespace"], f["name"], f["field"]) for f in full_name["inputFields"]] == [
        (source_ns, "main.customers", "first_name"),
        (source_ns, "main.customers", "last_name"),
    ]
    assert full_name["transformationType"] == "TRANSFORMATION"
    assert "first_name" in full_name["transformationDescription"]
    assert full_name["inputFields"][0]["transformations"] == [
        {"type": "DIRECT", "subtype": "TRANSFORMATION", "description": full_name["transformationDescription"]}
    ]
    assert [f["field"] for f in fields["email"]["inputFields"]] == ["email"]
    contact = dataset(event["outputs"], f"{db}.analytics.customer_contact")
    [by_filter] = contact["facets"]["columnLineage"]["dataset"]
    assert (by_filter["name"], by_filter["field"], by_filter["transformations"][0]["subtype"]) == (
        "main.customers",
        "newsletter",
        "FILTER",
    )


def test_load_facts_reports_each_column_of_an_expression(lineage_run: Any) -> None:
    event = lineage_run["events"][("demo_shop.shop.load_facts", "COMPLETE")]
    db = lineage_run["db"]
    assert {d["name"] for d in event["outputs"]} == {f"{db}.analytics.fact_order", f"{db}.analytics.fact_order_line"}
    assert {d["name"] for d in event["inputs"]} == {"main.orders", "main.order_items"}
    line = dataset(event["outputs"], f"{db}.analytics.fact_order_line")["facets"]["columnLineage"]["fields"]
    assert [f["field"] for f in line["line_total"]["inputFields"]] == ["quantity", "unit_price", "discount"]
    assert {f["name"] for f in line["line_total"]["inputFields"]} == {"main.order_items"}


def test_the_other_stages_name_no_datasets(lineage_run: Any) -> None:
    for stage in ("transform", "validate", "report"):
        event = lineage_run["events"][(f"demo_shop.shop.{stage}", "COMPLETE")]
        assert (event["inputs"], event["outputs"]) == ([], []), stage
