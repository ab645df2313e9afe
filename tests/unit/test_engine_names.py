"""No module outside engines/ branches on a source engine's name: a new engine touches engines/<x>.py and the
registry (engines/__init__.py) only. Engine differences are engine methods (``sample_rows``, ``zero_dated``, ...)."""

from __future__ import annotations

import re
from pathlib import Path

import databridge
from databridge.engines import SOURCE_ENGINES

ROOT = Path(databridge.__file__).parent
NAMES = "|".join(sorted(SOURCE_ENGINES))
BRANCHES = [
    re.compile(rf"""(==|!=)\s*(['"])({NAMES})\2"""),  # x == "mysql"
    re.compile(rf"""(['"])({NAMES})\1\s*(==|!=)"""),  # "mysql" == x
    re.compile(rf"""\bin\s*[(\[{{][^)\]}}]*(['"])({NAMES})\1"""),  # x in ("mysql", "sqlite")
    re.compile(rf"""(['"])({NAMES})\1\s*:"""),  # {"mysql": read_mysql}: a dispatch table
    re.compile(r"""\b(source|engine)\.name\s*(==|!=|in\b)|\[(source|engine)\.name\]|\.get\((source|engine)\.name\b"""),
]
ALLOWED = {
    # sqlglot dialects of SQL texts a catalog gave (TableSchema.dialect), not the engine that is open: the compiler
    # translates another dialect's defaults, CHECKs and index methods into PostgreSQL, purely (no engine to ask);
    # its unit tests call it by dialect name.
    ("compiler/schema_sql.py", 'if dialect == "sqlite" and'),
    ("compiler/schema_sql.py", 'exact=dialect == "postgres"'),
    ("compiler/schema_sql.py", 'if dialect == "mysql" and'),
    ("compiler/schema_ddl.py", 'if ctx.schema.dialect == "postgres" and'),
    # URI schemes of the asset URIs a user writes in schedule.assets (Airflow's normal form: scheme aliases, default
    # ports, postgres://host:port/db/schema/table), checked when the project loads, before any engine is open.
    ("spec/asset_uris.py", "DEFAULT_PORTS = {"),
    ("spec/asset_uris.py", "_SCHEME_ALIASES = {"),
    ("spec/asset_uris.py", 'if scheme == "postgres" and'),
}


def _branches() -> list[tuple[str, str]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("engines/"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if any(p.search(line) for p in BRANCHES):
                found.append((relative, line.strip()))
    return found


def test_no_module_outside_engines_branches_on_an_engine_name() -> None:
    unexplained = [
        (path, line) for path, line in _branches() if not any(path == a and part in line for a, part in ALLOWED)
    ]
    assert unexplained == [], "move these into engine methods (engines/<engine>.py), or explain them in ALLOWED"


def test_every_allowed_branch_is_still_there() -> None:
    found = _branches()
    stale = [(a, part) for a, part in ALLOWED if not any(path == a and part in line for path, line in found)]
    assert stale == [], "drop these from ALLOWED: the branch is gone"


def test_the_patterns_catch_the_branches_they_are_for() -> None:
    caught = [
        'if source.name == "mysql":',
        "if engine != 'sqlite':",
        'if conn_type in ("mssql", "mongo"):',
        '_READERS = {"postgres": _pg}',
        "reader = _READERS.get(source.name)",
    ]
    assert all(any(p.search(line) for p in BRANCHES) for line in caught)
    assert not any(p.search('sqlglot.parse_one(text, read="postgres")') for p in BRANCHES)
