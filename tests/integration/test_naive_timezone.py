"""Date-times stored without a zone: kept naive by default, or read in source_options.naive_timezone, by every
engine."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import TARGET_CONN, Source
from .runner import TargetDB, passthrough_yaml, run_pipeline

pytestmark = pytest.mark.integration
UTC = dt.UTC
NATIVE = {"mysql": "DATETIME(6)", "postgres": "timestamp", "sqlite": "DATETIME"}

WALL_CLOCK = [
    dt.datetime(2024, 7, 1, 12, 0),  # summer, UTC+2
    dt.datetime(2024, 1, 15, 12, 0, 0, 123456),  # winter, UTC+1
    dt.datetime(2024, 10, 27, 2, 30),  # clocks went back at 03:00: this wall time happened twice (00:30 and 01:30 UTC)
    dt.datetime(2024, 3, 31, 2, 30),  # clocks jumped from 02:00 to 03:00: this wall time never happened
    None,
]
# PostgreSQL's rule, applied alike by every engine: an ambiguous time takes the offset in force after the change
# (standard time, +01:00), a skipped time the offset in force before it (+01:00).
IN_PARIS = [
    dt.datetime(2024, 7, 1, 10, 0, tzinfo=UTC),
    dt.datetime(2024, 1, 15, 11, 0, 0, 123456, tzinfo=UTC),
    dt.datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
    dt.datetime(2024, 3, 31, 1, 30, tzinfo=UTC),
    None,
]


def project(source: Source, options: str) -> str:
    return passthrough_yaml("naive", source.conn_id, TARGET_CONN, f"{source.schema}.stamps", ["at"], options)


def create_stamps(source: Source) -> None:
    source.db.execute(f"CREATE TABLE stamps (id INTEGER PRIMARY KEY, at {NATIVE[source.engine]})")
    source.db.insert("stamps", list(enumerate(WALL_CLOCK, start=1)))


def test_naive_datetimes_are_read_in_the_declared_zone(source: Source, target: TargetDB) -> None:
    create_stamps(source)
    run_pipeline(project(source, "naive_timezone: Europe/Paris"), "naive-1")
    assert target.column_types("landing", "stamps")["at"] == "timestamp with time zone"
    assert [r[0] for r in target.rows("SELECT at FROM landing.stamps ORDER BY id")] == IN_PARIS


def test_naive_datetimes_stay_naive_without_a_zone(source: Source, target: TargetDB) -> None:
    create_stamps(source)
    run_pipeline(project(source, ""), "naive-2")
    assert target.column_types("landing", "stamps")["at"] == "timestamp without time zone"
    assert [r[0] for r in target.rows("SELECT at FROM landing.stamps ORDER BY id")] == WALL_CLOCK
