"""Build the demo shop's SQLite source database (deterministic: seeded random, no clock).

    python scripts/demo_source.py --path .databridge/demo/shop.db [--scale 1]

Scale 1 gives 2,000 customers, 200 products, 20,000 orders and 1-5 lines per order. The data is deliberately
messy so that the cleansing in include/mappings/demo_shop.yaml has work to do: padded and mixed-case text, NULL
and empty values, timestamps stored as text, SKUs spelled differently in order lines than in the catalogue.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

SEED = 20260101
CUSTOMERS, PRODUCTS, ORDERS = 2_000, 200, 20_000
FIRST = datetime(2019, 1, 1)
LAST = datetime(2025, 12, 31, 23, 59, 59)
TS_FORMAT = "%Y-%m-%d %H:%M:%S"

FIRST_NAMES = ["Anna", "Ben", "Chloé", "David", "Emma", "Felix", "Greta", "Hugo", "Inès", "Jonas", "Katarzyna"]
FIRST_NAMES += ["Luca", "María", "Noah", "Olivia", "Pablo", "Quinn", "Rosa", "Søren", "Tom", "Ulla", "Zoë"]
LAST_NAMES = ["Müller", "Smith", "García", "Rossi", "Dubois", "Nowak", "Jansen", "Svensson", "O'Brien", "Schmidt"]
LAST_NAMES += ["Martin", "Bianchi", "Kowalski", "de Vries", "Lindqvist", "Fernández", "Weber", "Brown"]
COUNTRIES = ["DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "SE", "CH", "AT", "BE"]
NOTES = [
    "VIP customer",
    "called twice about delivery\tticket #4711",
    "prefers e-mail\nno phone calls",
    'said "great service"',
    "path C:\\orders\\archive",
    "Müller — café owner, pays by invoice",
    "it's complicated; see CRM",
    "日本語のメモ",
    "  ",
]
CATEGORIES = ["Garden", "Kitchen", "Toys", "Books", "Office", "Outdoor", "Electronics"]
PRODUCT_WORDS = ["Deluxe", "Mini", "Classic", "Eco", "Pro", "Smart", "Vintage", "Compact"]
PRODUCT_NOUNS = ["Kettle", "Lamp", "Chair", "Notebook", "Hose", "Puzzle", "Speaker", "Tent", "Mug", "Rake"]
STATUSES = [" paid", "shipped ", "Cancelled", "paid"]
DISCOUNTS = [0.05, 0.1, 0.25]

SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, email TEXT, country TEXT,
    loyalty_points INTEGER, signed_up_at DATETIME, newsletter INTEGER, internal_notes TEXT
);
CREATE TABLE products (
    sku TEXT PRIMARY KEY, name TEXT, category TEXT, unit_price NUMERIC(10,2), discontinued BOOLEAN
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER, ordered_at DATETIME, status TEXT, shipping_cost NUMERIC(10,2)
);
CREATE TABLE order_items (
    order_id INTEGER, line_no INTEGER, sku TEXT, quantity INTEGER, unit_price NUMERIC(10,2), discount REAL,
    PRIMARY KEY (order_id, line_no)
);
"""

Row = tuple[object, ...]


def chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def pad(rng: random.Random, text: str, p: float = 0.2) -> str:
    """Sometimes surround text with spaces."""
    return f"{' ' * rng.randint(1, 3)}{text}{' ' * rng.randint(0, 2)}" if chance(rng, p) else text


def random_moment(rng: random.Random, start: datetime, end: datetime = LAST) -> datetime:
    return start + timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


def messy_country(rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.10:
        return None
    if roll < 0.15:
        return ""
    code = rng.choice(COUNTRIES)
    code = code.lower() if chance(rng, 0.3) else code
    return pad(rng, code, 0.2)


def messy_email(rng: random.Random, first: str, last: str, customer_id: int) -> str:
    local = f"{first}.{last}".replace(" ", "").replace("'", "")
    style = rng.random()
    if style < 0.1:
        local = local.upper()
    elif style < 0.5:
        local = local.lower()
    domain = rng.choice(["example.com", "Example.org", "MAIL.example.net"])
    return pad(rng, f"{local}{customer_id}@{domain}", 0.25)


def customers(rng: random.Random, count: int) -> Iterator[Row]:
    for customer_id in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        yield (
            customer_id,
            pad(rng, first),
            pad(rng, last),
            messy_email(rng, first, last, customer_id),
            messy_country(rng),
            None if chance(rng, 0.15) else rng.randint(0, 5_000),
            random_moment(rng, FIRST).strftime(TS_FORMAT),
            1 if chance(rng, 0.4) else 0,
            None if chance(rng, 0.3) else rng.choice(NOTES),
        )


def messy_category(rng: random.Random) -> str | None:
    if chance(rng, 0.1):
        return None
    category = rng.choice(CATEGORIES)
    return rng.choice([category, category, category.upper(), category.lower()])


def products(rng: random.Random, count: int) -> Iterator[Row]:
    for number in range(1, count + 1):
        name = f"{rng.choice(PRODUCT_WORDS)} {rng.choice(PRODUCT_NOUNS)} {number}"
        yield (
            f"sku-{number:05d}",
            pad(rng, name, 0.25),
            messy_category(rng),
            round(rng.uniform(0.5, 500.0), 2),
            1 if chance(rng, 0.1) else 0,
        )


def messy_sku(rng: random.Random, sku: str) -> str:
    """The catalogue's sku as a clerk typed it: same after TRIM+UPPER."""
    return pad(rng, sku.upper() if chance(rng, 0.3) else sku, 0.15)


def orders_and_items(
    rng: random.Random, count: int, signups: list[datetime], catalogue: list[tuple[str, float]]
) -> tuple[list[Row], list[Row]]:
    orders: list[Row] = []
    items: list[Row] = []
    for order_id in range(1, count + 1):
        customer_id = rng.randint(1, len(signups))
        ordered_at = random_moment(rng, signups[customer_id - 1])
        shipping = None if chance(rng, 0.2) else round(rng.uniform(0.0, 25.0), 2)
        orders.append((order_id, customer_id, ordered_at.strftime(TS_FORMAT), rng.choice(STATUSES), shipping))
        for line_no in range(1, rng.randint(1, 5) + 1):
            sku, price = rng.choice(catalogue)
            discount = None if chance(rng, 0.7) else rng.choice(DISCOUNTS)
            items.append((order_id, line_no, messy_sku(rng, sku), rng.randint(1, 10), price, discount))
    return orders, items


def build(path: Path, scale: float) -> dict[str, int]:
    """(Re)create the database at path; return the row count per table."""
    rng = random.Random(SEED)
    sizes = [max(1, round(base * scale)) for base in (CUSTOMERS, PRODUCTS, ORDERS)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        customer_rows = list(customers(rng, sizes[0]))
        product_rows = list(products(rng, sizes[1]))
        signups = [datetime.strptime(str(row[6]), TS_FORMAT) for row in customer_rows]
        catalogue = [(str(row[0]), float(str(row[3]))) for row in product_rows]
        order_rows, item_rows = orders_and_items(rng, sizes[2], signups, catalogue)
        db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", customer_rows)
        db.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?)", product_rows)
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)", order_rows)
        db.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?, ?, ?)", item_rows)
    db.close()
    tables = ("customers", "products", "orders", "order_items")
    return dict(zip(tables, map(len, (customer_rows, product_rows, order_rows, item_rows)), strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", required=True, type=Path, help="SQLite file to (re)create")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the row counts (default 1)")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    counts = build(args.path, args.scale)
    summary = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    print(f"demo_source: {args.path}: {summary}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
