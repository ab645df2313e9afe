"""CouchDB source and attachments to S3, against the real servers of scripts/test_servers.sh."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo
from databridge.engines.couchdb import CouchDBSource
from databridge.errors import EngineError
from tests.conftest import REPO, airflow_conn, unique_name

from .runner import TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

# The ports scripts/test_servers.sh picked (tests/conftest.py reads its ports file); 0 when it has not run: no server
# answers there, and require_servers says to start them.
COUCH = {"host": "127.0.0.1", "port": int(os.environ.get("DATABRIDGE_TEST_COUCH_PORT", "0"))}
S3_URL = f"http://127.0.0.1:{os.environ.get('DATABRIDGE_TEST_S3_PORT', '0')}"
S3_KEYS = (
    os.environ.get("DATABRIDGE_TEST_S3_ACCESS_KEY", "databridge-test"),
    os.environ.get("DATABRIDGE_TEST_S3_SECRET_KEY", "databridge-test-secret"),
)
LARGE_MB = 6  # above the example's 5 MB multipart threshold: uploaded in two parts


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("couch_demo_source", REPO / "scripts" / "couch_demo_source.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = load_demo()


def require_servers() -> None:
    """Skip when the servers are down, unless in CI (where scripts/test_servers.sh must have started them)."""
    down = []
    for name, url in (("CouchDB", f"http://{COUCH['host']}:{COUCH['port']}/"), ("S3", f"{S3_URL}/healthz")):
        try:
            httpx.get(url, timeout=2).raise_for_status()
        except httpx.HTTPError:
            down.append(f"{name} at {url}")
    if down and os.environ.get("CI"):
        pytest.fail(f"not reachable in CI: {', '.join(down)} (scripts/test_servers.sh start)")
    if down:
        pytest.skip(f"not reachable: {', '.join(down)}; start them with scripts/test_servers.sh start")


def s3_client() -> Any:
    return boto3.client(
        "s3",
        endpoint_url=S3_URL,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS[0],
        aws_secret_access_key=S3_KEYS[1],
    )


@pytest.fixture(scope="module")
def couch_db() -> Iterator[str]:
    """The demo documents in a fresh CouchDB database (read-only for the tests: shared by the module)."""
    require_servers()
    name = unique_name("dbtest")
    url = f"http://{COUCH['host']}:{COUCH['port']}"
    demo.build(url, name, LARGE_MB)
    yield name
    httpx.delete(f"{url}/{name}")


@pytest.fixture
def bucket() -> Iterator[str]:
    require_servers()
    name = unique_name("dbtest").replace("_", "-")
    s3 = s3_client()
    s3.create_bucket(Bucket=name)
    yield name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def couch_fields(database: str) -> dict[str, Any]:
    return {"conn_type": "couchdb", **COUCH, "schema": database, "extra": {"scheme": "http"}}


def s3_fields(secret: str = S3_KEYS[1]) -> dict[str, Any]:
    return {
        "conn_type": "aws",
        "login": S3_KEYS[0],
        "password": secret,
        "extra": {"endpoint_url": S3_URL, "region_name": "us-east-1"},
    }


def project(database: str, bucket: str, conn_prefix: str = "it") -> str:
    """The example project, reading ``database`` and writing ``bucket``, over the test connections."""
    text = (REPO / "include" / "mappings" / "couch_docs.yaml").read_text()
    for old, new in {
        "source: docs.": f"source: {database}.",
        "bucket: databridge-docs": f"bucket: {bucket}",
        "docs_couchdb": f"{conn_prefix}_couch",
        "docs_s3": f"{conn_prefix}_s3",
        "databridge_target": f"{conn_prefix}_target",
    }.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def source(couch_db: str) -> Iterator[CouchDBSource]:
    engine = CouchDBSource(ConnectionInfo("it_couch", "couchdb", COUCH["host"], COUCH["port"], database=couch_db))
    yield engine
    engine.close()


def test_discovery_infers_types_paths_and_confidence(source: CouchDBSource, couch_db: str) -> None:
    assert couch_db in source.schemas()
    assert source.tables(couch_db) == ["customer", "invoice", "_all"]
    info = source.describe(TableRef(couch_db, "customer"))
    columns = {c.name: c for c in info.columns}
    assert [c.name for c in info.columns][:2] == ["_id", "_rev"]
    assert {n: columns[n].pg_type for n in ("_id", "address", "address.city", "vip", "credit", "tags")} == {
        "_id": "text",
        "address": "jsonb",
        "address.city": "text",
        "vip": "boolean",
        "credit": "double precision",
        "tags": "jsonb",
    }
    assert columns["email"].nullable and columns["email"].confidence == 0.8
    assert "_attachments" not in columns
    assert (info.primary_key, info.approx_rows, info.sampled) == (("_id",), 5, 5)
    invoice = {c.name: c.pg_type for c in source.columns(TableRef(couch_db, "invoice"))}
    assert (invoice["lines"], invoice["total"], invoice["paid"]) == ("bigint", "double precision", "boolean")


def test_design_and_deleted_documents_are_not_rows(source: CouchDBSource, couch_db: str) -> None:
    everything = TableRef(couch_db, "_all")
    assert source.row_count(everything) == len(demo.documents()) == 13
    rows: list[tuple[Any, ...]] = []

    class Sink:
        def write_row(self, row: Any) -> None:
            rows.append(row)

        def write(self, buffer: bytes | str) -> None:
            raise AssertionError("rows only")

    columns = source.columns(everything)[:1]
    assert (
        source.copy_rows(everything, columns, Sink(), batch_size=4) == 13
    )  # pages of 4: paging crosses the design doc
    assert sorted(r[0] for r in rows) == sorted(d["_id"] for d in demo.documents())


def test_missing_database_and_type_say_what_exists(source: CouchDBSource, couch_db: str) -> None:
    with pytest.raises(EngineError, match=f"no such database \\(did you mean '{couch_db}'\\?\\)") as missing_db:
        source.columns(TableRef(couch_db[:-1] + "x", "customer"))
    assert missing_db.value.transient is False
    with pytest.raises(EngineError, match="did you mean 'invoice'") as missing_type:
        source.columns(TableRef(couch_db, "invoices"))
    assert missing_type.value.transient is False


def test_unreachable_server_is_transient() -> None:
    engine = CouchDBSource(ConnectionInfo("down", "couchdb", "127.0.0.1", 9, password="s3cr3t-pw", database="x"))
    with pytest.raises(EngineError) as error:
        engine.tables("x")
    assert error.value.transient is True
    assert "s3cr3t-pw" not in str(error.value)
    engine.close()


@pytest.fixture
def connections(couch_db: str, bucket: str, target: TargetDB, monkeypatch: pytest.MonkeyPatch) -> str:
    airflow_conn(monkeypatch, "it_couch", **couch_fields(couch_db))
    airflow_conn(monkeypatch, "it_s3", **s3_fields())
    return project(couch_db, bucket)


def expected_links(bucket: str) -> list[tuple[Any, ...]]:
    rows = []
    for doc_id, name, content_type, size in demo.attachments(LARGE_MB):
        sha = hashlib.sha256(demo.attachment_bytes(doc_id, name, size)).hexdigest()
        key = f"couchdb/{{db}}/{doc_id.replace('/', '%2F').replace(':', '%3A')}/{name}"
        rows.append((doc_id, name, content_type, size, sha, bucket, key))
    return sorted(rows)


def test_run_loads_exact_values_and_copies_attachments(
    connections: str, couch_db: str, bucket: str, target: TargetDB
) -> None:
    results = run_pipeline(connections, "couch_run_1")
    assert results["report"]["succeeded"] is True
    customers = target.rows(
        "SELECT customer_id, name, email, city, zip, is_vip, credit::text, tags::text FROM crm.customers ORDER BY 1"
    )
    assert customers == [
        (
            d["_id"],
            d["name"],
            d["email"] or "unknown",
            d["address"]["city"],
            d["address"]["zip"],
            d["vip"],
            f"{d['credit']:.2f}",
            str(d["tags"]).replace("'", '"'),
        )
        for d in demo.customers()
    ]
    invoices = target.rows(
        "SELECT invoice_id, customer_id, total::text, lines, issued_on::text, paid FROM crm.invoices ORDER BY 1"
    )
    assert invoices == [
        (d["_id"], d["customer_id"], f"{d['total']:.2f}", d["lines"], d["issued"], d["paid"]) for d in demo.invoices()
    ]
    links = target.rows(
        "SELECT doc_id, attachment_name, content_type, length, sha256, bucket, object_key FROM "
        "databridge_attachments.objects "
        'WHERE source_database = %s ORDER BY doc_id COLLATE "C", attachment_name COLLATE "C"',
        (couch_db,),
    )
    assert links == [
        tuple(v.replace("{db}", couch_db) if isinstance(v, str) else v for v in row) for row in expected_links(bucket)
    ]
    assert results["load_facts"]["attachments"] == {
        "attachments": 8,
        "copied": 8,
        "skipped": 0,
        "bytes_copied": sum(r[3] for r in links),
    }
    s3 = s3_client()
    for _doc, _name, content_type, _size, sha, _bucket, key in links:
        got = s3.get_object(Bucket=bucket, Key=key)
        assert hashlib.sha256(got["Body"].read()).hexdigest() == sha == got["Metadata"]["sha256"]
        assert got["ContentType"] == content_type
    large = next(key for doc, name, *_rest, key in links if name == "scan.bin")
    assert s3.head_object(Bucket=bucket, Key=large)["ETag"].strip('"').endswith("-2")  # multipart: two 5 MB parts

    again = run_pipeline(connections, "couch_run_2")
    assert again["load_facts"]["attachments"] == {"attachments": 8, "copied": 0, "skipped": 8, "bytes_copied": 0}
    assert target.count("databridge_attachments.objects") == 8


def test_wrong_s3_secret_fails_clearly_without_the_secret(
    connections: str, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-secret-5f3a9c"
    airflow_conn(monkeypatch, "it_s3", **s3_fields(wrong))
    params = pipeline_params(connections)
    for stage in ("extract", "transform", "load_dimensions"):
        run_stage(params, stage, "couch_wrong")
    with pytest.raises(AirflowFailException) as failure:
        run_stage(params, "load_facts", "couch_wrong")
    message = str(failure.value)
    assert "S3 ('it_s3'" in message and "password" in message, message
    assert wrong not in message
    assert wrong not in target.dump_schema("databridge")


def test_proof_reads_every_object_back_and_names_the_broken_ones(
    connections: str, couch_db: str, bucket: str, target: TargetDB
) -> None:
    params = pipeline_params(connections)
    results = run_pipeline(connections, "couch_proof")
    assert results["report"]["succeeded"] is True
    status, detail = target.rows(
        "SELECT status, detail FROM databridge.proofs WHERE table_name = 'databridge_attachments.objects'"
    )[0]
    total = sum(size for *_rest, size in demo.attachments(LARGE_MB))
    assert (status, detail) == (
        "proven",
        f"8 attachment(s), {total} bytes: the SHA-256 of every object in s3://{bucket} equals the source bytes'",
    )
    keys = dict(
        target.rows(
            "SELECT attachment_name, object_key FROM databridge_attachments.objects WHERE source_database = %s",
            (couch_db,),
        )
    )
    s3 = s3_client()
    s3.put_object(Bucket=bucket, Key=keys["scan.bin"], Body=b"not the scan")  # same key, other bytes
    s3.delete_object(Bucket=bucket, Key=keys["photo.jpg"])

    with pytest.raises(AirflowFailException) as failure:
        run_stage(params, "validate", "couch_proof")

    message = str(failure.value)
    assert "proof databridge_attachments.objects: 2 of 8 attachment(s) differ: " in message, message
    assert f"object {keys['photo.jpg']!r} is not in the bucket" in message
    assert "/scan.bin: object SHA-256 " in message and "(12 bytes), source " in message
