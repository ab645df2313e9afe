"""The whole-schema benchmark's source: a 12-table MariaDB shop with keys, a cycle, uniques, indexes and CHECKs.

Adapted from tests/integration/whole_schema.py for volume: lower-case names (pgloader down-cases, so both tools
keep them), every kind of key the load rebuilds — composite primary keys, foreign keys with their rules, two
self-references (customers, categories, employees) and a cycle (departments ⇄ employees, added once both exist),
UNIQUE constraints on one and several columns, secondary indexes on one and several columns (and the indexes InnoDB
adds itself for foreign keys that no index starts with), CHECKs, ENUM, JSON, TINYINT(1), DOUBLE, DECIMAL, DATETIME.
Rows are made by INSERT … SELECT from the sequence engine, consistent by construction (every key holds).
"""

from __future__ import annotations

import hashlib
from typing import Any

DATABASE = "databridge_bench_shop"

# Tables in creation order. The foreign key that closes the cycle is added by ALTER TABLE once both tables exist.
DDL = (
    """CREATE TABLE customers (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(255) NOT NULL,
  first_name VARCHAR(100) NOT NULL, last_name VARCHAR(100) NULL,
  status ENUM('active','blocked') NOT NULL DEFAULT 'active',
  referred_by INT NULL, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, vip TINYINT(1) NOT NULL DEFAULT 0,
  CONSTRAINT customers_email_key UNIQUE (email), INDEX ix_customers_name (last_name, first_name),
  CONSTRAINT customers_referred_by_fkey FOREIGN KEY (referred_by) REFERENCES customers (id) ON DELETE SET NULL)""",
    """CREATE TABLE addresses (customer_id INT NOT NULL, address_no INT NOT NULL, street VARCHAR(100) NOT NULL,
  city VARCHAR(100) NOT NULL, country CHAR(2) NOT NULL DEFAULT 'DE', PRIMARY KEY (customer_id, address_no),
  INDEX ix_addresses_city (city),
  CONSTRAINT addresses_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE)""",
    """CREATE TABLE categories (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, parent_id INT NULL,
  name VARCHAR(100) NOT NULL, CONSTRAINT categories_parent_name_key UNIQUE (parent_id, name),
  CONSTRAINT categories_parent_fkey FOREIGN KEY (parent_id) REFERENCES categories (id) ON DELETE SET NULL)""",
    """CREATE TABLE products (sku VARCHAR(20) NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL,
  price DECIMAL(10,2) NOT NULL DEFAULT 0, weight DOUBLE NULL, description TEXT NULL, attrs JSON NULL,
  INDEX ix_products_name (name), CONSTRAINT products_price_check CHECK (price >= 0))""",
    """CREATE TABLE product_categories (sku VARCHAR(20) NOT NULL, category_id INT NOT NULL,
  PRIMARY KEY (sku, category_id),
  CONSTRAINT product_categories_sku_fkey FOREIGN KEY (sku) REFERENCES products (sku) ON UPDATE CASCADE,
  CONSTRAINT product_categories_category_fkey FOREIGN KEY (category_id) REFERENCES categories (id)
  ON DELETE CASCADE)""",
    """CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL,
  ordered_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new',
  total DECIMAL(12,2) NOT NULL DEFAULT 0, INDEX ix_orders_customer_date (customer_id, ordered_at),
  CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT orders_total_check CHECK (total >= 0))""",
    """CREATE TABLE order_items (order_id BIGINT NOT NULL, line_no INT NOT NULL, sku VARCHAR(20) NOT NULL,
  qty INT NOT NULL DEFAULT 1, unit_price DECIMAL(10,2) NOT NULL, discount DOUBLE NULL, PRIMARY KEY (order_id, line_no),
  CONSTRAINT order_items_order_fkey FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE,
  CONSTRAINT order_items_sku_fkey FOREIGN KEY (sku) REFERENCES products (sku) ON UPDATE CASCADE)""",
    """CREATE TABLE departments (id INT NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL, manager_id INT NULL,
  CONSTRAINT departments_name_key UNIQUE (name))""",
    """CREATE TABLE employees (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, department_id INT NOT NULL,
  manager_id INT NULL, email VARCHAR(255) NOT NULL, hired_on DATE NOT NULL, salary DECIMAL(10,2) NULL,
  CONSTRAINT employees_email_key UNIQUE (email),
  CONSTRAINT employees_department_fkey FOREIGN KEY (department_id) REFERENCES departments (id),
  CONSTRAINT employees_manager_fkey FOREIGN KEY (manager_id) REFERENCES employees (id) ON DELETE SET NULL,
  CONSTRAINT employees_salary_check CHECK (salary > 0))""",
    "ALTER TABLE departments ADD CONSTRAINT departments_manager_fkey FOREIGN KEY (manager_id) REFERENCES "
    "employees (id)",
    """CREATE TABLE payments (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, order_id BIGINT NOT NULL,
  method VARCHAR(20) NOT NULL DEFAULT 'card', amount DECIMAL(10,2) NOT NULL, paid_at DATETIME NULL,
  CONSTRAINT payments_order_method_key UNIQUE (order_id, method), INDEX ix_payments_paid_at (paid_at),
  CONSTRAINT payments_order_fkey FOREIGN KEY (order_id) REFERENCES orders (id))""",
    """CREATE TABLE reviews (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, sku VARCHAR(20) NOT NULL,
  customer_id INT NOT NULL,
  rating TINYINT NOT NULL, body TEXT NULL, CONSTRAINT reviews_sku_customer_key UNIQUE (sku, customer_id),
  CONSTRAINT reviews_sku_fkey FOREIGN KEY (sku) REFERENCES products (sku) ON DELETE CASCADE,
  CONSTRAINT reviews_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5))""",
    """CREATE TABLE audit_log (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, table_name VARCHAR(100) NOT NULL,
  happened_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, detail TEXT NULL,
  INDEX ix_audit_table_time (table_name, happened_at))""",
)

SKU = "CONCAT('SKU-', LPAD({}, 8, '0'))"
ODD = "'\\ttab\\nnew line\\\\back\\\\slash \"quoted\" O''Neil Grüße'"
"""Text that a careless pipe breaks: tab, newline, backslashes, quotes, non-ASCII (every 97th row)."""

# Each table's rows from ``seq`` (1..n), keys derived from the other tables' sizes ({customers}, ...) so that every
# foreign key, unique and primary key holds. Nullable columns hold NULLs every 5th-10th row.
FILL = {
    "customers": """SELECT seq, CONCAT('c', seq, '@example.com'),
  ELT(1 + seq % 6, 'Ann', 'Bo', 'Cy', 'Dana', 'Émile', 'Zoë'),
  IF(seq % 10 = 3, NULL, CONCAT('Name-', SUBSTR(MD5(seq), 1, 10))), IF(seq % 17 = 0, 'blocked', 'active'),
  IF(seq % 5 = 0 OR seq = 1, NULL, 1 + (seq * 7919) % GREATEST(seq - 1, 1)),
  TIMESTAMP('2020-01-01') + INTERVAL seq * 311 SECOND, seq % 13 = 0""",
    "addresses": """SELECT 1 + (seq - 1) % {customers}, 1 + (seq - 1) DIV {customers}, CONCAT('Main St ', seq % 997),
  ELT(1 + seq % 5, 'Berlin', 'Paris', 'Köln', 'Wien', 'Den Haag'), ELT(1 + seq % 4, 'DE', 'FR', 'NL', 'AT')""",
    "categories": "SELECT seq, IF(seq <= 10, NULL, 1 + seq % (seq DIV 2)), CONCAT('Category ', seq)",
    "products": f"""SELECT {SKU.format("seq")}, CONCAT('Product ', SUBSTR(MD5(seq), 1, 8)),
  ROUND((CRC32(seq) % 1000000) / 100, 2),
  IF(seq % 10 = 7, NULL, SIN(seq) * POW(10, CAST(seq % 5 AS SIGNED) - 2)),
  IF(seq % 10 = 8, NULL, CONCAT(REPEAT(MD5(seq), 3), IF(seq % 97 = 0, {ODD}, ''))),
  IF(seq % 10 = 9, NULL, JSON_OBJECT('color', ELT(1 + seq % 3, 'red', 'green', 'blue'),
    'n', seq, 'even', seq % 2 = 0))""",
    "product_categories": f"""SELECT {SKU.format("1 + (seq - 1) % {products}")},
  1 + ((seq - 1) % {{products}} * 13 + (seq - 1) DIV {{products}} * ({{categories}} DIV 2)) % {{categories}}""",
    "orders": """SELECT seq, 1 + (seq * 7) % {customers}, TIMESTAMP('2021-01-01') + INTERVAL seq * 97 SECOND,
  ELT(1 + seq % 3, 'new', 'paid', 'shipped'), ROUND((CRC32(seq) % 10000000) / 100, 2)""",
    "order_items": f"""SELECT 1 + (seq - 1) % {{orders}}, 1 + (seq - 1) DIV {{orders}},
  {SKU.format("1 + (seq * 11) % {products}")},
  1 + seq % 5, ROUND((CRC32(seq) % 100000) / 100, 2), IF(seq % 4 = 0, NULL, SIN(seq) / 7)""",
    "departments": "SELECT seq, CONCAT('Department ', seq), IF(seq % 5 = 0, NULL, seq)",
    "employees": """SELECT seq, 1 + (seq - 1) % {departments},
  IF(seq <= {departments}, NULL, 1 + (seq - 1) % {departments}),
  CONCAT('e', seq, '@corp.example'), DATE('2010-01-01') + INTERVAL seq % 5000 DAY,
  IF(seq % 7 = 0, NULL, 3000 + seq % 5000)""",
    "payments": """SELECT seq, 1 + (seq - 1) % {orders}, ELT(1 + (seq - 1) DIV {orders}, 'card', 'bank', 'cash'),
  ROUND(1 + (CRC32(seq) % 100000) / 100, 2),
  IF(seq % 6 = 0, NULL, TIMESTAMP('2021-01-02') + INTERVAL seq * 89 SECOND)""",
    "reviews": f"""SELECT seq, {SKU.format("1 + (seq - 1) % {products}")},
  1 + ((seq - 1) DIV {{products}} + (seq - 1) % {{products}}) % {{customers}},
  1 + seq % 5, IF(seq % 10 = 1, NULL, CONCAT('Review ', MD5(seq), IF(seq % 97 = 0, {ODD}, '')))""",
    "audit_log": """SELECT seq, ELT(1 + seq % 4, 'orders', 'customers', 'payments', 'products'),
  TIMESTAMP('2022-01-01') + INTERVAL seq * 13 SECOND, IF(seq % 3 = 0, NULL, CONCAT('changed ', seq))""",
}

SHARE = {
    "customers": 0.10,
    "addresses": 0.15,
    "categories": 0.001,
    "products": 0.02,
    "orders": 0.20,
    "order_items": 0.32,
    "employees": 0.005,
    "payments": 0.10,
    "reviews": 0.04,
}
"""Each table's share of the rows; product_categories is two per product, departments 50, audit_log the rest."""


def sizes(rows: int) -> dict[str, int]:
    """Rows per table for about ``rows`` in all (exactly, from 1,000 on), within what keeps every key valid."""
    n = {name: max(10, round(rows * share)) for name, share in SHARE.items()}
    n["product_categories"] = 2 * n["products"]
    n["departments"] = 50 if rows >= 100_000 else 5
    n["employees"] = max(n["employees"], n["departments"])
    n["payments"] = min(n["payments"], 3 * n["orders"])  # one per (order, method), three methods
    n["reviews"] = min(n["reviews"], n["products"] * n["customers"])  # one per (product, customer)
    n["audit_log"] = max(10, rows - sum(n.values()))
    return n


def recipe(rows: int) -> str:
    """What the source is made of: when a kept source's stamp still says this, it is reused."""
    return hashlib.sha256(repr((DDL, FILL, sizes(rows))).encode()).hexdigest()[:12] + f" rows={rows}"


def ensure(conn: Any, rows: int, log: Any = print) -> dict[str, int]:
    """The shop with ``rows`` rows in MariaDB (reused when a kept one has this recipe and its row counts); sizes."""
    n = sizes(rows)
    cur = conn.cursor()
    cur.execute("SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (DATABASE,))
    found = cur.fetchone()
    if found and found[0] == recipe(rows) and counts(cur) == n:
        log(f"shop: {DATABASE} already holds its {sum(n.values()):,} rows in {len(n)} tables (counts checked)")
        return n
    log(f"shop: generating {sum(n.values()):,} rows in {len(n)} tables in MariaDB {DATABASE}")
    cur.execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
    cur.execute(f"CREATE DATABASE `{DATABASE}` CHARACTER SET utf8mb4 COMMENT %s", (recipe(rows),))
    cur.execute(f"USE `{DATABASE}`")
    for statement in DDL:
        cur.execute(statement)
    _fill(cur, n)
    return n


def _fill(cur: Any, n: dict[str, int]) -> None:
    """Rows in slices of 1M (one huge INSERT holds a huge undo log); keys are valid by construction, so unchecked."""
    cur.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    for table, select in FILL.items():
        for start in range(0, n[table], 1_000_000):
            source = f" FROM seq_1_to_{min(n[table], start + 1_000_000)} WHERE seq > {start}"
            cur.execute(f"INSERT INTO {table} " + select.format(**n) + source)
    cur.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")


def counts(cur: Any) -> dict[str, int]:
    """Rows per table of the shop as it is."""
    cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (DATABASE,))
    found = {}
    for (table,) in cur.fetchall():
        cur.execute(f"SELECT COUNT(*) FROM `{DATABASE}`.`{table}`")
        found[table] = int(cur.fetchone()[0])
    return found


def drop(conn: Any) -> None:
    conn.cursor().execute(f"DROP DATABASE IF EXISTS `{DATABASE}`")
