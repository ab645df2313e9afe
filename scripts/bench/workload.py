"""The benchmark's workload (shared/PERF.md): one 12-column MariaDB table, generated once and kept while it is
intact."""

from __future__ import annotations

import hashlib
from typing import Any

import MySQLdb

DATABASE = "databridge_bench"

# Nullable columns hold ~10% NULLs; text holds tabs, newlines, backslashes and quotes every 97th row (no carriage
# return: the raw pipe cannot carry one, mariadb -B leaves it unescaped and COPY refuses it); doubles use
# every bit of their mantissa (SIN), so a lossy path shows in the checksum.
DDL = """CREATE TABLE `{table}` (
  id BIGINT NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  code VARCHAR(64) NOT NULL,
  name VARCHAR(255) NULL,
  amount DECIMAL(12,2) NULL,
  created_at DATETIME NULL,
  order_day DATE NOT NULL,
  active TINYINT(1) NULL,
  score DOUBLE NULL,
  notes TEXT NULL,
  attrs JSON NULL,
  quantity SMALLINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""

FILL = """INSERT INTO `{table}`
SELECT seq,
  1 + seq % 50000,
  CONCAT('ORD-', LPAD(HEX(seq), 10, '0')),
  IF(seq % 10 = 3, NULL, CONCAT('Customer ', SUBSTR(MD5(seq), 1, 12), IF(seq % 97 = 0, ' "quoted" O''Neil', ''))),
  IF(seq % 10 = 4, NULL, ROUND((CRC32(seq) % 100000000) / 100, 2) - 500000),
  IF(seq % 10 = 5, NULL, TIMESTAMP('2020-01-01 00:00:00') + INTERVAL (seq * 37) SECOND),
  DATE('2015-01-01') + INTERVAL (seq % 4000) DAY,
  IF(seq % 10 = 6, NULL, seq % 3 = 0),
  IF(seq % 10 = 7, NULL, SIN(seq) * POW(10, CAST(seq % 9 AS SIGNED) - 2)),
  IF(seq % 10 = 8, NULL, CONCAT(REPEAT(MD5(seq), 6), IF(seq % 97 = 0, '\\ttab\\nnew line\\\\back\\\\slash', ''))),
  IF(seq % 10 = 9, NULL, JSON_OBJECT('n', seq, 'tag', SUBSTR(MD5(seq), 1, 6), 'ok', seq % 2 = 0)),
  seq % 30000
FROM seq_1_to_{rows}"""

# The same table in PostgreSQL: the typed target of the raw pipe, and the PostgreSQL source of the PG → PG run.
PG_COLUMNS = (
    ("id", "bigint NOT NULL"),
    ("customer_id", "integer NOT NULL"),
    ("code", "varchar(64) NOT NULL"),
    ("name", "varchar(255)"),
    ("amount", "numeric(12,2)"),
    ("created_at", "timestamp"),
    ("order_day", "date NOT NULL"),
    ("active", "boolean"),
    ("score", "double precision"),
    ("notes", "text"),
    ("attrs", "jsonb"),
    ("quantity", "smallint NOT NULL"),
)
COLUMNS = tuple(name for name, _ in PG_COLUMNS)


def pg_table_ddl(table: str, primary_key: bool = True) -> str:
    """A typed PostgreSQL table like the source (with its primary key unless told otherwise)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in PG_COLUMNS)
    return f"CREATE TABLE {table} ({columns}{', PRIMARY KEY (id)' if primary_key else ''})"


def mysql_connect(host: str, port: int, user: str, database: str = "") -> Any:
    return MySQLdb.connect(host=host, port=port, user=user, passwd="", db=database, charset="utf8mb4", autocommit=True)


def table_name(rows: int) -> str:
    """One table per size, so a quick run never throws away the big one."""
    return f"orders_{rows}"


def ensure(conn: Any, rows: int, log: Any = print) -> None:
    """Generate ``rows`` rows unless the table already holds exactly this workload (same recipe, same checksum)."""
    table = table_name(rows)
    recipe = hashlib.sha256((DDL + FILL).encode()).hexdigest()[:12]
    cur = conn.cursor()
    cur.execute(f"CREATE DATABASE IF NOT EXISTS `{DATABASE}` CHARACTER SET utf8mb4")
    cur.execute(f"USE `{DATABASE}`")
    cur.execute(
        "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
        (DATABASE, table),
    )
    found = cur.fetchone()
    if found and found[0] == f"{recipe} rows={rows} checksum={_checksum(cur, table)}":
        log(f"workload: {DATABASE}.{table} already holds the {rows:,} rows (content checked)")
        return
    log(f"workload: generating {rows:,} rows in MariaDB {DATABASE}.{table} (once; kept for later runs)")
    cur.execute(f"DROP TABLE IF EXISTS `{table}`")
    cur.execute(DDL.format(table=table))
    for start in range(0, rows, 1_000_000):  # the seq engine is fast, but one huge INSERT holds a huge undo log
        cur.execute(FILL.format(table=table, rows=min(rows, start + 1_000_000)) + f" WHERE seq > {start}")
    cur.execute(f"ALTER TABLE `{table}` COMMENT = %s", (f"{recipe} rows={rows} checksum={_checksum(cur, table)}",))


def _checksum(cur: Any, table: str) -> str:
    cur.execute(f"CHECKSUM TABLE `{table}`")
    return str(cur.fetchone()[1])
