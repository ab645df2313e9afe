"""`lint --conn CONN_ID=URI` with every engine's URI: MongoDB (mongodb://) and CouchDB (couchdb://, http://) against
the real test servers (scripts/test_servers.sh), the target by postgresql://."""

from __future__ import annotations

from pathlib import Path

import pytest

from databridge.cli import main
from tests.conftest import PG, REPO

from .mongo_source import MONGO_URL, fill_catalog, mongo_database
from .test_couchdb import COUCH, couch_db
from .test_couchdb import project as couch_project

pytestmark = pytest.mark.integration
__all__ = ["couch_db", "mongo_database"]  # fixtures


def lint(project: Path, capsys: pytest.CaptureFixture[str], *conns: str) -> tuple[int, str, str]:
    status = main(["lint", str(project), "--sample", "200", *(arg for conn in conns for arg in ("--conn", conn))])
    out, err = capsys.readouterr()
    return status, out, err


def test_lint_reads_a_mongodb_source_given_by_uri(
    mongo_database: str, pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_catalog(mongo_database, orders=50)
    text = (
        (REPO / "include" / "mappings" / "mongo_catalog.yaml")
        .read_text()
        .replace("source: catalog.", f"source: {mongo_database}.")
    )
    text = text.replace(
        "{source: weight_kg}", "{source: weigth_kg, target: weight_kg}"
    )  # a misspelled field: found only by reading the source
    project = tmp_path / "mongo_catalog.yaml"
    project.write_text(text)
    target = f"databridge_target=postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{pg_database}"
    status, out, err = lint(project, capsys, f"catalog_mongo={MONGO_URL}/{mongo_database}", target)
    assert "not known" not in err and "not defined" not in err, err
    assert status == 1 and "note: target not reachable" not in err
    assert "mongo_catalog.yaml pipeline catalog: 1 error(s), 0 warning(s)" in out, out
    assert (
        "  error   weigth_kg: unknown_column: unknown source column 'weigth_kg' (did you mean 'weight_kg'?)" in out
    ), out


@pytest.mark.parametrize("scheme", ["couchdb", "http"])
def test_lint_reads_a_couchdb_source_given_by_uri(
    scheme: str, couch_db: str, pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "couch_docs.yaml"
    project.write_text(
        couch_project(couch_db, "lint-bucket", conn_prefix="lint").replace("{source: email,", "{source: emial,")
    )
    source = f"lint_couch={scheme}://{COUCH['host']}:{COUCH['port']}/{couch_db}"
    target = f"lint_target=postgresql://{PG['user']}@{PG['host']}:{PG['port']}/{pg_database}"
    status, out, err = lint(project, capsys, source, target)
    assert "not known" not in err and "not defined" not in err, err
    assert status == 1 and "note: target not reachable" not in err
    assert "  error   emial: unknown_column: unknown source column 'emial' (did you mean 'email'?)" in out, out
