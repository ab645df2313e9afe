"""Progress of long stages: an extract of enough rows, run in a process of its own with a short progress interval,
logs rows done, rows per second and an ETA every interval (not every batch), and its progress row in
databridge.table_progress is visible from another connection while the extract runs; every later stage leaves its
tables' final progress rows."""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, airflow_conn, mysql_conn_fields

from .conftest import TARGET_CONN
from .faults import STAGE_PROCESS, StageProcess, events_yaml, make_events, wait_until
from .runner import TargetDB

pytestmark = pytest.mark.integration

ROWS = 200_000
BATCH = 2000
INTERVAL = 0.2
SOURCE_CONN = "it_progress_events"
LINE = re.compile(r"extract \S+\.events: ([\d,]+) of ~([\d,]+) rows \((\d+)%\), ([\d,]+) rows/s(, ETA \S+)?")


def test_an_extract_reports_its_progress_while_it_runs(
    mysql_database: str, target: TargetDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_events(mysql_database, ROWS)
    airflow_conn(monkeypatch, SOURCE_CONN, **mysql_conn_fields(mysql_database))
    project = tmp_path / "events.yaml"
    project.write_text(
        events_yaml(
            "progress_it", SOURCE_CONN, TARGET_CONN, mysql_database, defaults=f"\n  progress_seconds: {INTERVAL}"
        )
    )
    started = time.monotonic()
    run = StageProcess(project, "run-p", "extract,transform,load_dimensions,load_facts,validate,report")
    try:
        query = (
            "SELECT rows, total, eta_seconds, done, updated_at FROM databridge.table_progress WHERE run_id = 'run-p' "
            "AND stage = 'extract'"
        )

        def progress_rows() -> list[tuple[Any, ...]]:
            return [tuple(r) for r in target.rows(query)] if "table_progress" in target.tables("databridge") else []

        seen: list[tuple[Any, ...]] = []
        wait_until("the extract's progress row", lambda: any(r[0] for r in progress_rows()), timeout=60)
        while run.running():
            rows = progress_rows()
            if any(r[3] for r in rows):
                break
            seen += [r for r in rows if not r[3]]
            time.sleep(0.02)
        code, out = run.finish(120)
    finally:
        run.close()
    elapsed = time.monotonic() - started
    assert code == 0, out

    # Read from this connection while the extract's batch transactions were open: rows going up, with an ETA.
    running = sorted({(int(r[0]), r[4]) for r in seen if int(r[0]) < ROWS}, key=lambda r: r[1])
    assert len(running) >= 2, f"progress rows seen while the extract ran: {seen}"
    assert [r[0] for r in running] == sorted(r[0] for r in running) and running[0][0] < running[-1][0]
    assert all(r[1] and int(r[1]) > 0 for r in seen)  # the source's estimate
    assert any(r[2] is not None for r in seen)
    stamps = [r[1] for r in running]
    assert all((b - a).total_seconds() >= INTERVAL * 0.9 for a, b in zip(stamps, stamps[1:], strict=False)), (
        "at most one update per interval"
    )

    [(rows, done)] = target.rows(
        "SELECT rows, done FROM databridge.table_progress WHERE run_id = 'run-p' AND stage = 'extract'"
    )
    assert (rows, done) == (ROWS, True)
    finals = target.rows(
        "SELECT stage, table_name, rows, done FROM databridge.table_progress WHERE run_id = 'run-p' AND stage <> "
        "'extract' ORDER BY 1"
    )
    assert [tuple(f) for f in finals] == [
        ("load_facts", "landing.events", ROWS, True),
        ("proof", "landing.events", ROWS, True),
        ("transform", "landing.events", ROWS, True),
    ]

    # The log: time-based lines (not one per batch of 2000 rows), each with rows done, the estimate, the rate and an
    # ETA.
    lines = [m for m in LINE.finditer(out)]
    assert lines, out[-3000:]
    assert 1 <= len(lines) <= elapsed / INTERVAL + 1 and len(lines) < ROWS // BATCH
    done_counts = [int(m.group(1).replace(",", "")) for m in lines]
    assert done_counts == sorted(done_counts) and all(0 < n < ROWS for n in done_counts)
    assert all(int(m.group(4).replace(",", "")) > 0 for m in lines)
    assert any(m.group(5) for m in lines)
    assert "\r" not in out  # not a terminal: plain lines, no bar


def test_on_a_terminal_the_extract_draws_a_bar(
    mysql_database: str, target: TargetDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_events(mysql_database, ROWS // 2)
    airflow_conn(monkeypatch, SOURCE_CONN, **mysql_conn_fields(mysql_database))
    project = tmp_path / "events.yaml"
    project.write_text(
        events_yaml(
            "progress_tty", SOURCE_CONN, TARGET_CONN, mysql_database, defaults=f"\n  progress_seconds: {INTERVAL}"
        )
    )
    leader, follower = pty.openpty()  # the stage's stderr is a terminal, as in a shell
    proc = subprocess.Popen(
        [sys.executable, str(STAGE_PROCESS), str(project), "run-t", "extract"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    screen = b""
    try:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not data:
                break
            screen += data
        assert proc.wait(120) == 0, screen.decode(errors="replace")[-3000:]
    finally:
        os.close(leader)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = screen.decode(errors="replace")
    bars = re.findall(r"\rextract \S+\.events \[([#-]+)\] +(\d+)% ([\d,]+) rows", text)
    assert bars, text[-3000:]
    assert bars[-1][1] == "100" and set(bars[-1][0]) == {"#"} and bars[-1][2] == f"{ROWS // 2:,}"
    assert [int(b[1]) for b in bars] == sorted(int(b[1]) for b in bars)
