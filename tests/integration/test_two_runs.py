"""Two runs of one project interleaving their stages on the same staging tables cannot corrupt each other.

What Airflow's max_active_runs=1 does not prevent: a second Airflow, ``airflow dags test`` beside the scheduler, a
cleared old run. The staging lease makes the second run stop with a message naming the first, and a run whose
staging another run took over stop before it loads that run's rows.
"""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException

from .conftest import Source
from .runner import STAGES, TargetDB, pipeline_params, run_stage

pytestmark = pytest.mark.integration

EMAIL_OF_2 = "SELECT email FROM analytics.dim_customer WHERE customer_id = 2"


def change_source(shop: Source, email: str) -> None:
    shop.db.execute(f"UPDATE customers SET email = {shop.db.mark} WHERE id = 2", (email,))


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_a_run_idle_between_stages_keeps_staging_until_the_grace_then_loses_it_and_stops(
    shop: Source, target: TargetDB
) -> None:
    """Outside Airflow (or a run another Airflow holds) no one can vouch for run-a between its stages: a newer run is
    refused while run-a's last stage ended less than IDLE_GRACE ago, and takes staging over after; run-a then stops at
    its next stage instead of using run-b's rows."""
    params = pipeline_params(shop.project())
    run_stage(params, "extract", "run-a")
    change_source(shop, "second@example.com")
    with pytest.raises(AirflowFailException) as refused:
        run_stage(params, "extract", "run-b")
    assert "run 'run-a' holds its staging tables" in str(refused.value)
    assert "is live: it is between stages (its last stage ended 0 s ago)" in str(refused.value)

    target.execute("UPDATE databridge.staging_leases SET idle_since = idle_since - interval '11 minutes'")
    run_b = {stage: run_stage(params, stage, "run-b") for stage in STAGES}
    with pytest.raises(AirflowFailException) as stopped:
        run_stage(params, "transform", "run-a")

    assert run_b["report"]["succeeded"] is True
    assert str(stopped.value) == (
        "pipeline shop of project shop_it: run 'run-b' has taken over the staging tables since run 'run-a' extracted; "
        "run 'run-a' stops rather than transforming that run's rows. "
        "Clear this run from its extract stage to run it again"
    )
    assert target.scalar(EMAIL_OF_2) == "second@example.com"
    [warnings] = target.rows("SELECT report->'warnings' FROM databridge.reports WHERE run_id = 'run-b'")[0]
    assert any(
        "took over the staging lease of run 'run-a'" in w and "none of its stages has run for 11 min" in w
        for w in warnings
    )


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_a_cleared_old_run_stops_before_loading_another_runs_staging(shop: Source, target: TargetDB) -> None:
    params = pipeline_params(shop.project())
    for stage in STAGES:
        run_stage(params, stage, "run-a")
    change_source(shop, "second@example.com")
    run_stage(params, "extract", "run-b")
    run_stage(params, "transform", "run-b")
    before = target.checksum("analytics.dim_customer")

    with pytest.raises(AirflowFailException) as stopped:
        run_stage(params, "load_dimensions", "run-a")  # run-a cleared from its load while run-b runs

    assert str(stopped.value) == (
        "pipeline shop of project shop_it: run 'run-b' has taken over the staging tables since run 'run-a' extracted; "
        "run 'run-a' stops rather than loading that run's rows. Clear this run from its extract stage to run it again"
    )
    assert target.checksum("analytics.dim_customer") == before
    for stage in STAGES[2:]:
        run_stage(params, stage, "run-b")
    change_source(shop, "third@example.com")
    again = {
        stage: run_stage(params, stage, "run-a") for stage in STAGES
    }  # cleared from its extract: reads the source again
    assert again["report"]["succeeded"] is True
    assert target.scalar(EMAIL_OF_2) == "third@example.com"


@pytest.mark.parametrize("source", ["sqlite"], indirect=True)
def test_a_run_started_again_after_it_ended_reads_the_source_again(shop: Source, target: TargetDB) -> None:
    params = pipeline_params(shop.project())
    for stage in STAGES:
        run_stage(params, stage, "run-a")
    change_source(shop, "again@example.com")

    again = {stage: run_stage(params, stage, "run-a") for stage in STAGES}

    assert again["report"]["succeeded"] is True
    assert target.scalar(EMAIL_OF_2) == "again@example.com"
    ledger = target.rows(
        "SELECT DISTINCT resumed FROM databridge.batch_ledger WHERE run_id = 'run-a' AND stage = 'extract'"
    )
    assert ledger == [(False,)]
