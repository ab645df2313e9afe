"""Which Airflow Connections DataBridge can use, testing one, and browsing a source: schemas → tables → columns.

Connections come from Airflow's metadata database and from AIRFLOW_CONN_* variables (the two places the
api-server resolves them from). Nothing here ever returns a password or a connection's extra.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from databridge.compiler.plan import TableRef
from databridge.engines import SOURCE_ENGINES, open_source, open_target, sandbox
from databridge.engines.base import ConnectionInfo, SourceEngine
from databridge.engines.postgres import PostgresTarget
from databridge.errors import EngineError
from databridge.spec.names import did_you_mean
from databridge.views.errors import ConnectionFailed, NotFound

TARGET_TYPES = ("postgres", "postgresql")
_ENV_PREFIX = "AIRFLOW_CONN_"


def list_connections() -> list[dict[str, Any]]:
    """Every connection of a type DataBridge reads or writes, by conn_id, without secrets."""
    found = {info.conn_id: info for info in _all_connections()}
    return [public(found[k]) for k in sorted(found) if found[k].conn_type in SOURCE_ENGINES]


def public(info: ConnectionInfo) -> dict[str, Any]:
    """What the UI may show of a connection: where it points, never its password or extra."""
    return {
        "conn_id": info.conn_id,
        "conn_type": info.conn_type,
        "host": info.host,
        "port": info.port,
        "login": info.login,
        "database": info.database,
        "can_be_source": info.conn_type in SOURCE_ENGINES,
        "can_be_target": info.conn_type in TARGET_TYPES,
    }


def connection(conn_id: str) -> ConnectionInfo:
    """One connection, or NOT_FOUND naming the close matches."""
    found = {info.conn_id: info for info in _all_connections()}
    if conn_id not in found:
        hint = did_you_mean(conn_id, list(found))
        raise NotFound(f"Airflow connection {conn_id!r} is not defined{hint}; add it under Admin > Connections")
    return found[conn_id]


def test_connection(conn_id: str) -> dict[str, Any]:
    """Open the engine and run a trivial query; CONNECTION_ERROR with the driver's reason when it fails."""
    info = connection(conn_id)
    start = time.perf_counter()
    warnings: list[str] = []
    if info.conn_type in TARGET_TYPES:
        target = _opened(info, lambda: open_target(info))
        try:
            detail = _tried(info, lambda: str(target.scalar("SELECT version()", doing="testing the connection")))
            warnings += _tried(info, lambda: _target_warnings(target))
        finally:
            target.close()
    else:
        with source_engine(conn_id) as source:
            detail = f"{len(_tried(info, source.schemas))} schema(s)"
    seconds = round(time.perf_counter() - start, 3)
    return {"ok": True, "conn_id": conn_id, "conn_type": info.conn_type, "detail": detail, "seconds": seconds, "warnings": warnings}


def _target_warnings(target: PostgresTarget) -> list[str]:
    with target.transaction("checking the connection's role") as cur:
        warning = sandbox.superuser_warning(cur)
    return [warning] if warning else []


@contextmanager
def source_engine(conn_id: str) -> Iterator[SourceEngine]:
    """The source engine of a connection, closed afterwards."""
    info = connection(conn_id)
    source = _opened(info, lambda: open_source(info))
    try:
        yield source
    finally:
        source.close()


def schemas(conn_id: str) -> list[str]:
    with source_engine(conn_id) as source:
        return source.schemas()


def tables(conn_id: str, schema: str) -> list[str]:
    with source_engine(conn_id) as source:
        known = source.schemas()
        if schema not in known:
            raise NotFound(f"schema {schema!r} not found in {source.name} connection {conn_id!r}{did_you_mean(schema, known)}")
        return source.tables(schema)


def describe(conn_id: str, schema: str, table: str) -> dict[str, Any]:
    """Columns with native and suggested PostgreSQL types, notes from the type matrix, keys and a row estimate."""
    known = tables(conn_id, schema)
    if table not in known:
        raise NotFound(f"table {schema}.{table} not found in connection {conn_id!r}{did_you_mean(table, known)}")
    with source_engine(conn_id) as source:
        info = source.describe(TableRef(schema, table))
    return asdict(info)


def _opened(info: ConnectionInfo, open_it: Any) -> Any:
    try:
        return open_it()
    except EngineError as exc:
        raise ConnectionFailed(f"cannot open {info.describe()}: {exc}") from None


def _tried(info: ConnectionInfo, query: Any) -> Any:
    try:
        return query()
    except EngineError as exc:
        raise ConnectionFailed(f"{info.describe()} answered with an error: {exc}") from None


def _all_connections() -> list[ConnectionInfo]:
    return _stored_connections() + _env_connections()


def _stored_connections() -> list[ConnectionInfo]:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return [_info(c) for c in session.scalars(select(Connection))]


def _env_connections() -> list[ConnectionInfo]:
    from airflow.secrets.environment_variables import EnvironmentVariablesBackend

    backend = EnvironmentVariablesBackend()
    found = []
    for key in os.environ:
        if key.startswith(_ENV_PREFIX) and (conn := backend.get_connection(key[len(_ENV_PREFIX) :].lower())) is not None:
            found.append(_info(conn))
    return found


def _info(conn: Any) -> ConnectionInfo:
    return ConnectionInfo.from_airflow(conn)
