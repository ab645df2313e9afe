"""Asset URIs a project may be scheduled on, written the one way Airflow stores them (so that they match)."""

from __future__ import annotations

import re
import urllib.parse

DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "mssql": 1433, "mongodb": 27017, "couchdb": 5984}
"""The port a URI of each scheme means when it names none."""
_SCHEME_ALIASES = {"postgresql": "postgres", "mariadb": "mysql", "mongo": "mongodb"}
_EXAMPLE = "postgres://host:5432/database/schema/table"


def canonical_uri(text: str) -> str:
    """``text`` as Airflow normalizes it (lower-case scheme, the default port written out, no trailing '/'); a
    ValueError saying what to write for anything that is not an asset URI."""
    parts = urllib.parse.urlsplit(text.strip())
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme.lower()) or not parts.netloc:
        raise ValueError(f"{text!r} is not an asset URI; write scheme://host/path, e.g. {_EXAMPLE}")
    if parts.password or parts.username:
        shown = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        raise ValueError(
            f"{shown!r} is written with a user name or password; leave them out (an asset URI is shown to everyone)"
        )
    scheme = _SCHEME_ALIASES.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme == "airflow":
        raise ValueError(f"{text!r}: the scheme airflow is Airflow's own; write the table's URI, e.g. {_EXAMPLE}")
    path = parts.path.rstrip("/")
    if scheme == "postgres" and len([p for p in path.split("/")[1:] if p]) != 3:
        raise ValueError(f"{text!r} must name a database, a schema and a table: {_EXAMPLE}")
    netloc = parts.netloc
    if parts.port is None and scheme in DEFAULT_PORTS:
        netloc = f"{parts.hostname}:{DEFAULT_PORTS[scheme]}"
    return urllib.parse.urlunsplit((scheme, netloc, path, parts.query, ""))
