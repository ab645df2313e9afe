"""The CouchDB example project (include/mappings/couch_docs.yaml) runs through Airflow: tables, S3 objects, links."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import airflow_conn, pg_conn_fields, pg_connect
from tests.e2e.conftest import copy_project, dagbag
from tests.integration.test_couchdb import LARGE_MB, bucket, couch_db, couch_fields, demo, s3_client, s3_fields

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
__all__ = ["bucket", "couch_db"]  # fixtures, used by name


def test_couch_docs_project_runs_end_to_end(
    airflow_db: None, couch_db: str, bucket: str, pg_database: str, mappings: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_project(
        "couch_docs",
        mappings,
        {"source: docs.": f"source: {couch_db}.", "bucket: databridge-docs": f"bucket: {bucket}"},
    )
    airflow_conn(monkeypatch, "docs_couchdb", **couch_fields(couch_db))
    airflow_conn(monkeypatch, "docs_s3", **s3_fields())
    airflow_conn(monkeypatch, "databridge_target", **pg_conn_fields(pg_database))
    dag_run = dagbag(mappings, monkeypatch).dags["couch_docs"].test()
    assert str(dag_run.state) == "success", {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}
    with pg_connect(pg_database) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM crm.customers), (SELECT count(*) FROM crm.invoices)"
        ).fetchone()
        links = conn.execute(
            "SELECT doc_id, attachment_name, sha256, object_key FROM databridge_attachments.objects"
        ).fetchall()
        failed = conn.execute("SELECT count(*) FROM databridge.validation_results WHERE NOT passed").fetchone()
    assert counts == (len(demo.customers()), len(demo.invoices()))
    assert failed == (0,)
    expected = {
        (d, n): hashlib.sha256(demo.attachment_bytes(d, n, size)).hexdigest()
        for d, n, _t, size in demo.attachments(LARGE_MB)
    }
    assert {(d, n): sha for d, n, sha, _k in links} == expected
    s3 = s3_client()
    for _d, _n, sha, key in links:
        assert hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest() == sha
