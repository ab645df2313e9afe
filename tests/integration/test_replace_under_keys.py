"""replace into tables other tables reference, a cycle of keys included: the keys are taken off, put back NOT VALID
and validated when the load ends; a key the new rows break fails the load naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from databridge.cli import main
from tests.conftest import PG

from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import TargetDB, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration


def _project(source: Source) -> str:
    return f"""\
name: cycle_it
pipelines:
  - name: rental
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {source.schema}.store
        targets:
          - {{table: rental.store, role: dimension, keys: [store_id],
             columns: [{{source: store_id}}, {{source: manager_id}}]}}
      - source: {source.schema}.staff
        targets:
          - {{table: rental.staff, role: dimension, keys: [staff_id],
             columns: [{{source: staff_id}}, {{source: store_id}}]}}
      - source: {source.schema}.payment
        targets:
          - {{table: rental.payment, keys: [payment_id],
             columns: [{{source: payment_id}}, {{source: staff_id}}, {{source: amount}}]}}
"""


KEYS = [
    "ALTER TABLE rental.store ADD CONSTRAINT store_manager_fkey FOREIGN KEY (manager_id) "
    "REFERENCES rental.staff (staff_id)",
    "ALTER TABLE rental.staff ADD CONSTRAINT staff_store_fkey FOREIGN KEY (store_id) "
    "REFERENCES rental.store (store_id)",
    "ALTER TABLE rental.payment ADD CONSTRAINT payment_staff_fkey FOREIGN KEY (staff_id) "
    "REFERENCES rental.staff (staff_id)",
]


@pytest.fixture
def rental(source: Source, target: TargetDB) -> Source:
    """Two stores and their managers referencing each other, payments by staff; loaded once, then the keys added."""
    source.db.execute("CREATE TABLE store (store_id integer PRIMARY KEY, manager_id integer)")
    source.db.execute("CREATE TABLE staff (staff_id integer PRIMARY KEY, store_id integer)")
    source.db.execute("CREATE TABLE payment (payment_id integer PRIMARY KEY, staff_id integer, amount numeric(8,2))")
    source.db.insert("store", [(1, 10), (2, 20)])
    source.db.insert("staff", [(10, 1), (20, 2), (30, 1)])
    source.db.insert("payment", [(p, 10 if p % 2 else 30, p) for p in range(1, 7)])
    assert run_pipeline(_project(source), "run-1")["report"]["succeeded"]
    for key in KEYS:
        target.execute(key)
    return source


def _keys(target: TargetDB) -> list[tuple[str, bool]]:
    return target.rows(
        "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' AND connamespace = "
        "'rental'::regnamespace ORDER BY 1"
    )


@pytest.mark.parametrize("source", ["postgres", "mysql"], indirect=True)
def test_replace_refills_tables_under_a_cycle_of_keys(rental: Source, target: TargetDB) -> None:
    rental.db.execute("UPDATE staff SET store_id = 2 WHERE staff_id = 30")
    rental.db.insert("payment", [(7, 20, 99)])

    result = run_pipeline(_project(rental), "run-2")

    assert result["validate"]["passed"] == result["validate"]["checks"]
    assert target.rows("SELECT staff_id, store_id FROM rental.staff ORDER BY 1") == [(10, 1), (20, 2), (30, 2)]
    assert target.scalar("SELECT count(*) FROM rental.payment") == 7
    assert _keys(target) == [("payment_staff_fkey", True), ("staff_store_fkey", True), ("store_manager_fkey", True)]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_a_key_the_new_rows_break_fails_the_load_naming_it(rental: Source, target: TargetDB) -> None:
    rental.db.execute("DELETE FROM staff WHERE staff_id = 30")  # payments 2, 4, 6 still point at it in the target

    params = pipeline_params(
        _project(rental).replace("rental.payment, keys", "rental.payment, load: append, on_existing: skip, keys")
    )
    for stage in ("extract", "transform", "load_dimensions"):
        run_stage(params, stage, "run-2")
    with pytest.raises(AirflowFailException) as caught:
        run_stage(params, "load_facts", "run-2")

    assert (
        "foreign key payment_staff_fkey of rental.payment does not hold after this run's load: Key "
        '(staff_id)=(30) is not present in table "staff"' in str(caught.value)
    )
    assert ("payment_staff_fkey", False) in _keys(target)


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_rolling_back_a_replace_under_a_cycle_restores_the_rows_and_the_keys(
    rental: Source, target: TargetDB, tmp_path: Path
) -> None:
    before = {t: target.checksum(f"rental.{t}") for t in ("store", "staff", "payment")}
    rental.db.execute("UPDATE staff SET store_id = 2 WHERE staff_id = 30")
    assert run_pipeline(_project(rental), "run-2")["report"]["succeeded"]
    project = tmp_path / "cycle_it.yaml"
    project.write_text(_project(rental))
    uri = f"postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{target.dbname}"

    assert main(["rollback", str(project), "--run", "run-2", "--conn", f"{target.conn_id}={uri}", "--yes"]) == 0

    assert {t: target.checksum(f"rental.{t}") for t in ("store", "staff", "payment")} == before
    assert _keys(target) == [("payment_staff_fkey", True), ("staff_store_fkey", True), ("store_manager_fkey", True)]
