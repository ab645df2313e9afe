"""The type matrix: one case per row (the row it must hit, the PostgreSQL type it must give), and the rules around
it."""

from __future__ import annotations

import pytest

from databridge.engines.type_matrix import MATRIX, UNKNOWN_NOTE, notes_for, pg_type_for, rule_for, zoned

# (engine, native type as the engine's catalog writes it, the PostgreSQL type expected); at least one per matrix row.
CASES = [
    ("mysql", "tinyint(1)", "boolean"),
    ("mysql", "tinyint(1) unsigned", "boolean"),
    ("mysql", "bit(1)", "boolean"),
    ("mysql", "bit(12)", "bit varying(12)"),
    ("mysql", "tinyint(4)", "smallint"),
    ("mysql", "tinyint(3) unsigned", "smallint"),
    ("mysql", "smallint(5) unsigned", "integer"),
    ("mysql", "smallint(6)", "smallint"),
    ("mysql", "mediumint(8) unsigned", "integer"),
    ("mysql", "int(10) unsigned zerofill", "bigint"),
    ("mysql", "int(11)", "integer"),
    ("mysql", "bigint(20) unsigned", "numeric(20,0)"),
    ("mysql", "bigint(20)", "bigint"),
    ("mysql", "decimal(12,2)", "numeric(12,2)"),
    ("mysql", "decimal(65,30) unsigned", "numeric(65,30)"),
    ("mysql", "float", "real"),
    ("mysql", "double", "double precision"),
    ("mysql", "year(4)", "smallint"),
    ("mysql", "date", "date"),
    ("mysql", "datetime(6)", "timestamp"),
    ("mysql", "timestamp", "timestamptz"),
    ("mysql", "time(3)", "interval"),
    ("mysql", "char(2)", "varchar(2)"),
    ("mysql", "VARCHAR(255)", "varchar(255)"),
    ("mysql", "longtext", "text"),
    ("mysql", "json", "jsonb"),
    ("mysql", "enum('happy','sad','')", "text"),
    ("mysql", "set('a','b','c')", "text[]"),
    ("mysql", "varbinary(16)", "bytea"),
    ("mysql", "mediumblob", "bytea"),
    ("mysql", "point", "text"),
    ("mariadb", "multipolygon", "text"),
    ("postgres", "timestamp(3) without time zone", "timestamp(3) without time zone"),
    ("postgres", "uuid", "uuid"),
    ("postgres", "bit varying(5)", "bit varying(5)"),
    ("postgres", "integer[]", "integer[]"),
    ("postgresql", "numeric(12,2)", "numeric(12,2)"),
    ("mssql", "bit", "boolean"),
    ("mssql", "tinyint", "smallint"),
    ("mssql", "smallint", "smallint"),
    ("mssql", "int", "integer"),
    ("mssql", "bigint", "bigint"),
    ("mssql", "decimal(18,4)", "numeric(18,4)"),
    ("mssql", "money", "numeric(19,4)"),
    ("mssql", "smallmoney", "numeric(10,4)"),
    ("mssql", "float", "double precision"),
    ("mssql", "float(53)", "double precision"),
    ("mssql", "real", "real"),
    ("mssql", "float(24)", "real"),
    ("mssql", "date", "date"),
    ("mssql", "time(7)", "time"),
    ("mssql", "datetime", "timestamp(3)"),
    ("mssql", "smalldatetime", "timestamp(0)"),
    ("mssql", "datetime2(7)", "timestamp(6)"),
    ("mssql", "datetimeoffset(7)", "timestamptz"),
    ("mssql", "uniqueidentifier", "uuid"),
    ("mssql", "timestamp", "bytea"),
    ("mssql", "nchar(10)", "char(10)"),
    ("mssql", "nvarchar(50)", "varchar(50)"),
    ("mssql", "nvarchar(max)", "text"),
    ("mssql", "varbinary(max)", "bytea"),
    ("mssql", "xml", "xml"),
    ("mssql", "geography", "text"),
    ("mssql", "hierarchyid", "text"),
    ("sqlite", "BOOLEAN", "boolean"),
    ("sqlite", "DATETIME", "timestamp"),
    ("sqlite", "DATE", "date"),
    ("sqlite", "TIME", "time"),
    ("sqlite", "NUMERIC(10, 2)", "numeric(10,2)"),
    ("sqlite", "NUMERIC(10)", "numeric(10,0)"),
    ("sqlite", "VARCHAR(20)", "varchar(20)"),
    ("sqlite", "NVARCHAR(40)", "varchar(40)"),
    ("sqlite", "CHAR(2)", "varchar(2)"),
    ("sqlite", "NCHAR(55)", "varchar(55)"),
    ("sqlite", "NATIVE CHARACTER(70)", "varchar(70)"),
    ("sqlite", "VARYING CHARACTER(255)", "varchar(255)"),
    ("sqlite", "NATIONAL VARYING CHARACTER (3)", "varchar(3)"),
    ("sqlite", "UNSIGNED BIG INT", "bigint"),
    ("sqlite", "NATIVE CHARACTER", "text"),
    ("sqlite", "BLOB", "bytea"),
    ("sqlite", "DOUBLE PRECISION", "double precision"),
    ("sqlite", "", "text"),
    ("sqlite", "DECIMAL", "numeric"),
    ("bson", "objectId", "text"),
    ("bson", "decimal", "numeric"),
    ("bson", "double", "double precision"),
    ("bson", "int", "integer"),
    ("mongo", "long", "bigint"),
    ("bson", "bool", "boolean"),
    ("bson", "date", "timestamptz"),
    ("bson", "timestamp", "bigint"),
    ("bson", "regex", "text"),
    ("bson", "binData", "bytea"),
    ("bson", "object", "jsonb"),
    ("bson", "minKey", "text"),
    ("json", "string", "text"),
    ("json", "integer", "bigint"),
    ("couchdb", "number", "double precision"),
    ("json", "boolean", "boolean"),
    ("json", "array", "jsonb"),
    ("json", "null", "text"),
]


@pytest.mark.parametrize(("engine", "native", "expected"), CASES, ids=[f"{e}:{n or '(none)'}" for e, n, _ in CASES])
def test_native_type_gets_its_postgres_type(engine: str, native: str, expected: str) -> None:
    assert pg_type_for(engine, native) == expected


def test_every_row_of_the_matrix_is_hit_by_a_case() -> None:
    hit = {rule_for(engine, native) for engine, native, _ in CASES}
    missed = [f"{r.engine}: {r.native}" for r in MATRIX if r not in hit]
    assert missed == []


def test_every_row_says_what_happens_to_values() -> None:
    assert [r for r in MATRIX if len(r.note) < 4] == []


def test_tinyint_1_note_says_what_the_lint_refuses() -> None:
    assert (
        notes_for("mysql", "tinyint(1)")
        == "tinyint(1) → boolean; NULL stays NULL; values other than 0/1 are refused by the lint"
    )


def test_an_unknown_type_is_text_and_says_so() -> None:
    assert pg_type_for("mysql", "vector(3)") == "text"
    assert notes_for("mysql", "vector(3)") == UNKNOWN_NOTE


def test_an_unknown_engine_names_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"no engine 'oracle'; use one of: bson, couchdb, json, mariadb, mongo, mongodb, mssql, mysql"
    ):
        pg_type_for("oracle", "number")


@pytest.mark.parametrize(
    ("pg_type", "zone", "expected"),
    [
        ("timestamp", "Europe/Paris", "timestamptz"),
        ("timestamp(3)", "UTC", "timestamp(3) with time zone"),
        ("timestamp without time zone", "UTC", "timestamptz"),
        ("timestamp(6) without time zone", "UTC", "timestamp(6) with time zone"),
        ("timestamp", None, "timestamp"),
        ("timestamptz", "UTC", "timestamptz"),
        ("date", "UTC", "date"),
    ],
)
def test_naive_timestamps_become_zoned_only_when_a_zone_is_declared(
    pg_type: str, zone: str | None, expected: str
) -> None:
    assert zoned(pg_type, zone) == expected
