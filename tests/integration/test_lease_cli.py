"""``python -m databridge.cli leases``: every staging lease of a target with its verdict, and releasing one by hand."""

from __future__ import annotations

import getpass
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.cli import main
from tests.conftest import PG

from .conftest import Source
from .runner import TargetDB, pipeline_params, run_stage

pytestmark = pytest.mark.integration

OTHERS = """INSERT INTO databridge.staging_leases (project, pipeline, run_id, taken_at, released_at, stage, idle_since)
    VALUES
    ('crm', 'contacts', 'killed-run', '2026-03-01 08:00:00+00', NULL, 'extract', NULL),
    ('crm', 'deals', 'done-run', '2026-03-02 09:30:00+00', '2026-03-02 09:31:00+00', NULL, '2026-03-02 09:31:00+00')"""


def uri(target: TargetDB) -> str:
    return f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{target.dbname}"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def leases(shop: Source, target: TargetDB) -> dict[str, Any]:
    """run-a of shop_it between its extract and its transform (live), a run killed mid-extract (stale), a released
    one."""
    params = pipeline_params(shop.project())
    run_stage(params, "extract", "run-a")
    target.execute(OTHERS)
    return params


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_leases_lists_each_lease_with_its_state_and_why(
    leases: dict[str, Any], target: TargetDB, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "leases", "--target-uri", uri(target))

    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == [
        "PROJECT",
        "PIPELINE",
        "RUN",
        "TAKEN",
        "AT",
        "(UTC)",
        "RELEASED",
        "AT",
        "(UTC)",
        "STATE",
    ]
    assert lines[1].split() == ["crm", "contacts", "killed-run", "2026-03-01", "08:00:00", "-", "stale"]
    assert lines[2].strip() == (
        "its stage extract stopped without ending (its database session is gone: "
        "its process was killed or its host lost)"
    )
    assert lines[3].split() == [
        "crm",
        "deals",
        "done-run",
        "2026-03-02",
        "09:30:00",
        "2026-03-02",
        "09:31:00",
        "released",
    ]
    assert lines[4].strip() == "released by its report stage"
    assert lines[5].split()[:3] == ["shop_it", "shop", "run-a"] and lines[5].split()[-2:] == ["-", "live"]
    assert lines[6].strip().startswith("it is between stages (its last stage ended ")


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_leases_of_one_project_through_its_airflow_connection(
    leases: dict[str, Any], target: TargetDB, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(capsys, "leases", "--target", target.conn_id, "--project", "crm")

    assert status == 0
    assert [line.split()[:2] for line in out.splitlines()[1::2]] == [["crm", "contacts"], ["crm", "deals"]]


def test_leases_without_a_target_says_how_to_name_one(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = cli(capsys, "leases")

    assert status == 2
    assert (
        err.strip()
        == "error: name the target database: --target-uri postgresql://user@host:port/database, or --target CONN_ID "
        "(an Airflow connection)"
    )


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_release_of_a_stale_lease_records_the_reason_and_the_next_run_takes_it(
    leases: dict[str, Any], target: TargetDB, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = cli(
        capsys, "leases", "release", "crm", "contacts", "--reason", "its worker host died", "--target-uri", uri(target)
    )

    assert status == 0
    assert out.strip() == (
        "released the staging lease of pipeline contacts of project crm, held by run 'killed-run' since 2026-03-01 "
        "08:00:00 UTC; the next run of the pipeline takes it"
    )
    _, listed, _ = cli(capsys, "leases", "--target-uri", uri(target), "--project", "crm")
    assert listed.splitlines()[1].split()[-1] == "released"
    assert listed.splitlines()[2].strip() == f"released by hand by {getpass.getuser()}: its worker host died"


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_release_of_a_live_lease_is_refused_unless_forced_and_the_run_then_stops(
    leases: dict[str, Any], target: TargetDB, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = cli(
        capsys, "leases", "--target-uri", uri(target), "release", "shop_it", "shop", "--reason", "stuck?"
    )

    assert status == 2
    assert err.startswith(
        "error: run 'run-a' holding pipeline shop of project shop_it is live: "
        "it is between stages (its last stage ended "
    )
    assert err.strip().endswith(
        "nothing was released. Wait for that run to end, or add --force if you know it has stopped "
        "(a stage still running would then lose its staging to the next run)"
    )
    assert target.scalar("SELECT released_at FROM databridge.staging_leases WHERE run_id = 'run-a'") is None

    status, _, _ = cli(
        capsys, "leases", "--target-uri", uri(target), "release", "shop_it", "shop", "--reason", "host gone", "--force"
    )
    assert status == 0
    assert target.scalar("SELECT note FROM databridge.staging_leases WHERE run_id = 'run-a'").startswith(
        f"released by hand by {getpass.getuser()}: host gone (forced: it is between stages"
    )
    with pytest.raises(AirflowFailException) as stopped:
        run_stage(leases, "transform", "run-a")
    assert str(stopped.value).startswith(
        "pipeline shop of project shop_it: the staging lease of run 'run-a' was released by hand by "
    )
    assert run_stage(leases, "extract", "run-b")  # the next run takes it


def test_release_of_a_lease_that_is_not_there_says_so(target: TargetDB, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = cli(capsys, "leases", "release", "crm", "contacts", "--reason", "x", "--target-uri", uri(target))

    assert status == 2
    assert err.strip() == (
        "error: no staging lease of pipeline contacts of project crm in that database; "
        "`leases` lists the leases there are"
    )
