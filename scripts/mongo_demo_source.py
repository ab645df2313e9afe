"""Fill a MongoDB database with the catalogue example's products and orders (deterministic: seeded random, no clock).

    python scripts/mongo_demo_source.py [--url mongodb://127.0.0.1:27017] [--database catalog] [--orders 500]

products: nested category, Decimal128 price, double weight, int32 stock, bool, date, tags array; some lack fields.
orders: Int64 number, nested customer.address, date, Decimal128 total and shipping.cost, an items array of
{sku, qty, unit_price (Decimal128), discount (double, sometimes absent)} — the child table of
include/mappings/mongo_catalog.yaml.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
from decimal import Decimal
from typing import Any

import pymongo
from bson import Decimal128, Int64, ObjectId

SEED = 20260301
PRODUCTS = 40
FIRST = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CATEGORIES = {"Kitchen": ["Mugs", "Kettles"], "Garden": ["Hoses", "Rakes"], "Office": ["Notebooks", "Lamps"]}
STATUSES = ["paid", "shipped", "delivered", "cancelled"]
CITIES = [("Berlin", "de"), ("Paris", "FR"), ("Wien", "AT"), ("Zürich", "ch"), ("København", "DK")]
DISCOUNTS = [0.05, 0.1, 0.25, 1 / 3]


def object_id(kind: int, number: int) -> ObjectId:
    """A fixed ObjectId: a 2025 timestamp, the kind, the number (ids sort as they were made)."""
    return ObjectId(f"{0x67750000:08x}{kind:04x}{number:012x}")


def product(rng: random.Random, n: int) -> dict[str, Any]:
    main = rng.choice(sorted(CATEGORIES))
    doc: dict[str, Any] = {
        "_id": object_id(1, n),
        "sku": f" sku-{n:04d}" if n % 7 == 0 else f"SKU-{n:04d}",
        "name": f"{main} item {n}",
        "category": {"main": main, "sub": rng.choice(CATEGORIES[main])},
        "price": Decimal128(Decimal(rng.randint(99, 99_999)) / 100),
        "weight_kg": rng.random() * 10,
        "stock": rng.randint(0, 500),
        "active": n % 5 != 0,
        "created_at": FIRST + dt.timedelta(seconds=rng.randint(0, 300 * 86_400), milliseconds=rng.randint(0, 999)),
        "tags": rng.sample(["eco", "sale", "new", "gift"], rng.randint(0, 3)),
    }
    if n % 4 == 0:
        doc["dimensions"] = {"w": rng.randint(1, 90), "h": rng.randint(1, 90), "unit": "cm"}
    return doc


def order(rng: random.Random, n: int) -> dict[str, Any]:
    city, country = rng.choice(CITIES)
    items = [line(rng) for _ in range(rng.randint(1 if n % 9 else 0, 4))]
    total = sum((i["unit_price"].to_decimal() * i["qty"] for i in items), Decimal("0.00"))
    doc: dict[str, Any] = {
        "_id": object_id(2, n),
        "number": Int64(2_026_000_000 + n),
        "customer": {
            "name": f"Customer {n % 97}",
            "email": f"Customer{n % 97}@Example.com ",
            "address": {"city": city, "country": country},
        },
        "placed_at": FIRST + dt.timedelta(minutes=rng.randint(0, 400 * 1440), milliseconds=rng.randint(0, 999)),
        "status": rng.choice(STATUSES),
        "total": Decimal128(total),
        "shipping": {
            "method": rng.choice(["dhl", "ups", "pickup"]),
            "cost": Decimal128(rng.choice(["0.00", "4.90", "12.50"])),
        },
        "items": items,
    }
    if n % 10 == 0:
        doc["note"] = "gift wrap, please"
    return doc


def line(rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sku": f"SKU-{rng.randint(1, PRODUCTS):04d}",
        "qty": rng.randint(1, 5),
        "unit_price": Decimal128(Decimal(rng.randint(99, 99_999)) / 100),
    }
    if rng.random() < 0.3:
        item["discount"] = rng.choice(DISCOUNTS)
    return item


def fill(url: str, database: str, orders: int = 500) -> dict[str, int]:
    """Drop and refill ``database``; returns the documents written per collection."""
    rng = random.Random(SEED)
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(url, serverSelectionTimeoutMS=10_000)
    try:
        client.drop_database(database)
        db = client[database]
        db.products.insert_many([product(rng, n) for n in range(1, PRODUCTS + 1)])
        db.orders.insert_many([order(rng, n) for n in range(1, orders + 1)])
    finally:
        client.close()
    return {"products": PRODUCTS, "orders": orders}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DATABRIDGE_TEST_MONGO_URL", "mongodb://127.0.0.1:27017"))
    parser.add_argument("--database", default="catalog")
    parser.add_argument("--orders", type=int, default=500)
    args = parser.parse_args(argv)
    counts = fill(args.url, args.database, args.orders)
    print(f"mongo demo source: {args.database} at {args.url}: " + ", ".join(f"{n} {c}" for c, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
