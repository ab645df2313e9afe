"""Read-ahead for the Arrow path: the next batches read, converted and encoded while the current one is written.

Copied one after the other, a batch's reading (ConnectorX), conversion and binary encoding wait for PostgreSQL, and
PostgreSQL waits for them, twice per batch: at its start and at its commit. A worker thread here goes through the
batches of a chunk in key order (asking where each ends, as ``copy_batches`` would), and hands their COPY data over a
bounded queue; the batch loop writes each batch's data in its own transaction with its ledger row, as before. So
the ledger still decides: a batch the loop did not commit is never counted, and when the loop finds another
position in the ledger than the one read ahead (a concurrent attempt committed batches), the read-ahead starts again
from there. At most ``MAX_BUFFERS`` encoded fetches (of ``batch_size`` rows) wait in memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines.base import RowPathNeeded, SourceColumn
from databridge.engines.capabilities import BatchableSource, reads_arrow
from databridge.engines.chunks import Chunk

MAX_BUFFERS = 8
"""Encoded fetches waiting to be written: about 8 x batch_size rows in memory."""


@dataclass(frozen=True)
class Begin:
    """A batch read ahead: its key range, and where it ends (None: the rest of the chunk)."""

    part: Chunk
    end: Any


@dataclass(frozen=True)
class Done:
    """The batch's COPY data is all handed over."""


@dataclass(frozen=True)
class RowPath:
    """The source met values only its row path reads right: this batch (and the rest) go by rows."""


@dataclass(frozen=True)
class Failed:
    error: BaseException


class ReadAhead:
    """Batches of one chunk read ahead in a worker thread: ``begin(lower, first)`` then ``buffers()``."""

    def __init__(
        self,
        source: BatchableSource,
        table: TableRef,
        columns: list[SourceColumn],
        chunk: Chunk,
        batch_size: int,
        commit_rows: int,
    ) -> None:
        self.source, self.table, self.columns, self.chunk = source, table, columns, chunk
        self.batch_size, self.commit_rows = batch_size, commit_rows
        self.off = False
        """Set once a batch needed the row path: the rest of the chunk goes by rows, in the batch loop."""
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._queue: queue.Queue[Any] = queue.Queue(MAX_BUFFERS)
        self._expect: tuple[Any, bool] | None = None
        """(lower, first) of the batch the worker hands over next."""

    def begin(self, lower: Any, first: bool) -> Begin | RowPath:
        """The batch starting at ``lower`` (``first``: the chunk's first, with its NULL keys): its range, or RowPath."""
        if self._expect != (lower, first):
            self._start(lower, first)
        item = self._get()
        if isinstance(item, RowPath):
            self.close()
            self.off = True
        return item  # type: ignore[no-any-return]

    def buffers(self) -> Iterator[tuple[bytes, int]]:
        """The COPY data of the batch ``begin`` returned, to its end, as (data, rows in it); raises RowPathNeeded if
        the source met values only its row path reads right (the caller undoes what it wrote)."""
        while True:
            item = self._get()
            if isinstance(item, Done):
                return
            if isinstance(item, RowPath):
                self.close()
                self.off = True
                raise RowPathNeeded(f"{self.table} holds values for the row path")
            yield item

    def advance(self, end: Any) -> None:
        """The batch was committed: the worker's next batch starts at ``end`` (None: the chunk is done)."""
        self._expect = None if end is None else (end, False)
        if end is None:
            self.close()

    def _get(self) -> Any:
        item = self._queue.get()
        if isinstance(item, Failed):
            self.close()
            raise item.error
        return item

    def _start(self, lower: Any, first: bool) -> None:
        self.close()
        self._stop = threading.Event()
        self._queue = queue.Queue(MAX_BUFFERS)
        self._expect = (lower, first)
        self._thread = threading.Thread(
            target=self._work, args=(lower, first, self._queue, self._stop), name="databridge-readahead", daemon=True
        )
        self._thread.start()

    def _work(self, lower: Any, first: bool, out: queue.Queue[Any], stop: threading.Event) -> None:
        def put(item: Any) -> bool:
            """Hand over ``item``; False once the loop stopped listening."""
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            while True:
                part = self.chunk.part(lower, self.chunk.upper, first=first)
                end = self.source.next_bound(self.table, part, self.commit_rows)
                part = self.chunk.part(lower, part.upper if end is None else end, first=first)
                if not self._read(part, end, put) or end is None:
                    return
                lower, first = end, False
        except RowPathNeeded:
            put(RowPath())
        except BaseException as exc:  # noqa: BLE001 - raised in the batch loop, inside its transaction
            put(Failed(exc))

    def _read(self, part: Chunk, end: Any, put: Callable[[Any], bool]) -> bool:
        """Hand over one batch: Begin, its COPY data, Done. False when it stopped (or the batch goes by rows)."""
        from databridge.engines import arrow

        assert reads_arrow(self.source)  # copy_batches reads ahead only for those
        batches = self.source.arrow_batches(self.table, self.columns, self.batch_size, part)
        if batches is None:
            put(RowPath())
            return False
        if not put(Begin(part, end)):
            return False
        return all(put(item) for item in arrow.encoded(batches, self.columns, str(self.table))) and put(Done())

    def close(self) -> None:
        """Stop the worker (it ends at its next hand-over) and forget what it read ahead."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(30)
        self._thread = None
        self._expect = None
