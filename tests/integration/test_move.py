"""Pass-through tables (SourcePlan.moves_staging): a logged staging table that the first load moves into place.

The transform copies nothing and the load of a new target renames the staging table and builds its key. Every other
case (a target that already exists, a transformed column, a key the rows break, a retried load) must still end with
exactly the source's rows, and the proof must still compare them with the source.
"""

from __future__ import annotations

import pytest

from .conftest import Source
from .runner import TargetDB, passthrough_yaml, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration

ROWS = [(i, f"name {i}", i * 1.5 if i % 7 else None) for i in range(1, 501)]


def _items(source: Source) -> str:
    source.db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, label VARCHAR(40), price DOUBLE PRECISION)")
    source.db.insert("items", ROWS)
    table = f"{source.schema}.items" if source.engine != "sqlite" else "items"
    return passthrough_yaml("move", source.conn_id, "it_target", table, ["label", "price"])


def _staging(target: TargetDB) -> list[tuple[str, str]]:
    """(table, persistence: p logged, u unlogged) of the staging schema."""
    return target.rows(
        "SELECT c.relname, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'databridge_staging' AND c.relkind = 'r' ORDER BY 1"
    )


def test_a_new_target_is_the_staging_table_moved_with_its_key_built(source: Source, target: TargetDB) -> None:
    project = _items(source)
    params = pipeline_params(project)
    run_stage(params, "extract", "move-1")
    [(staging, persistence)] = _staging(target)
    assert persistence == "p"  # logged: it may become the target
    oid = target.scalar("SELECT to_regclass(%s)::oid", (f'databridge_staging."{staging}"',))

    transformed = run_stage(params, "transform", "move-1")["landing.items"]
    assert transformed["pass_through"] is True and transformed["ready_rows"] == len(ROWS)
    assert [t for t, _ in _staging(target)] == [staging]  # no ready copy
    for stage in ("load_dimensions", "load_facts", "validate", "report"):
        run_stage(params, stage, "move-1")

    assert target.scalar("SELECT to_regclass('landing.items')::oid") == oid  # the same table, renamed: no row copied
    assert _staging(target) == []
    assert target.primary_key("landing", "items") == ["id"]
    assert target.rows("SELECT id, label, price FROM landing.items ORDER BY id") == ROWS
    assert target.scalar("SELECT relpersistence FROM pg_class WHERE oid = to_regclass('landing.items')") == "p"
    [(status, detail)] = target.rows("SELECT status, detail FROM databridge.proofs WHERE run_id = 'move-1'")
    assert status == "proven" and detail.startswith(f"{len(ROWS)} rows proven: source -> target"), detail
    assert not target.rows(
        "SELECT check_name FROM databridge.validation_results WHERE run_id = 'move-1' AND NOT passed"
    )

    # The same run's load again (a retry after its commit): nothing to move, nothing changed.
    before = target.checksum("landing.items")
    assert run_stage(params, "load_facts", "move-1")["landing.items"]["loaded_rows"] == len(ROWS)
    assert target.checksum("landing.items") == before


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_an_existing_target_is_replaced_from_the_staging_table(source: Source, target: TargetDB) -> None:
    project = _items(source)
    run_pipeline(project, "move-1")
    target.execute("CREATE VIEW landing.cheap AS SELECT id FROM landing.items WHERE price < 10")
    source.db.execute("DELETE FROM items WHERE id > 400")

    run_pipeline(project, "move-2")

    assert target.rows("SELECT id, label, price FROM landing.items ORDER BY id") == ROWS[:400]
    assert target.count("landing.cheap") == sum(1 for _, _, p in ROWS[:400] if p is not None and p < 10)  # same table
    assert [p for _, p in _staging(target)] == ["p"]  # kept: the existing target was filled from it
    [(status,)] = target.rows("SELECT status FROM databridge.proofs WHERE run_id = 'move-2'")
    assert status == "proven"


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_a_transformed_table_keeps_unlogged_staging_and_its_ready_copy(source: Source, target: TargetDB) -> None:
    project = _items(source).replace("- {source: label}", "- {source: label, transform: [upper]}")
    result = run_pipeline(project, "tr-1")
    assert "pass_through" not in result["transform"]["landing.items"]
    assert sorted(p for _, p in _staging(target)) == ["u", "u"]  # staging and ready, both unlogged
    assert target.rows("SELECT id, label FROM landing.items ORDER BY id LIMIT 2") == [(1, "NAME 1"), (2, "NAME 2")]


@pytest.mark.parametrize("source", ["postgres"], indirect=True)
def test_duplicate_keys_are_rejected_and_the_rest_moved(source: Source, target: TargetDB) -> None:
    source.db.execute("CREATE TABLE dup (id INTEGER, label VARCHAR(40))")
    source.db.execute("INSERT INTO dup SELECT g, 'row ' || g FROM generate_series(1, 100) g")
    source.db.execute("INSERT INTO dup VALUES (7, 'again')")
    project = passthrough_yaml("dup", source.conn_id, "it_target", f"{source.schema}.dup", ["label"]).replace(
        "            keys: [id]", "            keys: [id]\n            max_rejects: 5"
    )
    result = run_pipeline(project, "dup-1")
    stat = result["load_facts"]["landing.dup"]
    assert (stat["loaded_rows"], stat["rejected_rows"]) == (100, 1)  # the second row of key 7 set aside
    assert target.primary_key("landing", "dup") == ["id"]
    assert target.count("landing.dup") == 100 and target.scalar("SELECT count(*) FROM landing.dup WHERE id = 7") == 1
    assert target.tables("databridge_staging") == []  # moved after the bad row was set aside
