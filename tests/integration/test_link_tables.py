"""A link table (every column a key) upserted twice: the second run counts its rows as loaded and passes."""

from __future__ import annotations

import pytest

from .conftest import SOURCE_CONN, TARGET_CONN, Source
from .runner import TargetDB, run_pipeline

pytestmark = pytest.mark.integration


def _project(source: Source) -> str:
    return f"""\
name: link_it
pipelines:
  - name: links
    source_conn_id: {SOURCE_CONN}
    target_conn_id: {TARGET_CONN}
    tables:
      - source: {source.schema}.film_actor
        targets:
          - table: sales.film_actor
            load: upsert
            keys: [film_id, actor_id]
            columns:
              - {{source: film_id}}
              - {{source: actor_id}}
"""


def test_a_link_table_upserted_again_counts_every_row_as_loaded(source: Source, target: TargetDB) -> None:
    source.db.execute(
        "CREATE TABLE film_actor (film_id integer NOT NULL, actor_id integer NOT NULL, PRIMARY KEY (film_id, actor_id))"
    )
    source.db.insert("film_actor", [(f, a) for f in range(1, 11) for a in range(1, 4)])
    first = run_pipeline(_project(source), "run-1")
    source.db.insert("film_actor", [(11, 1)])
    second = run_pipeline(_project(source), "run-2")

    assert first["load_facts"]["sales.film_actor"]["loaded_rows"] == 30
    assert second["load_facts"]["sales.film_actor"]["loaded_rows"] == 31
    assert second["validate"]["passed"] == second["validate"]["checks"]
    assert target.scalar("SELECT count(*) FROM sales.film_actor") == 31
