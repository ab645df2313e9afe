"""Proof of the attachments copied to S3: every object's SHA-256, read back from the store, against the source bytes.

For each attachment the extract stage met (the staged stubs): the links table must hold its row, the object must be
in the bucket, and the SHA-256 and length of the object's bytes (streamed from the store) must equal those of the
attachment's bytes streamed again from the source, and the links table's. Nothing is held whole in memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from databridge.compiler.identifiers import qualified
from databridge.engines.base import ConnectionInfo, SourceEngine
from databridge.engines.capabilities import AttachmentSource, has_attachments
from databridge.engines.s3 import S3Store
from databridge.runtime.context import StageContext

SHOWN = 5
"""Attachments named in the message (all of them are in the stored evidence)."""


def prove_attachments(ctx: StageContext, source: SourceEngine, s3_info: ConnectionInfo) -> tuple[str, str, str]:
    """(links table, status, detail) once the evidence is stored; status is proven or differs."""
    spec = ctx.plan.attachments
    assert spec is not None and has_attachments(source)
    store = S3Store(s3_info, spec.bucket, spec.multipart_threshold_mb)
    problems: list[str] = []
    total = 0
    rows = _attachments(ctx)
    for database, doc_id, name, sha256, length, key in rows:
        where = f"{database}/{doc_id}/{name}"
        found, size = _check(source, store, (database, doc_id, name), sha256, length, key)
        total += size
        if found:
            problems.append(f"{where}: {found}")
    table, status = str(spec.table), "differs" if problems else "proven"
    detail = (
        (f"{len(problems)} of {len(rows)} attachment(s) differ: " + "; ".join(problems[:SHOWN]))
        if problems
        else (
            f"{len(rows)} attachment(s), {total} bytes: the SHA-256 of every object in s3://{spec.bucket} equals "
            "the source bytes'"
        )
    )
    evidence = {
        "source": "attachments",
        "objects": len(rows),
        "bytes": total,
        "bucket": spec.bucket,
        "problems": problems,
    }
    ctx.store.proof(table, status, detail, evidence)
    return table, status, detail


def _attachments(ctx: StageContext) -> list[tuple[Any, ...]]:
    """Every staged stub with its link (NULLs when the links table lacks it)."""
    spec = ctx.plan.attachments
    assert spec is not None
    stubs = qualified(ctx.plan.staging_schema, spec.stubs_table)
    links = qualified(spec.table.schema, spec.table.name)
    query = f"""SELECT s.database, s.doc_id, s.name, l.sha256, l.length, l.object_key
        FROM (SELECT DISTINCT database, doc_id, name FROM {stubs}) s
        LEFT JOIN {links} l ON l.source_database = s.database AND l.doc_id = s.doc_id AND l.attachment_name = s.name
        ORDER BY 1, 2, 3"""
    return ctx.target.rows(query, doing=f"reading the attachment links of {spec.table}")


def _check(
    source: AttachmentSource,
    store: S3Store,
    where: tuple[str, str, str],
    sha256: str | None,
    length: int | None,
    key: str | None,
) -> tuple[str | None, int]:
    """What is wrong with one attachment (None: nothing), and its size in the source."""
    with source.attachment(*where) as chunks:
        expected, size = _digest(chunks)
    if key is None:
        return "no row in the links table", size
    if store.head(key) is None:
        return f"object {key!r} is not in the bucket", size
    actual, stored = _digest(store.chunks(key))
    if (actual, stored) != (expected, size):
        return f"object SHA-256 {actual[:12]}… ({stored} bytes), source {expected[:12]}… ({size} bytes)", size
    if (sha256, length) != (expected, size):
        return (
            f"the links table says SHA-256 {str(sha256)[:12]}… ({length} bytes), "
            f"source {expected[:12]}… ({size} bytes)",
            size,
        )
    return None, size


def _digest(chunks: Iterable[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size
