"""CouchDB as a source: a database holds documents of several kinds; each kind (or all of them) reads as a table.

``source: <database>.<type>`` selects the documents whose type field (connection extra ``type_field``, default
"type") equals <type>; ``source: <database>._all`` selects every document. Design documents (``_design/...``) are
never rows; deleted documents are not either.

Why ``_all_docs?include_docs=true`` rather than ``_changes``: _all_docs lists only live documents (a deletion is
simply absent, while _changes from since=0 returns tombstones to filter), pages deterministically by key (startkey
= last _id, skip=1: a retried page reads the same documents, in _id order, so staging is reproducible) and has the
same cost per document. _changes is the right feed for incremental loads (since=<last seq>), not for a full read.

Columns are inferred from the first ``sample_size`` matching documents (connection extra, default 1000; 0 reads
every document): nested objects give dotted paths (customer.address.city) besides their own jsonb column, arrays
are jsonb, and each column says which share of the sample held it (confidence). ``_id`` and ``_rev`` always come
first; ``_attachments`` is not a column: the stubs are recorded while reading (see ``attachment_stubs``) and staged
by the extract stage for the load stage, which copies the bytes to S3 (runtime/attachments.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines.base import ColumnInfo, ConnectionInfo, Consume, RowSink, SourceColumn, SourceOptions, TableInfo
from databridge.engines.canonical import kind_of
from databridge.engines.couchdb.client import CouchClient
from databridge.engines.couchdb.shape import Mismatch, Shape, converter, lookup
from databridge.engines.couchdb.stubs import AttachmentStub, StubSpool
from databridge.engines.fingerprint import ProofColumn
from databridge.engines.sample import through_copy_rows
from databridge.engines.schema import TableSchema, columns_only
from databridge.engines.streamed import StreamSide, stream_side
from databridge.errors import EngineError
from databridge.spec.names import did_you_mean

ALL = "_all"
"""The table of every (non-design) document of a database."""
DEFAULT_SAMPLE = 1000
PAGE = 1000
"""Documents per _all_docs page during discovery."""


class CouchDBSource:
    """A CouchDB server opened for one stage (conn_type "couchdb"; schema = the default database)."""

    name = "couchdb"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        self.type_field = str(info.extra.get("type_field", "type"))
        self.sample_size = int(info.extra.get("sample_size", DEFAULT_SAMPLE))
        self.client = CouchClient(info)
        self.stubs = StubSpool()
        self.warnings: list[str] = []
        self._shapes: dict[TableRef, Shape] = {}

    def default_schema(self) -> str:
        if not self.info.database:
            raise EngineError(
                f"{self.info.describe()}: set the connection's schema to the CouchDB database, or write source: "
                "<database>.<type>",
                transient=False,
            )
        return self.info.database

    def schemas(self) -> list[str]:
        return self.client.databases()

    def tables(self, schema: str) -> list[str]:
        """The document types seen in a sample, then ``_all``."""
        seen: set[str] = set()
        for documents in self._sampled(self._pages(schema)):
            seen.update(str(d[self.type_field]) for d in documents if isinstance(d.get(self.type_field), (str, int)))
        return [*sorted(seen), ALL]

    def describe(self, table: TableRef) -> TableInfo:
        shape = self._shape(table)
        database = table.schema or self.default_schema()
        estimate = self._estimate(TableRef(database, table.name), shape)
        return TableInfo(
            database, table.name, tuple(shape.columns()), primary_key=("_id",), approx_rows=estimate, sampled=shape.rows
        )

    def schema_of(self, table: TableRef) -> TableSchema:
        """Documents have no catalog: the columns discovery infers and the key, nothing else to rebuild."""
        return columns_only(self.describe(table))

    def columns(self, table: TableRef) -> list[SourceColumn]:
        return [_source_column(c) for c in self._shape(table).columns()]

    def row_count(self, table: TableRef) -> int:
        database = table.schema or self.default_schema()
        if table.name == ALL:
            return int(self.client.database_info(database)["doc_count"]) - self.client.design_count(database)
        return sum(len(page) for page in self._matching(table, PAGE))

    def copy_rows(self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int) -> int:
        """Stream the documents of ``table`` as rows of ``columns``; their attachment stubs go to ``stubs``."""
        database = table.schema or self.default_schema()
        readers = [(c, converter(c.pg_type)) for c in columns]
        rows = 0
        for page in self._matching(table, batch_size):
            for document in page:
                sink.write_row(tuple(_value(document, column, convert, table) for column, convert in readers))
                self.stubs.add_document(database, document)
            rows += len(page)
        return rows

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        return through_copy_rows(self, table, columns, limit, consume, batch_size)

    def zero_dated(self, column: SourceColumn) -> bool:
        return False

    def attachment_stubs(self) -> Iterator[AttachmentStub]:
        """Every attachment stub of the documents read by ``copy_rows`` so far."""
        return iter(self.stubs)

    def attachment(self, database: str, doc_id: str, name: str) -> AbstractContextManager[Iterator[bytes]]:
        """The bytes of one attachment, in chunks."""
        return self.client.attachment(database, doc_id, name)

    def proof_column(self, column: SourceColumn) -> ProofColumn | None:
        """Every staged column can be fingerprinted: the reader's values are hashed in Python."""
        return ProofColumn(column.name, column.name, kind_of(column.pg_type))

    def proof_side(self, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn]) -> StreamSide:
        """CouchDB has no SQL to fingerprint with: the documents are streamed by the extract's reader and hashed in
        Python."""
        return stream_side(self, table, columns, key, f"source {table} (CouchDB, streamed and hashed in Python)")

    def close(self) -> None:
        self.stubs.close()
        self.client.close()

    def _pages(self, database: str, page_size: int = PAGE) -> Iterator[list[dict[str, Any]]]:
        self.client.database_info(database)  # a missing database: one clear error with the closest names
        return self.client.documents(database, page_size)

    def _matching(self, table: TableRef, page_size: int) -> Iterator[list[dict[str, Any]]]:
        pages = self._pages(table.schema or self.default_schema(), page_size)
        if table.name == ALL:
            yield from pages
            return
        for page in pages:
            yield [d for d in page if str(d.get(self.type_field)) == table.name]

    def _sampled(self, pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        """Pages until ``sample_size`` documents were seen (all of them when it is 0)."""
        seen = 0
        for page in pages:
            yield page[: self.sample_size - seen] if self.sample_size else page
            seen += len(page)
            if self.sample_size and seen >= self.sample_size:
                return

    def _shape(self, table: TableRef) -> Shape:
        ref = TableRef(table.schema or self.default_schema(), table.name)
        if ref not in self._shapes:
            shape = Shape()
            for page in self._sampled(self._matching(ref, PAGE)):
                for document in page:
                    shape.add_document(document)
            if shape.rows == 0 and ref.name != ALL:
                raise self._missing_type(ref)
            self._shapes[ref] = shape
        return self._shapes[ref]

    def _missing_type(self, table: TableRef) -> EngineError:
        assert table.schema is not None
        known = self.tables(table.schema)
        hint = did_you_mean(table.name, known) or f" (types seen: {', '.join(known)})"
        return EngineError(
            f"source table {table}: no document of {self.info.describe()} has {self.type_field} = {table.name!r}{hint}",
            transient=False,
            engine="couchdb",
        )

    def _estimate(self, table: TableRef, shape: Shape) -> int | None:
        """Documents of the table without a scan: exact for _all and for a sample that read every document."""
        if table.name == ALL:
            return self.row_count(table)
        return shape.rows if shape.rows < self.sample_size or not self.sample_size else None


def _source_column(column: ColumnInfo) -> SourceColumn:
    return SourceColumn(column.name, column.native_type, column.nullable, column.pg_type, column.note)


def _value(document: dict[str, Any], column: SourceColumn, convert: Any, table: TableRef) -> Any:
    value = lookup(document, column.name)
    try:
        return convert(value)
    except Mismatch:
        raise EngineError(
            f"source table {table}: document {document.get('_id')!r}: {column.name} holds {str(value)[:60]!r}, which "
            f"the column's type {column.pg_type} (inferred from a sample: {column.native_type}) cannot hold; set the "
            "connection extra sample_size to 0 so every document is sampled, or change the document",
            transient=False,
            engine="couchdb",
        ) from None
