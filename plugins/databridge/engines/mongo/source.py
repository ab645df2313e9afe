"""MongoDB as a source: a database is a schema, a collection a table, and each array of a collection a child table
named ``<collection>.<array path>`` whose rows are the array's elements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pymongo
from bson.codec_options import CodecOptions, DatetimeConversion
from pymongo import errors

from databridge.compiler.plan import TableRef
from databridge.engines.base import (
    ColumnInfo,
    ConnectionInfo,
    Consume,
    ForeignKeyInfo,
    RowSink,
    SourceColumn,
    SourceOptions,
    TableInfo,
)
from databridge.engines.canonical import kind_of
from databridge.engines.chunks import RANGE, Chunk, Split, distinct_bounds, quantile_offsets
from databridge.engines.fingerprint import ProofColumn
from databridge.engines.hooks import mongo_extras
from databridge.engines.mongo.shape import INDEX, PARENT_ID, VALUE, Shape, child_columns, survey
from databridge.engines.mongo.values import ValueMismatch, lookup, projection, row_reader, to_text
from databridge.engines.postgres import CONNECT_TIMEOUT_SECONDS, missing_table
from databridge.engines.sample import through_copy_rows
from databridge.engines.schema import TableSchema, columns_only
from databridge.engines.streamed import StreamSide, stream_side
from databridge.errors import EngineError

DEFAULT_SAMPLE_SIZE = 1000
SYSTEM_DATABASES = {"admin", "local", "config"}
# Server error codes that a retry can outlast (pymongo's retryable-read list, plus a cursor the server dropped).
_TRANSIENT_CODES = {6, 7, 43, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 112, 251}


def mongo_error(exc: BaseException, doing: str) -> EngineError:
    """A pymongo error as an EngineError: lost or unreachable servers are transient, the rest (auth, bad names,
    unsupported operations) permanent."""
    transient = isinstance(exc, errors.ConnectionFailure | errors.WaitQueueTimeoutError) or (
        isinstance(exc, errors.OperationFailure) and exc.code in _TRANSIENT_CODES
    )
    if isinstance(exc, errors.OperationFailure):
        text = str((exc.details or {}).get("errmsg") or exc).strip()
    else:  # pymongo appends the whole topology description: keep the part a person reads
        text = str(exc).split(", Topology Description")[0].strip()
    return EngineError(f"MongoDB: {doing}: {text or type(exc).__name__}", transient=transient, engine="mongo")


class MongoSource:
    """Discovery from a sample of documents (the first and the last sample_size/2 by _id), and reads streamed with a
    cursor in batches, projected to the paths mapped."""

    name = "mongo"

    def __init__(self, info: ConnectionInfo, options: SourceOptions | None = None) -> None:
        self.info = info
        self.options = options or SourceOptions()
        self.sample_size = int(info.extra.get("sample_size", DEFAULT_SAMPLE_SIZE))
        self._shapes: dict[tuple[str, str], dict[str, Shape]] = {}
        self.client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(**_client_options(info))
        self._call(lambda: self.client.admin.command("ping"), f"cannot connect with {info.describe()}")

    def _call(self, action: Any, doing: str) -> Any:
        try:
            return action()
        except errors.PyMongoError as exc:
            raise mongo_error(exc, doing) from None

    def default_schema(self) -> str:
        return self.info.database or "test"

    def schemas(self) -> list[str]:
        names = self._call(self.client.list_database_names, "listing the databases")
        return sorted(n for n in names if n not in SYSTEM_DATABASES)

    def _collections(self, schema: str) -> list[str]:
        names = self._call(self.client[schema].list_collection_names, f"listing the collections of {schema}")
        return sorted(n for n in names if not n.startswith("system."))

    def tables(self, schema: str) -> list[str]:
        """Collections, each followed by the child tables of the arrays its sample holds."""
        return [f"{c}.{path}" if path else c for c in self._collections(schema) for path in self._survey(schema, c)]

    def _resolve(self, table: TableRef) -> tuple[str, str, str]:
        """(database, collection, array path or "") of a table name; a collection's own name wins over a child's."""
        schema = table.schema or self.default_schema()
        collections = set(self._collections(schema))
        candidates = [(table.name, "")] + [
            (table.name[:i], table.name[i + 1 :]) for i in range(len(table.name) - 1, 0, -1) if table.name[i] == "."
        ]
        for collection, path in candidates:
            if collection in collections and path in self._survey(schema, collection):
                return schema, collection, path
        raise missing_table(self, TableRef(schema, table.name))

    def _survey(self, schema: str, collection: str) -> dict[str, Shape]:
        key = (schema, collection)
        if key not in self._shapes:
            self._shapes[key] = self._call(
                lambda: survey(self._sample(schema, collection)), f"sampling {schema}.{collection}"
            )
        return self._shapes[key]

    def _sample(self, schema: str, collection: str) -> Iterator[Mapping[str, Any]]:
        """The first and the last sample_size/2 documents by _id (all of them when sample_size is 0): the same
        sample on every run, and both the oldest and the newest shape of the documents when _ids are ObjectIds."""
        coll = self._collection(schema, collection)
        if self.sample_size <= 0:
            yield from coll.find()
            return
        seen = set()
        for document in coll.find().sort("_id", 1).limit(self.sample_size - self.sample_size // 2):
            seen.add(to_text(document.get("_id")))
            yield document
        if self.sample_size // 2:
            for document in coll.find().sort("_id", -1).limit(self.sample_size // 2):
                if to_text(document.get("_id")) not in seen:
                    yield document

    def _collection(self, schema: str, collection: str) -> Any:
        return self.client[schema].get_collection(collection, codec_options=_CODEC)

    def describe(self, table: TableRef) -> TableInfo:
        schema, collection, path = self._resolve(table)
        shapes = self._survey(schema, collection)
        columns = self._column_infos(shapes, path)
        docs = self._call(
            self._collection(schema, collection).estimated_document_count, f"counting {schema}.{collection}"
        )
        if not path:
            return TableInfo(schema, collection, tuple(columns), ("_id",), (), docs, shapes[""].rows)
        per_doc = shapes[path].rows / shapes[""].rows if shapes[""].rows else 0.0
        parent = ForeignKeyInfo((PARENT_ID,), f"{schema}.{collection}", ("_id",))
        return TableInfo(
            schema, table.name, tuple(columns), (PARENT_ID, INDEX), (parent,), round(docs * per_doc), shapes[path].rows
        )

    def _column_infos(self, shapes: dict[str, Shape], path: str) -> list[ColumnInfo]:
        if not path:
            return shapes[""].columns()
        ids = [c for c in shapes[""].columns() if c.name == "_id"]
        return child_columns(shapes[path], ids[0].native_type if ids else "objectId")

    def schema_of(self, table: TableRef) -> TableSchema:
        """Documents have no catalog: the columns discovery infers and the key, nothing else to rebuild."""
        return columns_only(self.describe(table))

    def columns(self, table: TableRef) -> list[SourceColumn]:
        return [SourceColumn(c.name, c.native_type, c.nullable, c.pg_type) for c in self.describe(table).columns]

    def row_count(self, table: TableRef, chunk: Chunk | None = None) -> int:
        schema, collection, path = self._resolve(table)
        coll = self._collection(schema, collection)
        if not path:
            return int(self._call(lambda: coll.count_documents(id_filter(chunk)), f"counting {schema}.{collection}"))
        size = {"$cond": [{"$isArray": f"${path}"}, {"$size": f"${path}"}, 0]}
        pipeline = [{"$match": id_filter(chunk)}, {"$group": {"_id": None, "n": {"$sum": size}}}]
        result = self._call(lambda: list(coll.aggregate(pipeline)), f"counting {table}")
        return int(result[0]["n"]) if result else 0

    def split(self, table: TableRef, key: str | None, chunks: int) -> Split:
        """Quantiles of the documents' _id (a child table is split with its parent documents). MongoDB compares
        values of one type family only, so boundaries of mixed types leave the table whole."""
        if key not in (None, "_id"):
            raise EngineError(
                f"MongoDB: {table} can be split by _id only (chunk_key {key!r}); remove chunk_key",
                transient=False,
                engine="mongo",
            )
        schema, collection, _path = self._resolve(table)
        coll = self._collection(schema, collection)
        total = int(self._call(lambda: coll.count_documents({}), f"counting {schema}.{collection}"))
        bounds = self._call(
            lambda: distinct_bounds([_id_at(coll, o) for o in quantile_offsets(total, chunks)]),
            f"splitting {schema}.{collection}",
        )
        families = {"number" if isinstance(b, int | float) else type(b).__name__ for b in bounds}
        return Split(RANGE, "_id", bounds if len(families) == 1 else ())

    def copy_rows(
        self, table: TableRef, columns: list[SourceColumn], sink: RowSink, batch_size: int, chunk: Chunk | None = None
    ) -> int:
        schema, collection, path = self._resolve(table)
        rows = _elements(columns, path) if path else _documents(columns)
        fields = [path, "_id"] if path else [c.name for c in columns]
        cursor = self._collection(schema, collection).find(id_filter(chunk), projection(fields), batch_size=batch_size)
        sent = 0
        try:
            for row in rows(cursor):
                sink.write_row(row)
                sent += 1
        except errors.PyMongoError as exc:
            raise mongo_error(exc, f"reading {schema}.{table.name}") from None
        except ValueMismatch as exc:
            raise EngineError(
                f"{schema}.{table.name}: {exc}; {_widen_hint(self.sample_size)}", transient=False, engine="mongo"
            ) from None
        finally:
            cursor.close()
        return sent

    def sample_rows(
        self, table: TableRef, columns: list[SourceColumn], limit: int | None, consume: Consume, batch_size: int
    ) -> int:
        return through_copy_rows(self, table, columns, limit, consume, batch_size)

    def zero_dated(self, column: SourceColumn) -> bool:
        return False

    def proof_column(self, column: SourceColumn) -> ProofColumn | None:
        """Every staged column can be fingerprinted: the reader's values are hashed in Python."""
        return ProofColumn(column.name, column.name, kind_of(column.pg_type))

    def proof_side(self, table: TableRef, columns: Sequence[ProofColumn], key: Sequence[ProofColumn]) -> StreamSide:
        """MongoDB has no SQL to fingerprint with: the documents are streamed by the extract's reader and hashed in
        Python."""
        return stream_side(self, table, columns, key, f"source {table} (MongoDB, streamed and hashed in Python)")

    def close(self) -> None:
        self.client.close()


_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=True, tzinfo=dt.UTC, datetime_conversion=DatetimeConversion.DATETIME_AUTO
)


def _client_options(info: ConnectionInfo) -> dict[str, Any]:
    srv = str(info.extra.get("srv", "")).lower() == "true"
    options: dict[str, Any] = {
        "host": f"mongodb+srv://{info.host}" if srv else (info.host or "127.0.0.1"),
        "username": info.login or None,
        "password": info.password or None,
        "serverSelectionTimeoutMS": CONNECT_TIMEOUT_SECONDS * 1000,
        "connectTimeoutMS": CONNECT_TIMEOUT_SECONDS * 1000,
        "appname": "databridge",
        "document_class": dict,
        **mongo_extras(info),  # MongoClient options, as MongoHook passes them (engines/hooks.py)
    }
    if not srv:
        options["port"] = info.port or 27017
    return options


def _id_at(coll: Any, offset: int) -> Any:
    """The _id at ``offset`` in _id order (an index scan)."""
    for document in coll.find({}, {"_id": 1}).sort("_id", 1).skip(offset).limit(1):
        return document["_id"]
    return None


def id_filter(chunk: Chunk | None) -> dict[str, Any]:
    """The documents of a chunk. The first one takes every _id not at or above its upper bound, so _ids of another
    type than the boundaries' (which no range of theirs matches) are read by it, and only by it."""
    if chunk is None or chunk.count == 1:
        return {}
    if chunk.index == 0:
        return {"_id": {"$not": {"$gte": chunk.upper}}}
    return {"_id": {"$gte": chunk.lower, **({} if chunk.upper is None else {"$lt": chunk.upper})}}


def _documents(columns: list[SourceColumn]) -> Any:
    read = row_reader(columns)
    return lambda cursor: (read(document) for document in cursor)


def _elements(columns: list[SourceColumn], path: str) -> Any:
    """Rows of a child table: each element of the array at ``path``, with its parent's _id and its position."""
    read = row_reader([c for c in columns if c.name not in (PARENT_ID, INDEX)])
    place = [c.name for c in columns]

    def rows(cursor: Any) -> Iterator[tuple[Any, ...]]:
        for document in cursor:
            elements = lookup(document, path.split("."))
            parent = to_text(document.get("_id"))
            for index, element in enumerate(elements if isinstance(elements, list) else ()):
                own = iter(read(element if isinstance(element, Mapping) else {VALUE: element}))
                yield tuple(parent if n == PARENT_ID else index if n == INDEX else next(own) for n in place)

    return rows


def _widen_hint(sample_size: int) -> str:
    scope = "every document" if sample_size <= 0 else f"a sample of {sample_size} documents"
    return (
        f"the column's type was inferred from {scope}; set the connection extra sample_size higher "
        "(0 reads every document) so discovery sees this type and stages the field as jsonb"
    )
