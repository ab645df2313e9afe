"""Which Airflow Connections DataBridge can use, testing one, and browsing a source: schemas → tables → columns.

The list shows what can be enumerated: the metadata database's connections (their conn_id, type and address
columns only: nothing is decrypted for a list) and AIRFLOW_CONN_* variables. A chosen conn_id is resolved the way
Airflow resolves it, through every secrets backend configured ([secrets] backend: Vault, AWS Secrets Manager, ...),
then the environment, then the metadata database; so a project may name a connection that only a backend holds.
Nothing here ever returns a password or a connection's extra.
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
from databridge.views import airflow_state
from databridge.views.errors import ConnectionFailed, Disabled, NotFound

TARGET_TYPES = ("postgres", "postgresql")
_ENV_PREFIX = "AIRFLOW_CONN_"
NAME_AND_TYPE = ("conn_id", "conn_type", "can_be_source", "can_be_target", "test_connection")
"""What the list of connections shows a role that may not read connections."""


def list_connections(*, details: bool = True) -> list[dict[str, Any]]:
    """Every connection of a type DataBridge reads or writes, by conn_id, without secrets; ``test_connection`` is
    Airflow's [core] test_connection (the UI hides the Test button when it is Hidden). Without ``details`` (a role
    that may read DAGs but not connections): only the name, type and uses, no host, port, login or database."""
    found = {info.conn_id: info for info in _all_connections()}
    mode = test_connection_mode()
    shown = [
        public(found[k]) | {"test_connection": mode} for k in sorted(found) if found[k].conn_type in SOURCE_ENGINES
    ]
    return shown if details else [{k: c[k] for k in NAME_AND_TYPE} for c in shown]


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
    """One connection as Airflow resolves it (secrets backends, environment, metadata database), or NOT_FOUND naming
    the close matches among those listed."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    # The api-server's own lookup (views/airflow_state.py says why it is not the task SDK's nor the REST API's).
    try:
        conn = airflow_state.resolve_connection(conn_id)
    except AirflowNotFoundException:
        hint = did_you_mean(conn_id, [info.conn_id for info in _all_connections()])
        raise NotFound(
            f"Airflow connection {conn_id!r} is not defined{hint}; add it under Admin > Connections "
            "(or in the secrets backend of [secrets] backend)"
        ) from None
    return _info(conn)


TEST_SETTING = "[core] test_connection"
"""Airflow's switch for testing connections (Disabled, Enabled, Hidden; Disabled by default)."""


def test_connection_mode() -> str:
    """Airflow's [core] test_connection as it is set: Disabled, Enabled or Hidden (anything else counts as Disabled)."""
    from airflow.configuration import conf

    value = str(conf.get("core", "test_connection", fallback="Disabled")).strip().lower()
    return {"enabled": "Enabled", "hidden": "Hidden"}.get(value, "Disabled")


def test_connection(conn_id: str) -> dict[str, Any]:
    """Open the engine and run a trivial query; CONNECTION_ERROR with the driver's reason when it fails, DISABLED (403)
    unless Airflow's [core] test_connection is Enabled (as Airflow's own Test button)."""
    mode = test_connection_mode()
    if mode != "Enabled":
        raise Disabled(
            f"testing connections is {mode.lower()} in this Airflow ({TEST_SETTING} = {mode}); an admin enables it "
            "with test_connection = Enabled under [core] in airflow.cfg, or AIRFLOW__CORE__TEST_CONNECTION=Enabled"
        )
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
    return {
        "ok": True,
        "conn_id": conn_id,
        "conn_type": info.conn_type,
        "detail": detail,
        "seconds": seconds,
        "warnings": warnings,
    }


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
            raise NotFound(
                f"schema {schema!r} not found in {source.name} connection {conn_id!r}{did_you_mean(schema, known)}"
            )
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
    """The metadata database's connections, by their plain columns: password and extra stay encrypted, unread."""
    rows = airflow_state.stored_connections()
    return [ConnectionInfo(row[0], (row[1] or "").lower(), row[2], row[3], row[4], database=row[5]) for row in rows]


def _env_connections() -> list[ConnectionInfo]:
    from airflow.secrets.environment_variables import EnvironmentVariablesBackend

    backend = EnvironmentVariablesBackend()
    found = []
    for key in os.environ:
        if (
            key.startswith(_ENV_PREFIX)
            and (conn := backend.get_connection(key[len(_ENV_PREFIX) :].lower())) is not None
        ):
            found.append(_info(conn))
    return found


def _info(conn: Any) -> ConnectionInfo:
    return ConnectionInfo.from_airflow(conn)
