"""The only places DataBridge reads Airflow's own state through its Python models rather than its REST API v2.

Every other view asks Airflow's REST API v2 (views/airflow_api.py). These two lookups stay here because no public
interface answers them where they are needed; tests/unit/test_airflow_state.py pins the columns and methods they rely
on, so an Airflow upgrade that changes them fails there, by name, instead of here, silently.

- ``resolve_connection``: a connection with its secret, resolved through every secrets backend, the environment
  and then the metadata database, as Airflow's api-server resolves it. DataBridge needs the secret to reach a source
  or target (previews, checks, the results schema); REST API v2 never answers a password, and the task SDK's
  ``BaseHook.get_connection`` skips the metadata database outside a task.
- ``stored_connections``: the plain columns of the metadata database's connections (id, type, host, port, login,
  schema; never the password or extra), for the connection list and the "did you mean" of an unknown conn_id. REST
  ``GET /api/v2/connections`` answers the same columns, but only to a request carrying a user, and these lookups
  run inside checks and previews that have none at hand.
"""

from __future__ import annotations

from typing import Any

STORED_CONNECTION_COLUMNS = ("conn_id", "conn_type", "host", "port", "login", "schema")
"""The columns of Airflow's ``connection`` table read, in this order."""


def resolve_connection(conn_id: str) -> Any:
    """Airflow's Connection for ``conn_id``; AirflowNotFoundException (airflow.sdk.exceptions) when none defines it."""
    from airflow.models.connection import Connection

    return Connection.get_connection_from_secrets(conn_id)


def stored_connections() -> list[tuple[Any, ...]]:
    """One row of STORED_CONNECTION_COLUMNS per connection in the metadata database; nothing is decrypted."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    columns = [getattr(Connection, name) for name in STORED_CONNECTION_COLUMNS]
    with create_session() as session:
        return [tuple(row) for row in session.execute(select(*columns)).all()]
