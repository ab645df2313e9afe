"""What the readers make of catalog texts no server here can show: MySQL 8's bare defaults and functional key
parts, and SQLite's CHECKs and index expressions, which only its CREATE statements hold."""

from __future__ import annotations

import pytest

from databridge.compiler.plan import TableRef
from databridge.engines import mysql, sqlite
from databridge.engines.base import ColumnInfo, TableInfo
from databridge.engines.schema import (
    CheckDef,
    ColumnDef,
    IndexPart,
    TableSchema,
    columns_only,
    indexes_from_parts,
    referential_action,
)
from databridge.errors import EngineError


@pytest.mark.parametrize(
    ("raw", "extra", "data_type", "mariadb", "default"),
    [
        ("active", "", "varchar", False, "'active'"),  # MySQL writes a string's bare text
        ("it's \\ x", "", "varchar", False, "'it''s \\\\ x'"),
        ("0.00", "", "decimal", False, "0.00"),
        ("b'1'", "", "bit", False, "b'1'"),
        ("CURRENT_TIMESTAMP", "DEFAULT_GENERATED on update CURRENT_TIMESTAMP", "timestamp", False, "CURRENT_TIMESTAMP"),
        ("(now() + interval 1 day)", "DEFAULT_GENERATED", "datetime", False, "(now() + interval 1 day)"),
        (None, "", "varchar", False, None),
        ("'active'", "", "varchar", True, "'active'"),  # MariaDB writes SQL
        ("current_timestamp()", "on update current_timestamp()", "datetime", True, "current_timestamp()"),
        ("NULL", "", "int", True, None),
        ("'NULL'", "", "varchar", True, "'NULL'"),
    ],
)
def test_mysql_and_mariadb_defaults_become_sql(
    raw: str | None, extra: str, data_type: str, mariadb: bool, default: str | None
) -> None:
    assert mysql._mysql_default(raw, extra, data_type, mariadb) == default


@pytest.mark.parametrize(
    ("server", "expressions"),
    [
        ("8.0.36", True),
        ("8.0.13", True),
        ("8.0.12", False),
        ("5.7.44-log", False),
        ("10.11.19-MariaDB-0+deb12u1", False),
        ("11.4.2-MariaDB", False),
    ],
)
def test_functional_key_parts_are_read_from_mysql_8_0_13(server: str, expressions: bool) -> None:
    assert mysql._has_key_expressions(server) is expressions


def test_mariadb_json_checks_are_types_not_rules() -> None:
    assert mysql._check(("payload", "json_valid(`payload`)")) is None
    assert mysql._check(("ck", "json_valid(`payload`)")) == CheckDef("ck", "json_valid(`payload`)")


def test_mysql_index_rows_give_the_key_uniques_and_indexes() -> None:
    rows = [
        ("PRIMARY", 1, "id", None, 0, "BTREE", None),
        ("ix", 0, "name", 10, 0, "BTREE", None),
        ("ix", 0, "created", None, 1, "BTREE", None),
        ("ix_lower", 0, None, None, 0, "BTREE", "lower(`email`)"),
        ("uq", 1, "email", None, 0, "BTREE", None),
        ("ft", 0, "body", None, None, "FULLTEXT", None),
    ]
    primary_key, uniques, indexes = mysql._indexes(rows)
    assert primary_key == ("id",)
    assert [(i.name, i.columns) for i in uniques] == [("uq", ("email",))]
    assert [(i.name, i.columns, i.expressions, i.prefix_lengths, i.descending, i.method) for i in indexes] == [
        ("ft", ("body",), (), (), (), "fulltext"),
        ("ix", ("name", "created"), (), (10, None), (False, True), ""),
        ("ix_lower", ("",), ("lower(`email`)",), (), (), ""),
    ]


CREATE = """CREATE TABLE "t" (
  a INTEGER CONSTRAINT "a positive" CHECK (a > 0), -- CHECK (in a comment)
  b TEXT CHECK(b <> 'CHECK (x)' AND length(b) < 10),
  "check" TEXT,
  CONSTRAINT both_set CHECK ((a IS NULL) = (b IS NULL)),
  CHECK ("check" IS NULL)
)"""


def test_sqlite_checks_come_from_the_create_statement_with_their_names() -> None:
    assert sqlite.checks_in(CREATE) == [
        CheckDef("a positive", "a > 0"),
        CheckDef("", "b <> 'CHECK (x)' AND length(b) < 10"),
        CheckDef("both_set", "(a IS NULL) = (b IS NULL)"),
        CheckDef("", '"check" IS NULL'),
    ]


def test_sqlite_unbalanced_checks_are_an_error() -> None:
    with pytest.raises(EngineError, match="unbalanced parentheses"):
        sqlite.checks_in("CREATE TABLE t (a INT CHECK (a > (0)")


def test_sqlite_index_expressions_and_predicates_come_from_create_index() -> None:
    expressions, where = sqlite._index_sql(
        "CREATE INDEX ix ON t (lower(name) DESC, b COLLATE NOCASE, c) WHERE c > 0", "ix"
    )
    assert (expressions, where) == (["LOWER(name)", "", ""], "c > 0")


def test_parts_of_an_anonymous_index_keep_apart_but_lose_the_engines_name() -> None:
    parts = [
        IndexPart("sqlite_autoindex_t_1", True, "a", anonymous=True),
        IndexPart("sqlite_autoindex_t_2", True, "b", anonymous=True),
    ]
    uniques, indexes = indexes_from_parts(parts)
    assert [(i.name, i.columns) for i in uniques] == [("", ("a",)), ("", ("b",))] and indexes == ()


@pytest.mark.parametrize(
    ("text", "rule"),
    [("NO_ACTION", "NO ACTION"), ("set null", "SET NULL"), (None, "NO ACTION"), ("CASCADE", "CASCADE")],
)
def test_referential_actions_are_written_as_sql(text: str | None, rule: str) -> None:
    assert referential_action(text) == rule


def test_documents_give_their_columns_and_key_only() -> None:
    info = TableInfo(
        "shop",
        "people",
        (ColumnInfo("_id", "string", False, None, "text"), ColumnInfo("age", "integer", True, None, "bigint")),
        ("_id",),
    )
    assert columns_only(info) == TableSchema(
        TableRef("shop", "people"),
        "",
        (
            ColumnDef("_id", False, type="string", pg_type="text"),
            ColumnDef("age", True, type="integer", pg_type="bigint"),
        ),
        ("_id",),
    )
