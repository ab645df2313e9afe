"""The CouchDB HTTP API as DataBridge reads it: JSON requests, paged _all_docs, streamed attachments, sorted errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx

from databridge.engines.base import ConnectionInfo
from databridge.errors import EngineError
from databridge.spec.names import did_you_mean

CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 120
DESIGN_PREFIX = "_design/"
# 408 request timeout, 429 too many requests and every 5xx are passing faults; other 4xx are a wrong setting.
_TRANSIENT_STATUS = {408, 429}


class CouchClient:
    """One HTTP session to a CouchDB server; the password travels only in the Authorization header."""

    def __init__(self, info: ConnectionInfo) -> None:
        self.info = info
        scheme = str(info.extra.get("scheme", "http"))
        self.base = f"{scheme}://{info.host or '127.0.0.1'}:{info.port or 5984}"
        auth = (info.login, info.password or "") if info.login else None
        timeout = httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
        # pouchdb-server answers JSON as text/plain unless asked for application/json.
        self.http = httpx.Client(base_url=self.base, auth=auth, timeout=timeout, headers={"Accept": "application/json"})

    def get(self, path: str, doing: str, *, database: str | None = None, **params: Any) -> Any:
        """GET a JSON answer; an EngineError (transient or permanent) for anything but 2xx. A 404 on a path of
        ``database`` becomes the missing-database error with the closest names."""
        try:
            response = self.http.get(path, params=params)
        except httpx.HTTPError as exc:
            raise self._error(doing, f"{type(exc).__name__}: {exc}", transient=True) from None
        if response.status_code == 404 and database is not None:
            raise self.missing_database(database)
        if response.status_code >= 300:
            raise self._status_error(response, doing)
        return response.json()

    def databases(self) -> list[str]:
        return [d for d in self.get("/_all_dbs", "listing databases") if not d.startswith("_")]

    def database_info(self, database: str) -> dict[str, Any]:
        info: dict[str, Any] = self.get(f"/{_q(database)}", f"opening database {database!r}", database=database)
        return info

    def missing_database(self, database: str) -> EngineError:
        known = self.databases()
        hint = did_you_mean(database, known) or (
            f" (databases there: {', '.join(known[:10])})" if known else " (the server holds no databases)"
        )
        return self._error(f"opening database {database!r}", f"no such database{hint}", transient=False)

    def documents(self, database: str, page_size: int) -> Iterator[list[dict[str, Any]]]:
        """Every live, non-design document in _id order, one page of at most ``page_size`` at a time."""
        params: dict[str, Any] = {"include_docs": "true", "limit": page_size}
        while True:
            rows = self.get(f"/{_q(database)}/_all_docs", f"reading {database!r}", database=database, **params)["rows"]
            if not rows:
                return
            yield [r["doc"] for r in rows if r.get("doc") and not r["id"].startswith(DESIGN_PREFIX)]
            if len(rows) < page_size:
                return
            params.update(startkey=json.dumps(rows[-1]["id"]), skip=1)

    def design_count(self, database: str) -> int:
        rows = self.get(
            f"/{_q(database)}/_all_docs", f"counting design documents of {database!r}",
            startkey=json.dumps(DESIGN_PREFIX), endkey=json.dumps(DESIGN_PREFIX[:-1] + "0"),
        )["rows"]  # fmt: skip
        return len(rows)

    @contextmanager
    def attachment(self, database: str, doc_id: str, name: str) -> Iterator[Iterator[bytes]]:
        """The bytes of one attachment, streamed in chunks (never whole in memory)."""
        path = f"/{_q(database)}/{_q(doc_id)}/{quote(name, safe='')}"
        doing = f"reading attachment {name!r} of document {doc_id!r} in {database!r}"
        try:
            with self.http.stream("GET", path, headers={"Accept": "*/*"}) as response:
                if response.status_code >= 300:
                    response.read()
                    raise self._status_error(response, doing)
                yield response.iter_bytes(1 << 20)
        except httpx.HTTPError as exc:
            raise self._error(doing, f"{type(exc).__name__}: {exc}", transient=True) from None

    def _status_error(self, response: httpx.Response, doing: str) -> EngineError:
        status = response.status_code
        try:
            body = response.json()
            reason = f"{body.get('error')}: {body.get('reason')}"
        except ValueError:
            reason = response.text[:200]
        hint = " (check the connection's login and password)" if status in (401, 403) else ""
        return self._error(
            doing, f"HTTP {status} {reason}{hint}", transient=status >= 500 or status in _TRANSIENT_STATUS
        )

    def _error(self, doing: str, what: str, *, transient: bool) -> EngineError:
        return EngineError(f"CouchDB ({self.info.describe()}): {doing}: {what}", transient=transient, engine="couchdb")

    def close(self) -> None:
        self.http.close()


def _q(part: str) -> str:
    """A database name or document id as one URL path segment ('/' in either is escaped)."""
    return quote(part, safe="")
