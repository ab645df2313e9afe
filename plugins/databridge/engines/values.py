"""Value conversions the engines share, each applied only to the columns that need it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import Any


def localizer(zone_name: str) -> Callable[[dt.datetime | None], dt.datetime | None]:
    """Naive date-times read as wall-clock time in ``zone_name``, by PostgreSQL's rule for the DST edges.

    A time that occurs twice (clocks going back) or never (clocks going forward) takes the smaller of its two
    possible UTC offsets, as PostgreSQL does for '2024-10-27 02:30 Europe/Paris'::timestamptz (→ 01:30 UTC), so a
    value reads the same whether Python (MySQL) or PostgreSQL (PostgreSQL, SQLite sources) localizes it.
    """
    zone = zoneinfo.ZoneInfo(zone_name)

    def localize(value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        first, second = value.replace(tzinfo=zone), value.replace(tzinfo=zone, fold=1)
        return second if second.utcoffset() < first.utcoffset() else first  # type: ignore[operator]

    return localize


def split_set(value: str | None) -> list[str] | None:
    """A MySQL SET value ('a,c') as a list; the empty set is an empty list, NULL stays NULL."""
    if value is None:
        return None
    return value.split(",") if value else []


def row_converter(converters: list[Callable[[Any], Any] | None]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]] | None:
    """One function converting the columns that have a converter; None when no column needs one."""
    if not any(converters):
        return None
    pairs = list(enumerate(converters))
    return lambda row: tuple(f(row[i]) if f else row[i] for i, f in pairs)
