"""Attachment stubs met while reading documents: kept on disk past 1 MB, so memory stays bounded."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass
from typing import Any

SPOOL_BYTES = 1 << 20


@dataclass(frozen=True)
class AttachmentStub:
    """One attachment of one document, as _all_docs describes it (no bytes)."""

    database: str
    doc_id: str
    name: str
    content_type: str | None
    length: int | None
    digest: str | None
    """CouchDB's own digest ("md5-<base64>"); DataBridge computes SHA-256 itself while copying."""


class StubSpool:
    """Stubs in the order they were met, one JSON line each."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+", encoding="utf-8")  # noqa: SIM115
        self.count = 0

    def add_document(self, database: str, document: Mapping[str, Any]) -> None:
        for name, stub in (document.get("_attachments") or {}).items():
            found = AttachmentStub(
                database, document["_id"], name, stub.get("content_type"), stub.get("length"), stub.get("digest")
            )
            self._file.write(json.dumps(astuple(found)) + "\n")
            self.count += 1

    def __iter__(self) -> Iterator[AttachmentStub]:
        self._file.seek(0)
        for line in self._file:
            yield AttachmentStub(*json.loads(line))
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()
