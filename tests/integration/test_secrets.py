"""A connection password never shows: not in errors, results, return values or logs, whether the run fails or not."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from tests.conftest import airflow_conn, mysql_conn_fields, pg_conn_fields

from .conftest import TARGET_CONN, Source
from .runner import STAGES, TargetDB, pipeline_params, run_stage

pytestmark = pytest.mark.integration

SECRET = "Zq9-s3cr3t-Pa55w0rd-7Hx"  # trust authentication ignores it; DataBridge must not repeat it anywhere


def run_all(params: dict[str, Any], run_id: str) -> tuple[list[Any], list[str]]:
    """Run every stage, going on after failures as Airflow's report task does; returns results and error texts."""
    results, errors = [], []
    for stage in STAGES:
        try:
            results.append(run_stage(params, stage, run_id))
        except AirflowException as exc:  # AirflowFailException included
            errors += [str(exc), repr(exc)]
    return results, errors


@pytest.fixture
def secret_target(target: TargetDB, monkeypatch: pytest.MonkeyPatch) -> TargetDB:
    airflow_conn(monkeypatch, TARGET_CONN, **pg_conn_fields(target.dbname), password=SECRET)
    return target


def test_password_appears_nowhere(
    shop: Source, secret_target: TargetDB, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    broken = shop.project().replace(
        "{source: email, transform: [trim, lower]}", "{source: emial, target: email, transform: [trim, lower]}"
    )
    failed_results, errors = run_all(pipeline_params(broken), "run-failed")
    results, no_errors = run_all(pipeline_params(shop.project()), "run-ok")

    assert (
        len(errors) == 2 * 6 and no_errors == []
    )  # every stage of the broken run fails (nothing staged), none of the good one
    stored = secret_target.dump_schema("databridge")
    assert "run-failed" in stored and "run-ok" in stored and "unknown source column 'emial'" in stored
    captured = capfd.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert "DataBridge report" in logs and "extract" in logs, "the logs were captured"
    returned = json.dumps([failed_results, results], default=str)
    for where, text in {
        "errors": "\n".join(errors),
        "results schema": stored,
        "return values": returned,
        "logs": logs,
    }.items():
        assert SECRET not in text, f"the password leaked into the {where}"


def test_password_stays_out_of_connection_errors(
    shop: Source,
    secret_target: TargetDB,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A refused connection (missing database, wrong MariaDB password) names where, never the password."""
    caplog.set_level(logging.DEBUG)
    airflow_conn(monkeypatch, "it_nodb", **{**pg_conn_fields("no_such_database"), "password": SECRET})
    airflow_conn(monkeypatch, "it_badpass", **{**mysql_conn_fields("mysql"), "password": SECRET})
    no_db = pipeline_params(shop.project().replace(f"target_conn_id: {TARGET_CONN}", "target_conn_id: it_nodb"))
    bad_password = pipeline_params(
        shop.project().replace(f"source_conn_id: {shop.conn_id}", "source_conn_id: it_badpass")
    )

    with pytest.raises(AirflowException) as refused_target:
        run_stage(no_db, "extract", "run-1")
    with pytest.raises(AirflowException) as refused_source:
        run_stage(bad_password, "extract", "run-1")

    assert 'database "no_such_database" does not exist' in str(refused_target.value)
    assert "Access denied for user 'root'" in str(refused_source.value)
    captured = capfd.readouterr()
    texts = [
        str(refused_target.value),
        repr(refused_source.value),
        secret_target.dump_schema("databridge"),
        caplog.text,
        captured.out,
        captured.err,
    ]
    assert not [t for t in texts if SECRET in t]


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("conn_type", "refusal"),
    [("mongo", "authentication failed"), ("couchdb", "HTTP 401 unauthorized"), ("postgres", "does not exist")],
)
def test_password_stays_out_of_every_engine_refusal(
    shop: Source, secret_target: TargetDB, monkeypatch: pytest.MonkeyPatch, conn_type: str, refusal: str
) -> None:
    """Document stores and PostgreSQL as a source refuse a login too; their drivers take URIs, which hold passwords."""
    from .mongo_source import mongo_conn_fields
    from .test_couchdb import couch_fields, require_servers

    if conn_type == "couchdb":
        require_servers()
    fields = {
        "mongo": mongo_conn_fields("x"),
        "couchdb": couch_fields("x"),
        "postgres": pg_conn_fields("no_such_database"),
    }[conn_type]
    airflow_conn(monkeypatch, "it_refused", **{**fields, "login": "intruder", "password": SECRET})
    params = pipeline_params(shop.project().replace(f"source_conn_id: {shop.conn_id}", "source_conn_id: it_refused"))

    with pytest.raises(AirflowException) as refused:
        run_stage(params, "extract", "run-1")

    assert refusal in str(refused.value)
    assert SECRET not in repr(refused.value) + str(refused.value) + secret_target.dump_schema("databridge")
