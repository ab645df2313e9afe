"""Build the CouchDB demo source: customers and invoices with binary attachments, a design doc and a deleted doc.

    python scripts/couch_demo_source.py [--url http://127.0.0.1:5984] [--database docs] [--large-mb 6]

Deterministic: the database is dropped and rebuilt with the same documents and the same attachment bytes every time.
The large attachment (one invoice scan of --large-mb MB) is there to make the S3 copy use a multipart upload.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

CITIES = ("Paris", "Lyon", "Nantes", "Lille", "Brest")


def customers() -> list[dict[str, Any]]:
    return [
        {
            "_id": f"customer:{i:03d}",
            "type": "customer",
            "name": f"Customer {i}",
            "email": f"c{i}@example.com" if i != 3 else None,
            "address": {"city": CITIES[i - 1], "zip": f"{i * 11111:05d}"},
            "vip": i % 2 == 0,
            "credit": i * 100.25,
            "tags": [f"t{j}" for j in range(i % 3)],
        }
        for i in range(1, 6)
    ]


def invoices() -> list[dict[str, Any]]:
    return [
        {
            "_id": f"invoice/2024-{i:03d}",  # a '/' in the _id: URL-quoted in the S3 key
            "type": "invoice",
            "customer_id": f"customer:{(i % 5) + 1:03d}",
            "total": (i * 1234) / 100,
            "lines": i,
            "issued": f"2024-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
            "paid": i % 3 != 0,
        }
        for i in range(1, 9)
    ]


def documents() -> list[dict[str, Any]]:
    """The live, non-design documents (what the _all table holds)."""
    return customers() + invoices()


def payload(seed: str, size: int) -> Iterator[bytes]:
    """``size`` deterministic pseudo-random bytes, in chunks of at most 1 MB."""
    block = hashlib.sha256(seed.encode()).digest() * (1 << 15)  # 1 MiB
    sent = 0
    while sent < size:
        chunk = block[: min(len(block), size - sent)]
        sent += len(chunk)
        yield chunk


def attachments(large_mb: int) -> list[tuple[str, str, str, int]]:
    """(document _id, attachment name, content type, size in bytes)."""
    small = [(f"invoice/2024-{i:03d}", "invoice.pdf", "application/pdf", 1000 + i * 517) for i in range(1, 5)]
    return [
        *small,
        ("invoice/2024-001", "scans/page 1.png", "image/png", 2048),  # a '/' and a space in the name
        ("customer:002", "photo.jpg", "image/jpeg", 4096),
        ("customer:002", "empty.txt", "text/plain", 0),
        ("invoice/2024-008", "scan.bin", "application/octet-stream", large_mb << 20),
    ]


def attachment_bytes(doc_id: str, name: str, size: int) -> bytes:
    return b"".join(payload(f"{doc_id}/{name}", size))


def build(url: str, database: str, large_mb: int, auth: tuple[str, str] | None = None) -> None:
    with httpx.Client(base_url=url, auth=auth, headers={"Accept": "application/json"}, timeout=120) as http:
        db = quote(database, safe="")
        http.delete(f"/{db}")
        http.put(f"/{db}").raise_for_status()
        design = {"_id": "_design/reports", "views": {"by_type": {"map": "function (doc) { emit(doc.type, null); }"}}}
        gone = {"_id": "customer:999", "type": "customer", "name": "Deleted customer"}
        http.post(f"/{db}/_bulk_docs", json={"docs": [*documents(), design, gone]}).raise_for_status()
        rev = http.get(f"/{db}/{quote(gone['_id'], safe='')}").json()["_rev"]
        http.delete(f"/{db}/{quote(gone['_id'], safe='')}", params={"rev": rev}).raise_for_status()
        for doc_id, name, content_type, size in attachments(large_mb):
            path = f"/{db}/{quote(doc_id, safe='')}"
            rev = http.get(path).json()["_rev"]
            body = payload(f"{doc_id}/{name}", size)
            headers = {"Content-Type": content_type, "Content-Length": str(size)}
            http.put(
                f"{path}/{quote(name, safe='')}", params={"rev": rev}, content=body, headers=headers
            ).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5984")
    parser.add_argument("--database", default="docs")
    parser.add_argument("--large-mb", type=int, default=6, help="size of the one large attachment")
    args = parser.parse_args()
    build(args.url, args.database, args.large_mb)
    print(f"couch demo source: {len(documents())} documents in {args.url}/{args.database}")


if __name__ == "__main__":
    main()
