"""The canonical text behind every fingerprint: equal values give equal text (and hashes) whatever their form."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from databridge.engines.canonical import canonical, float_text, hash64, kind_of, row_text, sum64
from databridge.engines.fingerprint import KeyRange
from databridge.runtime.narrow import Difference


@pytest.mark.parametrize(
    ("pg_type", "kind"),
    [
        ("bigint", "int"),
        ("integer", "int"),
        ("smallint", "int"),
        ("numeric(12,2)", "numeric"),
        ("numeric", "numeric"),
        ("double precision", "float"),
        ("real", "float"),
        ("boolean", "bool"),
        ("text", "text"),
        ("character(2)", "text"),
        ("character varying(20)", "text"),
        ("varchar(5)", "text"),
        ("timestamp with time zone", "tstz"),
        ("timestamptz", "tstz"),
        ("timestamp without time zone", "ts"),
        ("timestamp(6) without time zone", "ts"),
        ("date", "date"),
        ("bytea", "bytes"),
        ("jsonb", "json"),
        ("json", "json"),
        ("text[]", "other"),
        ("interval", "other"),
        ("uuid", "other"),
    ],
)
def test_kind_of_each_staging_type(pg_type: str, kind: str) -> None:
    assert kind_of(pg_type) == kind


@pytest.mark.parametrize(
    ("kind", "forms", "text"),
    [
        ("numeric", [Decimal("1.50"), Decimal("1.5"), "1.5000", 1.5, Decimal("0001.5")], "1.5"),
        ("numeric", [Decimal("100"), Decimal("100.00"), 100, "100"], "100"),
        ("numeric", [Decimal("0.00"), Decimal("-0.0"), 0], "0"),
        ("int", [42, "42", " 42 ", 42.0], "42"),
        ("bool", [True, 1, "t", "true", "1"], "1"),
        ("bool", [False, 0, "f", "false", "0"], "0"),
        ("float", [1e20, "1e+20", "1e20", "100000000000000000000"], "1e21"),
        ("float", [0.0, -0.0, "0", "-0"], "0"),
        (
            "tstz",
            [
                dt.datetime(2024, 3, 31, 1, 30, tzinfo=dt.UTC),
                dt.datetime(2024, 3, 31, 3, 30, tzinfo=ZoneInfo("Europe/Paris")),
                "2024-03-31 01:30:00+00:00",
                "2024-03-31T03:30:00+02:00",
            ],
            "2024-03-31 01:30:00.000000",
        ),
        (
            "ts",
            [dt.datetime(2024, 1, 2, 3, 4, 5, 7), "2024-01-02 03:04:05.000007", "2024-01-02T03:04:05.000007"],
            "2024-01-02 03:04:05.000007",
        ),
        ("date", [dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 12), "2024-02-29"], "2024-02-29"),
        ("bytes", [b"\x00\xff\n", bytearray(b"\x00\xff\n"), memoryview(b"\x00\xff\n")], "00ff0a"),
        ("text", ["tab\there ünï 🎉", b"tab\there \xc3\xbcn\xc3\xaf \xf0\x9f\x8e\x89"], "tab\there ünï 🎉"),
        (
            "json",
            ['{"b": [1, 2], "a": "x"}', {"a": "x", "b": [1, 2]}, '{"a":"x","b":[1,2]}'],
            '{"a": "x", "b": [1, 2]}',
        ),
        ("json", ['{"bb": 1, "a": {"é": null}}'], '{"a": {"é": null}, "bb": 1}'),
    ],
)
def test_equal_values_in_any_form_have_one_canonical_text(kind: str, forms: list[object], text: str) -> None:
    assert {canonical(kind, form) for form in forms} == {text}


@pytest.mark.parametrize(
    ("printed", "text"),
    [
        ("0.30000000000000004", "30000000000000004e0"),
        ("1e-05", "1e-4"),
        ("0.00001", "1e-4"),
        ("1.2345678901234568e-05", "12345678901234568e-4"),
        ("0.000012345678901234568", "12345678901234568e-4"),
        ("1.7976931348623157e+308", "17976931348623157e309"),
        ("1.7976931348623157e308", "17976931348623157e309"),
        ("2.5e-310", "25e-309"),
        ("-1.5e-07", "-15e-6"),
        ("-0.00000015", "-15e-6"),
        ("123456789012345.6", "1234567890123456e15"),
        ("100000000000000", "1e15"),
        ("1e+15", "1e16"),
        ("1e15", "1e16"),
        ("16777216", "16777216e8"),
    ],
)
def test_every_print_of_a_double_reads_as_one_text(printed: str, text: str) -> None:
    """PostgreSQL prints 1e-05, MariaDB 0.00001: both are the double 1e-05, both become 1e-4."""
    assert float_text(printed) == text
    assert canonical("float", float(printed)) == text


def test_different_doubles_have_different_texts() -> None:
    close = [0.1 + 0.2, 0.3, 5e-324, 1e-323, 2.0**53, 2.0**53 + 2, -1.5, 1.5]
    assert len({canonical("float", v) for v in close}) == len(close)


def test_row_text_separates_null_empty_and_values_holding_separators() -> None:
    assert row_text(["1:2", None]) != row_text(["1", "2", None])
    assert row_text([None]) != row_text([""]) != row_text(["-"])
    assert row_text(["a|b", "c"]) != row_text(["a", "b|c"])
    assert row_text(["ü", None, ""]) == "1:ü|-|0:"


def test_hash64_is_the_first_64_bits_of_md5_and_the_sum_keeps_duplicates() -> None:
    assert hash64("2:42") == int(hashlib.md5(b"2:42").hexdigest()[:16], 16)
    one, two = hash64("a"), hash64("b")
    assert sum64([one, two]) == sum64([two, one])
    assert sum64([one, one, two]) != sum64([two])  # a xor would cancel the duplicated row
    assert 0 <= sum64([(1 << 64) - 1, 5]) < 1 << 64


def test_a_difference_names_its_range_and_keys() -> None:
    difference = Difference(KeyRange(200, 266), 38, 37, missing=["250"], narrowed=True)
    assert difference.describe("id") == "200 <= id < 266: source 38 rows, target 37; missing in target: 250"
    assert (
        Difference(KeyRange("m", None), 3, 0).describe("sku", "ready")
        == "'m' <= sku: ready 3 rows, target 0; not narrowed further"
    )
    assert str(KeyRange()) == "all key values"
