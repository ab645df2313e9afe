"""The small shop every integration test moves: one list of rows, created natively in PostgreSQL, MariaDB and SQLite."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from string import Template
from typing import Any

import MySQLdb

from tests.conftest import MYSQL, pg_connect

D = Decimal


@dataclass(frozen=True)
class Column:
    """A source column and its native type in each engine."""

    name: str
    postgres: str
    mysql: str
    sqlite: str


TABLES: dict[str, list[Column]] = {
    "customers": [
        Column("id", "integer PRIMARY KEY", "INT PRIMARY KEY", "INTEGER PRIMARY KEY"),
        Column("first_name", "text", "VARCHAR(50)", "TEXT"),
        Column("last_name", "text", "VARCHAR(50)", "TEXT"),
        Column("email", "text", "VARCHAR(255)", "TEXT"),
        Column("country", "text", "VARCHAR(10)", "TEXT"),
        Column("loyalty_points", "integer", "INT", "INTEGER"),
        Column("signed_up_at", "timestamp", "DATETIME", "DATETIME"),
        Column("newsletter", "boolean", "BOOLEAN", "BOOLEAN"),
        Column("internal_notes", "text", "TEXT", "TEXT"),
    ],
    "products": [
        Column("sku", "text PRIMARY KEY", "VARCHAR(20) PRIMARY KEY", "TEXT PRIMARY KEY"),
        Column("name", "text", "VARCHAR(100)", "TEXT"),
        Column("category", "text", "VARCHAR(50)", "TEXT"),
        Column("unit_price", "numeric(10,2)", "DECIMAL(10,2)", "NUMERIC(10,2)"),
        Column("discontinued", "boolean", "BOOLEAN", "BOOLEAN"),
    ],
    "orders": [
        Column("id", "integer PRIMARY KEY", "INT PRIMARY KEY", "INTEGER PRIMARY KEY"),
        Column("customer_id", "integer", "INT", "INTEGER"),
        Column("ordered_at", "timestamp", "DATETIME", "DATETIME"),
        Column("status", "text", "VARCHAR(20)", "TEXT"),
        Column("shipping_cost", "numeric(10,2)", "DECIMAL(10,2)", "NUMERIC(10,2)"),
    ],
    "order_items": [
        Column("order_id", "integer", "INT", "INTEGER"),
        Column("line_no", "integer", "INT", "INTEGER"),
        Column("sku", "text", "VARCHAR(20)", "TEXT"),
        Column("quantity", "integer", "INT", "INTEGER"),
        Column("unit_price", "numeric(10,2)", "DECIMAL(10,2)", "NUMERIC(10,2)"),
        Column("discount", "double precision", "DOUBLE", "REAL"),
    ],
}
PRIMARY_KEYS = {"order_items": ("order_id", "line_no")}

# The notes column is mapped untouched to dim_customer.notes: every value must arrive byte for byte.
NOTES = {
    1: "VIP\tcustomer",
    2: 'said "great service" — it\'s 日本語 🎉',
    3: "line one\nline two\r\nline three",
    4: "path C:\\orders\\archive\\",
    5: "  padded  ",
    6: "",
    7: None,
}

ROWS: dict[str, list[tuple[Any, ...]]] = {
    "customers": [
        (
            1,
            "  Zoë ",
            "Müller  ",
            "  Zoe.Mueller@Example.COM ",
            " de ",
            120,
            dt.datetime(2023, 1, 15, 10, 30),
            True,
            NOTES[1],
        ),
        (2, "Hiro", "日本", "HIRO@EXAMPLE.JP", None, None, dt.datetime(2023, 2, 28, 23, 59, 59), False, NOTES[2]),
        (3, "Seán", "O'Brien", "sean@example.ie ", "", 0, dt.datetime(2024, 12, 31, 0, 0), True, NOTES[3]),
        (4, "Ann", " Smith", "ann@example.com", "gb", 5000, dt.datetime(2022, 6, 1, 8, 0), None, NOTES[4]),
        (5, "Émile", "Zola", "Emile@Example.FR", "  ", None, dt.datetime(2021, 7, 14, 12, 0), True, NOTES[5]),
        (6, "Li", "Wu", "li@example.cn", "CN", 7, dt.datetime(2020, 1, 1, 0, 0), False, NOTES[6]),
        (7, "Max", "Mustermann", "max@example.de", "at", 1, dt.datetime(2019, 3, 3, 3, 3, 3), True, NOTES[7]),
    ],
    "products": [
        ("sku-001", ' Mug "Big" 日本 ', "Kitchen", D("9.99"), False),
        ("SKU-002", "Garden Hose\\Pro", None, D("19.50"), True),
        ("sku-003 ", "Zoë's Lamp", "", D("12.50"), None),
        ("sku-004", "Müller\tTab\nNewline", "TOYS", D("0.10"), False),
    ],
    "orders": [
        (1, 1, dt.datetime(2024, 1, 2, 3, 4, 5), " paid", D("4.99")),
        (2, 1, dt.datetime(2024, 2, 29, 23, 59, 59), "shipped ", None),
        (3, 2, dt.datetime(2024, 12, 31, 0, 0), "Cancelled", D("0.00")),
        (4, 3, dt.datetime(2025, 1, 1, 12, 0), "paid", D("19.50")),
    ],
    "order_items": [
        (1, 1, " sku-001", 2, D("9.99"), None),
        (1, 2, "SKU-002 ", 3, D("19.50"), 0.1),
        (2, 1, "sku-003", 4, D("12.50"), 0.25),
        (3, 1, "Sku-001", 1, D("9.99"), 0.05),
        (4, 1, "sku-004", 10, D("0.10"), 0.0),
        (4, 2, "sku-002", 1, D("19.50"), None),
    ],
}

SCHEMAS = {"postgres": "public", "sqlite": "main"}  # MariaDB: the database is the schema


# --- creating the shop in a source engine ---------------------------------------------------------------------------


def create_table_sql(engine: str, table: str) -> str:
    """CREATE TABLE in the engine's own dialect."""
    quote = "`" if engine == "mysql" else '"'
    parts = [f"{quote}{c.name}{quote} {getattr(c, engine)}" for c in TABLES[table]]
    if table in PRIMARY_KEYS:
        parts.append(f"PRIMARY KEY ({', '.join(PRIMARY_KEYS[table])})")
    return f"CREATE TABLE {quote}{table}{quote} ({', '.join(parts)})"


def for_sqlite(value: Any) -> Any:
    """SQLite stores decimals and timestamps as the text an application would write."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, bool):
        return int(value)
    return value


class SourceDB:
    """A source database opened for setup: DDL, inserts and updates in its own dialect (autocommit)."""

    def __init__(self, engine: str, conn: Any) -> None:
        self.engine = engine
        self.conn = conn
        self.mark = "?" if engine == "sqlite" else "%s"
        """The engine's parameter placeholder."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        if self.engine == "sqlite":
            self.conn.execute(statement, [for_sqlite(v) for v in params])
            self.conn.commit()
            return
        cur = self.conn.cursor()
        cur.execute(statement, tuple(params) or None)
        cur.close()

    def insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.execute(f"INSERT INTO {table} VALUES ({', '.join([self.mark] * len(row))})", row)

    def create_shop(self) -> None:
        for table in TABLES:
            self.execute(create_table_sql(self.engine, table))
            self.insert(table, ROWS[table])

    def close(self) -> None:
        self.conn.close()


def open_source_db(engine: str, where: str) -> SourceDB:
    """``where`` is the database name (postgres, mysql) or the file path (sqlite)."""
    if engine == "postgres":
        return SourceDB(engine, pg_connect(where))
    if engine == "mysql":
        conn = MySQLdb.connect(
            host=MYSQL["host"],
            port=MYSQL["port"],
            user=MYSQL["user"],
            passwd="",
            db=where,
            charset="utf8mb4",
            autocommit=True,
        )
        return SourceDB(engine, conn)
    return SourceDB(engine, sqlite3.connect(where))


# --- the mapping project -----------------------------------------------------------------------------------------

# demo_shop.yaml with the source schema and connections left open. Differences, on purpose: internal_notes is mapped
# untouched to dim_customer.notes (to prove text arrives byte for byte) instead of excluded, and the order lines'
# load mode is a parameter (append for the load-ledger test).
PROJECT_TEMPLATE = Template("""\
name: $project
strategy: single-pipeline
defaults:
  retries: 0
  batch_size: 100
pipelines:
  - name: shop
    source_conn_id: $source_conn
    target_conn_id: $target_conn
    staging_schema: databridge_staging
    tables:
      - source: $schema.customers
        targets:
          - table: analytics.dim_customer
            role: dimension
            load: upsert
            keys: [customer_id]
            columns:
              - {source: id, target: customer_id, type: bigint}
              - {target: full_name, expression: "TRIM({first_name}) || ' ' || TRIM({last_name})"}
              - {source: email, transform: [trim, lower]}
              - {source: country, target: country_code, transform: [trim, upper], default: "ZZ", type: char(2)}
              - {source: loyalty_points, default: 0, type: integer}
              - {source: signed_up_at, target: signup_date, type: date}
              - {source: internal_notes, target: notes}
          - table: analytics.customer_contact
            role: dimension
            load: replace
            keys: [customer_id]
            filter: "CAST({newsletter} AS integer) = 1"
            columns:
              - {source: id, target: customer_id, type: bigint}
              - {source: email, target: contact_email, transform: [trim, lower]}
              - {source: signed_up_at, target: signup_month, date_format: "YYYY-MM"}
            foreign_keys:
              - {columns: [customer_id], references: analytics.dim_customer}

      - source: $schema.products
        targets:
          - table: analytics.dim_product
            role: dimension
            load: replace
            keys: [sku]
            columns:
              - {source: sku, transform: [trim, upper]}
              - {source: name, target: product_name, transform: [trim]}
              - {source: category, default: "uncategorised", transform: [lower]}
              - {source: unit_price, type: "numeric(10,2)"}
              - {source: discontinued, type: boolean}

      - source: $schema.orders
        targets:
          - table: analytics.fact_order
            role: fact
            load: replace
            keys: [order_id]
            columns:
              - {source: id, target: order_id, type: bigint}
              - {source: customer_id, type: bigint}
              - {source: ordered_at, type: timestamp}
              - {source: ordered_at, target: order_day, date_format: "%Y-%m-%d"}
              - {source: status, transform: [trim, upper]}
              - {source: shipping_cost, default: 0, type: "numeric(10,2)"}
            foreign_keys:
              - {columns: [customer_id], references: analytics.dim_customer}

      - source: $schema.order_items
        targets:
          - table: analytics.fact_order_line
            role: fact
            load: $lines_load
            keys: [order_id, line_no]
            columns:
              - {source: order_id, type: bigint}
              - {source: line_no, type: integer}
              - {source: sku, transform: [trim, upper]}
              - {source: quantity, type: integer}
              - {source: unit_price, type: "numeric(10,2)"}
              - target: line_total
                expression: "ROUND(CAST({quantity} * {unit_price} * (1 - COALESCE({discount}, 0)) AS numeric), 2)"
                type: "numeric(12,2)"
            foreign_keys:
              - {columns: [order_id], references: analytics.fact_order}
              - {columns: [sku], references: analytics.dim_product}

    validations:
      - {check: not_null, table: analytics.dim_customer, columns: [email, full_name]}
      - {check: not_null, table: analytics.fact_order, columns: [ordered_at], on_failure: warn}
      - check: custom
        name: no negative line totals
        sql: SELECT count(*) FROM analytics.fact_order_line WHERE line_total < 0
        expect: 0
$extra_validations""")


def project_yaml(
    schema: str,
    source_conn: str,
    target_conn: str,
    *,
    project: str = "shop_it",
    lines_load: str = "replace",
    extra_validations: str = "",
) -> str:
    """The shop project for a source schema and two Airflow connection ids."""
    return PROJECT_TEMPLATE.substitute(
        project=project,
        schema=schema,
        source_conn=source_conn,
        target_conn=target_conn,
        lines_load=lines_load,
        extra_validations=extra_validations,
    )


TARGET_TABLES = ("dim_customer", "customer_contact", "dim_product", "fact_order", "fact_order_line")
