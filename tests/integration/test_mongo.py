"""MongoDB as a source, against the real MongoDB-wire server: inferred columns, exact values, child tables, memory."""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from decimal import Decimal
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from bson import Decimal128, Int64, ObjectId, json_util
from pymongo import errors

from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo
from databridge.engines.mongo import MongoSource, mongo_error
from databridge.errors import EngineError
from tests.conftest import REPO, airflow_conn

from .conftest import TARGET_CONN
from .mongo_source import fill_catalog, mongo_client, mongo_conn_fields, mongo_database
from .runner import PROJECT_FILE, TargetDB, end_lease, pipeline_params, run_pipeline, run_stage

pytestmark = pytest.mark.integration
__all__ = ["mongo_database"]  # the fixture, used by name

SOURCE_CONN = "catalog_mongo"


def source(database: str, **extra: Any) -> MongoSource:
    fields = mongo_conn_fields(database)
    return MongoSource(ConnectionInfo("t", "mongo", fields["host"], fields["port"], database=database, extra=extra))


def catalog_project(database: str) -> str:
    text = (REPO / "include" / "mappings" / "mongo_catalog.yaml").read_text()
    return text.replace("source: catalog.", f"source: {database}.").replace("databridge_target", TARGET_CONN)


class ListSink:
    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []

    def write_row(self, row: Any) -> None:
        self.rows.append(row)

    def write(self, buffer: bytes | str) -> None:
        raise AssertionError("the mongo source writes rows, not COPY text")


def test_discovery_infers_paths_types_and_confidence(mongo_database: str) -> None:
    docs = [
        {
            "_id": i,
            "n": i if i < 7 else f"#{i}",
            "big": Int64(i) if i % 2 else i,
            "address": {"city": "Wien", "zip": i} if i < 8 else None,
        }
        for i in range(10)
    ]
    mongo_client()[mongo_database].people.insert_many(docs)
    engine = source(mongo_database)

    info = engine.describe(TableRef(mongo_database, "people"))
    got = {c.name: (c.native_type, c.pg_type, c.confidence, c.nullable) for c in info.columns}

    assert info.sampled == 10 and info.primary_key == ("_id",)
    assert got == {
        "_id": ("int", "integer", 1.0, False),
        "n": ("mixed(int|string)", "jsonb", 0.7, False),
        "big": ("int|long", "bigint", 1.0, False),
        "address": ("object", "jsonb", 0.8, True),
        "address.city": ("string", "text", 0.8, True),
        "address.zip": ("int", "integer", 0.8, True),
    }
    assert engine.schemas() == sorted(set(engine.schemas()) - {"admin", "local", "config"})
    assert mongo_database in engine.schemas()
    assert source(mongo_database, sample_size=4).describe(TableRef(mongo_database, "people")).sampled == 4


def test_array_fields_are_child_tables_with_parent_id_and_index(mongo_database: str) -> None:
    oid = ObjectId()
    mongo_client()[mongo_database].orders.insert_many([
        {"_id": oid, "items": [{"sku": "A", "qty": 2}, {"sku": "B"}], "tags": ["x", "y"]},
        {"_id": ObjectId(), "items": []},
    ])  # fmt: skip
    engine = source(mongo_database)
    table = TableRef(mongo_database, "orders.items")

    assert engine.tables(mongo_database) == ["orders", "orders.items", "orders.tags"]
    info = engine.describe(table)
    assert [(c.name, c.pg_type, c.confidence) for c in info.columns] == [
        ("_parent_id", "text", 1.0), ("_index", "integer", 1.0), ("sku", "text", 1.0), ("qty", "integer", 0.5),
    ]  # fmt: skip
    assert info.foreign_keys[0].references == f"{mongo_database}.orders" and info.sampled == 2
    sink = ListSink()
    assert engine.row_count(table) == engine.copy_rows(table, engine.columns(table), sink, 100) == 2
    assert sink.rows == [(str(oid), 0, "A", 2), (str(oid), 1, "B", None)]
    tags = TableRef(mongo_database, "orders.tags")
    sink = ListSink()
    engine.copy_rows(tags, engine.columns(tags), sink, 100)
    assert sink.rows == [(str(oid), 0, "x"), (str(oid), 1, "y")]


def test_catalog_project_moves_every_value_exactly(
    mongo_database: str, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_catalog(mongo_database)
    airflow_conn(monkeypatch, SOURCE_CONN, **mongo_conn_fields(mongo_database))
    db = mongo_client()[mongo_database]

    results = run_pipeline(catalog_project(mongo_database), "run-1")

    orders = {str(o["_id"]): o for o in db.orders.find()}
    lines = [(oid, i, item) for oid, o in orders.items() for i, item in enumerate(o["items"])]
    assert results["extract"][f"{mongo_database}.orders.items"]["staged_rows"] == len(lines) > 0
    assert target.count("store.fact_order") == len(orders) == 200
    assert target.count("store.dim_product") == 40
    assert target.scalar("SELECT count(*) FROM databridge.validation_results WHERE NOT passed") == 0
    _check_orders(target, orders)
    _check_lines(target, lines)
    _check_products(target, {str(p["_id"]): p for p in db.products.find()})


def _check_orders(target: TargetDB, orders: dict[str, dict[str, Any]]) -> None:
    rows = target.rows(
        "SELECT order_id, order_number, total::text, placed_at, shipping, note, city FROM store.fact_order"
    )
    for order_id, number, total, placed_at, shipping, note, city in rows:
        source = orders[order_id]
        assert number == source["number"] and total == str(source["total"].to_decimal())
        assert placed_at == source["placed_at"] and placed_at.tzinfo is not None
        assert json_util.loads(json.dumps(shipping)) == source["shipping"]  # the embedded document, types and all
        assert (note, city) == (source.get("note"), source["customer"]["address"]["city"])
    assert target.column_types("store", "fact_order")["placed_at"] == "timestamp with time zone"


def _check_lines(target: TargetDB, lines: list[tuple[str, int, dict[str, Any]]]) -> None:
    rows = target.rows(
        "SELECT order_id, line_no, sku, qty, unit_price::text, discount FROM store.fact_order_item ORDER BY 1, 2"
    )
    expected = [
        (oid, i, item["sku"], item["qty"], str(item["unit_price"].to_decimal()), item.get("discount"))
        for oid, i, item in sorted(lines, key=lambda x: x[:2])
    ]
    assert rows == expected  # discount doubles compared with ==: bit-exact, 1/3 included


def _check_products(target: TargetDB, products: dict[str, dict[str, Any]]) -> None:
    rows = target.rows(
        "SELECT product_id, price, weight_kg, created_at, tags, dimensions, stock_value FROM store.dim_product"
    )
    for product_id, price, weight, created_at, tags, dimensions, stock_value in rows:
        source = products[product_id]
        assert price == source["price"].to_decimal() and weight == source["weight_kg"]
        assert created_at == source["created_at"]
        assert tags == source["tags"] and dimensions == source.get("dimensions")
        assert stock_value == (source["price"].to_decimal() * source["stock"]).quantize(Decimal("0.01"))


def test_a_value_the_sample_did_not_show_fails_with_the_field_and_what_to_do(mongo_database: str) -> None:
    mongo_client()[mongo_database].items.insert_many([{"_id": i, "n": "two" if i == 2 else i} for i in range(5)])
    engine = source(mongo_database, sample_size=2)
    table = TableRef(mongo_database, "items")

    with pytest.raises(EngineError) as caught:
        engine.copy_rows(table, engine.columns(table), ListSink(), 100)

    assert not caught.value.transient
    assert str(caught.value).startswith(
        f"{mongo_database}.items: field 'n' holds a string ('two') where the sample saw int"
    )
    assert "set the connection extra sample_size higher (0 reads every document)" in str(caught.value)
    assert source(mongo_database, sample_size=0).columns(table)[1].pg_type == "jsonb"


def test_missing_collection_names_the_closest(
    mongo_database: str, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_catalog(mongo_database, orders=5)
    airflow_conn(monkeypatch, SOURCE_CONN, **mongo_conn_fields(mongo_database))
    project = catalog_project(mongo_database).replace(
        f"source: {mongo_database}.orders\n", f"source: {mongo_database}.ordres\n"
    )

    with pytest.raises(AirflowFailException) as caught:
        run_stage(pipeline_params(project), "extract", "run-1")

    message = str(caught.value)
    assert message.startswith(
        f"{PROJECT_FILE}: pipeline catalog: source table {mongo_database}.ordres does not exist in mongo "
        f"connection '{SOURCE_CONN}' ("
    )
    assert message.endswith("(did you mean 'orders'?)")


def test_driver_errors_are_sorted_into_transient_and_permanent(mongo_database: str) -> None:
    with pytest.raises(EngineError) as caught:
        MongoSource(
            ConnectionInfo(
                "t", "mongo", "127.0.0.1", mongo_conn_fields(mongo_database)["port"], "nobody", "wrong", mongo_database
            )
        )
    assert not caught.value.transient and "authentication failed" in str(caught.value)
    assert mongo_error(
        errors.ServerSelectionTimeoutError("127.0.0.1:1: refused, Topology Description: <...>"), "x"
    ).transient
    assert (
        str(mongo_error(errors.ServerSelectionTimeoutError("127.0.0.1:1: refused, Topology Description: <...>"), "x"))
        == "MongoDB: x: 127.0.0.1:1: refused"
    )
    assert mongo_error(errors.NotPrimaryError("not primary"), "x").transient
    assert mongo_error(errors.OperationFailure("interrupted", code=11600), "x").transient
    assert not mongo_error(errors.OperationFailure("bad", code=2), "x").transient


SMALL, LARGE, PAYLOAD = 5_000, 50_000, 200


def peak_extract_bytes(database: str, rows: int, run_id: str) -> int:
    coll = mongo_client()[database].wide
    coll.delete_many({})
    for start in range(0, rows, 10_000):
        coll.insert_many(
            [{"_id": i, "payload": "x" * PAYLOAD + str(i)} for i in range(start, min(rows, start + 10_000))]
        )
    project = f"""
name: memory_check
defaults: {{batch_size: 500}}
pipelines:
  - name: wide
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {database}.wide
        targets:
          - {{table: public.wide_copy, columns: [{{source: _id, target: id}}, {{source: payload}}]}}
"""
    tracemalloc.start()
    try:
        result = run_stage(pipeline_params(project), "extract", run_id)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result[f"{database}.wide"]["staged_rows"] == rows
    return peak


def test_extract_memory_is_flat_from_5k_to_50k_documents(
    mongo_database: str, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    airflow_conn(monkeypatch, SOURCE_CONN, **mongo_conn_fields(mongo_database))
    small = peak_extract_bytes(mongo_database, SMALL, "run-small")
    end_lease(target, "memory_check", "wide", "the small run was measured and ended")
    large = peak_extract_bytes(mongo_database, LARGE, "run-large")
    # Holding the collection would need ~10 MB more for 45,000 more documents; one batch of 500 is ~0.1 MB.
    assert large < small + LARGE * PAYLOAD // 10, (small, large)


def test_dates_are_utc_instants(mongo_database: str) -> None:
    when = dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.UTC)
    mongo_client()[mongo_database].events.insert_one({"_id": 1, "at": when, "amount": Decimal128("-0.000001")})
    engine = source(mongo_database)
    sink = ListSink()
    table = TableRef(mongo_database, "events")
    engine.copy_rows(table, engine.columns(table), sink, 10)
    assert sink.rows == [(1, when, Decimal("-0.000001"))]


def _players(count: int = 300) -> list[dict[str, Any]]:
    """Scores keyed by the ids of the players met (objects holding arrays): 300 distinct keys; nicknames keyed by
    words: 60 distinct keys. Each document holds three of each."""
    ids = [f"{i:024x}" for i in range(count)]
    return [
        {
            "_id": i, "name": f"player {i}", "profile": {"city": "Wien"},
            "scores": {ids[(i + k) % count]: {"points": k, "rounds": [k, k + 1]} for k in range(1, 4)},
            "nicknames": {f"nick{(i * 7 + k) % 60}": k for k in range(3)},
            "extra": i,
        }
        for i in range(count)
    ]  # fmt: skip


def test_map_like_objects_are_one_jsonb_column_and_their_sub_paths_are_never_warned_about(
    mongo_database: str, target: TargetDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    players = _players()
    mongo_client()[mongo_database].players.insert_many(players)
    engine = source(mongo_database)
    info = engine.describe(TableRef(mongo_database, "players"))

    assert [(c.name, c.native_type, c.pg_type) for c in info.columns] == [
        ("_id", "int", "integer"),
        ("name", "string", "text"),
        ("profile", "object", "jsonb"),
        ("profile.city", "string", "text"),
        ("scores", "object", "jsonb"),
        ("nicknames", "object", "jsonb"),
        ("extra", "int", "integer"),
    ]
    notes = {c.name: c.note for c in info.columns}
    assert (
        notes["scores"].startswith("a map: 300 distinct keys in 300 documents (e.g. ")
        and "kept whole as jsonb" in notes["scores"]
    )
    assert engine.tables(mongo_database) == ["players"], "no child table for an array inside a map"

    airflow_conn(monkeypatch, SOURCE_CONN, **mongo_conn_fields(mongo_database))
    project = f"""
name: maps_it
pipelines:
  - name: maps
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {mongo_database}.players
        targets:
          - {{table: public.players, keys: [id],
             columns: [{{source: _id, target: id}}, {{source: name}}, {{source: profile}}, {{source: scores}},
                       {{source: nicknames}}]}}
"""
    run_pipeline(project, "maps-1")

    warnings = target.scalar("SELECT warnings FROM databridge.stage_runs WHERE run_id = 'maps-1' AND stage = 'extract'")
    assert warnings == [
        f"{mongo_database}.players: 1 source column not mapped: extra (map it, or list it with exclude: true)"
    ]
    scores = dict(target.rows("SELECT id, scores FROM public.players"))
    assert scores == {p["_id"]: p["scores"] for p in players}
