"""CouchDB attachments → an S3-compatible bucket, linked from a target table (extract stages the stubs, load_facts
copies).

Key layout: ``<prefix>/<database>/<document _id>/<attachment name>``, the database and the _id URL-quoted with no
safe characters (a '/' in either becomes %2F), the attachment name as CouchDB spells it (it may hold '/': everything
after the third '/' of the key is the name). E.g. document "inv/2024-001" of database "docs", attachment
"scans/page 1.png", prefix "couchdb" → ``couchdb/docs/inv%2F2024-001/scans/page 1.png``.

Every object carries its content type (Content-Type) and metadata ``sha256`` (hex, computed while the bytes stream
through) and ``couchdb-digest`` (CouchDB's own md5 digest). Each attachment is spooled once (memory up to 8 MB, disk
beyond), hashed, and uploaded with boto3's upload_fileobj: parts of ``multipart_threshold_mb`` from that size on.
An object already there with the same sha256 and content type is skipped. The links table gets one row per
attachment, all written in one transaction once every object is in the bucket (a failure leaves it as it was; the
rerun skips the objects already copied).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import quote

from databridge.compiler.identifiers import qualified, quote_ident
from databridge.compiler.plan import AttachmentsPlan
from databridge.engines.base import ConnectionInfo, SourceEngine
from databridge.engines.capabilities import AttachmentSource, has_attachments
from databridge.engines.couchdb.stubs import AttachmentStub
from databridge.engines.s3 import S3Store
from databridge.errors import EngineError
from databridge.runtime.context import StageContext, stopwatch

IN_MEMORY_BYTES = 8 << 20
"""An attachment up to this size is spooled in memory; a larger one goes to a temporary file."""
_STUB_COLUMNS = (
    "database text NOT NULL, doc_id text NOT NULL, name text NOT NULL, content_type text, length bigint, digest text"
)
_LINK_COLUMNS = (
    "source_database",
    "doc_id",
    "attachment_name",
    "content_type",
    "length",
    "sha256",
    "bucket",
    "object_key",
    "copied_at",
)
_LINKS_DDL = """CREATE TABLE IF NOT EXISTS {table} (
    source_database text NOT NULL, doc_id text NOT NULL, attachment_name text NOT NULL, content_type text NOT NULL,
    length bigint NOT NULL, sha256 text NOT NULL, bucket text NOT NULL, object_key text NOT NULL,
    copied_at timestamptz NOT NULL, PRIMARY KEY (source_database, doc_id, attachment_name))"""


def object_key(prefix: str, stub: AttachmentStub) -> str:
    return f"{prefix}/{quote(stub.database, safe='')}/{quote(stub.doc_id, safe='')}/{stub.name}"


def stage_stubs(ctx: StageContext, source: SourceEngine) -> dict[str, Any]:
    """Extract stage: the stubs of the documents just extracted, into a staging table for load_facts."""
    spec = ctx.plan.attachments
    if spec is None:
        return {}
    if not has_attachments(source):
        raise EngineError(
            f"pipeline {ctx.plan.name}: attachments: is for CouchDB sources; {source.name} has no attachments",
            transient=False,
        )
    stubs = qualified(ctx.plan.staging_schema, spec.stubs_table)
    count = 0
    with ctx.target.transaction(f"staging attachment stubs into {stubs}") as cur:
        cur.execute(f"DROP TABLE IF EXISTS {stubs}")
        cur.execute(f"CREATE UNLOGGED TABLE {stubs} ({_STUB_COLUMNS})")
        with cur.copy(f"COPY {stubs} FROM STDIN") as copy:
            for stub in source.attachment_stubs():
                copy.write_row((stub.database, stub.doc_id, stub.name, stub.content_type, stub.length, stub.digest))
                count += 1
    ctx.log.info("extract: %d attachment stubs staged in %s", count, stubs)
    return {"attachments": count}


def copy_attachments(ctx: StageContext, source: SourceEngine, s3_info: ConnectionInfo) -> dict[str, Any]:
    """load_facts stage: every staged attachment into the bucket (unchanged ones skipped), then the links table."""
    spec = ctx.plan.attachments
    assert spec is not None
    if not has_attachments(source):
        raise EngineError(
            f"pipeline {ctx.plan.name}: attachments: is for CouchDB sources; {source.name} has no attachments",
            transient=False,
        )
    store = S3Store(s3_info, spec.bucket, spec.multipart_threshold_mb)
    store.check_bucket()
    counts = {"copied": 0, "skipped": 0, "bytes_copied": 0}
    with stopwatch() as elapsed, tempfile.TemporaryFile("w+", encoding="utf-8") as links:
        for stub in _staged_stubs(ctx, spec):
            link, copied = _copy_one(source, store, spec, stub)
            links.write(json.dumps(link, default=str) + "\n")
            counts["copied" if copied else "skipped"] += 1
            counts["bytes_copied"] += link[4] if copied else 0
        rows = _write_links(ctx, spec, links)
    ctx.store.table_stat("load_facts", str(spec.table), rows, elapsed[0], **counts)
    ctx.log.info(
        "load_facts attachments: %d copied (%d bytes), %d skipped (already in s3://%s with the same SHA-256); "
        "%d links in %s",
        counts["copied"],
        counts["bytes_copied"],
        counts["skipped"],
        spec.bucket,
        rows,
        spec.table,
    )
    return {"attachments": rows, **counts}


def _staged_stubs(ctx: StageContext, spec: AttachmentsPlan) -> Iterator[AttachmentStub]:
    """The stubs staged by extract, each once, read through a server-side cursor (bounded memory)."""
    stubs = qualified(ctx.plan.staging_schema, spec.stubs_table)
    query = f"SELECT DISTINCT database, doc_id, name, content_type, length, digest FROM {stubs} ORDER BY 1, 2, 3"
    doing = f"reading the attachment stubs in {stubs}"
    with ctx.target.transaction(doing), ctx.target.conn.cursor(name="databridge_attachment_stubs") as cur:
        cur.itersize = 1000
        cur.execute(query)
        for row in cur:
            yield AttachmentStub(*row)


def _copy_one(
    source: AttachmentSource, store: S3Store, spec: AttachmentsPlan, stub: AttachmentStub
) -> tuple[list[Any], bool]:
    key = object_key(spec.prefix, stub)
    content_type = stub.content_type or "application/octet-stream"
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES) as spool:
        sha256, length = _spool(source, stub, spool)
        present = store.head(key)
        same = (
            present is not None
            and present.get("Metadata", {}).get("sha256") == sha256
            and present.get("ContentType") == content_type
        )
        if not same:
            spool.seek(0)
            metadata = {"sha256": sha256, "couchdb-digest": stub.digest or ""}
            store.upload(spool, key, content_type, metadata)
    copied_at = present["LastModified"] if same and present else dt.datetime.now(dt.UTC)
    return [stub.database, stub.doc_id, stub.name, content_type, length, sha256, spec.bucket, key, copied_at], not same


def _spool(source: AttachmentSource, stub: AttachmentStub, spool: IO[bytes]) -> tuple[str, int]:
    """Stream the attachment into ``spool``, hashing it on the way; (sha256 hex, length)."""
    digest, length = hashlib.sha256(), 0
    with source.attachment(stub.database, stub.doc_id, stub.name) as chunks:
        for chunk in chunks:
            digest.update(chunk)
            spool.write(chunk)
            length += len(chunk)
    return digest.hexdigest(), length


def _write_links(ctx: StageContext, spec: AttachmentsPlan, links: IO[str]) -> int:
    """Every link row, upserted in one transaction."""
    table = qualified(spec.table.schema, spec.table.name)
    columns = ", ".join(_LINK_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _LINK_COLUMNS[3:])
    links.seek(0)
    with ctx.target.transaction(f"writing the attachment links into {spec.table}") as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(spec.table.schema or 'public')}")
        cur.execute(_LINKS_DDL.format(table=table))
        cur.execute(f"CREATE TEMP TABLE databridge_links (LIKE {table}) ON COMMIT DROP")
        with cur.copy(f"COPY databridge_links ({columns}) FROM STDIN") as copy:
            for line in links:
                copy.write_row(json.loads(line))
        cur.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM databridge_links "
            f"ON CONFLICT (source_database, doc_id, attachment_name) DO UPDATE SET {updates}"
        )
        return cur.rowcount
