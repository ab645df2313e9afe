"""Real faults for the resume tests: a pipeline in a process of its own to kill, a TCP proxy to cut, a large table."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import MySQLdb

from tests.conftest import MYSQL, REPO, free_port

STAGE_PROCESS = REPO / "tests" / "integration" / "stage_process.py"


def wait_until(what: str, condition: Callable[[], Any], timeout: float = 30.0, every: float = 0.01) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class StageProcess:
    """``stage_process.py`` running stages of a project in a child process (its own process group), to be killed."""

    def __init__(self, project: Path, run_id: str, stages: str) -> None:
        command = [sys.executable, str(STAGE_PROCESS), str(project), run_id, stages]
        self.proc = subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, no rollback sent; the target sees the connection drop."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def finish(self, timeout: float = 60.0) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out

    def running(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.running():
            self.kill()


def run_stages(project: Path, run_id: str, stages: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run stages in a child process to the end; returns its exit status and output."""
    return StageProcess(project, run_id, stages).finish(timeout)


def mysql(database: str, **extra: Any) -> Any:
    return MySQLdb.connect(
        host=MYSQL["host"],
        port=MYSQL["port"],
        user=MYSQL["user"],
        passwd="",
        db=database,
        charset="utf8mb4",
        autocommit=True,
        **extra,
    )


def make_events(database: str, rows: int) -> None:
    """``events``: ``rows`` rows with a bigint key, decimals, date-times, text with tabs, quotes, newlines and NULLs."""
    conn = mysql(database)
    try:
        cur = conn.cursor()
        cur.execute(
            "CREATE TABLE events (id BIGINT PRIMARY KEY, account INT NOT NULL, amount DECIMAL(12,2), happened "
            "DATETIME, note TEXT)"
        )
        cur.execute(
            f"""INSERT INTO events SELECT seq * 3, seq % 97, IF(seq % 11 = 0, NULL, seq / 7),
            TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND,
            CASE seq % 5 WHEN 0 THEN NULL WHEN 1 THEN CONCAT('tab\\there ', seq) WHEN 2 THEN 'quote '' and \\\\ back'
            WHEN 3 THEN CONCAT('line\\nbreak ', seq) ELSE CONCAT('Zoë ', seq) END
            FROM seq_1_to_{rows}"""
        )
    finally:
        conn.close()


EVENT_COLUMNS = ("id", "account", "amount", "happened", "note")


def source_events(database: str) -> list[tuple[Any, ...]]:
    conn = mysql(database)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events ORDER BY id")
        return list(cur.fetchall())
    finally:
        conn.close()


def events_yaml(
    name: str, source_conn: str, target_conn: str, database: str, *, load: str = "replace", defaults: str = ""
) -> str:
    """A project copying ``events`` untouched into landing.events, committed in batches of 2000 rows."""
    columns = "".join(f"\n              - {{source: {c}}}" for c in EVENT_COLUMNS)
    return f"""\
name: {name}
defaults:
  batch_size: 2000
  commit_rows: 2000
  retries: 0{defaults}
pipelines:
  - name: events
    source_conn_id: {source_conn}
    target_conn_id: {target_conn}
    tables:
      - source: {database}.events
        targets:
          - table: landing.events
            load: {load}
            keys: [id]
            columns:{columns}
"""


class TcpProxy:
    """A TCP forwarder to a server, in a child process (as a network hop is: outside the client's process, so a driver
    that holds the GIL while it connects, as ConnectorX does, cannot starve it); ``cut()`` drops every connection and
    refuses new ones (the listening socket is closed) until ``restore()``."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = free_port()
        code = (
            "import sys; from tests.integration.faults import serve_proxy; serve_proxy(sys.argv[1], "
            "int(sys.argv[2]), int(sys.argv[3]))"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, host, str(port), str(self.port)],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self._answer()  # listening

    def _answer(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "ok":
            raise AssertionError(f"TCP proxy: expected ok, got {line!r} (exit status {self.proc.poll()})")

    def _command(self, word: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        self._answer()

    def restore(self) -> None:
        self._command("restore")

    def cut(self) -> None:
        self._command("cut")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def serve_proxy(host: str, port: int, listen: int) -> None:
    """The proxy process: forwards 127.0.0.1:``listen`` to ``host``:``port``; reads "cut" and "restore" on stdin and
    answers "ok" once done."""
    asyncio.run(_Forwarder((host, port), listen).run())


class _Forwarder:
    def __init__(self, upstream: tuple[str, int], port: int) -> None:
        self.upstream, self.port = upstream, port
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def run(self) -> None:
        await self._listen()
        print("ok", flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            await (self._cut() if line.strip() == "cut" else self._listen())
            print("ok", flush=True)

    async def _listen(self) -> None:
        if self.server is None:
            self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self.writers |= {client_writer, server_writer}
        await asyncio.gather(
            _pipe(client_reader, server_writer), _pipe(server_reader, client_writer), return_exceptions=True
        )
        for writer in (client_writer, server_writer):
            self.writers.discard(writer)
            writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()
