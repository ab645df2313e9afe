"""The Arrow path into staging: record batches made to fit the staging types, written by binary COPY.

PostgreSQL parsing COPY is the slowest part of a load on a small machine; binary COPY from Arrow spares it the text
parsing of numbers and dates, and no Python touches a value. Only the staging types listed here take this path, each
with a conversion that keeps every value exact; a source decides which of its columns may (engines/mysql.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
from collections.abc import Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from databridge.engines.base import SourceColumn
from databridge.engines.postgres import nul_error
from databridge.errors import EngineError

_JSONB_VERSION = pa.scalar(b"\x01", pa.binary())
_NUMERIC = re.compile(r"numeric\((\d+),(\d+)\)")
# Decimals travel as decimal128(38, 10) from the reader (engines/mysql.py): exact while the scale is at most 10 and
# the value has at most 28 digits.
MAX_DECIMAL_SCALE, MAX_DECIMAL_DIGITS = 10, 28


_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "double precision": pa.float64(),
    "boolean": pa.bool_(),
    "text": pa.string(),
    "jsonb": pa.binary(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}


M_ARENA_MAX = -8
"""glibc's mallopt parameter: the most malloc arenas the process may have."""


@functools.cache
def cap_malloc_arenas(arenas: int = 2) -> None:
    """Keep the task's memory flat over many batches: ConnectorX starts threads for every query it runs, glibc gives
    threads arenas of their own and seldom hands their freed memory back, so a process reading batch after batch grew
    by about 0.5 MB a batch (measured: 125 MB after 10 reads of 100,000 rows, 199 MB after 150). With two arenas
    it stays flat (108 MB, then 120 MB). Once per process; nothing is done where the C library is not glibc."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_ARENA_MAX, arenas)
    except (OSError, AttributeError):
        pass


def fits(pg_type: str) -> bool:
    """Whether values staged as ``pg_type`` can take the Arrow path exactly."""
    numeric = _NUMERIC.fullmatch(pg_type)
    if numeric:
        return int(numeric.group(1)) <= MAX_DECIMAL_DIGITS and int(numeric.group(2)) <= MAX_DECIMAL_SCALE
    return pg_type in _TYPES or pg_type.startswith("varchar(")


def arrow_type(pg_type: str) -> pa.DataType:
    """The Arrow type whose binary COPY form a staging column of ``pg_type`` reads (varchar(n) reads text).

    Decimals take the column's own precision and scale: fewer digits for the driver to encode per value."""
    numeric = _NUMERIC.fullmatch(pg_type)
    if numeric:
        return pa.decimal128(int(numeric.group(1)), int(numeric.group(2)))
    return _TYPES.get(pg_type, pa.string())


def target_schema(columns: Sequence[SourceColumn]) -> pa.Schema:
    return pa.schema([(c.name, arrow_type(c.pg_type)) for c in columns])


def conformed(
    batches: Iterator[pa.RecordBatch], columns: Sequence[SourceColumn], table: str
) -> Iterator[pa.RecordBatch]:
    """Each batch made to fit the staging columns (``conform``), counting rows so that an error names its row."""
    first = 1
    for batch in batches:
        yield conform(batch, columns, table, first)
        first += batch.num_rows


def conform(batch: pa.RecordBatch, columns: Sequence[SourceColumn], table: str, first_row: int = 1) -> pa.RecordBatch:
    """One batch with each column in its staging column's Arrow type; a safe cast raises rather than wrap a value.

    ``first_row`` is the batch's first row in reading order (counted from 1)."""
    arrays = []
    for i, column in enumerate(columns):
        values, where = batch.column(i), f"{table}.{column.name}"
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            _refuse_nul(values, table, column.name, first_row)
        if column.pg_type == "boolean":
            arrays.append(_boolean(values, where))
        elif column.pg_type == "jsonb":
            arrays.append(_jsonb(values))
        else:
            arrays.append(pc.cast(values, arrow_type(column.pg_type)))
    return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in columns])


def _refuse_nul(values: pa.Array, table: str, column: str, first_row: int) -> None:
    """PostgreSQL text cannot hold a NUL character: name the column and row rather than let COPY fail."""
    if not _holds_zero_byte(values):
        return
    found = pc.match_substring(values, "\x00")
    if not pc.any(found).as_py():
        return
    row = first_row + pc.index(found, True).as_py()
    raise nul_error(table, column, row)


def _holds_zero_byte(values: pa.Array) -> bool:
    """Whether any value's UTF-8 bytes hold a zero byte: the minimum of the values' bytes, read in place (SIMD)
    instead of a substring search per value. Bytes between values (NULLs) are empty, so nothing else is read."""
    width = pa.int64() if pa.types.is_large_string(values.type) else pa.int32()
    offsets = pa.Array.from_buffers(width, len(values) + 1, [None, values.buffers()[1]], offset=values.offset)
    start, end = offsets[0].as_py(), offsets[-1].as_py()
    if end == start:
        return False
    data = pa.Array.from_buffers(pa.uint8(), end - start, [None, values.buffers()[2]], offset=start)
    return bool(pc.min(data).as_py() == 0)


def _boolean(values: pa.Array, where: str) -> pa.Array:
    """0/1 as false/true; any other number is refused, as PostgreSQL refuses it from text."""
    if pa.types.is_boolean(values.type):
        return values
    known = pc.drop_null(values)
    odd = pc.filter(known, pc.invert(pc.is_in(known, pa.array([0, 1], values.type))))
    if len(odd):
        raise EngineError(
            f'{where}: invalid input syntax for type boolean: "{odd[0].as_py()}" (values other than 0/1: stage the '
            "column as a number with source_types, e.g. smallint)",
            transient=False,
        )
    return pc.not_equal(values, pa.scalar(0, values.type))


def _jsonb(values: pa.Array) -> pa.Array:
    """jsonb's binary form is a version byte followed by the JSON text."""
    return pc.binary_join_element_wise(_JSONB_VERSION, pc.cast(values, pa.binary()), pa.scalar(b"", pa.binary()))


def encoded(
    batches: Iterator[pa.RecordBatch], columns: Sequence[SourceColumn], table: str
) -> Iterator[tuple[bytes, int]]:
    """The batches conformed to the staging columns and encoded as one ``COPY ... FROM STDIN (FORMAT BINARY)``
    stream: (data, rows in it), from the header to the trailer."""
    from pgpq import ArrowToPostgresBinaryEncoder

    encoder = ArrowToPostgresBinaryEncoder(target_schema(columns))
    yield encoder.write_header(), 0
    for batch in conformed(batches, columns, table):
        yield encoder.write_batch(batch), batch.num_rows
    yield encoder.finish(), 0
