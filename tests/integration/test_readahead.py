"""The Arrow read-ahead (runtime/readahead.py) against a real MariaDB: batches as the batch loop would cut them, a
restart when the loop asks for another position, and a source error raised in the loop, not lost in the thread."""

from __future__ import annotations

import pgpq  # noqa: F401 - the encoder the read-ahead uses must be installed
import pytest

from databridge.compiler.plan import TableRef
from databridge.engines import open_source
from databridge.engines.chunks import RANGE, Chunk
from databridge.errors import EngineError
from databridge.operators.base import connection_info
from databridge.runtime import readahead
from databridge.runtime.readahead import Begin, ReadAhead

from .conftest import Source

pytestmark = pytest.mark.integration

ROWS = 1000


@pytest.fixture
def events(source: Source) -> Source:
    source.db.execute("CREATE TABLE ev (id INT PRIMARY KEY, label VARCHAR(20), amount DECIMAL(10,2))")
    source.db.execute(f"INSERT INTO ev SELECT seq, CONCAT('n', seq), seq / 4 FROM seq_1_to_{ROWS}")
    return source


def _open(source: Source) -> tuple[object, TableRef, list]:  # type: ignore[type-arg]
    engine = open_source(connection_info(source.conn_id))
    table = TableRef(source.schema, "ev")
    return engine, table, engine.columns(table)


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_batches_read_ahead_are_those_the_loop_would_cut(events: Source, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readahead, "MAX_BUFFERS", 2)  # the worker waits on the loop most of the time
    engine, table, columns = _open(events)
    chunk = Chunk(0, 1, RANGE, "id")
    ahead = ReadAhead(engine, table, columns, chunk, batch_size=50, commit_rows=300)  # type: ignore[arg-type]
    try:
        lower, first, seen = None, True, []
        while True:
            begun = ahead.begin(lower, first)
            assert isinstance(begun, Begin)
            expected_end = engine.next_bound(table, chunk.part(lower, None, first=first), 300)  # type: ignore[attr-defined]
            assert begun.end == expected_end
            stream = list(ahead.buffers())
            data = b"".join(d for d, _ in stream)
            assert data.startswith(b"PGCOPY\n\xff\r\n\x00") and data.endswith(b"\xff\xff")
            seen.append((lower, begun.end, sum(n for _, n in stream)))
            ahead.advance(begun.end)
            if begun.end is None:
                break
            lower, first = begun.end, False
        assert seen == [(None, 301, 300), (301, 601, 300), (601, 901, 300), (901, None, 100)]

        # The loop finds another position in the ledger (a concurrent attempt committed): it starts again there.
        begun = ahead.begin(601, False)
        assert isinstance(begun, Begin) and (begun.part.lower, begun.end) == (601, 901)
        stream = list(ahead.buffers())
        assert len(stream) >= 3 and sum(n for _, n in stream) == 300
    finally:
        ahead.close()
        engine.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("source", ["mysql"], indirect=True)
def test_an_error_met_ahead_is_raised_in_the_loop(events: Source) -> None:
    events.db.execute("UPDATE ev SET label = 'bad\\0nul' WHERE id = 450")
    engine, table, columns = _open(events)
    ahead = ReadAhead(engine, table, columns, Chunk(0, 1, RANGE, "id"), batch_size=50, commit_rows=300)  # type: ignore[arg-type]
    try:
        assert isinstance(ahead.begin(None, True), Begin)
        list(ahead.buffers())  # the first batch is clean
        ahead.advance(301)
        begun = ahead.begin(301, False)
        with pytest.raises(EngineError, match="column 'label' of row 150 .* holds a NUL character"):
            assert isinstance(begun, Begin)
            list(ahead.buffers())
    finally:
        ahead.close()
        engine.close()  # type: ignore[attr-defined]
