"""Engine capabilities (engines/capabilities.py): what an engine offers beyond SourceEngine, answered by one function
per capability; the runtime asks those functions, never an engine attribute by its name."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from databridge.engines.base import ConnectionInfo
from databridge.engines.capabilities import (
    batchable,
    chunkable,
    computes_fingerprints,
    drain_warnings,
    has_attachments,
    reads_arrow,
    relays_binary_copy,
    reopenable,
    reports_warnings,
)
from databridge.engines.sqlite import SQLiteSource

RUNTIME = Path(__file__).parents[2] / "plugins" / "databridge" / "runtime"
CAPABILITY_NAMES = (
    "arrow_batches",
    "copy_binary",
    "next_bound",
    "split",
    "proof_column",
    "proof_side",
    "attachment_stubs",
    "attachment",
    "info",
    "options",
    "warnings",
)


def test_an_sqlite_source_has_the_capabilities_of_a_keyed_sql_engine(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    sqlite3.connect(path).close()
    source = SQLiteSource(ConnectionInfo("lite", "sqlite", host=str(path)))
    try:
        assert chunkable(source) and batchable(source) and computes_fingerprints(source) and reopenable(source)
        assert not (
            reads_arrow(source) or relays_binary_copy(source) or has_attachments(source) or reports_warnings(source)
        )
        assert drain_warnings(source) == []
    finally:
        source.conn.close()


def test_warnings_are_taken_once() -> None:
    class Reader:
        def __init__(self) -> None:
            self.warnings = ["3 zero date(s) staged as NULL"]

    reader = Reader()
    assert reports_warnings(reader)
    assert drain_warnings(reader) == ["3 zero date(s) staged as NULL"]
    assert drain_warnings(reader) == [] and reader.warnings == []


def test_the_runtime_looks_up_no_capability_by_name() -> None:
    by_name = re.compile(r"""(?:getattr|hasattr)\(\s*[\w.]+\s*,\s*["'](""" + "|".join(CAPABILITY_NAMES) + r""")["']""")
    found = [
        f"{p.name}: {m.group(0)}"
        for p in sorted(RUNTIME.glob("*.py"))
        for m in by_name.finditer(p.read_text(encoding="utf-8"))
    ]
    assert found == []
