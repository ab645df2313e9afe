"""Every database difference lives here: one module per engine (discovery, reading, types, errors)."""

from __future__ import annotations

import importlib

from databridge.engines.base import ConnectionInfo, SourceColumn, SourceEngine, SourceOptions
from databridge.engines.postgres import PostgresTarget
from databridge.engines.uri import FILE_URIS, URI_SCHEMES
from databridge.errors import EngineError

# Airflow conn_type → (module, class) of the source engine; modules load only when used.
SOURCE_ENGINES: dict[str, tuple[str, str]] = {
    "postgres": ("databridge.engines.postgres", "PostgresSource"),
    "postgresql": ("databridge.engines.postgres", "PostgresSource"),
    "mysql": ("databridge.engines.mysql", "MySQLSource"),
    "mariadb": ("databridge.engines.mysql", "MySQLSource"),
    "sqlite": ("databridge.engines.sqlite", "SQLiteSource"),
    "mssql": ("databridge.engines.mssql", "MSSQLSource"),
    "mongo": ("databridge.engines.mongo", "MongoSource"),
    "couchdb": ("databridge.engines.couchdb", "CouchDBSource"),
}


def open_source(info: ConnectionInfo, options: SourceOptions | None = None) -> SourceEngine:
    """Open the source engine for a connection; a clear error for an engine this version cannot read."""
    entry = SOURCE_ENGINES.get(info.conn_type)
    if entry is None:
        supported = ", ".join(sorted(SOURCE_ENGINES))
        raise EngineError(
            f"{info.describe()}: connections of type {info.conn_type!r} cannot be read as a source yet; use one "
            f"of: {supported}",
            transient=False,
        )
    module, name = entry
    engine: SourceEngine = getattr(importlib.import_module(module), name)(info, options or SourceOptions())
    return engine


def open_target(info: ConnectionInfo) -> PostgresTarget:
    return PostgresTarget(info)


__all__ = ["FILE_URIS", "URI_SCHEMES", "ConnectionInfo", "SourceColumn", "SourceEngine", "open_source", "open_target"]
