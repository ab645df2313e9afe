"""An aws connection read as the amazon provider reads it (its connection wrapper and session factory), against the
test S3 server of scripts/test_servers.sh: extras beyond endpoint_url and region_name reach boto3."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import boto3
import httpx
import pytest

from databridge.engines.s3 import S3Store
from databridge.operators.base import connection_info
from tests.conftest import airflow_conn, unique_name
from tests.integration.test_couchdb import S3_KEYS, S3_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_bucket() -> Iterator[str]:
    try:
        httpx.get(f"{S3_URL}/healthz", timeout=2).raise_for_status()
    except httpx.HTTPError:
        if os.environ.get("CI"):
            pytest.fail(f"S3 not reachable in CI at {S3_URL} (scripts/test_servers.sh start s3)")
        pytest.skip(f"S3 not reachable at {S3_URL}; start it with scripts/test_servers.sh start s3")
    name = unique_name("dbtest").replace("_", "-")
    s3 = boto3.client(
        "s3",
        endpoint_url=S3_URL,
        region_name="us-east-1",
        aws_access_key_id=S3_KEYS[0],
        aws_secret_access_key=S3_KEYS[1],
    )
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def test_the_endpoint_and_client_settings_of_the_providers_extras_reach_the_store(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = {
        "service_config": {
            "s3": {"endpoint_url": S3_URL}
        },  # the provider's per-service endpoint, no top-level endpoint_url
        "config_kwargs": {"s3": {"addressing_style": "path"}, "user_agent_extra": "databridge-test"},
        "region_name": "us-east-1",
    }
    airflow_conn(monkeypatch, "provider_s3", conn_type="aws", login=S3_KEYS[0], password=S3_KEYS[1], extra=extra)
    store = S3Store(connection_info("provider_s3"), s3_bucket, 8)
    assert store.endpoint == S3_URL
    assert store.client.meta.config.user_agent_extra.startswith("databridge-test")
    store.check_bucket()
    store.upload(io.BytesIO(b"hello"), "notes/1/a.txt", "text/plain", {"sha256": "0" * 64})
    found = store.head("notes/1/a.txt")
    assert found is not None and found["ContentLength"] == 5 and found["Metadata"] == {"sha256": "0" * 64}
