"""Fixtures of the integration tests: a source database per engine (empty, or holding the shop) and a fresh target."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import airflow_conn, mysql_conn_fields, pg_conn_fields

from .runner import TargetDB
from .shop import SCHEMAS, SourceDB, open_source_db, project_yaml

SOURCE_ENGINES = ("postgres", "mysql", "sqlite")
SOURCE_CONN = "it_source"
TARGET_CONN = "it_target"


@dataclass
class Source:
    """A source database of one engine, defined in Airflow as ``conn_id``."""

    engine: str
    conn_id: str
    schema: str
    db: SourceDB

    def project(self, **options: str) -> str:
        """The shop project reading this source into the target connection."""
        return project_yaml(self.schema, self.conn_id, TARGET_CONN, **options)


@pytest.fixture(params=SOURCE_ENGINES)
def source(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Source]:
    """An empty source database; parametrize with ``indirect=True`` to pick engines."""
    engine = request.param
    if engine == "postgres":
        where = request.getfixturevalue("pg_database_2")
        airflow_conn(monkeypatch, SOURCE_CONN, **pg_conn_fields(where))
    elif engine == "mysql":
        where = request.getfixturevalue("mysql_database")
        airflow_conn(monkeypatch, SOURCE_CONN, **mysql_conn_fields(where))
    else:
        folder = tmp_path / "shop #1"  # '#' would end the file name in a careless file: URI
        folder.mkdir()
        where = str(folder / "shop.db")
        airflow_conn(monkeypatch, SOURCE_CONN, conn_type="sqlite", host=where)
    db = open_source_db(engine, where)
    yield Source(engine, SOURCE_CONN, SCHEMAS.get(engine, where), db)
    db.close()


@pytest.fixture
def shop(source: Source) -> Source:
    """The source holding the shop's four tables."""
    source.db.create_shop()
    return source


@pytest.fixture
def target(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TargetDB]:
    """A fresh PostgreSQL target database, defined in Airflow as TARGET_CONN."""
    airflow_conn(monkeypatch, TARGET_CONN, **pg_conn_fields(pg_database))
    db = TargetDB(pg_database, TARGET_CONN)
    yield db
    db.close()
