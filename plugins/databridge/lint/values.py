"""Checks of sampled source values against the types they will be stored in, one checker per column and rule."""

from __future__ import annotations

import decimal
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from databridge.lint.declared import INTEGER_RANGES, DeclaredType
from databridge.lint.problems import MAX_EXAMPLES, LintProblem, Severity, examples
from databridge.lint.sample import is_zero_date

_INTEGER_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")


@dataclass(frozen=True)
class Where:
    """The column a checker reports on, and how a fix is written for it."""

    table: str
    column: str
    source_column: str
    type_note: str = ""
    """How the type was chosen, e.g. " (declared with type:)" or " (the staged type of shop.t.c)"."""


@dataclass
class Tally:
    """Offending values met so far: how many, and the first few distinct ones."""

    count: int = 0
    values: list[Any] = field(default_factory=list)

    def add(self, value: Any) -> None:
        self.count += 1
        if len(self.values) < MAX_EXAMPLES * 4:
            self.values.append(value)


class Checker:
    """Sees every sampled value of one column; reports what it found once the sample is read."""

    def __init__(self, where: Where) -> None:
        self.where = where
        self.tally = Tally()

    def see(self, value: Any) -> None:
        raise NotImplementedError

    def problems(self, rows: int) -> list[LintProblem]:
        raise NotImplementedError

    def problem(
        self,
        rows: int,
        kind: str,
        message: str,
        suggestion: str,
        severity: Severity = "error",
        tally: Tally | None = None,
    ) -> LintProblem:
        found = tally or self.tally
        share = f" ({found.count} of {rows} row{'s' if rows != 1 else ''} read)"
        return LintProblem(
            self.where.table, self.where.column, kind, message + share, examples(found.values), suggestion, severity
        )


class BooleanValues(Checker):
    """A tinyint(1) / bit read as boolean that holds something other than 0 and 1."""

    def see(self, value: Any) -> None:
        if value is not None and value not in (0, 1):
            self.tally.add(value)

    def problems(self, rows: int) -> list[LintProblem]:
        if not self.tally.count:
            return []
        src = self.where.source_column
        return [self.problem(
            rows, "boolean_values", "holds values other than 0/1, so it cannot be read as boolean",
            f"stage the numbers: add `source_types: {{{src}: smallint}}` to the table mapping; then map it as it is, "
            f"or make a boolean on purpose with `expression: \"{{{src}}} <> 0\"`",
        )]  # fmt: skip


class ZeroDates(Checker):
    """MySQL zero dates (0000-00-00, or a zero month or day)."""

    def __init__(self, where: Where, mode: str) -> None:
        super().__init__(where)
        self.mode = mode

    def see(self, value: Any) -> None:
        if is_zero_date(value):
            self.tally.add(value)

    def problems(self, rows: int) -> list[LintProblem]:
        if not self.tally.count:
            return []
        if self.mode == "fail":
            return [self.problem(
                rows, "zero_date", "holds zero dates; with `zero_dates: fail` the extract stops on them",
                "fix the dates in the source, or load them as NULL: `source_options: {zero_dates: null}`",
            )]  # fmt: skip
        return [
            self.problem(
                rows,
                "zero_date",
                "holds zero dates; they are loaded as NULL (`zero_dates: null`)",
                "accept the NULLs, give the column a value with `default:` in its mapping of "
                f"{self.where.source_column}, or stop on them with `source_options: {{zero_dates: fail}}`",
                severity="warning",
            )
        ]


class EnumLabels(Checker):
    """An ENUM holding a value that is none of its labels: MySQL stores what it could not take (sql_mode without
    STRICT) as '', index 0. The CHECK a table created from the column gets refuses it: the load rejects the row."""

    def __init__(self, where: Where, labels: tuple[str, ...]) -> None:
        super().__init__(where)
        self.labels = frozenset(labels)
        self.shown = ",".join("'" + v.replace("'", "''") + "'" for v in labels)

    def see(self, value: Any) -> None:
        if value is not None and value not in self.labels:
            self.tally.add(value)

    def problems(self, rows: int) -> list[LintProblem]:
        if not self.tally.count:
            return []
        return [
            self.problem(
                rows,
                "enum_value",
                f"holds values that are not labels of its ENUM ({self.shown}); a table created from the column "
                "unchanged refuses them",
                "the load rejects those rows (allow them with the table's `max_rejects`), or give them a label "
                f"with `default:` in the mapping of {self.where.source_column} (a default replaces ''), or "
                "correct them in the source",
            )
        ]


class IntegerRange(Checker):
    def __init__(self, where: Where, declared: DeclaredType, bounds: tuple[int, int]) -> None:
        super().__init__(where)
        self.declared = declared
        self.low, self.high = bounds

    def see(self, value: Any) -> None:
        number = as_integer(value)
        if number is not None and not self.low <= number <= self.high:
            self.tally.add(value)

    def problems(self, rows: int) -> list[LintProblem]:
        if not self.tally.count:
            return []
        biggest = max((abs(n) for n in map(as_integer, self.tally.values) if n is not None), default=0)
        wider = fitting_integer(biggest) or "numeric"
        return [
            self.problem(
                rows,
                "integer_range",
                f"values outside {self.declared.text}{self.where.type_note} ({self.low}..{self.high})",
                f"use a wider type: `type: {wider}`",
            )
        ]


def fitting_integer(magnitude: int) -> str | None:
    """The smallest PostgreSQL integer type holding ±magnitude (None: none does)."""
    for name in ("smallint", "integer", "bigint"):
        low, high = INTEGER_RANGES[name]
        if low <= -magnitude and magnitude <= high:
            return name
    return None


class StringLength(Checker):
    def __init__(self, where: Where, declared: DeclaredType, limit: int) -> None:
        super().__init__(where)
        self.declared = declared
        self.limit = limit
        self.longest = 0

    def see(self, value: Any) -> None:
        if isinstance(value, str | int) and not isinstance(value, bool):
            length = len(str(value).rstrip(" "))  # PostgreSQL cuts trailing spaces rather than refusing them
            if length > self.limit:
                self.tally.add(value)
                self.longest = max(self.longest, length)

    def problems(self, rows: int) -> list[LintProblem]:
        if not self.tally.count:
            return []
        return [
            self.problem(
                rows,
                "string_too_long",
                f"values longer than {self.declared.text}{self.where.type_note} allows (longest: {self.longest} "
                "characters); the transform refuses them",
                f"use a longer type, `type: varchar({self.longest})`, or `type: text`",
            )
        ]


class DecimalLimits(Checker):
    """numeric(p,s): more fractional digits than s are rounded (a warning); more integer digits than p-s fail."""

    def __init__(self, where: Where, declared: DeclaredType, limits: tuple[int, int]) -> None:
        super().__init__(where)
        self.declared = declared
        self.precision, self.scale = limits
        self.too_long = Tally()
        self.max_scale = 0
        self.max_digits = 0

    def see(self, value: Any) -> None:
        number = as_decimal(value)
        if number is None:
            return
        scale = fraction_digits(number)
        if scale > self.scale:
            self.tally.add(value)
            self.max_scale = max(self.max_scale, scale)
        digits = integer_digits(number, self.scale)
        if digits > self.precision - self.scale:
            self.too_long.add(value)
            self.max_digits = max(self.max_digits, digits)

    def problems(self, rows: int) -> list[LintProblem]:
        found, src, t = [], self.where.source_column, self.declared.text + self.where.type_note
        if self.tally.count:
            wider = f"numeric({max(self.max_digits, self.precision - self.scale) + self.max_scale},{self.max_scale})"
            found.append(
                self.problem(
                    rows,
                    "decimal_scale",
                    f"values with more than {self.scale} decimal places; {t} rounds them",
                    f'keep the digits with `type: {wider}`, or round on purpose: `expression: "ROUND({{{src}}}, '
                    f'{self.scale})"`',
                    severity="warning",
                )
            )
        if self.too_long.count:
            scale = max(self.scale, self.max_scale)
            found.append(
                self.problem(
                    rows,
                    "decimal_precision",
                    f"values with more than {self.precision - self.scale} integer digits; {t} refuses them",
                    f"use `type: numeric({self.max_digits + scale},{scale})` (or plain `type: numeric`)",
                    tally=self.too_long,
                )
            )
        return found


def as_integer(value: Any) -> int | None:
    """The value as an integer when it is one (int, integral Decimal/float, digits text); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        return int(value) if math.isfinite(value) and value == int(value) else None
    if isinstance(value, str) and _INTEGER_TEXT.match(value):
        return int(value)
    return None


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    try:
        number = (
            Decimal(repr(value) if isinstance(value, float) else str(value).strip())
            if isinstance(value, int | float | str)
            else None
        )
    except decimal.InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def fraction_digits(number: Decimal) -> int:
    """Significant digits after the point: 1.50 has 1, 2E+3 has 0."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def integer_digits(number: Decimal, scale: int = 0) -> int:
    """Digits before the point once rounded to ``scale`` places, as PostgreSQL rounds (half away from zero)."""
    with decimal.localcontext(prec=max(28, number.adjusted() + scale + 2)):
        whole = abs(int(number.quantize(Decimal(1).scaleb(-scale), rounding=decimal.ROUND_HALF_UP)))
    return len(str(whole)) if whole else 0
