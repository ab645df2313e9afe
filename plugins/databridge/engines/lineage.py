"""How each engine's tables are named outside DataBridge: OpenLineage datasets (namespace, name) and Airflow asset
URIs."""

from __future__ import annotations

from dataclasses import dataclass

from databridge.compiler.plan import TableRef
from databridge.engines.base import ConnectionInfo
from databridge.spec.asset_uris import DEFAULT_PORTS

# conn_type → (OpenLineage scheme, whether a table's name carries the connection's database before its schema)
_SCHEMES: dict[str, tuple[str, bool]] = {
    "postgres": ("postgres", True),
    "postgresql": ("postgres", True),
    "mssql": ("mssql", True),
    "mysql": ("mysql", False),
    "mariadb": ("mysql", False),
    "mongo": ("mongodb", False),
    "couchdb": ("couchdb", False),
}
TARGET_DEFAULT_SCHEMA = "public"


@dataclass(frozen=True)
class DatasetId:
    """A table as OpenLineage names it: postgres://host:5432 + database.schema.table, mysql://host:3306 +
    database.table."""

    namespace: str
    name: str


def dataset_id(info: ConnectionInfo, table: TableRef) -> DatasetId:
    """The OpenLineage naming of ``table`` in the database ``info`` points at."""
    if info.conn_type == "sqlite":  # a file: its path is the namespace, main.table the name
        return DatasetId(f"sqlite://{info.host or ''}", str(table) if table.schema else f"main.{table.name}")
    scheme, with_database = _SCHEMES.get(info.conn_type, (info.conn_type, False))
    namespace = f"{scheme}://{info.host or 'localhost'}:{info.port or DEFAULT_PORTS.get(scheme, 0)}"
    if with_database:
        schema = table.schema or (TARGET_DEFAULT_SCHEMA if scheme == "postgres" else "dbo")
        database = info.database or (info.login or "postgres" if scheme == "postgres" else "")  # PostgreSQL's default
        return DatasetId(namespace, f"{database}.{schema}.{table.name}")
    return DatasetId(namespace, f"{table.schema or info.database or ''}.{table.name}".lstrip("."))


def target_uri(info: ConnectionInfo, table: TableRef) -> str:
    """The Airflow asset URI of a target table, as the postgres provider normalizes it (the port written out)."""
    schema = table.schema or TARGET_DEFAULT_SCHEMA
    return (
        f"postgres://{info.host or 'localhost'}:{info.port or DEFAULT_PORTS['postgres']}"
        f"/{info.database or info.login or 'postgres'}/{schema}/{table.name}"
    )
