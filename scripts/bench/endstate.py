"""What a migrated schema ended as, table by table: rows, a checksum of the values, and its keys, uniques, CHECKs and
indexes as signatures (kind and columns, never names: each tool names them its own way). Read alike from the MariaDB
source and from each PostgreSQL target, so the three can be laid side by side.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("PK", "FK", "UNIQUE", "INDEX", "CHECK", "NOT NULL")


@dataclass
class TableState:
    rows: int = 0
    checksum: str = ""
    objects: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    """Per kind, one signature per object: PK(a, b), FK(a) -> t(b), UNIQUE(a), INDEX(a, b), CHECK (<condition>),
    NOT NULL(a)."""
    unique_indexes: list[str] = field(default_factory=list)
    """UNIQUE signatures held by a unique index rather than a constraint (pgloader's form)."""
    types: dict[str, str] = field(default_factory=dict)


def digest(state: dict[str, TableState]) -> str:
    """One fingerprint of every table's row count and checksum (what the bench compares between tools)."""
    summary = {t: (s.rows, s.checksum) for t, s in sorted(state.items())}
    return hashlib.sha256(json.dumps(summary).encode()).hexdigest()[:16]


def as_json(state: dict[str, TableState]) -> dict[str, Any]:
    return {t: asdict(s) for t, s in sorted(state.items())}


# --- normalising values --------------------------------------------------------------------------------------------

INTEGERS = {"tinyint", "smallint", "mediumint", "int", "bigint"}
RULES = {
    "integer": "integers as bigint",
    "boolean": "TINYINT(1) as boolean, from 0/1 or true/false",
    "decimal": "DECIMAL(p,s) as numeric(p,s)",
    "double": "DOUBLE as float8's shortest exact text",
    "datetime": "DATETIME as timestamp text in UTC (a timestamptz is read in a UTC session)",
    "date": "DATE as date",
    "json": "JSON as jsonb text (key order and spacing normalised)",
    "text": "text, ENUM and CHAR as text",
}


def rule(data_type: str, column_type: str, is_json: bool) -> str:
    """Which normalisation a source column takes (a key of RULES)."""
    if is_json:
        return "json"
    if column_type == "tinyint(1)":
        return "boolean"
    if data_type in INTEGERS:
        return "integer"
    return {
        "decimal": "decimal",
        "double": "double",
        "float": "double",
        "datetime": "datetime",
        "timestamp": "datetime",
        "date": "date",
    }.get(data_type, "text")


def normalised(column: str, kind: str, column_type: str) -> str:
    """The column as one text form whatever type a tool chose for it, so equal sums mean equal values."""
    q = '"' + column.replace('"', '""') + '"'
    if kind == "boolean":
        return f"CASE WHEN {q} IS NULL THEN NULL ELSE {q}::text IN ('true', '1') END"
    if kind == "decimal":
        return f"{q}::{column_type.replace('decimal', 'numeric').split()[0]}"
    casts = {"integer": "::bigint", "double": "::float8", "date": "::date", "json": "::text::jsonb", "text": "::text"}
    if kind == "datetime":
        return f"to_char({q}::timestamp, 'YYYY-MM-DD HH24:MI:SS.US')"
    return q + casts[kind]


def checksum_sql(schema: str, table: str, expressions: list[str]) -> str:
    """Row count and an order-independent checksum: the sum of the first 64 bits of each normalised row's md5."""
    row = f"ROW({', '.join(expressions)})::text"
    return (
        f"SELECT count(*), coalesce(sum(('x' || left(md5({row}), 16))::bit(64)::bigint::numeric), 0) FROM "
        f'"{schema}"."{table}"'
    )


# --- the MariaDB source --------------------------------------------------------------------------------------------


def mysql_columns(cur: Any, database: str) -> dict[str, list[tuple[str, str, str]]]:
    """Per table, (column, rule, column type) in source order; JSON columns are known by MariaDB's json_valid CHECK."""
    cur.execute(
        "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s",
        (database,),
    )
    json_columns = {
        (t, clause[len("json_valid(`") : -2]) for t, clause in cur.fetchall() if clause.startswith("json_valid(`")
    }
    cur.execute(
        """SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION""",
        (database,),
    )
    found: dict[str, list[tuple[str, str, str]]] = {}
    for table, column, data_type, column_type in cur.fetchall():
        found.setdefault(table, []).append(
            (column, rule(data_type, column_type, (table, column) in json_columns), column_type)
        )
    return found


def mysql_state(cur: Any, database: str) -> dict[str, TableState]:
    """Rows and schema objects of the source (CHECKs without json_valid: that is the JSON type, not a rule)."""
    state = {
        table: TableState(types={c: t for c, _, t in cols}) for table, cols in mysql_columns(cur, database).items()
    }
    for table, s in state.items():
        cur.execute(f"SELECT COUNT(*) FROM `{database}`.`{table}`")
        s.rows = int(cur.fetchone()[0])
    cur.execute(
        """SELECT k.TABLE_NAME, c.CONSTRAINT_TYPE,
          GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '),
          k.REFERENCED_TABLE_NAME, GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', ')
        FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.TABLE_CONSTRAINTS c
        USING (CONSTRAINT_SCHEMA, TABLE_NAME, CONSTRAINT_NAME)
        WHERE k.TABLE_SCHEMA = %s
        GROUP BY k.TABLE_NAME, c.CONSTRAINT_TYPE, k.CONSTRAINT_NAME, k.REFERENCED_TABLE_NAME""",
        (database,),
    )
    for table, kind, columns, ref_table, ref_columns in cur.fetchall():
        state[table].objects[_KIND[kind]].append(_signature(_KIND[kind], columns, ref_table, ref_columns))
    cur.execute(
        """SELECT TABLE_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', ')
        FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = %s AND NON_UNIQUE = 1 GROUP BY TABLE_NAME, INDEX_NAME""",
        (database,),
    )
    for table, columns in cur.fetchall():
        state[table].objects["INDEX"].append(f"INDEX({columns})")
    cur.execute(
        """SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS
        WHERE CONSTRAINT_SCHEMA = %s AND CHECK_CLAUSE NOT LIKE 'json\\_valid(%%'""",
        (database,),
    )
    for table, clause in cur.fetchall():
        state[table].objects["CHECK"].append(f"CHECK ({clause})")
    cur.execute(
        "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND IS_NULLABLE = 'NO'",
        (database,),
    )
    for table, column in cur.fetchall():
        state[table].objects["NOT NULL"].append(f"NOT NULL({column})")
    return _sorted(state)


_KIND = {
    "PRIMARY KEY": "PK",
    "FOREIGN KEY": "FK",
    "UNIQUE": "UNIQUE",
    "p": "PK",
    "f": "FK",
    "u": "UNIQUE",
    "c": "CHECK",
}


def _signature(kind: str, columns: str, ref_table: str | None, ref_columns: str | None) -> str:
    return f"{kind}({columns})" + (f" -> {ref_table}({ref_columns})" if kind == "FK" else "")


def _sorted(state: dict[str, TableState]) -> dict[str, TableState]:
    for s in state.values():
        s.objects = {k: sorted(v) for k, v in s.objects.items()}
        s.unique_indexes.sort()
    return state


# --- a PostgreSQL target -------------------------------------------------------------------------------------------

_COLUMNS = """ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(n, o)
  JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n ORDER BY k.o)"""
CONSTRAINTS = f"""SELECT c.relname, con.contype, pg_get_constraintdef(con.oid),
  {_COLUMNS.format(keys="con.conkey", rel="con.conrelid")},
  f.relname, {_COLUMNS.format(keys="con.confkey", rel="con.confrelid")}
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid LEFT JOIN pg_class f ON f.oid = con.confrelid
WHERE c.relnamespace = to_regnamespace(%s) AND con.contype IN ('p', 'u', 'f', 'c')"""
INDEXES = f"""SELECT t.relname, i.indisunique, {_COLUMNS.format(keys="i.indkey::int2[]", rel="i.indrelid")}
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relnamespace = to_regnamespace(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.contype IN ('p', 'u'))"""
TYPES = """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = to_regnamespace(%s) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum"""


def pg_state(conn: Any, schema: str, columns: dict[str, list[tuple[str, str, str]]]) -> dict[str, TableState]:
    """Each table of ``schema`` in a target; rows checksummed over the source's columns, normalised by their rule."""
    state: dict[str, TableState] = {}
    for table, column, kind, not_null in conn.execute(TYPES, (schema,)).fetchall():
        state.setdefault(table, TableState()).types[column] = kind
        if not_null:
            state[table].objects["NOT NULL"].append(f"NOT NULL({column})")
    for table, s in state.items():
        expressions = [normalised(c, rule_, t) for c, rule_, t in columns.get(table, [])]
        rows, total = conn.execute(checksum_sql(schema, table, expressions)).fetchone()
        s.rows, s.checksum = int(rows), str(total)
    for table, kind, definition, cols, ref_table, ref_cols in conn.execute(CONSTRAINTS, (schema,)).fetchall():
        k = _KIND[kind]
        signature = definition if k == "CHECK" else _signature(k, ", ".join(cols), ref_table, ", ".join(ref_cols or []))
        state[table].objects[k].append(signature)
    for table, unique, cols in conn.execute(INDEXES, (schema,)).fetchall():
        signature = f"{'UNIQUE' if unique else 'INDEX'}({', '.join(cols)})"
        state[table].objects["UNIQUE" if unique else "INDEX"].append(signature)
        if unique:
            state[table].unique_indexes.append(signature)
    return _sorted(state)
