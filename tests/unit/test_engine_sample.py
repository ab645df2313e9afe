"""The shared sampling of engines without SQL: their copy_rows, stopped once the sample holds enough rows."""

from __future__ import annotations

from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines.base import RowSink, SourceColumn
from databridge.engines.sample import through_copy_rows


class _Rows:
    """An engine whose copy_rows sends ``rows`` rows (as COPY text when ``text``), counting what it was asked for."""

    def __init__(self, rows: int, *, text: bool = False) -> None:
        self.rows, self.text, self.sent = rows, text, 0

    def copy_rows(self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int) -> int:
        for i in range(self.rows):
            self.sent += 1
            if self.text:
                sink.write(f"{i}\ta\\tb\t\\N\n".encode())
            else:
                sink.write_row((i, "a"))
        return self.rows


def _sample(engine: Any, limit: int | None) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    assert through_copy_rows(engine, TableRef("s", "t"), [], limit, rows.append, 100) == len(rows)
    return rows


def test_the_read_stops_at_the_limit() -> None:
    engine = _Rows(1000)
    assert _sample(engine, 3) == [(0, "a"), (1, "a"), (2, "a")]
    assert engine.sent == 4  # the row after the sample stops the read


def test_every_row_without_a_limit_and_copy_text_parsed() -> None:
    assert len(_sample(_Rows(250), None)) == 250
    assert _sample(_Rows(5, text=True), 2) == [("0", "a\tb", None), ("1", "a\tb", None)]
