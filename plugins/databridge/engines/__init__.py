"""Every database difference lives here: one module per engine (discovery, reading, types, errors)."""

from __future__ import annotations

from databridge.engines.base import ConnectionInfo, SourceColumn, SourceEngine
from databridge.engines.postgres import PostgresTarget
from databridge.errors import EngineError

SOURCE_TYPES = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


def open_source(info: ConnectionInfo) -> SourceEngine:
    """Open the source engine for a connection; a clear error for an engine this version cannot read."""
    kind = SOURCE_TYPES.get(info.conn_type)
    if kind == "postgres":
        from databridge.engines.postgres import PostgresSource

        return PostgresSource(info)
    if kind == "mysql":
        from databridge.engines.mysql import MySQLSource

        return MySQLSource(info)
    if kind == "sqlite":
        from databridge.engines.sqlite import SQLiteSource

        return SQLiteSource(info)
    supported = ", ".join(sorted(set(SOURCE_TYPES)))
    raise EngineError(
        f"{info.describe()}: connections of type {info.conn_type!r} cannot be read as a source yet; use one of: {supported}",
        transient=False,
    )


def open_target(info: ConnectionInfo) -> PostgresTarget:
    return PostgresTarget(info)


__all__ = ["ConnectionInfo", "SourceColumn", "SourceEngine", "open_source", "open_target"]
