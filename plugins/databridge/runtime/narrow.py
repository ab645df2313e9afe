"""Compare two fingerprinted sides range by range; split the ranges that differ until the differing keys show.

Bounded: the first pass is one query per side (plus one for the range bounds); each range that differs costs three
queries per split level (bounds, then both sides' fingerprints of its parts), at most ``MAX_NARROWED`` ranges are
narrowed, and a range of at most ``LEAF_ROWS`` rows is settled by comparing its row hashes key by key.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from databridge.engines.fingerprint import KeyRange, Side

LEAF_ROWS = 200
"""A differing range this small is compared row by row (key and row hash of each row, from both sides)."""
MAX_LEAF_ROWS = 20_000
"""A range that cannot be split (a key type the engines order differently) is compared row by row up to this size."""
SPLIT = 16
"""A differing larger range is cut into this many parts."""
MAX_NARROWED = 8
"""At most this many differing ranges are narrowed down to their keys; the others are listed as they are."""
SAMPLE_KEYS = 5
"""Keys listed per kind of difference (missing, extra, changed) per range."""


@dataclass
class RangePrint:
    """Evidence for one range: rows and hash sum on each side."""

    range: KeyRange
    source_rows: int
    target_rows: int
    source_print: int
    target_print: int

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows and self.source_print == self.target_print

    def evidence(self) -> dict[str, Any]:
        return {
            "lo": self.range.lo,
            "hi": self.range.hi,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "source_print": f"{self.source_print:016x}",
            "target_print": f"{self.target_print:016x}",
        }


@dataclass
class Difference:
    """A range whose rows differ, with sample keys once narrowed (none when it could not be narrowed)."""

    range: KeyRange
    source_rows: int
    target_rows: int
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    narrowed: bool = False

    def describe(self, key: str = "key", source: str = "source") -> str:
        parts = [f"{self.range.describe(key)}: {source} {self.source_rows} rows, target {self.target_rows}"]
        for label, keys in (
            ("missing in target", self.missing),
            ("extra in target", self.extra),
            ("changed", self.changed),
        ):
            if keys:
                parts.append(f"{label}: {', '.join(keys)}")
        if not self.narrowed:
            parts.append("not narrowed further")
        return "; ".join(parts)

    def evidence(self) -> dict[str, Any]:
        return {
            "lo": self.range.lo,
            "hi": self.range.hi,
            "source_rows": self.source_rows,
            "target_rows": self.target_rows,
            "missing": self.missing,
            "extra": self.extra,
            "changed": self.changed,
            "narrowed": self.narrowed,
        }


@dataclass
class Comparison:
    ranges: list[RangePrint]
    differences: list[Difference]
    queries: int

    @property
    def equal(self) -> bool:
        return all(r.equal for r in self.ranges)


@dataclass
class _Budget:
    narrowed: int = 0
    queries: int = 0
    parallel: bool = False


def compare(
    source: Side, target: Side, *, range_rows: int, ranged: bool, keyed: bool, parallel: bool = False
) -> Comparison:
    """Fingerprint both sides over the same key ranges (bounds taken from the target), then narrow what differs.

    ``parallel``: the sides use different connections, so both fingerprints of a range are computed at once.
    """
    budget = _Budget(parallel=parallel)
    bounds = target.boundaries(KeyRange(), range_rows) if ranged else []
    budget.queries += int(ranged)
    ranges = _pair(source, target, KeyRange(), bounds, budget)
    differences: list[Difference] = []
    for r in ranges:
        if not r.equal:
            differences += _narrow(source, target, r, budget, ranged, keyed)
    return Comparison(ranges, differences, budget.queries)


def _pair(source: Side, target: Side, within: KeyRange, bounds: list[Any], budget: _Budget) -> list[RangePrint]:
    """Both sides' fingerprints of the same ranges; in parallel the target's runs in a thread (the source's stays in
    the thread that opened it: SQLite connections refuse other threads)."""
    edges = [within.lo, *bounds, within.hi]
    if budget.parallel:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(target.prints, within, bounds)
            a = source.prints(within, bounds)
            b = pending.result()
    else:
        a, b = source.prints(within, bounds), target.prints(within, bounds)
    budget.queries += 2
    return [
        RangePrint(KeyRange(edges[i], edges[i + 1]), a[i][0], b[i][0], a[i][1], b[i][1]) for i in range(len(edges) - 1)
    ]


def _narrow(source: Side, target: Side, r: RangePrint, budget: _Budget, ranged: bool, keyed: bool) -> list[Difference]:
    here = Difference(r.range, r.source_rows, r.target_rows)
    if not keyed or budget.narrowed >= MAX_NARROWED:
        return [here]
    rows = max(r.source_rows, r.target_rows)
    if rows <= LEAF_ROWS or not ranged:
        budget.narrowed += 1
        return [_leaf(source, target, here, max(rows, LEAF_ROWS), budget)]
    larger = source if r.source_rows >= r.target_rows else target
    bounds = larger.boundaries(r.range, math.ceil(rows / SPLIT))
    budget.queries += 1
    if not bounds:  # every row shares one first-key value: compare them one by one
        budget.narrowed += 1
        return [_leaf(source, target, here, rows, budget)]
    found: list[Difference] = []
    for part in _pair(source, target, r.range, bounds, budget):
        if not part.equal:
            found += _narrow(source, target, part, budget, ranged, keyed)
    return found


def _leaf(source: Side, target: Side, here: Difference, limit: int, budget: _Budget) -> Difference:
    """The keys of a small range: missing in the target, extra in it, and present in both with other values."""
    if limit > MAX_LEAF_ROWS:
        return here
    a, b = source.row_hashes(here.range, limit), target.row_hashes(here.range, limit)
    budget.queries += 2
    if a is None or b is None:
        return here
    here.missing = _sample(k for k in a if k not in b)
    here.extra = _sample(k for k in b if k not in a)
    here.changed = _sample(k for k in a if k in b and a[k] != b[k])
    here.narrowed = True
    return here


def _sample(keys: Any) -> list[str]:
    chosen = sorted(keys, key=lambda k: [(len(v or ""), v or "") for v in k])[:SAMPLE_KEYS]
    return [_key_text(k) for k in chosen]


def _key_text(key: tuple[str | None, ...]) -> str:
    shown = ["NULL" if v is None else v for v in key]
    return shown[0] if len(shown) == 1 else "(" + ", ".join(shown) + ")"
