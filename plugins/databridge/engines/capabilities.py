"""What a source engine can do beyond ``SourceEngine``: one Protocol per capability, and one function per capability
that says whether an engine has it (the runtime asks these, never an attribute by name).

| capability | function | engines |
|---|---|---|
| read part of a table (chunks) | ``chunkable`` | PostgreSQL, MySQL, SQLite, SQL Server, MongoDB |
| read a key range in batches | ``batchable`` | PostgreSQL, MySQL, SQLite |
| Arrow record batches | ``reads_arrow`` | MySQL |
| its own binary COPY, relayed | ``relays_binary_copy`` | PostgreSQL |
| fingerprints for the proof | ``computes_fingerprints`` | PostgreSQL, MySQL, SQLite, MongoDB, CouchDB |
| attachments | ``has_attachments`` | CouchDB |
| a second connection | ``reopenable`` | engines built from a ConnectionInfo and SourceOptions |
| warnings of the last read | ``reports_warnings`` | MySQL, CouchDB |
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from typing_extensions import TypeIs

from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo, RowSink, SourceColumn, SourceOptions, TableInfo
from databridge.engines.chunks import Chunk, Split
from databridge.engines.fingerprint import ProofColumn

if TYPE_CHECKING:
    import pyarrow as pa

    from databridge.engines.couchdb.stubs import AttachmentStub


@runtime_checkable
class ChunkableSource(Protocol):
    """A source that reads part of a table: SQL engines with keys, or a row locator, or a row hash."""

    def split(self, table: TableRef, key: str | None, chunks: int) -> Split:
        """Cut ``table`` into at most ``chunks`` chunks over ``key`` (None: the engine's own fallback)."""
        ...

    def describe(self, table: TableRef) -> TableInfo: ...

    def row_count(self, table: TableRef, chunk: Chunk | None = None) -> int: ...

    def copy_rows(
        self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int, chunk: Chunk | None = None
    ) -> int: ...


@runtime_checkable
class BatchableSource(ChunkableSource, Protocol):
    """A source that also reads a key range in batches in key order (a retry goes on after the last batch)."""

    def next_bound(self, table: TableRef, part: Chunk, rows: int) -> Any:
        """Where a batch of ``rows`` rows of ``part`` read in key order ends (``engines/chunks.py`` ``next_key``)."""
        ...


@runtime_checkable
class ArrowSource(Protocol):
    """A source that reads rows as Arrow record batches (written with a binary COPY)."""

    def arrow_batches(
        self, table: TableRef, columns: list[SourceColumn], batch_size: int, chunk: Chunk | None = None
    ) -> Iterator[pa.RecordBatch] | None:
        """The batches of ``chunk`` (None: all); None when these columns are read row by row."""
        ...


@runtime_checkable
class BinaryCopySource(Protocol):
    """A PostgreSQL source: its own binary COPY, in the staging types, relayed to the target as it comes."""

    def copy_binary(
        self, table: TableRef, columns: list[SourceColumn], write: Callable[[bytes], None], chunk: Chunk | None = None
    ) -> int: ...


@runtime_checkable
class FingerprintSource(Protocol):
    """A source engine that fingerprints its own tables (SQL engines in SQL; document stores by streaming)."""

    def proof_column(self, column: SourceColumn) -> ProofColumn | None:
        """How the side reads a column (as extract does); None when it cannot produce its canonical text."""
        ...

    def proof_side(self, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn]) -> Any:
        """A ``Side`` (``engines/fingerprint.py``) over the source table."""
        ...


@runtime_checkable
class AttachmentSource(Protocol):
    """A source whose documents carry attachments (CouchDB)."""

    def attachment_stubs(self) -> Iterator[AttachmentStub]: ...

    def attachment(self, database: str, doc_id: str, name: str) -> AbstractContextManager[Iterator[bytes]]: ...


@runtime_checkable
class ReopenableSource(Protocol):
    """A source built from its connection details and options: ``type(engine)(info, options)`` opens another one."""

    info: ConnectionInfo
    options: SourceOptions


@runtime_checkable
class WarningSource(Protocol):
    """A source whose reads may change values it must tell about (e.g. zero dates read as NULL)."""

    warnings: list[str]


def chunkable(engine: object) -> TypeIs[ChunkableSource]:
    return isinstance(engine, ChunkableSource)


def batchable(engine: object) -> TypeIs[BatchableSource]:
    return isinstance(engine, BatchableSource)


def reads_arrow(engine: object) -> TypeIs[ArrowSource]:
    return isinstance(engine, ArrowSource)


def relays_binary_copy(engine: object) -> TypeIs[BinaryCopySource]:
    return isinstance(engine, BinaryCopySource)


def computes_fingerprints(engine: object) -> TypeIs[FingerprintSource]:
    return isinstance(engine, FingerprintSource)


def has_attachments(engine: object) -> TypeIs[AttachmentSource]:
    return isinstance(engine, AttachmentSource)


def reopenable(engine: object) -> TypeIs[ReopenableSource]:
    return isinstance(engine, ReopenableSource)


def reports_warnings(engine: object) -> TypeIs[WarningSource]:
    return isinstance(engine, WarningSource)


def drain_warnings(engine: object) -> list[str]:
    """What the last read changed and must be said, emptied once taken; [] for an engine that reports none."""
    if not reports_warnings(engine):
        return []
    taken = list(engine.warnings)
    engine.warnings.clear()
    return taken
