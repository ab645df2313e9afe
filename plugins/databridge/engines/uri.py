"""Connection URIs → ConnectionInfo: the one parser of every command that takes a URI (--conn, --target-uri, init).

    postgresql://user:pw@host:5432/db?sslmode=require      mysql:// or mariadb://user@host:3306/db
    mssql://user:pw@host:1433/db                           sqlite:////absolute/path.db
    mongodb://user:pw@host:27017/db?authSource=admin       mongodb+srv://user:pw@cluster.example.net/db
    couchdb://user:pw@host:5984/db (http), http(s)://user:pw@host:5984/db (a CouchDB server's own address)

Query parameters become the connection's extras, as an Airflow connection's would. Error messages never repeat the
URI: it may hold a password.
"""

from __future__ import annotations

from urllib.parse import ParseResult, parse_qsl, unquote, urlparse

from databridge.engines.base import ConnectionInfo
from databridge.errors import DataBridgeError

URI_SCHEMES: dict[str, str] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "mssql": "mssql",
    "sqlserver": "mssql",
    "mongodb": "mongo",
    "mongodb+srv": "mongo",
    "couchdb": "couchdb",
    "http": "couchdb",
    "https": "couchdb",
}
"""URI scheme → the conn_type it stands for."""
FILE_URIS: dict[str, str] = {"sqlite": "SQLite"}
"""conn_type → engine name, for engines whose URI names a file (sqlite:////absolute/path.db): the path is the host."""
_SCHEME_EXTRAS: dict[str, dict[str, str]] = {
    "mongodb+srv": {"srv": "true"},
    "couchdb": {"scheme": "http"},
    "http": {"scheme": "http"},
    "https": {"scheme": "https"},
}
"""What a scheme says beyond the engine: a MongoDB SRV record to look up, CouchDB over HTTP or HTTPS."""
EXAMPLES = (
    "postgresql://user@host:5432/database, mysql://user@host:3306/database, mssql://user@host:1433/database, "
    "mongodb://user@host:27017/database, couchdb://user@host:5984/database (or http(s)://...) or sqlite:////absolute/path.db"
)


def info_from_uri(uri: str, conn_id: str = "target") -> ConnectionInfo:
    """A connection URI as ConnectionInfo (the module docstring lists the forms)."""
    parts = urlparse(uri)
    scheme = parts.scheme.lower()
    conn_type = URI_SCHEMES.get(scheme)
    if conn_type is None:
        raise DataBridgeError(
            f"connection {conn_id!r}: URI scheme {parts.scheme or '(none)'!r} is not known; write {EXAMPLES}"
        )
    if conn_type in FILE_URIS:
        return _file_info(uri, conn_id, conn_type, scheme)
    if "," in parts.netloc:
        raise DataBridgeError(
            f"connection {conn_id!r}: its URI names several hosts; name one (for a replica set, one member and "
            "?replicaSet=NAME)"
        )
    return ConnectionInfo(
        conn_id=conn_id,
        conn_type=conn_type,
        host=parts.hostname,
        port=_port(parts, conn_id),
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        database=unquote(parts.path.strip("/")) or None,
        extra={**_SCHEME_EXTRAS.get(scheme, {}), **dict(parse_qsl(parts.query))},
    )


def _file_info(uri: str, conn_id: str, conn_type: str, scheme: str) -> ConnectionInfo:
    path = unquote(uri.split("://", 1)[1].split("?", 1)[0])[1:]
    if not path:
        raise DataBridgeError(
            f"connection {conn_id!r}: a {FILE_URIS[conn_type]} URI names a file: {scheme}:////absolute/path.db"
        )
    return ConnectionInfo(conn_id=conn_id, conn_type=conn_type, host=path)


def _port(parts: ParseResult, conn_id: str) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise DataBridgeError(f"connection {conn_id!r}: the port in its URI is not a number") from None
