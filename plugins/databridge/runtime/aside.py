"""Source queries run beside the copy: the next batch's bound and the table's row count, on a connection of their own.

A batch's copy waits on PostgreSQL; the key query that finds where the next batch ends, and the COUNT(*) that checks
the table was read whole, wait on the source. Run one after the other they add up (about 1.2 s of a 6 s extract of
a million rows); here they run in one worker thread with a second connection of the same source (the drivers
release the GIL while they wait), and the copy takes their answers when it needs them. A query that fails aside is
run again in line, where its error is raised as usual.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from databridge.engines.base import SourceEngine
from databridge.engines.capabilities import reopenable

T = TypeVar("T")


class Aside:
    """A worker thread with its own connection to ``source`` (opened on first use, closed by ``close``).

    A daemon thread: a query stuck on a source that went away never keeps the task from ending."""

    def __init__(self, source: SourceEngine) -> None:
        self.source = source
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[Any], Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="databridge-aside", daemon=True)
        self._thread.start()
        self._twin: Any = None
        self._pending: dict[Any, Future[Any]] = {}

    def submit(self, key: Any, query: Callable[[Any], T]) -> None:
        """Start ``query(engine)`` aside, to be taken by ``take(key, ...)``."""
        if key not in self._pending:
            future: Future[Any] = Future()
            self._pending[key] = future
            self._queue.put((future, query))

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            future, query = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(self._run(query))
                except BaseException as exc:  # noqa: BLE001 - handed to take(), which asks again in line
                    future.set_exception(exc)
        self._close_twin()

    def take(self, key: Any, query: Callable[[Any], T]) -> T:
        """The answer of the query started under ``key``, else (none started, or it failed) ``query(source)``."""
        pending = self._pending.pop(key, None)
        if pending is not None:
            try:
                answer: T = pending.result()
                return answer
            except Exception:  # noqa: BLE001 - asked again in line, where the error is explained and raised
                pass
        return query(self.source)

    def _run(self, query: Callable[[Any], T]) -> T:
        if self._twin is None:
            if not reopenable(self.source):
                raise LookupError("this source cannot open a second connection")
            self._twin = type(self.source)(self.source.info, self.source.options)  # type: ignore[call-arg]
        return query(self._twin)

    def close(self, wait: float = 10.0) -> None:
        """Stop the worker (after the query it runs, if any, for at most ``wait`` seconds) and close its connection."""
        for pending in self._pending.values():
            pending.cancel()
        self._queue.put(None)
        self._thread.join(wait)

    def _close_twin(self) -> None:
        if self._twin is not None:
            self._twin.close()
            self._twin = None
